import Foundation
import Testing
@testable import Analysis
@testable import Explorer

private let mono = Display(colors: false, ascii: false, label: "no colour")
private let eight = Display(colors: true, ascii: false, label: "8 colours")

@Suite struct HelpAndKeysTests {
    /// Scrolling the help a page at a time shows every key of the table and every `:` command.
    @Test func helpScrollsByPagesThroughEveryKeyAndCommand() {
        var s = makeState()
        _ = reduce(&s, action(for: .char("?"), in: s)!)
        var seen = ""
        var tops: [Int] = []
        for _ in 0..<30 {
            seen += render(s, size: s.size).text + "\n"
            tops.append(s.helpTop)
            _ = reduce(&s, action(for: .pageDown, in: s)!)
        }
        let rows = KeyMap.helpRows(s.size)
        #expect(tops[1] == rows && tops[2] == 2 * rows)  // a page is the visible height
        #expect(tops.last == KeyMap.helpMaxTop(s.size))  // and it stops at the last page
        for b in KeyMap.table {
            #expect(seen.contains(String(b.help.prefix(40))), "help lacks \(b.help)")
        }
        for c in CommandParser.commands {
            #expect(seen.contains(c.usage), "help lacks :\(c.usage)")
        }
        #expect(seen.contains(":scale") || seen.contains("scale fixed|view|log|linear"))
        let last = render(s, size: s.size)
        #expect(last.text.contains("Mouse: click selects") && !last.text.contains("more: j"))
        _ = reduce(&s, action(for: .char("g"), in: s)!)
        #expect(s.helpTop == 0)
        _ = reduce(&s, action(for: .char("k"), in: s)!)
        #expect(s.helpTop == 0)
        _ = reduce(&s, action(for: .char("G"), in: s)!)
        #expect(s.helpTop == KeyMap.helpMaxTop(s.size))
        _ = reduce(&s, action(for: .char("j"), in: s)!)  // at the end: stays, and k moves at once
        _ = reduce(&s, action(for: .char("k"), in: s)!)
        #expect(s.helpTop == KeyMap.helpMaxTop(s.size) - 1)
    }

    @Test func theBottomLineShowsTheFocusedPanesKeysAndEachIsBound() {
        for p in Pane.allCases {
            var s = analysed(makeState())
            _ = reduce(&s, .general(.focus(p)))
            let hints = KeyMap.paneHints(s)
            #expect(hints.count >= 3 && hints.count <= 5, "\(p)")
            for h in hints {
                for k in h.keys { #expect(KeyMap.action(for: k) != nil, "\(p): \(k) is not bound") }
            }
            let bottom = render(s, size: Size(width: 120, height: 30)).line(29)
            let first = hints[0].keys.map(\.description).joined(separator: "/") + " " + hints[0].label
            #expect(bottom.contains(first) && bottom.hasSuffix("? help "), "\(p): \(bottom)")
        }
    }

    @Test func pageKeysMoveByTheVisibleHeightInEveryPane() {
        var s = analysed(makeState(text: sampleText(4096)))
        _ = reduce(&s, .general(.focus(.text)))
        let w = textWidth(s), rows = textRows(s)
        _ = reduce(&s, .navigate(.jump(.pageDown)))
        #expect(s.cursor == w * rows)
        _ = reduce(&s, action(for: .char("K"), in: s)!)  // K is a page up in the text too
        #expect(s.cursor == 0)
        // The attention pane's page is its height: the segment.
        _ = reduce(&s, .general(.focus(.attention)))
        _ = reduce(&s, .navigate(.jump(.pageDown)))
        #expect(s.cursor == 32)
        // The runs table: a page of runs.
        for bpc in [1.9, 1.8, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0] {
            _ = reduce(&s, .eval(.start))
            finishEvaluation(&s, request: s.evalRequest, bytes: 512, bpc: bpc, seconds: 1, memory: s.memory)
        }
        _ = reduce(&s, .general(.focus(.evaluation)))
        _ = reduce(&s, .navigate(.jump(.first)))
        _ = reduce(&s, .navigate(.jump(.pageDown)))
        let page = runRows(Layout(s).panes[.evaluation]!)
        #expect(page > 1 && s.selectedRun == page)
        // Layers: all four fit in the sidebar, so a page goes to the last.
        _ = reduce(&s, .general(.focus(.layers)))
        _ = reduce(&s, .navigate(.jump(.pageDown)))
        #expect(s.selectedLayer == 3)
    }

    @Test func bracketsAndBracesBothWrapRound() {
        var s = makeState()
        _ = reduce(&s, action(for: .char("["), in: s)!)
        #expect(s.selectedLayer == 3)
        _ = reduce(&s, action(for: .char("]"), in: s)!)
        #expect(s.selectedLayer == 0)
        _ = reduce(&s, action(for: .char("{"), in: s)!)
        #expect(s.headView == .head(1))
        _ = reduce(&s, action(for: .char("}"), in: s)!)
        #expect(s.headView == .mean)
    }

    /// The focused tab and the selected row carry a glyph as well as a role, so that they read in 256, 8 and
    /// no colours (the adapter draws `.selected` reversed and bold without colour).
    @Test func focusedTabAndSelectedRowReadWithoutColour() {
        for display in [Display(), eight, mono, Display(colors: false, ascii: true, label: "no colour")] {
            var s = analysed(makeState(display: display))
            _ = reduce(&s, .general(.focus(.distance)))
            s.selectedLayer = 2
            let g = render(s, size: Size(width: 80, height: 24))
            let tabs = Array(g.line(1).unicodeScalars)
            let pointer = Glyphs(ascii: display.ascii).pointer
            let at = tabs.firstIndex(of: pointer)
            #expect(at != nil && g.line(1).contains("\(pointer)3 Distance"), "\(display.label): \(g.line(1))")
            if let at { #expect(g[at + 1, 1].role == .selected && g[at + 14, 1].role != .selected) }
            #expect(g.line(4).hasPrefix("\(pointer)L2"), "\(display.label): \(g.line(4))")
        }
    }

    @Test func layersBarIsTheShareOfTheState() {
        var s = analysed(makeState())
        _ = reduce(&s, .layers(.setAll([64, 64, 128, 0])))  // shares 25%, 25%, 50%, 0%
        let g = render(s, size: Size(width: 80, height: 24))
        func bar(_ layer: Int) -> Double {
            var eighths = 0
            for x in 24..<30 {
                let c = g[x, 2 + layer].char
                if c == "█" { eighths += 8 } else if let i = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"].firstIndex(of: c) {
                    eighths += i + 1
                }
            }
            return Double(eighths)
        }
        #expect(g.line(4).contains("50.0%") && g.line(5).contains(" 0.0%"))
        #expect(bar(2) == 2 * bar(0) && bar(0) == bar(1) && bar(3) == 0 && bar(2) > 0)
        #expect(Glyphs(ascii: false).shareBar(0.5, width: 4) == ["█", "█", " ", " "])
        #expect(Glyphs(ascii: false).shareBar(0.25, width: 3) == ["▊", " ", " "])
        #expect(Glyphs(ascii: true).shareBar(0.01, width: 4) == ["#", " ", " ", " "])
    }
}
