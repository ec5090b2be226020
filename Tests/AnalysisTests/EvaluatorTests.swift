// The bpc evaluator against log-probs taken from Inference by hand; streams, cancellation, attention at an offset.
import Analysis
import Foundation
import TXL
import XCTest

final class EvaluatorTests: XCTestCase {
    let model = Benchmark.randomModel(Config(nLayer: 2, nHead: 2, dModel: 16, dHead: 6, dInner: 24, tgtLen: 8, memLens: [8, 4]), seed: 5)

    func text(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 * 37 + $0 / 7) % 97 + 20) } }

    /// -sum(log p)/ln 2 per predicted byte, the log-probs taken segment by segment from Inference directly.
    func handBPC(_ t: [UInt8], segment: Int, options: RunOptions) throws -> Double {
        let inf = try Inference(model: model, batch: 1, segment: segment, options: options)
        var nats = 0.0, pos = 0
        while pos < t.count - 1 {
            let hi = min(pos + segment, t.count - 1)
            for lp in inf.step(inputs: Array(t[pos..<hi]), targets: Array(t[(pos + 1)...hi])).logProbs { nats -= Double(lp) }
            pos = hi
        }
        return nats / Double(t.count - 1) / M_LN2
    }

    func testBPCMatchesHandComputation() throws {
        let t = text(53), o = RunOptions(config: model.config)
        let r = try Evaluator.evaluate(model: model, text: t, options: o, segment: 8)
        XCTAssertEqual(r.predicted, 52)
        XCTAssertEqual(r.bpc, try handBPC(t, segment: 8, options: o), accuracy: 1e-9)
        XCTAssertEqual(r.memory, [8, 4])
        XCTAssertEqual(r.memoryFloats, 12 * 16)
        XCTAssertGreaterThan(r.bpc, 0)
    }

    func testBatchSplitsIntoContiguousStreams() throws {
        let t = text(43), o = RunOptions(config: model.config, memory: [5, 5])
        let r = try Evaluator.evaluate(model: model, text: t, options: o, segment: 8, batch: 3)
        // 43 bytes in 3 streams of 14 (the last byte unused), 13 predictions each.
        XCTAssertEqual(try Evaluator.streamLength(bytes: 43, batch: 3), 14)
        XCTAssertEqual(r.predicted, 39)
        let bits = try (0..<3).map { b in try handBPC(Array(t[(b * 14)..<((b + 1) * 14)]), segment: 8, options: o) * 13 }.reduce(0, +)
        XCTAssertEqual(r.bits, bits, accuracy: 1e-6)
    }

    func testBadRequestsAndCancellation() throws {
        let o = RunOptions(config: model.config)
        XCTAssertThrowsError(try Evaluator.evaluate(model: model, text: [], options: o, segment: 8))
        XCTAssertThrowsError(try Evaluator.evaluate(model: model, text: [1], options: o, segment: 8))
        XCTAssertThrowsError(try Evaluator.evaluate(model: model, text: text(5), options: o, segment: 8, batch: 3))
        XCTAssertThrowsError(try Evaluator.evaluate(model: model, text: text(5), options: o, segment: 8, batch: 0))
        var calls = 0
        XCTAssertThrowsError(try Evaluator.evaluate(model: model, text: text(100), options: o, segment: 8) { p in
            calls += 1
            XCTAssertEqual(p.total, 99)
            return p.done < 16
        }) { e in XCTAssertEqual(e as? AnalysisError, .cancelled) }
        XCTAssertEqual(calls, 2)
    }

    func testAttentionAtOffset() throws {
        let t = text(40), o = RunOptions(config: model.config)
        let a = try Evaluator.attention(model: model, text: t, offset: 19, options: o, segment: 8, layers: [1])
        XCTAssertEqual(a.start, 16)
        XCTAssertEqual(a.inputs, Array(t[16..<24]))
        XCTAssertEqual(a.memoryBefore, [8, 4])
        XCTAssertEqual(a.captures.map(\.layer), [1])
        XCTAssertEqual(a.captures[0].keys, 4 + 8)
        // The same segment's log-probs as a straight run.
        let inf = try Inference(model: model, batch: 1, segment: 8, options: o)
        var last: [Float] = []
        for s in 0..<3 { last = inf.step(inputs: Array(t[(s * 8)..<(s * 8 + 8)]), targets: Array(t[(s * 8 + 1)...(s * 8 + 8)])).logProbs }
        XCTAssertEqual(a.logProbs, last)
        // The last segment is short; the last byte is only a target.
        let end = try Evaluator.attention(model: model, text: t, offset: 38, options: o, segment: 8)
        XCTAssertEqual(end.start, 32)
        XCTAssertEqual(end.inputs.count, 7)
        XCTAssertEqual(end.captures.count, 2)
        XCTAssertThrowsError(try Evaluator.attention(model: model, text: t, offset: 39, options: o, segment: 8))
        XCTAssertThrowsError(try Evaluator.attention(model: model, text: t, offset: -1, options: o, segment: 8))
        XCTAssertThrowsError(try Evaluator.attention(model: model, text: t, offset: 3, options: o, segment: 8, layers: [2]))
    }

    func testFlopModelByHand() {
        // One layer, C 4, A 2x3 = 6, F 8, V 256, T 2, M 3: query 0 sees 4 keys, query 1 sees 5 (mean 4.5).
        let c = Config(nLayer: 1, nHead: 2, dModel: 4, dHead: 3, dInner: 8, tgtLen: 2, memLens: [3])
        let qkv: Double = 2 * 4 * 18, attention: Double = 3 * 2 * 6 * 4.5, o: Double = 2 * 6 * 4, ff: Double = 4 * 4 * 8
        let output: Double = 2 * 4 * 256
        XCTAssertEqual(Benchmark.flopsPerByte(c, memory: [3], segment: 2, sameLength: false), output + qkv + attention + o + ff)
        // Same length: every query sees exactly 3 keys.
        let window: Double = 3 * 2 * 6 * 3
        XCTAssertEqual(Benchmark.flopsPerByte(c, memory: [3], segment: 2, sameLength: true), output + qkv + window + o + ff)
    }
}
