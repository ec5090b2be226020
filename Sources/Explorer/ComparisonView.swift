// How the A/B comparison is drawn: the header's two settings, the text pane's Δ mode (bytes shaded by the
// loss of B minus the loss of A, diverging, with a legend) and the "where memory matters" list under it.
import Analysis
import Foundation
import TXL

/// Rows of the "where memory matters" list in a text pane of `height` rows (its title and header included).
func worstListRows(_ height: Int) -> Int { Swift.max(0, Swift.min(7, (height - 4) / 2)) }

/// The text pane's byte grid; in Δ mode the list and the legend take the bottom rows.
func textArea(_ s: AppState, _ r: Rect) -> Rect {
    let area = Layout.textArea(r)
    guard let c = s.comparison, c.deltaMode else { return area }
    let list = worstListRows(r.height)
    return Rect(x: area.x, y: area.y, width: area.width, height: Swift.max(1, area.height - list))
}

extension Renderer {
    /// `A L0-3:64 · B L0-2:64 L3:128 · Δ +0.0123 bpc`: the pinned and the current setting.
    func abHeader(_ c: Comparison) -> String {
        let d = glyphs.dot
        var t = "A \(MemorySpec.compact(c.a)) \(d) B \(MemorySpec.compact(s.memory))"
        if let o = c.other {
            // Two model names take the room of the unit ("Δ+0.0123" is in bpc, as in the one-model header), and of
            // A's memory when the title line is short (the sidebar shows it); never a setting cut in the middle.
            var delta = ""
            if let ab = s.abLosses {
                delta = String(format: " \(d) %@%+.4f", glyphs.delta, AppState.bpc(ab.b) - AppState.bpc(ab.a))
            }
            let b = " \(d) B \(o.name) \(MemorySpec.compact(o.memory))" + delta
            let full = "A \(s.model.name) \(MemorySpec.compact(s.memory))" + b
            let room = s.size.width - "? help  q quit ".count - " MemScope · ".count - 1
            return full.count <= room ? full : "A \(s.model.name)" + b
        }
        if let ab = s.abLosses {
            t += String(
                format: " \(d) %@ %+.4f %@", glyphs.delta, AppState.bpc(ab.b) - AppState.bpc(ab.a), s.model.lossUnit)
        }
        return t
    }

    /// The role of a byte shaded by Δ level -7...7.
    func deltaCell(_ level: Int8) -> Role { .delta(level) }

    func textDelta(_ g: inout Grid, _ r: Rect, _ c: Comparison) {
        let area = textArea(s, r)
        let d = glyphs.delta
        let ab = s.abLosses
        let w = s.window(s.memory)
        var info = " \(d) loss B-A \(glyphs.dot) @\(s.cursor)"
        if s.cursor < s.text.count { info += " " + label(ofKey: s.cursor, s.text[s.cursor]) }
        if let ab, s.cursor - w.start < ab.a.count, s.cursor >= w.start {
            let la = ab.a[s.cursor - w.start], lb = ab.b[s.cursor - w.start]
            if la.isFinite && lb.isFinite { info += String(format: " A %.2f B %.2f %@%+.2f", la, lb, d, lb - la) }
        } else if let job = s.windowJob {
            let which = s.side(of: job.window)
            info += String(
                format: " \(glyphs.dot) computing %@ %.0f%% of %@", which, (job.progress?.fraction ?? 0) * 100,
                s.model.positions(job.window.bytes))
        }
        header(&g, r, info, focused: s.focus == .text)
        textBytes(&g, area) { i, role in
            let j = i - w.start
            guard let ab, j >= 0, j < ab.a.count else { return .dim }
            return ab.a[j].isFinite && ab.b[j].isFinite ? .delta(deltaLevel(ab.b[j] - ab.a[j])) : role
        }
        // Legend: B better on the left, worse on the right; without colour the cells carry - · + as well.
        let ly = area.maxY
        var x = r.x + g.put(r.x, ly, " \(d) bits: B better -6 ", .dim)
        for l in Int8(-7)...7 {
            let ch: Unicode.Scalar = s.display.colors ? " " : (l < 0 ? "-" : (l == 0 ? "0" : "+"))
            g.set(x, ly, ch, .delta(l)); x += 1
        }
        g.put(x, ly, " +6 B worse", .dim, maxWidth: r.maxX - x)
        worstList(&g, Rect(x: r.x, y: ly + 1, width: r.width, height: r.maxY - ly - 1), c, ab)
    }

    /// Where memory matters: the bytes where B loses most against A, worst first; `w` jumps down the list.
    func worstList(_ g: inout Grid, _ r: Rect, _ c: Comparison, _ ab: (a: [Float], b: [Float])?) {
        guard r.height >= 1 else { return }
        guard ab != nil else {
            let t = s.windowJob == nil ? "A/B window not computed" : "where memory matters: computing A and B..."
            g.put(r.x + 1, r.y, t, .dim, maxWidth: r.width - 1)
            return
        }
        guard !c.worst.isEmpty else {
            let t = "A and B are the same setting: change the memory to compare"
            g.put(r.x + 1, r.y, t, .dim, maxWidth: r.width - 1)
            return
        }
        let d = glyphs.delta
        g.put(r.x, r.y, " where memory matters: B loses most (w jumps)", .title, maxWidth: r.width)
        guard r.height >= 3 else { return }
        let columns =
            "   # " + lpad(s.model.unit, 6) + "  A bit  B bit     \(d)  context \(glyphs.ascii ? ">" : "›")next"
        g.put(r.x, r.y + 1, columns, .dim, maxWidth: r.width)
        let rows = r.height - 2
        let sel = c.selectedWorst
        let first = sel < rows ? 0 : sel - rows + 1
        for k in 0..<Swift.min(rows, c.worst.count - first) {
            let i = first + k, wb = c.worst[i]
            let mark = i == sel ? String(glyphs.pointer) : " "
            let head = String(
                format: "%@%3d %6d %6.2f %6.2f %+5.2f  ", mark, i + 1, wb.offset, wb.lossA, wb.lossB, wb.delta)
            let role: Role = i == sel ? (s.focus == .text ? .selected : .accent) : .plain
            let y = r.y + 2 + k
            var x = r.x + g.put(r.x, y, head, role, maxWidth: r.width)
            // Context: the bytes up to the query, then the byte it predicts after a marker.
            let room = r.maxX - x - 2
            guard room > 0 else { continue }
            if let t = s.model.tokens {
                wordContext(&g, x: x, y: y, room: room, t, offset: wb.offset, level: deltaLevel(wb.delta))
                continue
            }
            let from = Swift.max(0, wb.offset - room + 1)
            for p in from...wb.offset {
                g.set(x, y, glyphs.byte(s.text[p]).0, .plain); x += 1
            }
            if wb.offset + 1 < s.text.count {
                g.set(x, y, glyphs.ascii ? ">" : "›", .dim)
                g.set(x + 1, y, glyphs.byte(s.text[wb.offset + 1]).0, .delta(deltaLevel(wb.delta)))
            }
        }
    }

    /// A word model's context in the list: the words up to the query (as many as fit), then the word it predicts.
    func wordContext(_ g: inout Grid, x: Int, y: Int, room: Int, _ t: TokenText, offset: Int, level: Int8) {
        let mark = s.display.ascii ? "$" : "\u{21B5}"
        func word(_ i: Int) -> String { t.ids[i] == t.eos ? mark : t.label(at: i, width: 16) }
        let next = offset + 1 < t.count ? word(offset + 1) : ""
        let budget = room + 1 - (next.isEmpty ? 0 : next.unicodeScalars.count + 2)
        var words: [String] = [], used = 0, i = offset
        while i >= 0 {
            let w = word(i), n = w.unicodeScalars.count + (words.isEmpty ? 0 : 1)
            if used + n > budget { break }
            words.insert(w, at: 0); used += n; i -= 1
        }
        var cx = x + g.put(x, y, words.joined(separator: " "), .plain, maxWidth: Swift.max(0, budget))
        guard !next.isEmpty, cx + 2 <= x + room + 2 else { return }
        cx += g.put(cx, y, s.display.ascii ? ">" : "›", .dim)
        g.put(cx, y, next, .delta(level), maxWidth: x + room + 2 - cx)
    }

    /// After a jump the heatmap shows A's attention: the axis marks keys that are beyond B's memory.
    func markBeyondB(_ g: inout Grid, _ hm: HeatmapView, axisY: Int, x0: Int, memoryKeys M: Int) {
        guard let c = s.comparison, c.heatmapA, s.analysisMemory == c.a else { return }
        let cut = M - s.memory[s.selectedLayer]
        guard cut > 0 else { return }
        for col in 0..<hm.cols where hm.keyStarts[col] < cut {
            g.set(x0 + col, axisY, glyphs.ascii ? "x" : "×", .warning)
        }
        if let col = hm.column(ofKey: cut) { g.set(x0 + col, axisY, "B", .warning) }
    }
}

extension Renderer {
    /// The Distance pane with A pinned and both windows known: each layer's profile under A and under B,
    /// over the whole window, with the mean distance and the share of mass beyond the segment.
    func distanceAB(_ g: inout Grid, _ r: Rect, a pa: [DistanceProfile], b pb: [DistanceProfile]) {
        let bins = Swift.max(pa.map(\.bins.count).max() ?? 1, pb.map(\.bins.count).max() ?? 1)
        header(
            &g, r, " 3 A vs B over \(s.model.positions(s.evalBytes)): mass by distance, mean, beyond",
            focused: s.focus == .distance)
        let cw = Swift.max(1, Swift.min(3, (r.width - 6 - 16) / Swift.max(1, bins)))
        let x0 = r.x + 6, labelY = r.y + 1
        let xs = distanceAxis(&g, x: x0, y: labelY, bins: bins, cellWidth: cw)
        let L = Swift.min(pa.count, pb.count)
        let rows = Swift.max(1, (r.height - 3) / 2)
        let first = Swift.max(0, Swift.min(s.selectedLayer - rows / 2, L - rows))
        for j in 0..<Swift.min(rows, L - first) {
            let l = first + j
            for (k, (name, p)) in [("A", pa[l]), ("B", pb[l])].enumerated() {
                let y = labelY + 1 + 2 * j + k
                let sel = l == s.selectedLayer
                let label = k == 0 ? "L\(l) A" : "   B"
                g.put(r.x, y, label, sel ? (s.focus == .distance ? .selected : .accent) : .plain)
                let top = p.bins.max() ?? 0
                for (b, m) in p.bins.enumerated() {
                    let level = top > 0 && m > 0 ? Swift.max(1, Int((m / top * 8).rounded(.up))) : 0
                    let role: Role =
                        s.display.colors ? .heat(top: UInt8(Swift.min(15, level * 2)), bottom: 0) : .plain
                    for c in 0..<cw { g.set(x0 + b * cw + c, y, glyphs.spark[level], level == 0 ? .plain : role) }
                }
                let changed = pa[l].beyondSegment != pb[l].beyondSegment
                g.put(
                    xs, y, String(format: " %6.0f %5.1f%%", p.meanDistance, p.beyondSegment * 100),
                    name == "B" && changed ? .warning : (sel ? .accent : .plain))
            }
        }
        let y = labelY + 1 + 2 * Swift.min(rows, L - first)
        if y < r.maxY {
            let l = Swift.min(s.selectedLayer, L - 1)
            g.put(
                r.x + 1, y,
                String(
                    format: "L%d beyond seg: A %.1f%% B %.1f%% (mem %d, %d)", l,
                    pa[l].beyondSegment * 100, pb[l].beyondSegment * 100, s.windowA?.memory[l] ?? 0,
                    s.windowB?.memory[l] ?? 0),
                .plain, maxWidth: r.width - 1)
        }
    }
}
