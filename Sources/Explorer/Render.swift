// render(state, size) -> Grid: the whole screen as a pure function of the state. Cheap enough to run on
// every key press: the heatmap downsampling is the only loop over attention, the distance profiles
// come precomputed with the analysis.
import Analysis
import Foundation
import TXL

public func render(_ s: AppState, size: Size) -> Grid {
    var g = Grid(width: size.width, height: size.height)
    let layout = Layout(size: size, layerCount: s.model.layers, mainPane: s.mainPane)
    if layout.tooSmall { drawTooSmall(&g, size); return g }
    let r = Renderer(s: s, glyphs: Glyphs(ascii: s.display.ascii))
    r.title(&g, layout.title)
    r.layers(&g, layout.layers)
    r.evalSummary(&g, layout.evalSummary)
    for y in 1..<(size.height - 1) { g.set(layout.layers.width, y, r.glyphs.vertical, .border) }
    r.tabs(&g, layout)
    for (pane, rect) in layout.panes.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
        switch pane {
        case .attention: r.attention(&g, rect)
        case .distance: r.distance(&g, rect)
        case .text: r.text(&g, rect)
        case .evaluation: r.evaluation(&g, rect)
        case .layers: break
        }
    }
    if layout.panes.count > 1 {
        let rects = Array(layout.panes.values)
        for a in rects where a.x > layout.tabs.x {
            for y in a.y..<a.maxY { g.set(a.x - 1, y, r.glyphs.vertical, .border) }
        }
    }
    r.status(&g, layout.status)
    switch s.overlay {
    case .help: r.help(&g, size)
    case .confirmQuit: r.confirmQuit(&g, size)
    case nil: break
    }
    return g
}

private func drawTooSmall(_ g: inout Grid, _ size: Size) {
    let lines = [
        "terminal too small",
        "\(Layout.minimum.width)x\(Layout.minimum.height) needed, this is \(size.width)x\(size.height)",
        "enlarge it, or q to quit",
    ]
    let top = Swift.max(0, (size.height - lines.count) / 2)
    for (i, l) in lines.enumerated() {
        g.put(Swift.max(0, (size.width - l.count) / 2), top + i, l, i == 0 ? .warning : .plain)
    }
}

/// Level 0...15 for a loss in bits: 0 to 8 bits per byte, linearly.
public func lossLevel(_ bits: Float) -> UInt8 {
    guard bits.isFinite, bits > 0 else { return 0 }
    return UInt8(Swift.min(15, Int((bits / 8 * 15).rounded())))
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

struct Renderer {
    let s: AppState
    let glyphs: Glyphs

    /// A pane's title row; a title too long for the pane is cut at a word, never mid-word or mid-number.
    func header(_ g: inout Grid, _ r: Rect, _ text: String, focused: Bool) {
        g.fill(Rect(x: r.x, y: r.y, width: r.width, height: 1), " ", focused ? .header : .title)
        g.put(r.x, r.y, cutAtWord(text, r.width, ascii: glyphs.ascii), focused ? .header : .title, maxWidth: r.width)
    }

    func title(_ g: inout Grid, _ r: Rect) {
        g.fill(r, " ", .header)
        let d = glyphs.dot
        var forms = [
            " MemScope \(d) \(s.model.name) \(d) \(s.textName) (\(s.model.textSize(s.text.count)))",
            " MemScope \(d) \(s.model.name) \(d) \(s.textName)", " MemScope \(d) \(s.model.name)",
        ]
        if let c = s.comparison { forms = [" MemScope \(d) " + abHeader(c), " " + abHeader(c)] }
        let right = r.width >= 60 ? "? help  q quit " : "? help "
        let width = r.width - right.count - 1
        g.put(0, r.y, fitting(forms, width, ascii: glyphs.ascii), .header, maxWidth: width)
        g.put(r.width - right.count, r.y, right, .header)
    }

    func status(_ g: inout Grid, _ r: Rect) {
        g.fill(r, " ", .header)
        if let input = s.input {
            let prompt: String
            switch input.kind {
            case .command: prompt = ":"
            case .search: prompt = "/"
            case .memoryValue: prompt = "L\(s.selectedLayer) memory (0-\(s.model.maxMemory)): "
            }
            g.fill(r, " ", .plain)
            let n = g.put(0, r.y, prompt + input.text, .plain, maxWidth: r.width - 1)
            g.set(n, r.y, " ", .cursor)
            return
        }
        // Right: the focused pane's main keys, as many as fit beside the left part, then `? help`.
        let hints = KeyMap.paneHints(s).map { h in h.keys.map(\.description).joined(separator: "/") + " " + h.label }
        var right = " ? help "
        var lefts: [String]
        var role = Role.header
        if let m = s.message, !m.isEmpty {
            lefts = [" " + m]
            role = s.messageIsError ? .error : .accent
        } else if s.hint {
            let d = glyphs.dot
            lefts = [" ? help \(d) :goto N \(d) e evaluate \(d) c compare"]
            role = .accent
        } else {
            // The bpc of the current memory setting, or "stale" when the last run had another one.
            var bpc = "-"
            if let run = s.runs.last(where: { $0.memory == s.memory }) {
                bpc = String(format: "%.4f", run.bpc)
            } else if !s.runs.isEmpty {
                bpc = "stale"
            }
            var rate = "-"
            if let p = s.eval?.progress, p.seconds > 0 {
                rate = s.model.positions(Int(Double(p.done) / p.seconds)) + "/s"
            } else if let run = s.runs.last, run.seconds > 0 {
                rate = s.model.positions(Int(Double(run.bytes) / run.seconds)) + "/s"
            }
            let sep = " \(glyphs.vertical) ", mem = MemorySpec.compact(s.memory), loss = "\(s.model.lossUnit) \(bpc)"
            // Dropped first when the line is short: the rate, then the model's name (the title has it).
            lefts = [
                [s.model.name, mem, loss, rate, s.display.label],
                [s.model.name, mem, loss, s.display.label], [mem, loss, s.display.label],
            ].map { " " + $0.joined(separator: sep) }
        }
        // Right: the focused pane's main keys, at least three of them when the left part can shrink for them.
        func keys(_ n: Int) -> String { "  " + hints.prefix(n).joined(separator: "  ") + "  ? help " }
        var left = lefts.last!
        search: for want in [Swift.min(3, hints.count), 1] {
            for l in lefts {
                for n in stride(from: hints.count, through: want, by: -1) where l.count + keys(n).count <= r.width {
                    left = l; right = keys(n); break search
                }
            }
        }
        left = cutAtWord(left, r.width - right.count, ascii: glyphs.ascii)
        g.put(0, r.y, left, role, maxWidth: r.width - right.count)
        if role != .header { g.paint(0, r.y, width: Swift.min(left.count, r.width - right.count), role) }
        g.put(r.width - right.count, r.y, right, .header)
    }

    func tabs(_ g: inout Grid, _ layout: Layout) {
        let r = layout.tabs, all = layout.panes.count > 1
        for (p, x, label) in layout.tabLabels {
            let role: Role = s.focus == p ? .selected : (all || s.mainPane == p ? .title : .dim)
            g.put(x, r.y, label, role, maxWidth: r.maxX - x)
            // The focused tab is marked by a glyph too, so that it reads without colour or reverse video.
            if s.focus == p { g.set(x - 1, r.y, glyphs.pointer, .selected) }
        }
        // The busy note goes right of the last tab, shortened where the tabs leave little room, never over a tab.
        let tabsEnd = layout.tabLabels.map { $0.x + $0.label.count }.max() ?? r.x
        func note(_ forms: [String], margin: Int) {
            if let t = forms.first(where: { tabsEnd + 1 + $0.count + margin <= r.maxX }) {
                g.put(r.maxX - t.count - margin, r.y, t, .warning)
            }
        }
        if s.analysing {
            let pct = s.analysisProgress.map { String(format: "%.0f%%", $0.fraction * 100) }
            note(pct.map { ["computing \($0)", "busy \($0)", $0] } ?? ["computing...", "busy...", "..."], margin: 0)
        } else if let job = s.windowJob, s.comparison != nil {
            let which = s.side(of: job.window)
            note([String(format: "%@ %.0f%%", which, (job.progress?.fraction ?? 0) * 100)], margin: 1)
        }
    }

    // MARK: Layers

    func layers(_ g: inout Grid, _ r: Rect) {
        // Columns: pointer, L<n> (0-5), memory (6-11), kind (13-17), share (18-23), a log-scale bar.
        header(&g, r, "1 Layers", focused: s.focus == .layers)
        let hr: Role = s.focus == .layers ? .header : .title
        g.put(r.x + 9, r.y, "mem", hr); g.put(r.x + 13, r.y, "kind", hr); g.put(r.x + 19, r.y, "share", hr)
        let rows = r.height - 4
        let L = s.model.layers
        let first = Swift.max(0, Swift.min(s.selectedLayer - rows / 2, L - rows))
        let total = Swift.max(1, s.memory.reduce(0, +))
        for i in 0..<Swift.min(rows, L - first) {
            let l = first + i, y = r.y + Layout.layerTableTop + i
            let m = s.memory[l]
            let share = Double(m) / Double(total) * 100
            let sel = l == s.selectedLayer
            let line = String(
                format: "%@L%-4d%6d %-5@%5.1f%%", sel ? String(glyphs.pointer) : " ", l, m,
                s.kind(ofLayer: l), share)
            let role: Role = sel ? (s.focus == .layers ? .selected : .accent) : (m == 0 ? .dim : .plain)
            let n = g.put(r.x, y, line, role, maxWidth: r.width)
            // The bar is the share of the state, as the column says: the full width is 100%.
            let barWidth = r.width - n - 2
            for (b, ch) in glyphs.shareBar(share / 100, width: barWidth).enumerated() {
                g.set(r.x + n + 1 + b, y, ch, sel ? role : .accent)
            }
        }
        var y = r.y + Layout.layerTableTop + Swift.min(rows, L)
        let ratio = s.ratioToFull
        g.put(r.x + 1, y, "state \(formatCount(s.stateFloats)) floats", .plain, maxWidth: r.width - 1); y += 1
        var ratioText = ratio.isFinite ? String(format: "%.2f%@ full", ratio, glyphs.times) : "full model has no memory"
        if ratio.isFinite && ratio > 0 && ratio < 1 {
            ratioText += String(format: " (%.1f%@ fewer)", 1 / ratio, glyphs.times)
        }
        g.put(r.x + 1, y, ratioText, .accent, maxWidth: r.width - 1); y += 1
        // Where the sidebar is too narrow for the preset's name, it is left out rather than cut mid-word.
        let lengths = "lrm \(s.longLength) \(glyphs.dot) srm \(s.shortLength)"
        let forms = [lengths + (s.preset.map { " \(glyphs.dot) \($0)" } ?? ""), lengths]
        g.put(r.x + 1, y, fitting(forms, r.width - 1, ascii: glyphs.ascii), .dim, maxWidth: r.width - 1)
    }

    // MARK: Evaluation summary (sidebar)

    func evalSummary(_ g: inout Grid, _ r: Rect) {
        guard r.height >= 2 else { return }
        let line = String(repeating: String(glyphs.horizontal), count: r.width)
        g.put(r.x, r.y, line, .border)
        g.put(
            r.x + 1, r.y, " Eval \(s.model.positions(s.evalBytes)) ", s.focus == .evaluation ? .selected : .title,
            maxWidth: r.width - 1)
        var y = r.y + 1
        if let ev = s.eval {
            let done = ev.progress?.fraction ?? 0
            bar(&g, r.x + 1, y, width: r.width - 7, fraction: done)
            g.put(r.x + r.width - 5, y, lpad(String(format: "%.0f%%", done * 100), 4), .accent); y += 1
            if let p = ev.progress, let eta = p.eta {
                g.put(
                    r.x + 1, y,
                    String(format: "%@ %.4f %@ ETA %@", s.model.lossColumn, p.bpc, glyphs.dot, formatDuration(eta)),
                    .plain,
                    maxWidth: r.width - 1)
            } else {
                g.put(r.x + 1, y, "starting...", .dim)
            }
            y += 1
        } else {
            g.put(r.x + 1, y, "idle \(glyphs.dot) e evaluates", .dim, maxWidth: r.width - 1); y += 1
        }
        if let last = s.runs.last, y < r.maxY {
            var t = String(format: "last %.4f %@", last.bpc, s.model.lossUnit)
            if let b = s.runs.first(where: { $0.id == s.baseline }), b.id != last.id {
                t +=
                    b.sameText(last)
                    ? String(format: " %@%+.4f", glyphs.delta, last.bpc - b.bpc) : " (other \(s.model.units))"
            }
            g.put(r.x + 1, y, t, .plain, maxWidth: r.width - 1); y += 1
        }
        if y < r.maxY && !s.runs.isEmpty {
            let runs = "\(s.runs.count) run\(s.runs.count == 1 ? "" : "s")"
            g.put(r.x + 1, y, "\(runs) \(glyphs.dot) 5 shows them", .dim, maxWidth: r.width - 1)
        }
    }

    func bar(_ g: inout Grid, _ x: Int, _ y: Int, width: Int, fraction: Double) {
        guard width > 0 else { return }
        let filled = Int((Swift.max(0, Swift.min(1, fraction)) * Double(width)).rounded(.down))
        for i in 0..<width {
            g.set(x + i, y, i < filled ? glyphs.barFull : glyphs.barEmpty, i < filled ? .accent : .dim)
        }
    }

    // MARK: Attention

    func heatCell(_ top: UInt8, _ bottom: UInt8) -> Cell {
        if s.halfBlocks { return Cell(glyphs.upperHalf, .heat(top: top, bottom: bottom)) }
        if s.display.colors { return Cell(" ", .heat(top: top, bottom: top)) }
        return Cell(glyphs.shade(top), .heat(top: top, bottom: top))
    }

    func attention(_ g: inout Grid, _ r: Rect) {
        let view = s.effectiveHeadView
        guard let a = s.analysis, s.selectedLayer < a.attention.count else {
            header(&g, r, " L\(s.selectedLayer) \(glyphs.dot) computing the segment...", focused: s.focus == .attention)
            return
        }
        let att = a.attention[s.selectedLayer]
        let M = att.memoryKeys
        let stale = s.analysisIsCurrent ? "" : " (updating)"
        let heads = view == .mean || view == .max ? "\(view) of \(att.heads) heads" : "\(view)"
        let side = s.comparison?.heatmapA == true && s.analysisMemory == s.comparison?.a ? "A's " : ""
        let range = "\(a.offset)-\(a.offset + a.bytes.count - 1)", bytes = "\(s.model.unit)s " + range
        let d = glyphs.dot
        // The memory present (keys before the segment) of the memory set, as the Layers pane shows it.
        let set = s.analysisMemory.map { $0[s.selectedLayer] } ?? s.memory[s.selectedLayer]
        let mem = "mem \(M) of \(set)\(stale)", L = " L\(s.selectedLayer) \(d) \(side)"
        let short = view == .mean || view == .max ? "\(view)" : "h\(s.effectiveHeadView.headIndex ?? 0)"
        header(
            &g, r,
            fitting(
                [
                    "\(L)\(heads) \(d) \(bytes) \(d) \(mem)", "\(L)\(heads) \(d) \(range) \(d) \(mem)",
                    "\(L)\(short) \(d) \(bytes) \(d) \(mem)", "\(L)\(short) \(d) \(range) \(d) \(mem)",
                    "\(L)\(short) \(d) \(mem)",
                ], r.width, ascii: glyphs.ascii),
            focused: s.focus == .attention)
        let area = Layout.heatArea(r)
        let perCell = s.halfBlocks ? 2 : 1
        let cols = heatColumns(r)
        let visible = Heatmap.visibleKeys(att.keys, zoom: s.zoom, columns: cols)
        let start = Swift.max(0, Swift.min(s.pan, att.keys - visible))
        // Columns never straddle the memory/segment boundary, which gets a column of its own inside the map.
        let hm = Heatmap.downsample(
            att, head: view, reduction: s.reduction, queries: 0..<att.queries,
            keyStarts: Heatmap.splitKeyStarts(start..<(start + visible), cols: cols, split: M),
            rows: area.height * perCell)
        let gap: Int? = M > start && M < start + visible ? hm.column(ofKey: M) : nil
        func x(_ c: Int) -> Int { area.x + c + (gap.map { c >= $0 ? 1 : 0 } ?? 0) }
        let fixed = s.fixedScale
        let top = fixed ? Heatmap.fixedTop : hm.maxValue
        let scale = fixed ? HeatScale.log : s.scale
        let decades = fixed ? Heatmap.fixedDecades : 3
        func lvl(_ row: Int, _ c: Int) -> UInt8 {
            row < hm.rows ? Heatmap.level(hm.value(row, c), top: top, scale: scale, decades: decades) : 0
        }
        let cellRows = (hm.rows + perCell - 1) / perCell
        for y in 0..<cellRows {
            for c in 0..<hm.cols {
                let cell = heatCell(lvl(y * perCell, c), perCell == 2 ? lvl(y * perCell + 1, c) : lvl(y, c))
                g[x(c), area.y + y] = cell
            }
            if let b = gap { g.set(area.x + b, area.y + y, glyphs.boundary, .accent) }
        }
        // y axis: query positions from the segment start, every fourth row; the cursor query's row marked.
        let every = cellRows > 8 ? 4 : 2
        for y in stride(from: 0, to: cellRows, by: every) {
            g.put(r.x, area.y + y, lpad("+\(hm.queryStarts[y * perCell])", 4), .dim, maxWidth: 4)
        }
        let q = s.cursor - a.offset
        if q >= 0 && q < att.queries, let row = hm.row(ofQuery: q) {
            g.set(area.x - 1, area.y + row / perCell, glyphs.pointer, .accent)
        }
        // x axis: key positions from the segment start (memory negative), ticks and their labels; the key
        // characters themselves once a column holds one key.
        let axisY = area.y + area.height, labelY = axisY + 1
        let memBytes = s.selectedLayer < a.memoryBytes.count ? a.memoryBytes[s.selectedLayer] : []
        func keyByte(_ k: Int) -> UInt8 { k < M ? (k < memBytes.count ? memBytes[k] : 0x20) : a.bytes[k - M] }
        let chars = visible <= cols
        for c in 0..<hm.cols {
            if chars {
                let (ch, standIn) = glyphs.byte(keyByte(hm.keyStarts[c]))
                g.set(x(c), axisY, ch, standIn || hm.keyStarts[c] < M ? .dim : .plain)
            } else {
                g.set(x(c), axisY, glyphs.horizontal, .border)
            }
        }
        if let b = gap { g.set(area.x + b, axisY, glyphs.boundary, .accent) }
        g.put(r.x, labelY, "key", .dim)
        axisTicks(
            &g, hm, axisY: axisY, labelY: labelY, marks: !chars, memoryKeys: M, x: x,
            boundaryX: gap.map { area.x + $0 }, maxX: area.maxX)
        markBeyondB(&g, hm, axisY: axisY, x0: area.x, memoryKeys: M)
        if let p = s.keyCursor, let c = hm.column(ofKey: p + M) {
            if chars { g[x(c), axisY].role = .cursor } else { g.set(x(c), axisY, glyphs.keyMark, .cursor) }
        }
        // Legend with numbers, and which scale: per view (against this view's largest value) or fixed.
        let ly = labelY + 1
        var lx = area.x
        let lowest = Heatmap.threshold(1, top: top, scale: scale, decades: decades)
        lx += g.put(lx, ly, String(format: "%.0e ", lowest), .dim)
        for l in UInt8(0)..<16 {
            g[lx, ly] = s.display.colors ? Cell(" ", .heat(top: l, bottom: l)) : Cell(glyphs.shade(l), .plain)
            lx += 1
        }
        let which = fixed ? "1 fixed log" : String(format: "%.3f %@ per view", top, scale.rawValue)
        var legend = [" " + which, "\(s.reduction.rawValue)-pool"]
        if s.zoom > 0 { legend.append("zoom \(att.keys / Swift.max(1, visible))x") }
        let zoomForm = legend.count > 2 ? [legend[0] + " \(glyphs.dot) " + legend[2]] : []
        let forms = [legend.joined(separator: " \(glyphs.dot) ")] + zoomForm + [legend[0]]
        lx += g.put(lx, ly, fitting(forms, area.maxX - lx), .dim)
        keyReadout(&g, Rect(x: r.x, y: ly + 1, width: r.width, height: 1), a, att, q, view)
        reads(&g, Rect(x: r.x, y: ly + 2, width: r.width, height: r.maxY - ly - 2), a, att, q, view)
    }

    /// Tick marks on the x axis every 1, 2 or 5 times a power of ten keys (at least 7 columns apart), labelled
    /// with the key position from the segment start: `-128`, `0` (the boundary), `+64`.
    func axisTicks(
        _ g: inout Grid, _ hm: HeatmapView, axisY: Int, labelY: Int, marks: Bool, memoryKeys M: Int,
        x: (Int) -> Int, boundaryX: Int?, maxX: Int
    ) {
        guard hm.cols > 0 else { return }
        let lo = hm.keyStarts[0] - M, hi = hm.keyStarts[hm.cols] - 1 - M
        let perColumn = Double(hi - lo + 1) / Double(hm.cols)
        var step = 1
        for k in 0..<12 {
            let base = Int(pow(10, Double(k)))
            if let s = [base, 2 * base, 5 * base].first(where: { Double($0) / perColumn >= 7 }) { step = s; break }
        }
        var p = Int((Double(lo) / Double(step)).rounded(.up)) * step
        var free = x(0)
        while p <= hi {
            if let c = hm.column(ofKey: p + M) {
                let cx = p == 0 ? (boundaryX ?? x(c)) : x(c)  // 0 under the boundary's own column
                if marks && p != 0 { g.set(cx, axisY, glyphs.tick, .border) }
                let label = p > 0 ? "+\(p)" : "\(p)"
                let lx = Swift.max(free, cx - (p < 0 ? label.count - 1 : 0))
                if lx + label.count <= maxX && lx <= cx {
                    g.put(lx, labelY, label, p == 0 ? .accent : .dim)
                    free = lx + label.count + 1
                }
            }
            p += step
        }
    }

    /// The cell under the key cursor: the key's byte and position, its distance from the cursor query, the
    /// probability the query gives it in this head view.
    func keyReadout(
        _ g: inout Grid, _ r: Rect, _ a: SegmentAnalysis, _ att: AttentionCapture, _ q: Int, _ view: HeadView
    ) {
        let d = glyphs.dot
        guard let p = s.keyCursor else {
            let t = " , . key cursor \(d) ^ oldest \(d) | segment start \(d) z zoom"
            g.put(r.x, r.y, cutAtWord(t, r.width, ascii: glyphs.ascii), .dim)
            return
        }
        let M = att.memoryKeys, k = p + M
        var t: String
        if k < 0 || k >= att.keys {
            t = " key \(p > 0 ? "+" : "")\(p): outside L\(s.selectedLayer)'s keys (mem \(M))"
        } else {
            let memBytes = s.selectedLayer < a.memoryBytes.count ? a.memoryBytes[s.selectedLayer] : []
            let byte = k < M ? (k < memBytes.count ? memBytes[k] : 0x20) : a.bytes[k - M]
            t = " key @\(a.offset + p) \(label(ofKey: a.offset + p, byte)) \(d) d=\(q - p)"
            if q < 0 || q >= att.queries {
                t += " \(d) the cursor is outside this segment"
            } else if q - p < 0 {
                t += " \(d) masked (after the query)"
            } else {
                let v = Heatmap.row(att, query: q, keys: k..<(k + 1), view: view)[0]
                t += " \(d) p=" + (v >= 1e-3 ? String(format: "%.4f", v) : String(format: "%.1e", v)) + " \(d) \(view)"
            }
        }
        g.put(r.x, r.y, cutAtWord(t, r.width, ascii: glyphs.ascii), .title)
    }

    /// The cursor query's attention drawn over the text itself: the bytes it reads, however far back.
    func reads(_ g: inout Grid, _ r: Rect, _ a: SegmentAnalysis, _ att: AttentionCapture, _ q: Int, _ view: HeadView) {
        guard r.height >= 1, q >= 0, q < att.queries else {
            g.put(r.x, r.y, " cursor is outside this segment", .dim); return
        }
        let M = att.memoryKeys
        let memBytes = s.selectedLayer < a.memoryBytes.count ? a.memoryBytes[s.selectedLayer] : []
        func byte(_ k: Int) -> UInt8 { k < M ? (k < memBytes.count ? memBytes[k] : 0x20) : a.bytes[k - M] }
        let kEnd = M + q  // the query's own position
        let probs = Heatmap.row(att, query: q, keys: 0..<(kEnd + 1), view: view)
        let top = probs.max() ?? 0
        let loss = q < a.lossBits.count ? a.lossBits[q] : .nan
        let lossText = loss.isNaN ? "" : String(format: " %@ loss %.2f bits", glyphs.dot, loss)
        g.put(
            r.x, r.y, " q\(a.offset + q) \(label(ofKey: a.offset + q, a.bytes[q]))\(lossText) \(glyphs.dot) reads:",
            .title,
            maxWidth: r.width)
        let stripRows = Swift.max(0, Swift.min(2, r.height - 2))
        let n = Swift.min(kEnd + 1, stripRows * r.width)
        for i in 0..<n {
            let k = kEnd + 1 - n + i
            let (ch, _) = glyphs.byte(byte(k))
            let level = Heatmap.level(probs[k], top: top, scale: s.scale)
            g.set(r.x + i % r.width, r.y + 1 + i / r.width, ch, k == kEnd ? .cursor : .shade(level))
        }
        let best = probs.indices.sorted { probs[$0] > probs[$1] }.prefix(4)
        let list = best.map { k in
            String(format: "d=%d %@ %.0f%%", kEnd - k, label(ofKey: a.offset - M + k, byte(k)), probs[k] * 100)
        }
        // As many whole entries as fit.
        let forms = (1...Swift.max(1, list.count)).reversed().map {
            list.prefix($0).joined(separator: " \(glyphs.dot) ")
        }
        g.put(r.x + 1, r.y + 1 + stripRows, fitting(forms, r.width - 1), .plain, maxWidth: r.width - 1)
    }

    // MARK: Distance

    func distance(_ g: inout Grid, _ r: Rect) {
        if let wa = s.windowA, let wb = s.windowB, let pa = s.windowProfiles[wa], let pb = s.windowProfiles[wb]
        {
            distanceAB(&g, r, a: pa, b: pb)
            return
        }
        header(&g, r, " 3 mass by distance (log bins), mean, beyond seg", focused: s.focus == .distance)
        guard !s.profiles.isEmpty else { g.put(r.x + 1, r.y + 1, "computing the segment...", .dim); return }
        let bins = s.profiles[0].bins.count
        let cw = Swift.max(1, Swift.min(3, (r.width - 5 - 16) / Swift.max(1, bins)))
        let labelY = r.y + 1
        let x = distanceAxis(&g, x: r.x + 4, y: labelY, bins: bins, cellWidth: cw)
        let rows = Swift.max(1, r.height - 4)
        let L = s.profiles.count
        let first = Swift.max(0, Swift.min(s.selectedLayer - rows / 2, L - rows))
        for j in 0..<Swift.min(rows, L - first) {
            let l = first + j, p = s.profiles[l], y = labelY + 1 + j
            let sel = l == s.selectedLayer
            g.put(r.x, y, "L\(l)", sel ? (s.focus == .distance ? .selected : .accent) : .plain)
            let top = p.bins.max() ?? 0
            for (b, m) in p.bins.enumerated() {
                let level = top > 0 && m > 0 ? Swift.max(1, Int((m / top * 8).rounded(.up))) : 0
                let role: Role = s.display.colors ? .heat(top: UInt8(Swift.min(15, level * 2)), bottom: 0) : .plain
                for c in 0..<cw { g.set(r.x + 4 + b * cw + c, y, glyphs.spark[level], level == 0 ? .plain : role) }
            }
            g.put(x, y, String(format: " %6.0f %5.1f%%", p.meanDistance, p.beyondSegment * 100), sel ? .accent : .plain)
        }
        let p = s.profiles[Swift.min(s.selectedLayer, L - 1)]
        let y = labelY + 1 + Swift.min(rows, L)
        if y < r.maxY {
            g.put(
                r.x + 1, y,
                String(
                    format: "L%d: mean %.1f, %.1f%% beyond the segment (mem %d)",
                    s.selectedLayer, p.meanDistance, p.beyondSegment * 100, s.memory[s.selectedLayer]),
                .plain, maxWidth: r.width - 1)
        }
        if y + 1 < r.maxY {
            g.put(
                r.x + 1, y + 1, "bins 0, 1, 2-3, 4-7, ... \(glyphs.boundary) segment length \(s.model.segmentLength)",
                .dim, maxWidth: r.width - 1)
        }
    }

    // MARK: Text

    func text(_ g: inout Grid, _ r: Rect) {
        if let c = s.comparison, c.deltaMode { textDelta(&g, r, c); return }
        let area = Layout.textArea(r)
        let a = s.analysis
        var info = " @\(s.cursor)/\(s.text.count)"
        if let t = s.model.tokens, s.cursor < t.count {
            info += " \"\(t.label(at: s.cursor))\""
        } else if s.cursor < s.text.count {
            info += " '\(Glyphs.describe(s.text[s.cursor]))'"
        }
        if let a, s.cursor >= a.offset, s.cursor - a.offset < a.lossBits.count {
            let l = a.lossBits[s.cursor - a.offset]
            if !l.isNaN { info += String(format: " loss %.2f bits", l) }
        }
        if let q = s.search { info += " \(glyphs.dot) /\(q)" }
        header(&g, r, info, focused: s.focus == .text)
        let current = s.analysisIsCurrent
        textBytes(&g, area) { i, role in
            guard let a, i >= a.offset, i - a.offset < a.lossBits.count else { return role }
            let bits = a.lossBits[i - a.offset]
            return current ? .shade(s.model.tokens == nil ? lossLevel(bits) : wordLossLevel(bits)) : .dim
        }
        let ly = r.maxY - 1
        var x = g.put(r.x + 1, ly, "loss 0 ", .dim)
        for l in 0..<16 { g.set(r.x + 1 + x, ly, s.display.colors ? " " : "a", .shade(UInt8(l))); x += 1 }
        g.put(r.x + 1 + x, ly, s.model.tokens == nil ? " 8+ bits/byte" : " 16+ bits/token", .dim)
    }

    /// The Distance pane's axis from `x`: every few bins' lower bound, the segment boundary, then the column
    /// titles; returns the x where the titles start (the profiles' bars end there).
    func distanceAxis(_ g: inout Grid, x: Int, y: Int, bins: Int, cellWidth cw: Int) -> Int {
        var i = 0
        while i < bins {
            let lo = DistanceProfile.range(ofBin: i).lowerBound
            let t = lo >= 1024 ? "\(lo / 1024)k" : "\(lo)"
            g.put(x + i * cw, y, t, .dim)
            i += Swift.max(1, (t.count + cw) / cw)
        }
        let segBin = DistanceProfile.bin(of: s.model.segmentLength)
        if segBin < bins { g.set(x + segBin * cw - 1, y, glyphs.boundary, .accent) }
        g.put(x + bins * cw, y, "   mean beyond", .dim)
        return x + bins * cw
    }

    /// The text from the pane's top line, one byte a cell: `shade(i, role)` gives byte i's role (from the plain or
    /// stand-in role); search hits and the cursor are drawn over it.
    func textBytes(_ g: inout Grid, _ area: Rect, shade: (Int, Role) -> Role) {
        if let t = s.model.tokens { textWords(&g, area, t, shade: shade); return }
        let top = textTopLine(s, area: area)
        let visible =
            Swift.min(s.text.count, top * area.width)..<Swift.min(s.text.count, (top + area.height) * area.width)
        let hits = searchHits(visible)
        for row in 0..<area.height {
            for col in 0..<area.width {
                let i = (top + row) * area.width + col
                guard i < s.text.count else { break }
                let (ch, standIn) = glyphs.byte(s.text[i])
                var role = shade(i, standIn ? .dim : .plain)
                if hits[i - visible.lowerBound] { role = .match }
                if i == s.cursor { role = .cursor }
                g.set(area.x + col, area.y + row, ch, role)
            }
        }
    }

    /// A word model's text: one cell run per word, a space between, a new line after each <eos> (drawn as a mark);
    /// `shade(i, role)` gives token i's role, search hits (whole words) and the cursor are drawn over it.
    func textWords(_ g: inout Grid, _ area: Rect, _ t: TokenText, shade: (Int, Role) -> Role) {
        let rows = t.view(
            cursor: s.cursor, width: area.width, height: area.height, eosMark: s.display.ascii ? "$" : "\u{21B5}")
        guard let first = rows.first?.first?.token, let last = rows.last?.last?.token else { return }
        let visible = first..<(last + 1)
        let hits = s.search.map { t.hits($0, in: visible) } ?? []
        for (y, row) in rows.enumerated() {
            for p in row {
                var role = shade(p.token, t.ids[p.token] == t.eos ? .dim : .plain)
                if !hits.isEmpty && hits[p.token - first] { role = .match }
                if p.token == s.cursor { role = .cursor }
                g.put(area.x + p.x, area.y + y, p.text, role, maxWidth: area.width - p.x)
            }
        }
    }

    /// Which bytes of `range` belong to a hit of the last search (hits may start before the range).
    func searchHits(_ range: Range<Int>) -> [Bool] {
        var marks = [Bool](repeating: false, count: range.count)
        guard let q = s.search, !q.isEmpty else { return marks }
        let needle = Array(q.utf8), m = needle.count
        for i in Swift.max(0, range.lowerBound - m + 1)..<range.upperBound where occurs(needle, in: s.text, at: i) {
            for k in Swift.max(i, range.lowerBound)..<Swift.min(i + m, range.upperBound) {
                marks[k - range.lowerBound] = true
            }
        }
        return marks
    }

    // MARK: Evaluation

    func evaluation(_ g: inout Grid, _ r: Rect) {
        let d = glyphs.dot
        header(
            &g, r,
            " \(s.model.lossUnit) over \(s.model.positions(s.evalBytes)) from \(s.model.unit) \(s.evalStart) "
                + "\(d) e run "
                + "\(d) < > size \(d) p pin",
            focused: s.focus == .evaluation)
        if let ev = s.eval {
            let p = ev.progress
            let done = p?.fraction ?? 0
            bar(&g, r.x + 1, r.y + 1, width: Swift.min(20, r.width / 3), fraction: done)
            var t = String(format: " %3.0f%%", done * 100)
            if let p, let eta = p.eta {
                t += String(
                    format: " ETA %@ %@ %@ %.4f %@ %@/s", formatDuration(eta), glyphs.dot, s.model.lossColumn, p.bpc,
                    glyphs.dot, s.model.positions(Int(Double(p.done) / Swift.max(p.seconds, 1e-9))))
            }
            g.put(r.x + 1 + Swift.min(20, r.width / 3), r.y + 1, t, .plain, maxWidth: r.width - 22)
        } else {
            g.put(
                r.x + 1, r.y + 1, "idle \(glyphs.dot) memory \(MemorySpec.compact(s.memory))", .dim,
                maxWidth: r.width - 1)
        }
        let n = runRows(r)
        runsTable(&g, Rect(x: r.x, y: r.y + 2, width: r.width, height: n + 1))
        guard !s.runs.isEmpty else { return }
        let chartTop = r.y + Layout.runTableTop + n + 1
        chart(&g, Rect(x: r.x, y: chartTop, width: r.width, height: r.maxY - chartTop))
    }

    // MARK: Overlays

    func box(_ g: inout Grid, _ r: Rect, title: String) {
        g.fill(r, " ", .plain)
        for x in r.x..<r.maxX {
            g.set(x, r.y, glyphs.horizontal, .border)
            g.set(x, r.maxY - 1, glyphs.horizontal, .border)
        }
        for y in r.y..<r.maxY {
            g.set(r.x, y, glyphs.vertical, .border)
            g.set(r.maxX - 1, y, glyphs.vertical, .border)
        }
        g.put(r.x + 2, r.y, " \(title) ", .title)
    }

    func help(_ g: inout Grid, _ size: Size) {
        let r = KeyMap.helpBox(size)
        let lines = KeyMap.helpText(width: KeyMap.helpWidth(size))
        let rows = KeyMap.helpRows(size)
        let top = Swift.min(s.helpTop, KeyMap.helpMaxTop(size))
        let shown = Swift.min(rows, lines.count - top)
        box(&g, r, title: rows < lines.count ? "Keys: ? or Esc closes, j/k PgUp/PgDn scroll" : "Keys: ? or Esc closes")
        for i in 0..<shown {
            g.put(r.x + 2, r.y + 1 + i, lines[top + i].text, lines[top + i].role, maxWidth: r.width - 4)
        }
        if rows < lines.count {
            let more = top + rows < lines.count ? ", more: j" : ""
            let pos = " lines \(top + 1)-\(top + shown) of \(lines.count)\(more) "
            g.put(r.maxX - 2 - pos.count, r.maxY - 1, pos, .accent)
        }
    }

    func confirmQuit(_ g: inout Grid, _ size: Size) {
        let text = "An evaluation is running. Quit anyway? y / n"
        let w = text.count + 6
        let r = Rect(x: (size.width - w) / 2, y: size.height / 2 - 2, width: w, height: 5)
        box(&g, r, title: "Quit")
        g.put(r.x + 3, r.y + 2, text, .warning)
    }
}

extension EvalProgress {
    /// Seconds left at the rate so far; nil before the first byte.
    var eta: Double? { done > 0 ? seconds / Double(done) * Double(total - done) : nil }
}
