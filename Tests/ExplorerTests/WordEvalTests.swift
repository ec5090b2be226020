// Word models in the Eval pane, the runs table, the charts and the exports (issue 9 and 11): bits per token and
// tokens, never bpc or bytes; a page of words for PgDn; runs that record where their window starts; and A/B across
// two word models of one vocabulary (the random Hugging Face fixtures in Tests/Fixtures/hf).
import Foundation
import Testing
@testable import Analysis
@testable import Explorer
@testable import TXL

/// The fixture's state with three runs evaluated for real over the first 32 tokens: full, last:1 and first:1 (memory
/// 12 long, 4 short; the fixture is same_length, which needs memory in every layer, so no `none`).
private func wordRunsState() throws -> (AppState, TXLEngine) {
    var (s, engine) = try WordFixture.state(cursor: 18)
    _ = reduce(&s, .eval(.setBytes(32, from: 0)))
    for m in [[12, 12, 12], [4, 4, 12], [12, 4, 4]] {
        _ = reduce(&s, .layers(.setAll(m)))
        _ = reduce(&s, .eval(.start))
        let ev = try #require(s.eval)
        let r = try engine.evaluate(
            text: s.text, start: ev.start, bytes: ev.bytesTotal, memory: ev.memory, progress: { _ in },
            cancelled: { false })
        _ = reduce(&s, .worker(.evalFinished(request: ev.request, r)))
    }
    s.message = nil
    return (s, engine)
}

@Suite struct WordEvalTests {
    /// The Eval pane of a word model at 80x24: bits/token and tokens in the header, the table and the chart.
    @Test func goldenWordEvalPane() throws {
        var (s, _) = try wordRunsState()
        _ = reduce(&s, .general(.focus(.evaluation)))
        _ = reduce(&s, .eval(.toggleChart))
        #expect(s.message == "chart: bits/token against long-range layers, a series per placement")
        s.message = nil
        let g = render(s, size: Size(width: 80, height: 24))
        dump("word-eval", g)
        #expect(g.text == golden("goldenWordEval"))
        let t = g.text
        #expect(t.contains("bits/token over 32 tokens from token 0") && t.contains("tokens bits/tok"))
        #expect(!t.contains("bpc") && !t.contains(" B ") && !t.contains("KiB") && !t.contains("bytes"))
    }

    @Test func exportsNameAndLabelAWordModel() throws {
        let (s, _) = try wordRunsState()
        let runs = Export.files(for: .evaluation, state: s)
        #expect(
            runs.map(\.0) == [
                "memscope-div4-same-length_500_words-fixture.txt-runs-at0.csv",
                "memscope-div4-same-length_500_words-fixture.txt-runs-at0.json",
                "memscope-div4-same-length_500_words-fixture.txt-runs-at0-chart-state.svg",
            ])
        let csv = runs[0].1.split(separator: "\n").map(String.init)
        #expect(
            csv[0] == "run,memory,state_floats,ratio_to_full,offset,tokens,bits_per_token,perplexity,"
                + "delta_to_baseline,seconds")
        #expect(csv[1].hasPrefix("1,\"L0-2:12\",") && csv[1].contains(",0,31,"))
        let json = try JSONSerialization.jsonObject(with: Data(runs[1].1.utf8)) as! [String: Any]
        #expect(json["unit"] as? String == "bits_per_token")
        let r0 = (json["runs"] as! [[String: Any]])[0]
        #expect(r0["tokens"] as? Int == 31 && r0["bpc"] == nil && r0["offset"] as? Int == 0)
        let bpt = try #require(r0["bits_per_token"] as? Double), ppl = try #require(r0["perplexity"] as? Double)
        #expect(abs(ppl - pow(2, bpt)) < 1e-4 * ppl && abs(bpt - s.runs[0].bpc) < 1e-4)
        let svg = runs[2].1
        #expect(svg.contains(">bits/token</text>") && !svg.contains(">bpc<"))
        // The text pane's losses: token index, the word, its loss.
        let loss = Export.files(for: .text, state: s)
        #expect(loss[0].0.hasPrefix("memscope-div4-same-length_500_words-fixture.txt-loss-"))
        let lines = loss[0].1.split(separator: "\n").map(String.init)
        let t = s.model.tokens!
        #expect(lines[0] == "token,word,loss_bits" && lines[1].hasPrefix("16,\"\(t.word(at: 16))\","))
        // The attention export's title counts tokens.
        #expect(Export.files(for: .attention, state: s)[1].1.contains("tokens 16-23"))
    }

    /// PgDn and PgUp in the text pane move by the pane's rows of words, not by rows x width positions.
    @Test func pageDownMovesAPageOfWords() throws {
        var (s, _) = try WordFixture.state(cursor: 0)
        let t = s.model.tokens!
        let w = textWidth(s), rows = textRows(s)
        var expected = 0
        for _ in 0..<rows { expected = t.verticalMove(from: expected, down: true, width: w) }
        _ = reduce(&s, .navigate(.jump(.pageDown)))
        #expect(s.cursor == expected && s.cursor > 0 && s.cursor < w * rows)
        _ = reduce(&s, .navigate(.jump(.pageUp)))
        #expect(s.cursor == 0)
        #expect(t.pageMove(from: t.count - 1, down: true, width: w, rows: rows) == t.count - 1)
    }

    /// A run records where its window starts (`:bytes N FROM`), and Δ is shown only between runs of the same
    /// positions.
    @Test func runsRecordTheirWindowsOffset() throws {
        var (s, engine) = try WordFixture.state(cursor: 18)
        s.input = InputLine(kind: .command, text: "tokens 16 8")
        _ = reduce(&s, .input(.submit))
        #expect(s.evalStart == 8 && s.evalBytes == 16 && s.message == "evaluation over 16 tokens from token 8")
        _ = reduce(&s, .eval(.start))
        let ev = try #require(s.eval)
        #expect(ev.start == 8)
        let r = try engine.evaluate(
            text: s.text, start: ev.start, bytes: ev.bytesTotal, memory: ev.memory, progress: { _ in },
            cancelled: { false })
        _ = reduce(&s, .worker(.evalFinished(request: ev.request, r)))
        #expect(s.runs.last?.offset == 8 && s.runs.last?.bytes == 15)
        #expect(s.windowA == nil)
        _ = reduce(&s, .compare(.pin))
        #expect(s.windowA?.start == 8 && s.windowA?.bytes == 16)
        s.input = InputLine(kind: .command, text: "bytes 40 1")
        _ = reduce(&s, .input(.submit))
        #expect(s.messageIsError && s.message!.contains("runs past the text's end (40)"))
        let a = Run(id: 1, memory: [1], stateFloats: 1, bytes: 15, bpc: 1, seconds: 1, offset: 0)
        var b = a
        b.offset = 8
        #expect(!a.sameText(b) && a.sameText(a))
    }

    /// Two word models of one vocabulary (and layer count) compare token by token; another vocabulary or layer
    /// count is refused in one line.
    @Test func wordModelsCompareAcrossModels() throws {
        let root = WordFixture.root
        func engine(_ name: String) throws -> TXLEngine {
            let f = try WordFixture.load()
            return try TXLEngine(
                model: try HFCheckpoint(directory: (root as NSString).appendingPathComponent(name)), name: name,
                text: f.text)
        }
        let a = try engine("div1-short-memory"), b = try engine("div2-untied")
        #expect(Comparison.crossModelProblem(a: ModelInfo(a), b: ModelInfo(b)) == nil)
        let three = try engine("div4-same-length"), other = try engine("no-clusters")
        #expect(Comparison.crossModelProblem(a: ModelInfo(a), b: ModelInfo(three))!.contains("3 layers"))
        #expect(Comparison.crossModelProblem(a: ModelInfo(a), b: ModelInfo(other))!.contains("vocabulary of 300"))
        #expect(Comparison.crossModelProblem(a: ModelInfo(FakeEngine()), b: ModelInfo(a))!.contains("vocabulary"))
        // B's window runs on B, over the same tokens.
        var s = AppState(
            model: ModelInfo(a), text: a.tokenText!.placeholderBytes, textName: "fixture.txt", memory: nil)
        _ = compareModels(&s, other: ModelInfo(b))
        let c = Controller(engine: a, text: s.text, other: b)
        for (req, w) in [(1, s.windowA!), (2, s.windowB!)] {
            c.startWindow(request: req, window: w)
            var done = false
            let deadline = Date().addingTimeInterval(20)
            while !done && Date() < deadline {
                for x in c.drain() {
                    if case .worker(.windowFinished) = x { done = true }
                    _ = reduce(&s, x)
                }
                Thread.sleep(forTimeInterval: 0.005)
            }
        }
        c.stop(waitingAtMost: 2)
        let ab = try #require(s.abLosses)
        let direct = try b.losses(
            text: s.text, start: 0, bytes: s.evalBytes, memory: b.defaultMemory, progress: { _ in },
            cancelled: { false })
        #expect(ab.b.elementsEqual(direct.bits) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(!s.comparison!.worst.isEmpty)
        s.size = Size(width: 80, height: 24)
        _ = reduce(&s, .general(.focus(.text)))
        let g = render(s, size: s.size)
        #expect(g.line(0).contains("bits/token") || g.line(0).contains("B div2-untied"))
        #expect(g.text.contains(" token  A bit  B bit"))
        // The list's context is words: the worst token's own word, then the word it predicts after the marker.
        let t = a.tokenText!, wb = s.comparison!.worst[0]
        let row = try #require(g.text.split(separator: "\n").first { $0.contains(String(format: "%+5.2f", wb.delta)) })
        func word(_ i: Int) -> String { t.ids[i] == t.eos ? "\u{21B5}" : t.label(at: i, width: 16) }
        #expect(row.contains(word(wb.offset) + "›" + word(wb.offset + 1)))
    }
}
