// The explorer's partial recompute (issue 11): after a memory change in layer l the engine reruns only layers l and
// above from the cached inputs of the layers below, bit-identical to a full recompute; progress is reported, a
// newer change cancels the running one and still resumes from the last finished result.
import Foundation
import Testing
import TXL
import Analysis
@testable import Explorer

@Suite struct PartialRecomputeTests {
    /// A byte model of 3 layers (segment 8, memory 16 each) and its text.
    func byteEngine() -> TXLEngine {
        let c = Config(nLayer: 3, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [16, 16, 16])
        return TXLEngine(model: Benchmark.randomModel(c), name: "tiny")
    }
    let text = Array(
        ("Transformer-XL keeps a memory of past activations at every layer; "
            + "MemScope cuts it layer by layer, and reruns only what a change touches.").utf8)

    func sameResult(_ a: SegmentAnalysis, _ b: SegmentAnalysis) -> Bool {
        a.offset == b.offset && a.bytes == b.bytes && a.memoryBytes == b.memoryBytes && a.lossBits == b.lossBits
            && a.attention.map(\.probabilities) == b.attention.map(\.probabilities)
            && a.attention.map(\.memoryKeys) == b.attention.map(\.memoryKeys)
    }

    /// For the byte model and the word fixture: the top layer's change reruns one layer per segment, the bottom
    /// layer's all of them, and each result equals a fresh engine's full analysis bit for bit.
    @Test(arguments: ["byte", "word"])
    func changeInLayerLRerunsLayersLAndAboveOnly(kind: String) throws {
        let make: () throws -> (TXLEngine, [UInt8]) = {
            if kind == "byte" { return (byteEngine(), text) }
            let e = try WordFixture.load().engine
            return (e, e.tokenText!.placeholderBytes)
        }
        let (e, bytes) = try make()
        let L = e.layerCount, offset = 28, full = e.defaultMemory
        // Two warm-up segments (memory 16 or 12, segments of 8), then the segment of token 28 (the fourth).
        let segments = e.warmupSegments(memory: full) + 1
        #expect(segments == 3 && offset / e.segmentLength == 3)
        let first = try e.analyse(text: bytes, offset: offset, memory: full, cancelled: { false })
        #expect(first.layersRun == L && e.layerSteps == segments * L)

        var top = full
        top[L - 1] = 4
        let partial = try e.analyse(text: bytes, offset: offset, memory: top, cancelled: { false })
        #expect(partial.layersRun == 1)
        #expect(e.layerSteps == segments * L + segments)  // one layer step per segment
        let (fresh, _) = try make()
        #expect(sameResult(partial, try fresh.analyse(text: bytes, offset: offset, memory: top, cancelled: { false })))
        #expect(partial.attention[L - 1].memoryKeys == 4 && partial.attention[0].memoryKeys == full[0])

        var bottom = top
        bottom[0] = 8
        let before = e.layerSteps
        let again = try e.analyse(text: bytes, offset: offset, memory: bottom, cancelled: { false })
        #expect(again.layersRun == L && e.layerSteps - before == segments * L)
        let (fresh2, _) = try make()
        #expect(
            sameResult(again, try fresh2.analyse(text: bytes, offset: offset, memory: bottom, cancelled: { false })))

        // The same memory again: the cached result, no layer run.
        let cached = try e.analyse(text: bytes, offset: offset, memory: bottom, cancelled: { false })
        #expect(cached.layersRun == 0 && sameResult(cached, again) && e.layerSteps - before == segments * L)
    }

    /// A cancelled analysis leaves the last finished one cached: the next change of the top layer still reruns only
    /// that layer. Progress counts the segments run.
    @Test func cancelledChangeKeepsTheCacheAndProgressCountsSegments() throws {
        let e = byteEngine()
        let full = e.defaultMemory
        let reports = Reports()
        _ = try e.analyse(text: text, offset: 28, memory: full, progress: { reports.add($0) }, cancelled: { false })
        #expect(reports.all.map { "\($0.done)/\($0.total)" } == ["1/3", "2/3"])
        var middle = full
        middle[1] = 0
        #expect(throws: CancellationError.self) {
            try e.analyse(text: text, offset: 28, memory: middle, progress: { _ in }, cancelled: { true })
        }
        var top = full
        top[2] = 8
        let a = try e.analyse(text: text, offset: 28, memory: top, cancelled: { false })
        #expect(a.layersRun == 1)
        #expect(sameResult(a, try byteEngine().analyse(text: text, offset: 28, memory: top, cancelled: { false })))
    }

    /// Through the controller: progress for the running request reaches the state (the "computing N%" readout),
    /// and a newer request supersedes the older one, whose result is never applied.
    @Test func controllerPostsProgressAndTheNewestResult() throws {
        let (s0, e) = try WordFixture.state(cursor: 28)
        var s = s0
        let c = Controller(engine: e, text: s.text)
        var memory = s.memory
        memory[2] = 4
        _ = reduce(&s, .layers(.setAll(memory)))
        c.requestAnalysis(request: s.analysisRequest, offset: s.cursor, memory: s.memory)
        memory[2] = 2
        _ = reduce(&s, .layers(.setAll(memory)))
        c.requestAnalysis(request: s.analysisRequest, offset: s.cursor, memory: s.memory)
        var got: [Action] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && s.analysing {
            let batch = c.drain()
            got += batch
            for a in batch { _ = reduce(&s, a) }
            Thread.sleep(forTimeInterval: 0.002)
        }
        #expect(!s.analysing && s.analysisMemory == [12, 12, 2] && s.analysisProgress == nil)
        #expect(s.analysis?.attention[2].memoryKeys == 2)
        let progress = got.compactMap { a -> WindowProgress? in
            if case .worker(.analysisProgress(_, let p)) = a { return p } else { return nil }
        }
        #expect(progress.allSatisfy { $0.total == 3 && $0.done >= 1 && $0.done <= 2 })
        // A progress report applies to the running request only.
        s.analysing = true
        _ = reduce(
            &s, .worker(.analysisProgress(request: s.analysisRequest, WindowProgress(done: 1, total: 4, seconds: 0))))
        #expect(s.analysisProgress?.done == 1)
        _ = reduce(
            &s,
            .worker(.analysisProgress(request: s.analysisRequest - 1, WindowProgress(done: 3, total: 4, seconds: 0))))
        #expect(s.analysisProgress?.done == 1)
        let g = render(s, size: Size(width: 80, height: 24))
        #expect(g.line(1).hasSuffix("5 Eval busy 25%"))
    }
}

final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [WindowProgress] = []
    func add(_ p: WindowProgress) { lock.withLock { items.append(p) } }
    var all: [WindowProgress] { lock.withLock { items } }
}
