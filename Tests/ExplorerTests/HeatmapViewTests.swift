import Foundation
import Testing
@testable import Analysis
@testable import Explorer

private let mono = Display(colors: false, ascii: false, label: "no colour")

/// The opening state (segment 64-95, 64 keys of memory, 96 keys) in the Attention pane, the hint gone.
private func heatState(display: Display = mono) -> AppState {
    var s = openingState(display: display)
    _ = reduce(&s, .general(.focus(.attention)))
    return s
}

/// Rows of the attention pane at 80x24: heat rows 3-14, axis 15, labels 16, legend 17, readout 18.
private let axisRow = 15, labelRow = 16, legendRow = 17, readoutRow = 18

@Suite struct HeatmapViewTests {
    @Test func boundaryIsAColumnInsideTheMapAndNoColumnStraddlesIt() {
        let s = heatState()
        let g = render(s, size: s.size)
        // The boundary column: ┃ on every heat row and on the axis, at the same x.
        let xs = (3...axisRow).map { y in (36..<80).filter { g[$0, y].char == "┃" } }
        #expect(xs.allSatisfy { $0.count == 1 } && Set(xs.map { $0[0] }).count == 1, "\(xs)")
        let starts = Heatmap.splitKeyStarts(0..<96, cols: 43, split: 64)
        #expect(starts.contains(64) && starts.first == 0 && starts.last == 96)
        #expect(Heatmap.splitKeyStarts(0..<96, cols: 43, split: 0) == Heatmap.binStarts(0..<96, parts: 43))
    }

    @Test func axisHasTicksLabelledByKeyPositionAndQueriesOnTheLeft() {
        let s = heatState()
        let g = render(s, size: s.size)
        func pane(_ y: Int) -> String { String(String.UnicodeScalarView(g.line(y).unicodeScalars.dropFirst(31))) }
        let labels = pane(labelRow)
        #expect(labels.hasPrefix("key  -60 ") && labels.contains(" -20 ") && labels.contains(" 0 "), "\(labels)")
        #expect(labels.contains("+20") && pane(axisRow).contains("┴"))
        // The query positions from the segment start, every fourth heat row.
        #expect(pane(3).hasPrefix("  +0") && pane(7).hasPrefix(" +10"), "\(pane(3)) \(pane(7))")
        // Each tick label sits at its tick: the 0 under the boundary.
        let at = Array(g.line(labelRow).unicodeScalars)
        let z = (0..<(at.count - 2)).first { at[$0] == " " && at[$0 + 1] == "0" && at[$0 + 2] == " " }! + 1
        #expect(g[z, axisRow].char == "┃")
    }

    @Test func keyCursorReadsOutTheCell() {
        var s = heatState()
        #expect(render(s, size: s.size).line(readoutRow).contains(", . key cursor"))
        _ = reduce(&s, action(for: .char("|"), in: s)!)  // the segment start: byte 64
        #expect(s.keyCursor == 0)
        let q = s.cursor - 64
        let att = s.analysis!.attention[0]
        let p = Heatmap.row(att, query: q, keys: 64..<65, view: .mean)[0]
        let readout = render(s, size: s.size).line(readoutRow)
        let expected = "key @64 '\(Glyphs.describe(s.text[64]))' · d=\(q) · p=\(String(format: "%.4f", p)) · mean"
        #expect(readout.contains(expected), "\(readout)")
        _ = reduce(&s, action(for: .char("^"), in: s)!)  // the oldest memory key: byte 0, 64 + q back
        #expect(s.keyCursor == -64)
        #expect(render(s, size: s.size).line(readoutRow).contains("key @0 'T' · d=\(64 + q)"))
        _ = reduce(&s, action(for: .char("."), in: s)!)
        #expect(s.keyCursor! > -64)
        _ = reduce(&s, .heatmap(.setHead(.head(1))))
        #expect(render(s, size: s.size).line(readoutRow).contains("head 1"))
        _ = reduce(&s, action(for: .escape, in: s)!)
        #expect(s.keyCursor == nil)
    }

    @Test func zoomCentresOnTheKeyCursorAndShowsKeyCharacters() {
        var s = heatState()
        _ = reduce(&s, action(for: .char("|"), in: s)!)
        for _ in 0..<4 { _ = reduce(&s, action(for: .char("z"), in: s)!) }
        let g = HeatKeys(s)!
        #expect(g.visible == 43 && g.visible < g.keys)  // one key per column at the deepest zoom
        #expect(abs((g.start + g.visible / 2) - 64) <= 1)  // centred on the key cursor (key 64)
        let axis = render(s, size: s.size).line(axisRow)
        // The key characters around the boundary: the text's bytes 64-84 after the ┃.
        let after = String(decoding: s.text[64..<70], as: UTF8.self)
        #expect(axis.contains("┃" + after), "\(axis)")
        _ = reduce(&s, .heatmap(.zoomOut))
        _ = reduce(&s, .heatmap(.keyOff))
        _ = reduce(&s, .heatmap(.zoomIn))
        // Without a key cursor the zoom centres on the query's own key (the diagonal).
        let h = HeatKeys(s)!
        #expect(abs((h.start + h.visible / 2) - (64 + s.cursor - 64)) <= 1 || h.start == 0)
    }

    @Test func fixedScaleIsTheSameForEveryViewAndTheLegendSaysSo() {
        var s = heatState()
        #expect(render(s, size: s.size).line(legendRow).contains("per view"))
        _ = reduce(&s, action(for: .char("f"), in: s)!)
        #expect(s.fixedScale)
        let legend = render(s, size: s.size).line(legendRow)
        #expect(legend.contains("1e-04") && legend.contains("1 fixed log"), "\(legend)")
        // A probability gets the same level whatever the view's largest value.
        #expect(Heatmap.level(0.01, top: Heatmap.fixedTop, scale: .log, decades: Heatmap.fixedDecades) == 8)
        // :scale view and :scale fixed do the same from the command line; a bad word is refused.
        for (line, fixed) in [("scale view", false), ("scale fixed", true), ("scale linear", false)] {
            _ = reduce(&s, .input(.open(.command)))
            for c in line { _ = reduce(&s, .input(.character(c))) }
            _ = reduce(&s, .input(.submit))
            #expect(s.fixedScale == fixed && !s.messageIsError, "\(line)")
        }
        #expect(s.scale == .linear)
        _ = reduce(&s, .input(.open(.command)))
        for c in "scale huge" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.messageIsError && s.message!.contains("fixed, view, log or linear"))
    }

    @Test func goldenAttentionPaneWithKeyCursorAndFixedScale() {
        var s = heatState()
        _ = reduce(&s, action(for: .char("|"), in: s)!)
        _ = reduce(&s, action(for: .char(","), in: s)!)
        _ = reduce(&s, action(for: .char("f"), in: s)!)
        s.message = nil
        let g = render(s, size: s.size)
        dump("attention-key-fixed", g)
        #expect(g.text == goldenAttentionKeyFixed)
    }
}
