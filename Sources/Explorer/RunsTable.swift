// The Eval pane's table of runs: the pinned baseline first, bytes and the whole memory setting of each run
// (wrapped at its groups, never cut mid-number), and Δ only against a baseline over the same bytes.
import TXL

extension Renderer {
    /// Columns before the memory setting; state and ratio only when the pane is wide enough for them.
    func runsColumns(_ width: Int) -> (wide: Bool, memoryX: Int) {
        let wide = width >= 72
        return (wide, wide ? 48 : 35)
    }

    /// One run's cells before the memory setting.
    func runCells(_ run: Run, base: Run?, wide: Bool, pointer: Bool) -> String {
        var delta = ""
        if let base, base.id != run.id {
            delta = base.bytes == run.bytes ? String(format: "%+.4f", run.bpc - base.bpc) : "—"
        }
        if let base, base.id == run.id { delta = "base" }
        let mark = run.id == s.baseline ? String(glyphs.baselinePoint) : " "
        let p = pointer ? String(glyphs.pointer) : " "
        let head =
            p + mark + String(format: "%3d ", run.id) + lpad(formatBytes(run.bytes), 8)
            + String(format: " %7.4f ", run.bpc) + lpad(delta, 8)
        guard wide else { return head + "  " }
        let ratio = MemoryPlan.ratio(run.memory, to: s.model.defaultMemory)
        return head + " " + lpad(formatCount(run.stateFloats), 6) + String(format: " %5.2f  ", ratio)
    }

    /// The memory setting's groups (`L0-4:128`) in lines of at most `width` cells.
    func memoryLines(_ memory: [Int], width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for group in MemorySpec.compact(memory).split(separator: " ").map(String.init) {
            if line.isEmpty {
                line = group
            } else if line.count + 1 + group.count <= width {
                line += " " + group
            } else {
                lines.append(line); line = group
            }
        }
        return lines + [line]
    }

    func runsTable(_ g: inout Grid, _ r: Rect) {
        let (wide, mx) = runsColumns(r.width)
        let d = glyphs.delta
        var head = "  " + lpad("#", 3) + " " + lpad("bytes", 8) + " " + lpad("bpc", 7) + " " + lpad(d + "base", 8)
        if wide { head += " " + lpad("state", 6) + " " + lpad("ratio", 5) }
        head = pad(head, mx) + "memory"
        g.put(r.x, r.y, head, .title, maxWidth: r.width)
        guard !s.runs.isEmpty else {
            g.put(r.x + 1, r.y + 1, "no runs yet: e evaluates with the current memory", .dim, maxWidth: r.width - 1)
            return
        }
        let base = s.runs.first { $0.id == s.baseline }
        let sel = s.selectedRun ?? s.runs.count - 1
        var y = r.y + 1
        func draw(_ i: Int) {
            let run = s.runs[i]
            let role: Role = i == sel && s.focus == .evaluation ? .selected : .plain
            let lines = memoryLines(run.memory, width: Swift.max(8, r.width - mx))
            for (k, m) in lines.enumerated() where y < r.maxY {
                let cells = k == 0 ? runCells(run, base: base, wide: wide, pointer: i == sel) : ""
                g.put(r.x, y, pad(cells, mx) + m, role, maxWidth: r.width)
                y += 1
            }
        }
        // The baseline stays at the top; the others scroll so that the selected run is shown.
        if let b = base, let bi = s.runs.firstIndex(where: { $0.id == b.id }) { draw(bi) }
        let others = s.runs.indices.filter { s.runs[$0].id != s.baseline }
        let room = r.maxY - y
        let selIndex = others.firstIndex(of: sel) ?? others.count - 1
        let first = Swift.max(0, Swift.min(selIndex - room + 1, others.count - room))
        for i in others[Swift.max(0, first)...] where y < r.maxY { draw(i) }
        if base != nil && s.runs.contains(where: { $0.bytes != base!.bytes }) && r.width > 40 {
            // Say why some Δ are missing (on the header line's free end when the pane is wide enough).
            let note = "— other bytes"
            if head.count + note.count + 2 <= r.width { g.put(r.maxX - note.count, r.y, note, .dim) }
        }
    }
}
