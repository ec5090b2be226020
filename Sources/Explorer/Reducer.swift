// reduce(&state, action) -> Effect: the only place the explorer's state changes (Elm-style update).
// One function per concern (general, layers and memory, heatmap, text and search, navigation, evaluation,
// the input line and its commands, mouse, worker results), each changing the state and returning effects.
import Analysis
import Foundation
import TXL

/// Applies one action; returns what the adapter must do (redraw, recompute, start/cancel eval, export, quit).
public func reduce(_ s: inout AppState, _ action: Action) -> Effect {
    // A key or mouse action clears the last message; results and resizes do not.
    switch action {
    case .worker, .general(.resize): break
    default: s.message = nil; s.messageIsError = false; s.hint = false
    }
    let e: Effect
    switch action {
    case .general(let a): e = reduceGeneral(&s, a)
    case .layers(let a): e = reduceLayers(&s, a)
    case .heatmap(let a): e = reduceHeatmap(&s, a)
    case .text(let a): e = reduceText(&s, a)
    case .navigate(let n): e = navigate(&s, n)
    case .eval(let a): e = reduceEval(&s, a)
    case .compare(let a): e = reduceCompare(&s, a)
    case .input(let a): e = reduceInput(&s, a)
    case .mouse(let m): e = reduceMouse(&s, m)
    case .worker(let r): e = reduceWorker(&s, r)
    }
    return e
}

extension AppState {
    mutating func say(_ m: String, error: Bool = false) { message = m; messageIsError = error }

    /// Asks for the analysis of the cursor's segment again.
    mutating func recompute() -> Effect {
        analysisRequest += 1
        analysing = true
        analysisProgress = nil
        return Effect(redraw: true, recompute: true)
    }

    mutating func focus(_ p: Pane) {
        focus = p
        if p != .layers { mainPane = p }
    }
}

// MARK: General: overlays, panes, quitting, the terminal

func reduceGeneral(_ s: inout AppState, _ a: GeneralAction) -> Effect {
    var e = Effect.redraw
    switch a {
    case .toggleHelp:
        s.overlay = s.overlay == .help ? nil : .help
        s.helpTop = 0
    case .scrollHelp(let n):
        let last = KeyMap.helpMaxTop(s.size)
        s.helpTop = Swift.max(0, Swift.min(last, Swift.min(s.helpTop, last) + n))
    case .pageHelp(let n):
        return reduceGeneral(&s, .scrollHelp(n * KeyMap.helpRows(s.size)))
    case .quit:
        if s.isEvaluating { s.overlay = .confirmQuit } else { e.quit = true }
    case .confirmQuit(let yes):
        if yes { e.quit = true } else { s.overlay = nil }
    case .interrupt:
        if s.overlay == .confirmQuit {
            e.quit = true
        } else if s.input != nil {
            s.input = nil
        } else if s.eval != nil {
            s.eval = nil
            s.evalRequest += 1
            e.eval = .cancel
            s.say("evaluation cancelled; Ctrl-C again quits")
        } else {
            e.quit = true
        }
    case .escape:
        if s.input != nil {
            s.input = nil
        } else if s.overlay != nil {
            s.overlay = nil
        } else if s.keyCursor != nil {
            s.keyCursor = nil
        }
    case .nextPane, .previousPane:
        let all = Pane.allCases
        let i = all.firstIndex(of: s.focus)!
        let step = {
            if case .nextPane = a { return 1 }; return all.count - 1
        }()
        s.focus(all[(i + step) % all.count])
    case .focus(let p):
        s.focus(p)
    case .export:
        e.export = s.focus
    case .resize(let size):
        s.size = size
        s.zoom = Swift.min(s.zoom, zoomLimit(s))
    }
    return e
}

// MARK: Layers and memory

func reduceLayers(_ s: inout AppState, _ a: LayerAction) -> Effect {
    switch a {
    // [ and ] wrap round, as { and } do over the head views.
    case .previous: s.selectedLayer = (s.selectedLayer + s.model.layers - 1) % s.model.layers; s.pan = 0
    case .next: s.selectedLayer = (s.selectedLayer + 1) % s.model.layers; s.pan = 0
    case .select(let l): s.selectedLayer = Swift.max(0, Swift.min(s.model.layers - 1, l)); s.pan = 0
    case .double:
        let m = s.memory[s.selectedLayer]
        let next = m == 0 ? Swift.max(1, Swift.min(s.shortLength, s.model.maxMemory)) : m * 2
        guard next <= s.model.maxMemory else {
            s.say("L\(s.selectedLayer) is at \(m); the model accepts at most \(s.model.maxMemory)", error: true)
            return .redraw
        }
        return setMemory(&s, layer: s.selectedLayer, next)
    case .halve:
        return setMemory(&s, layer: s.selectedLayer, s.memory[s.selectedLayer] / 2)
    case .clear:
        return setMemory(&s, layer: s.selectedLayer, 0)
    case .copyToAll:
        s.preset = nil
        return setAllMemory(&s, Array(repeating: s.memory[s.selectedLayer], count: s.model.layers))
    case .cyclePreset:
        let fitting = Preset.cycle.filter { (try? $0.lengths(layers: s.model.layers, long: 1, short: 0)) != nil }
        s.presetIndex = (s.presetIndex + 1) % fitting.count
        return applyPreset(&s, fitting[s.presetIndex])
    case .reset:
        s.preset = nil
        let e = setAllMemory(&s, s.model.defaultMemory)
        s.say("memory back to the checkpoint's \(MemorySpec.compact(s.memory))")
        return e
    case .set(let l, let v):
        return setMemory(&s, layer: l, v)
    case .setAll(let m):
        if let bad = m.first(where: { $0 < 0 || $0 > s.model.maxMemory }) {
            s.say("memory length \(bad) is outside 0...\(s.model.maxMemory)", error: true)
        } else if m.count != s.model.layers {
            s.say("\(m.count) lengths for \(s.model.layers) layers", error: true)
        } else {
            s.preset = nil
            return setAllMemory(&s, m)
        }
    case .applyPreset(let p):
        return applyPreset(&s, p)
    case .setLong(let v), .setShort(let v):
        if case .setLong = a { s.longLength = v } else { s.shortLength = v }
        if let p = s.preset { return applyPreset(&s, p) }
        s.say("lrm \(s.longLength), srm \(s.shortLength): P or :preset applies them")
    }
    return .redraw
}

private func setMemory(_ s: inout AppState, layer l: Int, _ v: Int) -> Effect {
    guard v >= 0 && v <= s.model.maxMemory else {
        s.say("memory length \(v) is outside 0...\(s.model.maxMemory)", error: true)
        return .redraw
    }
    guard s.memory[l] != v else { return .redraw }
    s.recordUndo()
    s.memory[l] = v
    s.preset = nil
    return memoryChanged(&s)
}

private func setAllMemory(_ s: inout AppState, _ m: [Int]) -> Effect {
    guard m != s.memory else { return .redraw }
    s.recordUndo()
    s.memory = m
    return memoryChanged(&s)
}

private func applyPreset(_ s: inout AppState, _ p: Preset) -> Effect {
    let lengths: [Int]
    do { lengths = try p.lengths(layers: s.model.layers, long: s.longLength, short: s.shortLength) } catch {
        s.say(error.description, error: true)
        return .redraw
    }
    let e = setAllMemory(&s, lengths)
    s.preset = p
    s.say("preset \(p): lrm \(s.longLength), srm \(s.shortLength)")
    return e
}

/// A new memory: recompute the segment, restart a running evaluation, keep the zoom possible, and
/// compute B's window when A is pinned.
func memoryChanged(_ s: inout AppState) -> Effect {
    s.comparison?.heatmapA = false
    var e = s.recompute().merged(refreshComparison(&s))
    if let ev = s.eval {
        s.evalRequest += 1
        s.eval = EvalStatus(
            request: s.evalRequest, memory: s.memory, start: ev.start, bytesTotal: ev.bytesTotal, progress: nil)
        e.eval = .start
        s.say("evaluation restarted with \(MemorySpec.compact(s.memory))")
    }
    s.zoom = Swift.min(s.zoom, zoomLimit(s))
    return e
}

// MARK: Heatmap view

func reduceHeatmap(_ s: inout AppState, _ a: HeatmapAction) -> Effect {
    switch a {
    case .previousHead, .nextHead:
        let views: [HeadView] = [.mean, .max] + (0..<s.model.heads).map { .head($0) }
        let i = views.firstIndex(of: s.headView) ?? 0
        let step = {
            if case .nextHead = a { return 1 }; return views.count - 1
        }()
        s.headView = views[(i + step) % views.count]
    case .cycleHeadAggregate:
        s.headView = s.headView == .mean ? .max : .mean
    case .setHead(let h):
        s.headView = h
    case .zoomIn:
        if s.zoom < zoomLimit(s) {
            s.zoom += 1
            centreZoom(&s)
        } else {
            s.say("zoomed in as far as the heatmap width allows")
        }
    case .zoomOut:
        if s.zoom > 0 { s.zoom -= 1 }
        if s.zoom == 0 { s.pan = 0 } else { centreZoom(&s) }
    case .panLeft, .panRight:
        guard let att = s.analysis?.attention[s.selectedLayer], s.zoom > 0 else {
            s.say("zoom in (z) to pan the keys")
            break
        }
        let pane = Layout(s).panes[.attention] ?? Rect(x: 0, y: 0, width: 48, height: 1)
        let visible = Heatmap.visibleKeys(att.keys, zoom: s.zoom, columns: heatColumns(pane))
        let step = Swift.max(1, visible / 4)
        let moved =
            s.pan
            + ({
                if case .panLeft = a { return -step }; return step
            }())
        s.pan = Swift.max(0, Swift.min(att.keys - visible, moved))
    case .cycleReduction:
        switch s.reduction {
        case .max: s.reduction = .min
        case .min: s.reduction = .mean
        case .mean: s.reduction = .max
        }
        s.say("downsampling: \(s.reduction.rawValue) over each bin")
    case .toggleScale:
        if s.fixedScale { s.fixedScale = false; s.say("colour scale per view again (f: fixed)") }
        s.scale = s.scale == .log ? .linear : .log
    case .setScale(let scale):
        s.scale = scale
    case .fixedScale(let on):
        s.fixedScale = on ?? !s.fixedScale
        s.say(
            s.fixedScale
                ? "colour scale fixed: log10 of the probability, 1e-4 to 1, for every layer, head and zoom"
                : "colour scale per view: against the largest value shown (\(s.scale.rawValue))")
    case .keyOlder, .keyNewer, .keyToOldest, .keyToSegmentStart:
        guard let g = HeatKeys(s) else { s.say("no heatmap yet: the segment is being computed"); break }
        let q = Swift.max(0, Swift.min(g.queries - 1, s.cursor - (s.analysis?.offset ?? 0)))
        let p: Int
        switch a {
        case .keyOlder: p = (s.keyCursor ?? q) - g.keysPerColumn
        case .keyNewer: p = (s.keyCursor ?? q) + g.keysPerColumn
        case .keyToOldest: p = -g.memoryKeys
        default: p = 0
        }
        s.keyCursor = Swift.max(-g.memoryKeys, Swift.min(g.keys - g.memoryKeys - 1, p))
        // Keep it in view: pan by as little as needed.
        let k = s.keyCursor! + g.memoryKeys
        if k < g.start { s.pan = k } else if k >= g.start + g.visible { s.pan = k - g.visible + 1 }
    case .keyOff:
        s.keyCursor = nil
    }
    return .redraw
}

/// The heatmap's keys as drawn for the selected layer: how many, how many in memory, which are visible (the
/// zoom and pan), and how many keys one column holds.
struct HeatKeys {
    let keys: Int, memoryKeys: Int, queries: Int, visible: Int, start: Int, keysPerColumn: Int
    init?(_ s: AppState) {
        guard let a = s.analysis, s.selectedLayer < a.attention.count else { return nil }
        let att = a.attention[s.selectedLayer]
        keys = att.keys; memoryKeys = att.memoryKeys; queries = att.queries
        let pane = Layout(s).panes[.attention] ?? Rect(x: 0, y: 0, width: 48, height: 1)
        let cols = heatColumns(pane)
        visible = Heatmap.visibleKeys(keys, zoom: s.zoom, columns: cols)
        start = Swift.max(0, Swift.min(s.pan, keys - visible))
        keysPerColumn = Swift.max(1, (visible + cols - 1) / cols)
    }
}

/// After a zoom: the visible keys centred on the key cursor, or else on the query's own key (the diagonal).
private func centreZoom(_ s: inout AppState) {
    guard let g = HeatKeys(s) else { return }
    let q = Swift.max(0, Swift.min(g.queries - 1, s.cursor - (s.analysis?.offset ?? 0)))
    let centre = g.memoryKeys + (s.keyCursor ?? q)
    s.pan = Swift.max(0, Swift.min(g.keys - g.visible, centre - g.visible / 2))
}

// MARK: Text and search

func reduceText(_ s: inout AppState, _ a: TextAction) -> Effect {
    switch a {
    case .setCursor(let n):
        return moveCursor(&s, to: n)
    case .pageUp, .pageDown:
        if s.focus != .attention {
            if case .pageUp = a { return navigate(&s, .jump(.pageUp)) }
            return navigate(&s, .jump(.pageDown))
        }
        let page = queriesPerRow(s) * 8
        return moveCursor(
            &s,
            to: s.cursor
                + ({
                    if case .pageUp = a { return -page }; return page
                }()))
    case .searchNext: return search(&s, forward: true)
    case .searchPrevious: return search(&s, forward: false)
    }
}

/// Moves the text cursor (clamped to the text: a cursor move, not user input); a new segment is recomputed.
func moveCursor(_ s: inout AppState, to n: Int) -> Effect {
    guard !s.text.isEmpty else { return .redraw }
    let old = s.segmentStart
    s.cursor = Swift.max(0, Swift.min(s.text.count - 1, n))
    if s.segmentStart != old || s.analysis == nil { return s.recompute() }
    return .redraw
}

private func search(_ s: inout AppState, forward: Bool) -> Effect {
    guard let q = s.search, !q.isEmpty else {
        s.say("no search yet: / to search", error: true)
        return .redraw
    }
    let found =
        s.model.tokens.map { $0.find(q, from: s.cursor, forward: forward) }
        ?? find(Array(q.utf8), in: s.text, from: s.cursor, forward: forward)
    guard let hit = found else {
        s.say("/\(q) not found", error: true)
        return .redraw
    }
    let e = moveCursor(&s, to: hit)
    s.say("/\(q) at \(s.model.unit) \(hit)")
    return e
}

// MARK: Navigation: arrows and pages in the focused pane

func navigate(_ s: inout AppState, _ n: Navigation) -> Effect {
    switch s.focus {
    case .layers:
        switch n {
        case .move(.left): return reduceLayers(&s, .halve)
        case .move(.right): return reduceLayers(&s, .double)
        default: return navigateLayers(&s, n)
        }
    case .distance:
        return navigateLayers(&s, n)
    case .evaluation:
        let runs = s.runs.count, sel = s.selectedRun ?? runs - 1
        let page = runRows(Layout(s).panes[.evaluation] ?? Rect(x: 0, y: 0, width: 1, height: 1))
        switch n {
        case .move(.up): if runs > 0 { s.selectedRun = Swift.max(0, sel - 1) }
        case .move(.down): if runs > 0 { s.selectedRun = Swift.min(runs - 1, sel + 1) }
        case .jump(.pageUp): if runs > 0 { s.selectedRun = Swift.max(0, sel - page) }
        case .jump(.pageDown): if runs > 0 { s.selectedRun = Swift.min(runs - 1, sel + page) }
        case .jump(.first): if runs > 0 { s.selectedRun = 0 }
        case .jump(.last): if runs > 0 { s.selectedRun = runs - 1 }
        default: return navigateCursor(&s, n, row: 1)
        }
        return .redraw
    case .attention:
        // A page of the heatmap is its whole height: the segment.
        return navigateCursor(&s, n, row: queriesPerRow(s), page: s.model.segmentLength)
    case .text:
        let w = textWidth(s)
        if let t = s.model.tokens, case .move(let d) = n, d == .up || d == .down {
            return moveCursor(&s, to: t.verticalMove(from: s.cursor, down: d == .down, width: w))
        }
        // A word model's page is the pane's rows of words (the byte view's rows hold `w` bytes each).
        if let t = s.model.tokens, case .jump(let j) = n, j == .pageUp || j == .pageDown {
            return moveCursor(&s, to: t.pageMove(from: s.cursor, down: j == .pageDown, width: w, rows: textRows(s)))
        }
        return navigateCursor(&s, n, row: w, page: w * textRows(s))
    }
}

/// Up and down pick the layer, Home and End the first and last; the rest moves the text cursor.
private func navigateLayers(_ s: inout AppState, _ n: Navigation) -> Effect {
    switch n {
    case .move(.up): s.selectedLayer = Swift.max(0, s.selectedLayer - 1)
    case .move(.down): s.selectedLayer = Swift.min(s.model.layers - 1, s.selectedLayer + 1)
    case .jump(.first): s.selectedLayer = 0
    case .jump(.last): s.selectedLayer = s.model.layers - 1
    case .jump(.pageUp): s.selectedLayer = Swift.max(0, s.selectedLayer - layerRows(s))
    case .jump(.pageDown): s.selectedLayer = Swift.min(s.model.layers - 1, s.selectedLayer + layerRows(s))
    default: return navigateCursor(&s, n, row: 1)
    }
    return .redraw
}

/// The text cursor: left and right by a byte, up and down by `row` bytes, pages by `page` bytes.
private func navigateCursor(_ s: inout AppState, _ n: Navigation, row: Int, page: Int? = nil) -> Effect {
    let page = page ?? s.model.segmentLength
    switch n {
    case .move(.left): return moveCursor(&s, to: s.cursor - 1)
    case .move(.right): return moveCursor(&s, to: s.cursor + 1)
    case .move(.up): return moveCursor(&s, to: s.cursor - row)
    case .move(.down): return moveCursor(&s, to: s.cursor + row)
    case .jump(.first): return moveCursor(&s, to: 0)
    case .jump(.last): return moveCursor(&s, to: s.text.count - 1)
    case .jump(.pageUp): return moveCursor(&s, to: s.cursor - page)
    case .jump(.pageDown): return moveCursor(&s, to: s.cursor + page)
    }
}

// MARK: Evaluation runs

func reduceEval(_ s: inout AppState, _ a: EvalAction) -> Effect {
    var e = Effect.redraw
    switch a {
    case .start:
        guard !s.text.isEmpty else { s.say("no text to evaluate", error: true); break }
        s.evalRequest += 1
        s.eval = EvalStatus(
            request: s.evalRequest, memory: s.memory, start: s.evalStart, bytesTotal: s.evalBytes, progress: nil)
        e.eval = .start
    case .cancel:
        guard s.eval != nil else { s.say("no evaluation is running"); break }
        s.eval = nil
        s.evalRequest += 1
        e.eval = .cancel
        s.say("evaluation cancelled")
    case .halveBytes:
        s.evalBytes = Swift.max(1, s.evalBytes / 2)
        s.say("evaluation over \(s.model.positions(s.evalBytes))")
        e = e.merged(refreshComparison(&s))
    case .doubleBytes:
        s.evalBytes = Swift.min(s.text.count - s.evalStart, s.evalBytes * 2)
        let whole = s.evalStart == 0 && s.evalBytes == s.text.count
        s.say(
            "evaluation over \(s.model.positions(s.evalBytes))"
                + (whole ? " (the whole text)" : s.evalStart + s.evalBytes == s.text.count ? " (to the end)" : ""))
        e = e.merged(refreshComparison(&s))
    case .setBytes(let n, let from):
        s.evalBytes = n
        if let from { s.evalStart = from }
        if s.evalStart + s.evalBytes > s.text.count { s.evalStart = s.text.count - s.evalBytes }
        s.say("evaluation over \(s.model.positions(n)) from \(s.model.unit) \(s.evalStart)")
        e = e.merged(refreshComparison(&s))
    case .restoreRun:
        guard s.focus == .evaluation else { return reduceInput(&s, .open(.memoryValue)) }
        guard !s.runs.isEmpty else { s.say("no runs yet: e runs an evaluation", error: true); break }
        let run = s.runs[Swift.min(s.runs.count - 1, s.selectedRun ?? s.runs.count - 1)]
        guard run.memory != s.memory else { s.say("run \(run.id)'s memory is the current one"); break }
        s.preset = nil
        let e2 = reduceLayers(&s, .setAll(run.memory))
        s.say("memory of run \(run.id) restored: \(MemorySpec.compact(run.memory)) (u undoes)")
        return e2
    case .deleteRun:
        guard s.focus == .evaluation else { s.say("d deletes a run in the Eval pane (5)", error: true); break }
        guard !s.runs.isEmpty else { s.say("no runs to delete", error: true); break }
        let i = Swift.min(s.runs.count - 1, s.selectedRun ?? s.runs.count - 1)
        let run = s.runs.remove(at: i)
        if s.baseline == run.id { s.baseline = nil }
        s.selectedRun = s.runs.isEmpty ? nil : Swift.min(i, s.runs.count - 1)
        s.say("run \(run.id) deleted")
    case .toggleChart:
        s.chartView = s.chartView == .state ? .layers : .state
        s.say(
            s.chartView == .state
                ? "chart: \(s.model.lossUnit) against memory state"
                : "chart: \(s.model.lossUnit) against long-range layers, a series per placement")
    case .pinBaseline:
        guard !s.runs.isEmpty else { s.say("no runs yet: e runs an evaluation", error: true); break }
        let run = s.runs[s.selectedRun ?? s.runs.count - 1]
        if s.baseline == run.id {
            s.baseline = nil
            s.say("baseline unpinned")
        } else {
            s.baseline = run.id
            s.say("run \(run.id) pinned as the baseline")
        }
    }
    return e
}

// MARK: The input line and its commands

func reduceInput(_ s: inout AppState, _ a: InputAction) -> Effect {
    switch a {
    case .open(let kind):
        s.input = InputLine(kind: kind)
    case .character(let c):
        s.input?.text.append(c)
    case .backspace:
        if s.input?.text.isEmpty == true { s.input = nil } else { s.input?.text.removeLast() }
    case .submit:
        guard let input = s.input else { break }
        s.input = nil
        let line = input.text.trimmingCharacters(in: .whitespaces)
        switch input.kind {
        case .search:
            if !line.isEmpty { s.search = line }
            return search(&s, forward: true)
        case .memoryValue:
            guard !line.isEmpty else { break }
            guard let v = Int(line) else { s.say("not a memory length: \(line)", error: true); break }
            return setMemory(&s, layer: s.selectedLayer, v)
        case .command:
            switch CommandParser.parse(line, in: s) {
            case .failure(let err):
                s.say(err.description, error: true)
            case .success(let actions):
                return actions.reduce(Effect.redraw) { $0.merged(reduce(&s, $1)) }
            }
        }
    }
    return .redraw
}

// MARK: Mouse

func reduceMouse(_ s: inout AppState, _ m: MouseEvent) -> Effect {
    let layout = Layout(s)
    if m.kind != .click {
        if let p = layout.pane(atX: m.x, y: m.y) { s.focus = p }
        let n: Navigation = .move(m.kind == .wheelUp ? .up : .down)
        return (0..<3).reduce(Effect.redraw) { e, _ in e.merged(navigate(&s, n)) }
    }
    if let tab = layout.tab(atX: m.x, y: m.y) { s.focus(tab); return .redraw }
    if layout.tabs.contains(x: m.x, y: m.y) { return .redraw }
    guard let pane = layout.pane(atX: m.x, y: m.y) else { return .redraw }
    s.focus(pane)
    if pane == .layers {
        let row = m.y - layout.layers.y - Layout.layerTableTop
        if row >= 0 && row < s.model.layers { s.selectedLayer = row }
        return .redraw
    }
    guard let r = layout.panes[pane] else { return .redraw }
    switch pane {
    case .text:
        let area = textArea(s, r)
        guard area.contains(x: m.x, y: m.y) else { break }
        if let t = s.model.tokens {
            let rows = t.view(cursor: s.cursor, width: area.width, height: area.height, eosMark: "$")
            let n = TokenText.token(in: rows, row: m.y - area.y, column: m.x - area.x)
            if let n { return moveCursor(&s, to: n) }
            break
        }
        let top = textTopLine(s, area: area)
        let n = (top + m.y - area.y) * area.width + (m.x - area.x)
        if n < s.text.count { return moveCursor(&s, to: n) }
    case .attention:
        let area = Layout.heatArea(r)
        guard area.contains(x: m.x, y: m.y), let a = s.analysis else { break }
        let perCell = s.halfBlocks ? 2 : 1
        let starts = Heatmap.binStarts(0..<a.bytes.count, parts: area.height * perCell)
        let bin = Swift.min(starts.count - 2, (m.y - area.y) * perCell)
        if bin >= 0 { return moveCursor(&s, to: a.offset + starts[bin]) }
    case .evaluation:
        // The rows as the runs table draws them (wrapped settings, the baseline pinned at the top).
        let row = m.y - r.y - Layout.runTableTop
        let rows = runsTableRows(s, width: r.width, lines: runRows(r))
        if row >= 0 && row < rows.count { s.selectedRun = rows[row].run }
    case .layers, .distance:
        break
    }
    return .redraw
}

// MARK: Results from the workers

func reduceWorker(_ s: inout AppState, _ r: WorkerResult) -> Effect {
    switch r {
    case .analysisReady(let request, let a, let profiles, let memory):
        guard request == s.analysisRequest else { return .none }
        s.analysis = a; s.profiles = profiles; s.analysisMemory = memory; s.analysing = false
        s.analysisProgress = nil
        if let att = a.attention.first, s.pan > att.keys { s.pan = 0 }
    case .analysisFailed(let request, let m):
        guard request == s.analysisRequest else { return .none }
        s.analysing = false
        s.analysisProgress = nil
        s.say("analysis failed: \(m)", error: true)
    case .analysisProgress(let request, let p):
        guard request == s.analysisRequest else { return .none }
        s.analysisProgress = p
    case .evalProgress(let request, let p):
        guard s.eval?.request == request else { return .none }
        s.eval?.progress = p
    case .evalFinished(let request, let r):
        guard let ev = s.eval, ev.request == request else { return .none }
        s.eval = nil
        var run = Run(
            id: s.nextRunID, memory: r.memory, stateFloats: r.memoryFloats, bytes: r.predicted, bpc: r.bpc,
            seconds: r.seconds)
        run.offset = ev.start
        run.model = s.model.name; run.text = s.textName
        run.time = ISO8601DateFormatter().string(from: Date())
        run.preset = r.memory == s.memory ? s.preset?.description : nil
        s.runs.append(run)
        s.nextRunID += 1
        s.selectedRun = s.runs.count - 1
        s.say(
            String(
                format: "run %d: %.4f %@ over %@ in %.1f s", run.id, r.bpc, s.model.lossUnit,
                s.model.positions(run.bytes), r.seconds))
    case .evalFailed(let request, let m):
        guard s.eval?.request == request else { return .none }
        s.eval = nil
        s.say("evaluation failed: \(m)", error: true)
    case .windowProgress, .windowFinished, .windowFailed:
        return reduceWindowResult(&s, r)
    case .exported(let paths):
        s.say("wrote " + paths.joined(separator: ", "))
    case .exportFailed(let m):
        s.say("export failed: \(m)", error: true)
    case .modelLoadProgress, .modelLoaded, .modelLoadFailed:
        return reduceModelLoad(&s, r)
    }
    return .redraw
}

// MARK: Geometry the reducer shares with render

/// Queries in one heatmap row (half-blocks hold two per cell row).
func queriesPerRow(_ s: AppState) -> Int {
    let layout = Layout(s)
    guard let r = layout.panes[.attention] else { return Swift.max(1, s.model.segmentLength / 16) }
    let perCell = s.halfBlocks ? 2 : 1
    let rows = Layout.heatArea(r).height * perCell
    return Swift.max(1, (s.model.segmentLength + rows - 1) / rows) * perCell
}

/// Rows of text the text pane shows (fewer in Δ mode, where the list takes the bottom).
func textRows(_ s: AppState) -> Int {
    let layout = Layout(s)
    guard let r = layout.panes[.text] ?? layout.panes.values.first else { return 8 }
    return Swift.max(1, textArea(s, r).height)
}

/// Rows of the layer table in the sidebar (and of the Distance pane's profiles): a page of layers.
func layerRows(_ s: AppState) -> Int { Swift.max(1, Layout(s).layers.height - 4) }

func textWidth(_ s: AppState) -> Int {
    let layout = Layout(s)
    let r = layout.panes[.text] ?? layout.panes.values.first ?? Rect(x: 0, y: 0, width: 40, height: 1)
    return Swift.max(1, r.width)
}

/// Key columns of the heatmap in an attention pane: its width less one for the memory/segment boundary.
func heatColumns(_ pane: Rect) -> Int { Swift.max(1, Layout.heatArea(pane).width - 1) }

/// Deepest zoom: one key per heatmap column.
func zoomLimit(_ s: AppState) -> Int {
    let keys = s.analysis?.attention[s.selectedLayer].keys ?? (s.memory[s.selectedLayer] + s.model.segmentLength)
    let pane = Layout(s).panes[.attention] ?? Rect(x: 0, y: 0, width: 48, height: 1)
    let cols = heatColumns(pane)
    var z = 0
    while (keys >> z) > cols { z += 1 }  // the deepest zoom shows one key per column
    return z
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
