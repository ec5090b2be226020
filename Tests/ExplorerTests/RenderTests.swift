import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// The state the golden screens show: the fake model, cursor at byte 100, one finished run.
func goldenState(display: Display = Display()) -> AppState {
    var s = makeState(display: display)
    s.cursor = 100
    s = analysed(s)
    _ = reduce(&s, .eval(.start))
    _ = finishEvaluation(&s, request: s.evalRequest, bytes: 512, bpc: 1.8125, seconds: 2.5, memory: s.memory)
    s.message = nil
    return s
}

func dump(_ name: String, _ g: Grid) {
    if let dir = ProcessInfo.processInfo.environment["RENDER_DUMP"] {
        try? g.text.write(toFile: "\(dir)/\(name).txt", atomically: true, encoding: .utf8)
    }
}

@Suite struct RenderTests {
    /// Without colour the heatmap's characters carry the data, so the golden text shows it.
    @Test func golden80x24MatchesTheSavedScreen() {
        let g = render(
            goldenState(display: Display(colors: false, ascii: false, label: "no colour")),
            size: Size(width: 80, height: 24))
        dump("80x24", g)
        #expect(g.width == 80 && g.height == 24)
        #expect(g.text == golden80x24Text)
    }

    /// With colour, heat cells are `▀` whose two levels are the query rows above and below.
    @Test func colourHeatmapCarriesLevelsInRoles() {
        let g = render(goldenState(), size: Size(width: 80, height: 24))
        dump("colour", g)
        var levels: Set<UInt8> = []
        for x in 36..<80 { if case .heat(let t, let b) = g[x, 3].role { levels.insert(t); levels.insert(b) } }
        #expect(levels.count >= 4 && levels.contains(0))
        #expect(g[36, 3].char == "▀")
        #expect(g[0, 0].role == .header && g[0, 2].role == .selected)
    }

    @Test func tinyTerminalShowsANotice() {
        let g = render(goldenState(), size: Size(width: 40, height: 10))
        dump("40x10", g)
        #expect(g.text == golden40x10Text)
    }

    @Test func memoryChangeShowsInTheTableAndAfterAnalysisInTheHeader() {
        var s = goldenState()
        s.selectedLayer = 3
        _ = reduce(&s, .layers(.double))
        let before = render(s, size: Size(width: 80, height: 24))
        #expect(before.line(5).contains("L3      128 long"))
        #expect(before.line(1).hasSuffix("5 Eval  busy..."))  // 80 columns: the short form, clear of the tabs
        #expect(render(s, size: Size(width: 100, height: 30)).line(1).hasSuffix("computing..."))
        s = analysed(s)
        let after = render(s, size: Size(width: 80, height: 24))
        #expect(!after.line(1).contains("busy..."))
        #expect(after.line(2).contains("mem 96"))  // the segment at 96 has 96 bytes before it
    }

    @Test func everyPaneRendersAtTheMinimumSize() {
        for p in Pane.allCases {
            var s = goldenState()
            _ = reduce(&s, .general(.focus(p)))
            let g = render(s, size: Size(width: 80, height: 24))
            dump("pane\(p.rawValue)", g)
            #expect(g.line(23).contains("? help"))
        }
    }

    @Test func largeTerminalShowsAllPanes() {
        let g = render(goldenState(), size: Size(width: 160, height: 48))
        dump("160x48", g)
        let t = g.text
        #expect(t.contains("mass by distance") && t.contains("bpc over 512 B") && t.contains("loss 0"))
    }

    @Test func asciiAndNoColourUseOnlySafeGlyphs() {
        let ascii = render(
            goldenState(display: Display(colors: true, ascii: true, label: "8 colours")),
            size: Size(width: 80, height: 24))
        dump("ascii", ascii)
        #expect(ascii.text.unicodeScalars.allSatisfy { $0.isASCII })
        let mono = render(
            goldenState(display: Display(colors: false, ascii: false, label: "no colour")),
            size: Size(width: 80, height: 24))
        dump("mono", mono)
        // Without colour the heatmap shades by glyph, one query row per cell row.
        #expect(mono.text.contains("█") || mono.text.contains("▓"))
        #expect(!mono.text.contains("▀"))
    }

    @Test func helpOverlayListsKeysAndScrolls() {
        var s = goldenState()
        _ = reduce(&s, .general(.toggleHelp))
        let g = render(s, size: Size(width: 80, height: 24))
        dump("help", g)
        #expect(g.text.contains("help (this list)") && g.text.contains("more: j"))
        for _ in 0..<40 { _ = reduce(&s, action(for: .char("j"), in: s)!) }
        #expect(render(s, size: Size(width: 80, height: 24)).text.contains("pin the selected run"))
        for _ in 0..<200 { _ = reduce(&s, action(for: .down, in: s)!) }
        let end = render(s, size: Size(width: 80, height: 24))
        #expect(end.text.contains("quit, as q (also :q! :quit :exit)"))
        #expect(reduce(&s, action(for: .escape, in: s)!).redraw && s.overlay == nil)
    }

    @Test func textPaneShowsStandInsForControlAndNonASCIIBytes() {
        var s = goldenState()
        _ = reduce(&s, .general(.focus(.text)))
        let g = render(s, size: Size(width: 80, height: 24))
        #expect(g.text.contains("⏎⇥Memory is ¤¤verything"))
        #expect(Glyphs.describe(0xC3) == "\\xC3" && Glyphs.describe(10) == "\\n")
    }

    @Test func searchHitsAreMarkedInTheTextPane() {
        func marked(_ s: AppState) -> String {
            let g = render(s, size: Size(width: 80, height: 24))
            var out = ""
            for y in 0..<g.height {
                for x in 0..<g.width where g[x, y].role == .match || g[x, y].role == .cursor {
                    out.unicodeScalars.append(g[x, y].char)
                }
            }
            return out
        }
        var s = goldenState()
        _ = reduce(&s, .general(.focus(.text)))
        #expect(marked(s).count == 1)  // the cursor alone
        _ = reduce(&s, .input(.open(.search)))
        for c in "Memory" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        // Every byte of every visible hit is marked (the cursor sits on the first byte of one).
        let m = marked(s)
        #expect(m.count >= 6 && m.count % 6 == 0)
        #expect(m == String(repeating: "Memory", count: m.count / 6))
    }

    @Test func inputLineReplacesTheStatusBar() {
        var s = goldenState()
        _ = reduce(&s, .input(.open(.command)))
        for c in "mem 3 1" { _ = reduce(&s, .input(.character(c))) }
        #expect(render(s, size: Size(width: 80, height: 24)).line(23).hasPrefix(":mem 3 1 "))
    }

    /// Not a timed test (house style): it renders a model-sized segment and prints the cost per frame;
    /// the UI target is under 50 ms per key press.
    @Test func renderHandlesAModelSizedSegment() {
        // A model-sized segment: 512 queries over 2048 memory keys, 8 heads.
        let e = FakeEngine(
            layerCount: 2, headCount: 8, segmentLength: 512, defaultMemory: [2048, 2048],
            maxMemory: 4096)
        var s = AppState(model: ModelInfo(e), text: sampleText(8192), textName: "t", memory: nil)
        s.cursor = 4000
        s = analysed(s, e)
        let t0 = Date()
        for _ in 0..<5 { _ = render(s, size: Size(width: 120, height: 40)) }
        let perFrame = Date().timeIntervalSince(t0) / 5
        print(String(format: "render 120x40, 8 heads x 512 queries x 2560 keys: %.1f ms per frame", perFrame * 1000))
        #expect(render(s, size: Size(width: 120, height: 40)).line(2).contains("mem 2048"))
    }
}

let golden80x24Text = golden("golden80x24Text")

let golden40x10Text = golden("golden40x10Text")
