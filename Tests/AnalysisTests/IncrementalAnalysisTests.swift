// Partial recompute: after a memory change in layer L, IncrementalAnalysis reruns layers L and above from the cached
// inputs of the layers below; the result must equal a full recompute exactly, for byte and word models.
import Analysis
import Foundation
import TXL
import Testing

@Suite struct IncrementalAnalysisTests {
    /// Every field of two analyses, bit for bit.
    func expectSame(_ a: SegmentAttention, _ b: SegmentAttention, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.start == b.start && a.tokens == b.tokens && a.inputs == b.inputs, sourceLocation: sourceLocation)
        #expect(a.memoryBefore == b.memoryBefore, sourceLocation: sourceLocation)
        #expect(a.logProbs.map(\.bitPattern) == b.logProbs.map(\.bitPattern), sourceLocation: sourceLocation)
        #expect(a.captures.map(\.layer) == b.captures.map(\.layer), sourceLocation: sourceLocation)
        for (x, y) in zip(a.captures, b.captures) {
            #expect(x.keys == y.keys && x.memoryKeys == y.memoryKeys, sourceLocation: sourceLocation)
            #expect(
                x.probabilities.map(\.bitPattern) == y.probabilities.map(\.bitPattern), sourceLocation: sourceLocation)
        }
    }

    /// Full analyses of `memories` one after another, each checked against a fresh full recompute, and the first
    /// layer each one had to run.
    func check(
        _ network: Network, tokens: [Int], segment: Int, sameLength: Bool, clampLen: Int, memories: [[Int]]
    )
        throws -> [Int]
    {
        let inc = IncrementalAnalysis(
            network: network, tokens: tokens, segment: segment, sameLength: sameLength, clampLen: clampLen)
        var firsts: [Int] = []
        for m in memories {
            let got = try inc.analyse(offset: tokens.count - 3, memory: m, warmup: 3)
            firsts.append(inc.lastFirstLayer)
            let options = RunOptions(memory: m, sameLength: sameLength, clampLen: clampLen)
            let full = try Evaluator.attention(
                network: network, tokens: tokens, offset: tokens.count - 3, options: options, segment: segment,
                warmup: 3)
            expectSame(got, full)
        }
        return firsts
    }

    @Test func byteModelRecomputesFromTheChangedLayer() throws {
        let model = Benchmark.randomModel(
            Config(nLayer: 4, nHead: 2, dModel: 16, dHead: 8, dInner: 32, tgtLen: 8, memLens: [8, 8, 8, 8]), seed: 3)
        let text = (0..<61).map { ($0 * 29 + $0 / 5) % 91 + 30 }
        let firsts = try check(
            Network(model), tokens: text, segment: 8, sameLength: false, clampLen: -1,
            memories: [[8, 8, 8, 8], [8, 8, 2, 8], [8, 8, 2, 0], [8, 8, 2, 0], [4, 8, 2, 0]])
        #expect(firsts == [0, 2, 3, 4, 0])
    }

    @Test func wordModelRecomputesFromTheChangedLayer() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hf/div4-same-length").path
        let hf = try HFCheckpoint(directory: dir)
        let tokens = (0..<50).map { ($0 * 37 + 11) % hf.config.vocabSize }
        let firsts = try check(
            Network(hf), tokens: tokens, segment: 8, sameLength: true, clampLen: hf.config.clampLen,
            memories: [[12, 12, 12], [12, 5, 12], [12, 5, 3]])
        #expect(firsts == [0, 1, 2])
    }

    /// A cancelled change (a newer one superseded it) leaves the last finished result cached, so the next change
    /// still reruns only the layers it touches.
    @Test func cancelledAnalysisKeepsThePreviousResult() throws {
        let model = Benchmark.randomModel(
            Config(nLayer: 2, nHead: 2, dModel: 16, dHead: 8, dInner: 32, tgtLen: 8, memLens: [8, 8]), seed: 4)
        let text = (0..<41).map { $0 % 50 + 40 }
        let inc = IncrementalAnalysis(
            network: Network(model), tokens: text, segment: 8, sameLength: false, clampLen: -1)
        _ = try inc.analyse(offset: 38, memory: [8, 8], warmup: 2)
        #expect(inc.cachedFloats == 3 * 2 * 8 * 16)
        #expect(throws: AnalysisError.cancelled) {
            _ = try inc.analyse(offset: 38, memory: [8, 4], warmup: 2, progress: { _ in false })
        }
        #expect(inc.cachedFloats == 3 * 2 * 8 * 16)
        let partial = try inc.analyse(offset: 38, memory: [8, 4], warmup: 2)
        #expect(inc.lastFirstLayer == 1)
        let full = try Evaluator.attention(
            network: Network(model), tokens: text, offset: 38, options: RunOptions(memory: [8, 4], sameLength: false,
                clampLen: -1), segment: 8, warmup: 2)
        #expect(partial.logProbs == full.logProbs)
        #expect(partial.captures.map(\.probabilities) == full.captures.map(\.probabilities))
    }
}
