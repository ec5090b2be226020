// The real engine on a tiny random model: shapes, the text its memory stands for, losses, evaluation, cancellation.
import Foundation
import Testing
import TXL
import Analysis
@testable import Explorer

@Suite struct TXLEngineTests {
    func engine() -> TXLEngine {
        let c = Config(
            nLayer: 2, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [8, 8],
            evalMemLens: [16, 4])
        return TXLEngine(model: Benchmark.randomModel(c), name: "tiny")
    }
    let text = Array(
        ("Transformer-XL keeps a memory of past activations at every layer; "
            + "MemScope cuts it layer by layer.").utf8)

    @Test func analysisOfASegmentDeepInTheText() throws {
        let e = engine()
        #expect(e.defaultMemory == [16, 4] && e.warmupSegments(memory: [16, 4]) == 2)
        let a = try e.analyse(text: text, offset: 43, memory: [16, 4], cancelled: { false })
        #expect(a.offset == 40 && a.bytes == Array(text[40..<48]))
        #expect(a.attention.count == 2 && a.attention[0].keys == 16 + 8 && a.attention[1].memoryKeys == 4)
        #expect(a.memoryBytes[0] == Array(text[24..<40]) && a.memoryBytes[1] == Array(text[36..<40]))
        for layer in a.attention {
            for h in 0..<layer.heads {
                for q in 0..<layer.queries {
                    let row = (0..<layer.keys).map { layer.probabilities[(h * layer.queries + q) * layer.keys + $0] }
                    #expect(abs(row.reduce(0, +) - 1) < 1e-4)
                    #expect(row[(layer.memoryKeys + q + 1)...].allSatisfy { $0 == 0 })  // no key after the query
                }
            }
        }
        #expect(a.lossBits.allSatisfy { $0.isFinite && $0 > 0 })
    }

    @Test func evaluationMatchesTheEvaluator() throws {
        let e = engine()
        let r = try e.evaluate(
            text: text, start: 10, bytes: 60, memory: [16, 4], progress: { _ in },
            cancelled: { false })
        let options = RunOptions(config: e.model.config, memory: [16, 4])
        let ref = try Evaluator.evaluate(model: e.model, text: Array(text[10..<70]), options: options, segment: 8)
        #expect(r.predicted == 59 && abs(r.bpc - ref.bpc) < 1e-9)
        #expect(throws: CancellationError.self) {
            try e.evaluate(text: text, start: 0, bytes: 80, memory: [16, 4], progress: { _ in }, cancelled: { true })
        }
    }
}
