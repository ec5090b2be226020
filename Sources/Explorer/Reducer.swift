// reduce(&state, action) -> Effect: the only place the explorer's state changes (Elm-style update).
import Foundation

/// The action a key stands for in the current state: overlays and the input line take keys first.
public func action(for key: Key, in s: AppState) -> Action? {
    if case .resize = key { return nil }
    if s.overlay == .confirmQuit {
        switch key {
        case .char("y"), .char("Y"), .char("q"), .enter, .ctrl("c"): return .confirm(true)
        case .char("n"), .char("N"), .escape: return .confirm(false)
        default: return nil
        }
    }
    if s.input != nil {
        switch key {
        case .char(let c): return .inputCharacter(c)
        case .backspace, .delete: return .inputBackspace
        case .enter: return .inputSubmit
        case .escape, .ctrl("c"), .ctrl("g"): return .escape
        default: return nil
        }
    }
    if s.overlay == .help {
        switch key {
        case .char("?"), .function(1), .escape, .char("q"): return .escape
        case .ctrl("c"): return .interrupt
        case .up, .char("k"): return .move(.up)
        case .down, .char("j"): return .move(.down)
        case .pageUp: return .jump(.pageUp)
        case .pageDown, .char(" "): return .jump(.pageDown)
        default: return nil
        }
    }
    return KeyMap.action(for: key)
}

/// Applies one action; returns what the adapter must do (redraw, recompute, start/cancel eval, export, quit).
public func reduce(_ s: inout AppState, _ action: Action) -> Effect {
    var e = Effect.redraw
    // A key or mouse action clears the last message; results and messages themselves do not.
    switch action {
    case .analysisReady, .analysisFailed, .evalProgress, .evalFinished, .evalFailed, .exported, .exportFailed, .showMessage, .resize: break
    default: s.message = nil; s.messageIsError = false
    }

    func say(_ m: String, error: Bool = false) { s.message = m; s.messageIsError = error }

    func memoryChanged(_ e: inout Effect) {
        s.analysisRequest += 1
        s.analysing = true
        e.recompute = true
        if let ev = s.eval {
            s.evalRequest += 1
            s.eval = EvalStatus(request: s.evalRequest, memory: s.memory, bytesTotal: ev.bytesTotal, progress: nil)
            e.eval = .start
            say("evaluation restarted with \(MemoryPlan.compact(s.memory))")
        }
        let maxZoom = zoomLimit(s)
        if s.zoom > maxZoom { s.zoom = maxZoom }
    }

    func setMemory(_ l: Int, _ v: Int, _ e: inout Effect) {
        guard v >= 0 && v <= s.model.maxMemory else { say("memory length \(v) is outside 0...\(s.model.maxMemory)", error: true); return }
        guard s.memory[l] != v else { return }
        s.memory[l] = v
        s.preset = nil
        memoryChanged(&e)
    }

    func setAll(_ m: [Int], _ e: inout Effect) {
        guard m != s.memory else { return }
        s.memory = m
        memoryChanged(&e)
    }

    func applyPreset(_ p: Preset, _ e: inout Effect) {
        setAll(p.lengths(layers: s.model.layers, long: s.longLength, short: s.shortLength), &e)
        s.preset = p
        say("preset \(p): lrm \(s.longLength), srm \(s.shortLength)")
    }

    func moveCursor(to n: Int, _ e: inout Effect) {
        guard !s.text.isEmpty else { return }
        let old = s.segmentStart
        s.cursor = Swift.max(0, Swift.min(s.text.count - 1, n))
        if s.segmentStart != old || s.analysis == nil {
            s.analysisRequest += 1
            s.analysing = true
            e.recompute = true
        }
    }

    func search(forward: Bool, _ e: inout Effect) {
        guard let q = s.search, !q.isEmpty else { say("no search yet: / to search", error: true); return }
        let needle = Array(q.utf8)
        if let hit = find(needle, in: s.text, from: s.cursor, forward: forward) {
            moveCursor(to: hit, &e)
            say("/\(q) at byte \(hit)")
        } else {
            say("/\(q) not found", error: true)
        }
    }

    switch action {
    case .toggleHelp:
        s.overlay = s.overlay == .help ? nil : .help
        s.helpTop = 0
    case .quit:
        if s.isEvaluating { s.overlay = .confirmQuit } else { e.quit = true }
    case .confirm(let yes):
        if yes { e.quit = true } else { s.overlay = nil }
    case .interrupt:
        if s.overlay == .confirmQuit { e.quit = true }
        else if s.input != nil { s.input = nil }
        else if s.eval != nil {
            s.eval = nil
            s.evalRequest += 1
            e.eval = .cancel
            s.interruptArmed = true
            say("evaluation cancelled; Ctrl-C again quits")
        } else { e.quit = true }
    case .escape:
        if s.input != nil { s.input = nil } else if s.overlay != nil { s.overlay = nil }
    case .nextPane, .previousPane:
        let all = Pane.allCases
        let i = all.firstIndex(of: s.focus)!
        let step = { if case .nextPane = action { return 1 }; return all.count - 1 }()
        focus(&s, all[(i + step) % all.count])
    case .focus(let p):
        focus(&s, p)
    case .openCommandLine:
        s.input = InputLine(kind: .command)
    case .openSearch:
        s.input = InputLine(kind: .search)
    case .searchNext: search(forward: true, &e)
    case .searchPrevious: search(forward: false, &e)

    case .move(let d):
        if s.overlay == .help { s.helpTop = Swift.max(0, s.helpTop + (d == .down ? 1 : d == .up ? -1 : 0)); break }
        switch (s.focus, d) {
        case (.layers, .up), (.distance, .up): s.selectedLayer = Swift.max(0, s.selectedLayer - 1)
        case (.layers, .down), (.distance, .down): s.selectedLayer = Swift.min(s.model.layers - 1, s.selectedLayer + 1)
        case (.layers, .left): return reduce(&s, .halveMemory)
        case (.layers, .right): return reduce(&s, .doubleMemory)
        case (.evaluation, .up): if !s.runs.isEmpty { s.selectedRun = Swift.max(0, (s.selectedRun ?? s.runs.count - 1) - 1) }
        case (.evaluation, .down): if !s.runs.isEmpty { s.selectedRun = Swift.min(s.runs.count - 1, (s.selectedRun ?? s.runs.count - 1) + 1) }
        case (.attention, .up): moveCursor(to: s.cursor - queriesPerRow(s), &e)
        case (.attention, .down): moveCursor(to: s.cursor + queriesPerRow(s), &e)
        case (.text, .up): moveCursor(to: s.cursor - textWidth(s), &e)
        case (.text, .down): moveCursor(to: s.cursor + textWidth(s), &e)
        case (_, .left): moveCursor(to: s.cursor - 1, &e)
        case (_, .right): moveCursor(to: s.cursor + 1, &e)
        }
    case .pan(let d):
        switch d {
        case .left, .right:
            guard let a = s.analysis?.attention[s.selectedLayer], s.zoom > 0 else { say("zoom in (z) to pan the keys"); break }
            let visible = Swift.max(1, a.keys >> s.zoom)
            let step = Swift.max(1, visible / 4)
            s.pan = Swift.max(0, Swift.min(a.keys - visible, s.pan + (d == .left ? -step : step)))
        case .up, .down:
            let page = s.focus == .text ? textWidth(s) * 8 : queriesPerRow(s) * 8
            moveCursor(to: s.cursor + (d == .up ? -page : page), &e)
        }
    case .jump(let j):
        if s.overlay == .help { s.helpTop = Swift.max(0, s.helpTop + (j == .pageUp ? -10 : 10)); break }
        switch (s.focus, j) {
        case (.layers, .first), (.distance, .first): s.selectedLayer = 0
        case (.layers, .last), (.distance, .last): s.selectedLayer = s.model.layers - 1
        case (.evaluation, .first): if !s.runs.isEmpty { s.selectedRun = 0 }
        case (.evaluation, .last): if !s.runs.isEmpty { s.selectedRun = s.runs.count - 1 }
        case (_, .first): moveCursor(to: 0, &e)
        case (_, .last): moveCursor(to: s.text.count - 1, &e)
        case (_, .pageUp): moveCursor(to: s.cursor - s.model.segmentLength, &e)
        case (_, .pageDown): moveCursor(to: s.cursor + s.model.segmentLength, &e)
        }

    case .previousLayer: s.selectedLayer = Swift.max(0, s.selectedLayer - 1); s.pan = 0
    case .nextLayer: s.selectedLayer = Swift.min(s.model.layers - 1, s.selectedLayer + 1); s.pan = 0
    case .setLayer(let l): s.selectedLayer = Swift.max(0, Swift.min(s.model.layers - 1, l)); s.pan = 0
    case .previousHead, .nextHead:
        let views: [HeadView] = [.mean, .max] + (0..<s.model.heads).map { .head($0) }
        let i = views.firstIndex(of: s.headView) ?? 0
        let step = { if case .nextHead = action { return 1 }; return views.count - 1 }()
        s.headView = views[(i + step) % views.count]
    case .cycleHeadAggregate:
        s.headView = s.headView == .mean ? .max : .mean
    case .setHead(let h): s.headView = h
    case .setCursor(let n): moveCursor(to: n, &e)

    case .doubleMemory:
        let m = s.memory[s.selectedLayer]
        let next = m == 0 ? Swift.max(1, Swift.min(s.shortLength, s.model.maxMemory)) : m * 2
        if next > s.model.maxMemory { say("L\(s.selectedLayer) is at \(m); the model accepts at most \(s.model.maxMemory)", error: true) }
        else { setMemory(s.selectedLayer, next, &e) }
    case .halveMemory:
        setMemory(s.selectedLayer, s.memory[s.selectedLayer] / 2, &e)
    case .clearMemory:
        setMemory(s.selectedLayer, 0, &e)
    case .copyMemoryToAll:
        setAll(Array(repeating: s.memory[s.selectedLayer], count: s.model.layers), &e)
        s.preset = nil
    case .enterMemoryValue:
        s.input = InputLine(kind: .memoryValue)
    case .cyclePreset:
        s.presetIndex = (s.presetIndex + 1) % Preset.cycle.count
        applyPreset(Preset.cycle[s.presetIndex], &e)
    case .resetMemory:
        setAll(s.model.defaultMemory, &e)
        s.preset = nil
        say("memory back to the checkpoint's \(MemoryPlan.compact(s.memory))")
    case .setMemory(let l, let v):
        setMemory(l, v, &e)
    case .setAllMemory(let m):
        if let bad = m.first(where: { $0 < 0 || $0 > s.model.maxMemory }) { say("memory length \(bad) is outside 0...\(s.model.maxMemory)", error: true) }
        else if m.count != s.model.layers { say("\(m.count) lengths for \(s.model.layers) layers", error: true) }
        else { setAll(m, &e); s.preset = nil }
    case .applyPreset(let p):
        applyPreset(p, &e)
    case .setLong(let v), .setShort(let v):
        if case .setLong = action { s.longLength = v } else { s.shortLength = v }
        if let p = s.preset { applyPreset(p, &e) } else { say("lrm \(s.longLength), srm \(s.shortLength): P or :preset applies them") }

    case .zoomIn:
        if s.zoom < zoomLimit(s) { s.zoom += 1 } else { say("zoomed in as far as the heatmap width allows") }
    case .zoomOut:
        if s.zoom > 0 { s.zoom -= 1 }
        if s.zoom == 0 { s.pan = 0 }
    case .cycleReduction:
        s.reduction = { switch s.reduction { case .max: return .min; case .min: return .mean; case .mean: return .max } }()
        say("downsampling: \(s.reduction.rawValue) over each bin")
    case .toggleScale:
        s.scale = s.scale == .log ? .linear : .log

    case .startEval:
        guard !s.text.isEmpty else { say("no text to evaluate", error: true); break }
        s.evalRequest += 1
        s.eval = EvalStatus(request: s.evalRequest, memory: s.memory, bytesTotal: s.evalBytes, progress: nil)
        e.eval = .start
    case .cancelEval:
        if s.eval != nil {
            s.eval = nil; s.evalRequest += 1; e.eval = .cancel
            say("evaluation cancelled")
        } else { say("no evaluation is running") }
    case .halveEvalBytes:
        s.evalBytes = Swift.max(1, s.evalBytes / 2)
        say("evaluation over \(formatBytes(s.evalBytes))")
    case .doubleEvalBytes:
        s.evalBytes = Swift.min(s.text.count, s.evalBytes * 2)
        say("evaluation over \(formatBytes(s.evalBytes))" + (s.evalBytes == s.text.count ? " (the whole text)" : ""))
    case .setEvalBytes(let n):
        s.evalBytes = n
    case .pinBaseline:
        guard !s.runs.isEmpty else { say("no runs yet: e runs an evaluation", error: true); break }
        let run = s.runs[s.selectedRun ?? s.runs.count - 1]
        if s.baseline == run.id { s.baseline = nil; say("baseline unpinned") }
        else { s.baseline = run.id; say("run \(run.id) pinned as the baseline") }
    case .export:
        e.export = s.focus == .layers ? .layers : s.focus

    case .inputCharacter(let c):
        s.input?.text.append(c)
    case .inputBackspace:
        if s.input?.text.isEmpty == true { s.input = nil } else { s.input?.text.removeLast() }
    case .inputSubmit:
        guard let input = s.input else { break }
        s.input = nil
        let line = input.text.trimmingCharacters(in: .whitespaces)
        switch input.kind {
        case .search:
            if !line.isEmpty { s.search = line }
            search(forward: true, &e)
        case .memoryValue:
            guard !line.isEmpty else { break }
            if let v = Int(line) { setMemory(s.selectedLayer, v, &e) }
            else { say("not a memory length: \(line)", error: true) }
        case .command:
            let parsed = CommandParser.parse(line, layers: s.model.layers, heads: s.model.heads, maxMemory: s.model.maxMemory,
                                             textCount: s.text.count, long: s.longLength, short: s.shortLength)
            switch parsed {
            case .failure(let err): say(err.description, error: true)
            case .success(let actions):
                for a in actions { e = e.merged(reduce(&s, a)) }
            }
        }

    case .resize(let size):
        s.size = size
        if s.zoom > zoomLimit(s) { s.zoom = zoomLimit(s) }
    case .mouse(let m):
        mouse(&s, m, &e)

    case .analysisReady(let request, let a, let profiles, let memory):
        guard request == s.analysisRequest else { return .none }
        s.analysis = a; s.profiles = profiles; s.analysisMemory = memory; s.analysing = false
        if let att = a.attention.first, s.pan > att.keys { s.pan = 0 }
    case .analysisFailed(let request, let m):
        guard request == s.analysisRequest else { return .none }
        s.analysing = false
        say("analysis failed: \(m)", error: true)
    case .evalProgress(let request, let p):
        guard s.eval?.request == request else { return .none }
        s.eval?.progress = p
    case .evalFinished(let request, let r):
        guard s.eval?.request == request else { return .none }
        s.eval = nil
        s.runs.append(Run(id: s.nextRunID, memory: r.memory, stateFloats: MemoryPlan.stateFloats(r.memory, dModel: s.model.dModel),
                          bytes: r.bytes, bpc: r.bpc, seconds: r.seconds))
        s.nextRunID += 1
        s.selectedRun = s.runs.count - 1
        say(String(format: "run %d: %.4f bpc over %@ in %.1f s", s.runs.last!.id, r.bpc, formatBytes(r.bytes), r.seconds))
    case .evalFailed(let request, let m):
        guard s.eval?.request == request else { return .none }
        s.eval = nil
        say("evaluation failed: \(m)", error: true)
    case .exported(let paths):
        say("wrote " + paths.joined(separator: ", "))
    case .exportFailed(let m):
        say("export failed: \(m)", error: true)
    case .showMessage(let m):
        say(m)
    }
    if case .interrupt = action {} else { s.interruptArmed = false }
    return e
}

extension Effect {
    func merged(_ o: Effect) -> Effect {
        Effect(redraw: redraw || o.redraw, recompute: recompute || o.recompute, eval: o.eval ?? eval,
               export: o.export ?? export, quit: quit || o.quit)
    }
}

private func focus(_ s: inout AppState, _ p: Pane) {
    s.focus = p
    if p != .layers { s.mainPane = p }
}

/// Queries in one heatmap row (half-blocks hold two per cell row).
func queriesPerRow(_ s: AppState) -> Int {
    let layout = Layout(s)
    guard let r = layout.panes[.attention] else { return Swift.max(1, s.model.segmentLength / 16) }
    let perCell = s.halfBlocks ? 2 : 1
    let rows = Layout.heatArea(r).height * perCell
    return Swift.max(1, (s.model.segmentLength + rows - 1) / rows) * perCell
}

func textWidth(_ s: AppState) -> Int {
    let layout = Layout(s)
    return Swift.max(1, (layout.panes[.text] ?? layout.panes.values.first ?? Rect(x: 0, y: 0, width: 40, height: 1)).width)
}

/// Deepest zoom: at least one key per heatmap column.
func zoomLimit(_ s: AppState) -> Int {
    let keys = s.analysis?.attention[s.selectedLayer].keys ?? (s.memory[s.selectedLayer] + s.model.segmentLength)
    let cols = Swift.max(1, Layout.heatArea(Layout(s).panes[.attention] ?? Rect(x: 0, y: 0, width: 48, height: 1)).width)
    var z = 0
    while (keys >> (z + 1)) >= cols { z += 1 }
    return z
}

private func mouse(_ s: inout AppState, _ m: MouseEvent, _ e: inout Effect) {
    let layout = Layout(s)
    if m.kind != .click {
        let d: Direction = m.kind == .wheelUp ? .up : .down
        if let p = layout.pane(atX: m.x, y: m.y) { s.focus = p }
        for _ in 0..<3 { e = e.merged(reduce(&s, .move(d))) }
        return
    }
    if layout.tabs.contains(x: m.x, y: m.y) {
        // Tabs are drawn as "2 Attention  3 Distance  4 Text  5 Eval" from the left edge.
        var x = layout.tabs.x + 1
        for p in Pane.allCases.dropFirst() {
            let w = "\(p.rawValue) \(p)".count + 2
            if m.x < x + w { focus(&s, p); return }
            x += w
        }
        return
    }
    guard let pane = layout.pane(atX: m.x, y: m.y) else { return }
    focus(&s, pane)
    if pane == .layers {
        let row = m.y - layout.layers.y - Layout.layerTableTop
        if row >= 0 && row < s.model.layers { s.selectedLayer = row }
        return
    }
    guard let r = layout.panes[pane] else { return }
    switch pane {
    case .text:
        let area = Layout.textArea(r)
        guard area.contains(x: m.x, y: m.y) else { return }
        let top = textTopLine(s, area: area)
        let n = (top + m.y - area.y) * area.width + (m.x - area.x)
        if n < s.text.count { moveCursorByMouse(&s, n, &e) }
    case .attention:
        let area = Layout.heatArea(r)
        guard area.contains(x: m.x, y: m.y), let a = s.analysis else { return }
        let perCell = s.halfBlocks ? 2 : 1
        let starts = Heatmap.binStarts(0..<a.bytes.count, parts: area.height * perCell)
        let bin = Swift.min(starts.count - 2, (m.y - area.y) * perCell)
        if bin >= 0 { moveCursorByMouse(&s, a.offset + starts[bin], &e) }
    case .evaluation:
        let row = m.y - r.y - Layout.runTableTop
        let first = Swift.max(0, s.runs.count - runRows(r))
        if row >= 0 && first + row < s.runs.count { s.selectedRun = first + row }
    default: break
    }
}

private func moveCursorByMouse(_ s: inout AppState, _ n: Int, _ e: inout Effect) {
    e = e.merged(reduce(&s, .setCursor(n)))
}

/// Rows of the runs table in an evaluation pane.
func runRows(_ r: Rect) -> Int { Swift.max(1, Swift.min(8, (r.height - Layout.runTableTop) / 2)) }

/// First text line shown: the cursor's line a third of the way down.
func textTopLine(_ s: AppState, area: Rect) -> Int {
    let w = Swift.max(1, area.width)
    let line = s.cursor / w
    let lines = (s.text.count + w - 1) / w
    return Swift.max(0, Swift.min(line - area.height / 3, lines - area.height))
}

/// Whether `needle` occurs in `text` starting at byte i.
func occurs(_ needle: [UInt8], in text: [UInt8], at i: Int) -> Bool {
    guard i >= 0, i + needle.count <= text.count else { return false }
    for j in 0..<needle.count where text[i + j] != needle[j] { return false }
    return true
}

/// Next (or previous) occurrence of `needle` after (before) `from`, wrapping around.
func find(_ needle: [UInt8], in text: [UInt8], from: Int, forward: Bool) -> Int? {
    let n = text.count, m = needle.count
    guard m > 0, m <= n else { return nil }
    for step in 1...n {
        let i = forward ? (from + step) % n : ((from - step) % n + n) % n
        if occurs(needle, in: text, at: i) { return i }
    }
    return nil
}

public func formatBytes(_ n: Int) -> String {
    if n < 1024 { return "\(n) B" }
    if n < 1 << 20 { return n % 1024 == 0 ? "\(n / 1024) KiB" : String(format: "%.1f KiB", Double(n) / 1024) }
    return String(format: "%.1f MiB", Double(n) / Double(1 << 20))
}

public func formatCount(_ n: Int) -> String {
    if n < 1000 { return "\(n)" }
    if n < 1_000_000 { return String(format: "%.1fk", Double(n) / 1e3) }
    if n < 1_000_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
    return String(format: "%.2fG", Double(n) / 1e9)
}
