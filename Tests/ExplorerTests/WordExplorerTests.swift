// The explorer on a word-level model (issue 11): the real engine on a small Hugging Face fixture (Tests/Fixtures/hf),
// positions in tokens, the text pane in words shaded by loss, losses equal to eval's and to Hugging Face's.
import Foundation
import Testing
@testable import Analysis
@testable import Explorer
@testable import TXL

enum WordFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf").path

    /// The fixture's model, its first text (expected.json "texts"), Hugging Face's token ids and log-probs for it.
    static func load(
        _ name: String = "div4-same-length"
    ) throws -> (
        engine: TXLEngine, text: [UInt8], ids: [Int], logProbs: [Double]
    ) {
        let dir = (root as NSString).appendingPathComponent(name)
        let data = try Data(contentsOf: URL(fileURLWithPath: (dir as NSString).appendingPathComponent("expected.json")))
        let d = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let text = Array(((d["texts"] as! [String])[0]).utf8)
        let ids = (d["token_ids"] as! [[Int]])[0]
        let lp = ((d["log_probs"] as! [[Any]])[0]).map { ($0 as! NSNumber).doubleValue }
        let engine = try TXLEngine(model: try HFCheckpoint(directory: dir), name: name, text: text)
        return (engine, text, ids, lp)
    }

    /// The explorer's state on the fixture, 80x24, the text pane focused, the cursor's segment analysed.
    static func state(
        cursor: Int, display: Display = Display(colors: false, ascii: true, label: "no colour")
    ) throws
        -> (AppState, TXLEngine)
    {
        let f = try load()
        let t = f.engine.tokenText!
        var s = AppState(
            model: ModelInfo(f.engine), text: t.placeholderBytes, textName: "fixture.txt", memory: nil, display: display
        )
        _ = reduce(&s, .general(.resize(Size(width: 80, height: 24))))
        _ = reduce(&s, .general(.focus(.text)))
        s.cursor = cursor
        s.analysisRequest += 1
        let a = try f.engine.analyse(text: s.text, offset: s.cursor, memory: s.memory, cancelled: { false })
        _ = reduce(&s, .worker(.analysisReady(request: s.analysisRequest, a, DistanceProfile.all(a), memory: s.memory)))
        return (s, f.engine)
    }
}

/// The text pane's rows (its rectangle in the layout) of a rendered grid.
func textPaneLines(_ s: AppState, _ g: Grid) -> [String] {
    let r = Layout(s).panes[.text]!
    return (r.y..<r.maxY).map { y in String(String(g.line(y)).unicodeScalars.dropFirst(r.x).prefix(r.width)) }
}

@Suite struct WordExplorerTests {
    @Test func engineTokenizesAsHuggingFaceAndCountsPositionsInTokens() throws {
        let f = try WordFixture.load()
        let t = try #require(f.engine.tokenText)
        #expect(t.count == 40 && Array(t.ids.prefix(f.ids.count)) == f.ids)  // Hugging Face ran the first 30
        #expect(
            f.logProbs.count == 29 && f.engine.config.nToken == 500 && f.engine.config.tgtLen == 8
                && f.engine.defaultMemory == [12, 12, 12])
        #expect(f.engine.modelName == "div4-same-length (500 words)")
        let a = try f.engine.analyse(text: t.placeholderBytes, offset: 17, memory: [12, 12, 12], cancelled: { false })
        #expect(a.offset == 16 && a.bytes.count == 8 && a.lossBits.count == 8)
        #expect(a.attention.map(\.memoryKeys) == [12, 12, 12])
    }

    /// The explorer's per-token losses (the A/B window and the visible segment) are eval's on the same tokens, and
    /// Hugging Face's to 1e-4 nats.
    @Test func perTokenLossesEqualEvalsAndHuggingFaces() throws {
        let f = try WordFixture.load()
        // Hugging Face's run: the text's first 30 tokens, segments of 8 (the last one partial), memory 12.
        let bytes = f.engine.tokenText!.placeholderBytes, n = f.ids.count, memory = f.engine.defaultMemory
        let w = try f.engine.losses(
            text: bytes, start: 0, bytes: n, memory: memory, progress: { _ in }, cancelled: { false })
        #expect(w.bits.count == n && w.bits[n - 1].isNaN)
        for i in 0..<(n - 1) { #expect(abs(Double(-w.bits[i]) * M_LN2 - f.logProbs[i]) <= 1e-4) }
        let net = Network(
            try HFCheckpoint(
                directory: (WordFixture.root as NSString).appendingPathComponent(
                    "div4-same-length")))
        let c = f.engine.config
        let eval = try Evaluator.evaluate(
            network: net, tokens: f.ids,
            options: RunOptions(memory: memory, sameLength: c.sameLength, clampLen: c.clampLen),
            segment: c.tgtLen)
        let sum = w.bits[0..<(n - 1)].reduce(0.0) { $0 + Double($1) }
        #expect(eval.predicted == n - 1)
        #expect(abs(sum - eval.bits) <= 1e-4 * eval.bits)
        let viaEngine = try f.engine.evaluate(
            text: bytes, start: 0, bytes: n, memory: memory, progress: { _ in }, cancelled: { false })
        #expect(viaEngine.bits == eval.bits)
        // The segment at token 16: its warm-up reaches the text's start, so its losses are the window's, exactly.
        let a = try f.engine.analyse(text: bytes, offset: 16, memory: memory, cancelled: { false })
        #expect(a.lossBits == Array(w.bits[16..<24]))
    }

    @Test func textPaneShowsWordsLineByLineShadedByLoss() throws {
        let (s, _) = try WordFixture.state(cursor: 18)
        let g = render(s, size: Size(width: 80, height: 24))
        dump("words80x24", g)
        let lines = textPaneLines(s, g)
        #expect(lines == goldenWordTextPane)
        // Each word is one run of cells with one role: its loss shade (the cursor's word: the cursor).
        let r = Layout(s).panes[.text]!, area = Layout.textArea(r)
        let a = try #require(s.analysis)
        let rows = s.model.tokens!.view(cursor: s.cursor, width: area.width, height: area.height, eosMark: "$")
        var checked = 0
        for (y, row) in rows.enumerated() {
            for p in row where p.token >= a.offset && p.token < a.offset + a.lossBits.count {
                let want: Role =
                    p.token == s.cursor ? .cursor : .shade(wordLossLevel(a.lossBits[p.token - a.offset]))
                for k in 0..<p.text.unicodeScalars.count { #expect(g[area.x + p.x + k, area.y + y].role == want) }
                checked += 1
            }
        }
        #expect(checked == 8)
        #expect(g.line(23).contains(" L0-2:12 | bits/token - | no colour"))  // the name is dropped at 80 columns
        let wide = render(s, size: Size(width: 160, height: 40))
        #expect(
            wide.line(0).contains("div4-same-length (500 words) - fixture.txt (40 tokens, pre-tokenized)")
        )
    }

    @Test func cursorReadoutSearchAndRowsAreInWords() throws {
        var (s, _) = try WordFixture.state(cursor: 18)
        let t = s.model.tokens!
        let g = render(s, size: Size(width: 80, height: 24))
        #expect(textPaneLines(s, g)[0].contains("@18/40 \"w231\""))
        // Search matches whole words, forward and back, and wraps.
        #expect(t.find("<unk>", from: 0, forward: true) == 9)  // "never-seen-word" is not in the vocabulary
        #expect(t.find("w21", from: 1, forward: true) == 15)
        #expect(t.find("w21", from: 15, forward: true) == 1)
        #expect(t.find("w2", from: 0, forward: true) == nil)
        #expect(t.find("w50 w27", from: 0, forward: true) == 11)
        s.search = "w21"
        _ = reduce(&s, .text(.searchNext))
        #expect(s.cursor == 1 && s.message == "/w21 at token 1")
        // Up and down move by a row of words to the word at or left of the same column: "w111" (8, column 0)
        // below "w21" (1, column 4), and "w21" above "<unk>" (9, column 5).
        #expect(t.verticalMove(from: 1, down: true, width: 80) == 8)
        #expect(t.verticalMove(from: 9, down: false, width: 80) == 1)
        #expect(t.verticalMove(from: 0, down: false, width: 80) == 0)
    }

    @Test func layoutWrapsLongLinesAndBreaksAfterEOS() throws {
        let vocab = ["<eos>", "a", "bb", "ccc", String(repeating: "x", count: 30)]
        let t = TokenText(ids: [1, 2, 3, 1, 2, 0, 4, 1, 0], vocabulary: vocab, eos: 0, sourceBytes: 20)
        let rows = t.view(cursor: 0, width: 8, height: 10, eosMark: "$")
        #expect(rows.map { $0.map(\.text) } == [["a", "bb", "ccc"], ["a", "bb", "$"], ["xxxxxxxx"], ["a", "$"]])
        #expect(rows[0].map(\.x) == [0, 2, 5])
        // The cursor's row a third of the way down, as in the byte view.
        let tall = TokenText(
            ids: Array(repeating: [1, 0], count: 40).flatMap { $0 }, vocabulary: vocab, eos: 0, sourceBytes: 80)
        let view = tall.view(cursor: 41, width: 8, height: 9, eosMark: "$")
        #expect(view.count == 9 && view[3].contains { $0.token == 41 })
        #expect(
            TokenText.token(in: view, row: 3, column: 2) == 41 && TokenText.token(in: view, row: 3, column: 1) == 40)
    }
}

let goldenWordTextPane =
    [
        #" @18/40 "w231" loss 26.78 bits                   "#,
        "w57 w21 w437 w32 w77 w40 w332 $                  ",
        "w111 <unk> w456 w50 w27 w305 w66 w21 $           ",
        "$                                                ",
        "w231 w396 $                                      ",
        "w35 w162 w172 of $                               ",
        "w73 <unk> w429 w200 w18 w356 w74 w38 w13 $       ",
        "$                                                ",
        "w52 w71 $                                        ",
    ] + Array(repeating: String(repeating: " ", count: 49), count: 11) + [
        " loss 0 aaaaaaaaaaaaaaaa 16+ bits/token          "
    ]
