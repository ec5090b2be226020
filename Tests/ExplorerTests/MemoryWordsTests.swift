// One meaning for every memory word (issue 7): `memscope eval --mem X` and the explorer's `:preset X` give the same
// per-layer lengths, with the same lrm and srm defaults.
import Testing
import TXL
@testable import Explorer

@Suite struct MemoryWordsTests {
    /// A model whose training memory (48) differs from its default evaluation memory (96), so that a command using
    /// the wrong one for `full` or lrm would disagree.
    func engine() -> FakeEngine {
        var e = FakeEngine()
        e.layerCount = 6; e.segmentLength = 32; e.defaultMemory = [96, 96, 96, 96, 96, 96]
        return e
    }

    @Test(arguments: [
        "full", "none", "first:1", "first:2", "last:1", "last:2", "interleaved:1", "interleaved:2",
        "interleaved:3", "last:0",
    ])
    func evalAndExplorerPresetsAgree(_ word: String) {
        let e = engine()
        var c = e.config
        c.memLens = Array(repeating: 48, count: 6); c.evalMemLens = e.defaultMemory
        // What `memscope eval --mem WORD` computes (ModelOptions.run): MemorySpec with the model's defaults.
        let eval = try? MemorySpec.parse(word, config: c, segment: c.tgtLen)
        // What the explorer's `:preset WORD` sets.
        var s = makeState(e)
        _ = reduce(&s, .input(.open(.command)))
        for ch in "preset \(word)" { _ = reduce(&s, .input(.character(ch))) }
        _ = reduce(&s, .input(.submit))
        #expect(!s.messageIsError, "\(s.message ?? "")")
        #expect(s.memory == eval, "eval --mem \(word) gives \(eval ?? []), :preset \(word) gives \(s.memory)")
    }

    @Test func defaultsAreTheModelsEvaluationMemoryAndTheSegment() {
        let s = makeState(engine())
        #expect(s.longLength == 96)
        #expect(s.shortLength == 32)
    }
}
