// The Eval pane's table of runs: the pinned baseline first, bytes and the whole memory setting of each run
// (wrapped at its groups, never cut mid-number), and Δ only against a baseline over the same bytes.
import TXL

extension Renderer {
    /// Columns before the memory setting; state and ratio only when the pane is wide enough for them.
    func runsColumns(_ width: Int) -> (wide: Bool, memoryX: Int) {
        (width >= 72, runsMemoryX(width))
    }

    /// One run's cells before the memory setting.
    func runCells(_ run: Run, base: Run?, wide: Bool, pointer: Bool) -> String {
        var delta = ""
        if let base, base.id != run.id {
            delta = base.sameText(run) ? String(format: "%+.4f", run.bpc - base.bpc) : "—"
        }
        if let base, base.id == run.id { delta = "base" }
        let mark = run.id == s.baseline ? String(glyphs.baselinePoint) : " "
        let p = pointer ? String(glyphs.pointer) : " "
        let head =
            p + mark + String(format: "%3d ", run.id) + lpad(s.model.count(run.bytes), 8)
            + " " + lpad(String(format: "%.4f", run.bpc), lossWidth) + " " + lpad(delta, 8)
        guard wide else { return head + "  " }
        let ratio = MemoryPlan.ratio(run.memory, to: s.model.defaultMemory)
        return head + " " + lpad(formatCount(run.stateFloats), 6) + String(format: " %5.2f  ", ratio)
    }

    func memoryLines(_ memory: [Int], width: Int) -> [String] { runMemoryLines(memory, width: width) }

    /// The loss column's width: "bpc" values, or the wider "bits/tok" title of a word model.
    var lossWidth: Int { Swift.max(7, s.model.lossColumn.count) }

    func runsTable(_ g: inout Grid, _ r: Rect) {
        let (wide, mx) = runsColumns(r.width)
        let d = glyphs.delta
        var head =
            "  " + lpad("#", 3) + " " + lpad(s.model.units, 8) + " " + lpad(s.model.lossColumn, lossWidth) + " "
            + lpad(d + "base", 8)
        if wide { head += " " + lpad("state", 6) + " " + lpad("ratio", 5) }
        head = pad(head, mx) + "memory"
        g.put(r.x, r.y, head, .title, maxWidth: r.width)
        guard !s.runs.isEmpty else {
            g.put(r.x + 1, r.y + 1, "no runs yet: e evaluates with the current memory", .dim, maxWidth: r.width - 1)
            return
        }
        let base = s.runs.first { $0.id == s.baseline }
        let sel = s.selectedRun ?? s.runs.count - 1
        let rows = runsTableRows(s, width: r.width, lines: r.height - 1)
        for (k, row) in rows.enumerated() {
            let i = row.run, run = s.runs[i]
            let role: Role = i == sel && s.focus == .evaluation ? .selected : .plain
            let m = memoryLines(run.memory, width: Swift.max(8, r.width - mx))[row.line]
            let cells = row.line == 0 ? runCells(run, base: base, wide: wide, pointer: i == sel) : ""
            g.put(r.x, r.y + 1 + k, pad(cells, mx) + m, role, maxWidth: r.width)
        }
        if base != nil && s.runs.contains(where: { !$0.sameText(base!) }) && r.width > 40 {
            // Say why some Δ are missing (on the header line's free end when the pane is wide enough).
            let note = "— other \(s.model.units)"
            if head.count + note.count + 2 <= r.width { g.put(r.maxX - note.count, r.y, note, .dim) }
        }
    }
}

extension Run {
    /// Whether two runs predicted the same positions of the text (a Δ between them means something).
    public func sameText(_ o: Run) -> Bool { bytes == o.bytes && offset == o.offset }
}

/// The memory setting's groups (`L0-4:128`) in lines of at most `width` cells (a group is never cut).
func runMemoryLines(_ memory: [Int], width: Int) -> [String] {
    wrapWords(MemorySpec.compact(memory), width: width, cutLongWords: false)
}

/// What each of the `lines` rows under the runs table's header shows: a run (its index in `s.runs`) and which
/// line of its wrapped memory setting. The pinned baseline comes first; the others scroll so that the selected
/// run is shown. Render draws these rows and a mouse click selects the run of the row under the pointer.
func runsTableRows(_ s: AppState, width: Int, lines: Int) -> [(run: Int, line: Int)] {
    guard !s.runs.isEmpty, lines > 0 else { return [] }
    let memoryX = runsMemoryX(width)
    func count(_ i: Int) -> Int { runMemoryLines(s.runs[i].memory, width: Swift.max(8, width - memoryX)).count }
    var out: [(run: Int, line: Int)] = []
    func add(_ i: Int) { for k in 0..<count(i) where out.count < lines { out.append((i, k)) } }
    if let bi = s.runs.firstIndex(where: { $0.id == s.baseline }) { add(bi) }
    let others = s.runs.indices.filter { s.runs[$0].id != s.baseline }
    let room = lines - out.count
    let sel = s.selectedRun ?? s.runs.count - 1
    let selIndex = others.firstIndex(of: sel) ?? others.count - 1
    // The first run shown: the earliest from which the runs up to the selected one fit.
    var first = 0
    if selIndex >= 0 {
        var used = others[first...selIndex].reduce(0) { $0 + count($1) }
        while first < selIndex && used > room { used -= count(others[first]); first += 1 }
    }
    for i in others.dropFirst(first) where out.count < lines { add(i) }
    return out
}

/// Where the runs table's memory column starts: after the state and ratio columns when the pane is wide enough.
func runsMemoryX(_ width: Int) -> Int { width >= 72 ? 48 : 35 }
