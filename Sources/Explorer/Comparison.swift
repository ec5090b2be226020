// A/B comparison of two memory settings: A pinned, B the current memory. Both are run over the evaluation
// window in the background for per-byte losses (bits), which the text pane shades by B minus A and the
// "where memory matters" list sorts. Undo and redo of memory changes live here too.
import Analysis
import Foundation
import TXL

/// A model at a memory setting over a stretch of the text: the key of a per-byte loss window.
public struct LossWindow: Sendable, Hashable {
    /// The model's name in the session (A's model, or B's in a comparison across models).
    public var model: String
    public var memory: [Int]
    public var start: Int
    public var bytes: Int
    public init(model: String, memory: [Int], start: Int, bytes: Int) {
        self.model = model; self.memory = memory; self.start = start; self.bytes = bytes
    }
}

/// B as a second model (issue 10): its name and the memory setting it runs at (its own, the checkpoint's).
public struct OtherModel: Sendable, Equatable {
    public var name: String
    public var memory: [Int]
    public init(name: String, memory: [Int]) { self.name = name; self.memory = memory }
}

/// `:compare model PATH` while the model loads off the UI thread: what it is doing now.
public struct ModelLoadJob: Sendable, Equatable {
    public var request: Int
    public var path: String
    public var stage: String
    public var started: Double  // seconds (ProcessInfo.systemUptime) when asked
}

/// Loads the model at a path for `:compare model PATH`, reporting its stages in words; run off the UI thread. The
/// executable provides it (it knows checkpoint files and Hugging Face folders); nil where nothing can be loaded.
public typealias ModelLoader =
    @Sendable (_ path: String, _ progress: @escaping @Sendable (String) -> Void) throws -> any ExplorerEngine

/// The window being computed in the background.
public struct WindowJob: Sendable {
    public var request: Int
    public var window: LossWindow
    public var progress: WindowProgress?
}

/// One byte where B loses most against A: the query at `offset` predicting the byte after it.
public struct WorstByte: Sendable, Equatable {
    public var offset: Int
    public var lossA: Float, lossB: Float
    public var delta: Float { lossB - lossA }
}

public struct Comparison: Sendable {
    /// The pinned memory setting.
    public var a: [Int]
    /// The text pane shades by B minus A (else by the loss of the current setting).
    public var deltaMode = true
    /// Bytes where B loses most against A, worst first (when both windows are known).
    public var worst: [WorstByte] = []
    /// The row of the list last jumped to; -1 before the first jump.
    public var selectedWorst = -1
    /// The heatmap shows A's attention (after a jump), with the keys beyond B's memory marked.
    public var heatmapA = false
    /// B is another model at its own memory, A this model at the current memory (nil: two settings of this model).
    public var other: OtherModel? = nil
    public init(a: [Int]) { self.a = a }

    /// Why two models cannot be compared byte by byte, in one line; nil when they can.
    public static func crossModelProblem(a: ModelInfo, b: ModelInfo) -> String? {
        if a.config.nToken != b.config.nToken {
            return "\(b.name) has a vocabulary of \(b.config.nToken), \(a.name) of \(a.config.nToken): "
                + "A/B across models needs the same vocabulary"
        }
        if (a.tokens == nil) != (b.tokens == nil) {
            let kind = { (m: ModelInfo) in m.tokens == nil ? "a byte model" : "a word model" }
            return "\(b.name) is \(kind(b)), \(a.name) \(kind(a)): A/B across models needs the same vocabulary"
        }
        if let ta = a.tokens, let tb = b.tokens, ta.vocabulary != tb.vocabulary || ta.ids != tb.ids {
            return "\(b.name) has other words than \(a.name) (a vocabulary of the same size): "
                + "A/B across models needs the same vocabulary"
        }
        if a.layers != b.layers {
            return "\(b.name) has \(b.layers) layers, \(a.name) \(a.layers): A/B compares them layer by layer"
        }
        if a.name == b.name { return "both models are named \(a.name): A/B needs two names" }
        return nil
    }
}

/// Starts the comparison across models: A this model at the current memory, B `other` at its own memory.
public func compareModels(_ s: inout AppState, other: ModelInfo) -> Effect {
    if let problem = Comparison.crossModelProblem(a: s.model, b: other) {
        s.say(problem, error: true)
        return .redraw
    }
    var c = Comparison(a: s.memory)
    c.other = OtherModel(name: other.name, memory: other.defaultMemory)
    s.comparison = c
    let bMemory = MemorySpec.compact(other.defaultMemory)
    s.say("A \(s.model.name), B \(other.name) at \(bMemory): w jumps to where B loses most")
    return refreshComparison(&s)
}

extension AppState {
    /// The window the comparison runs over: this model's losses over the evaluation's bytes from the start.
    public func window(_ memory: [Int]) -> LossWindow {
        LossWindow(model: model.name, memory: memory, start: evalStart, bytes: evalBytes)
    }
    /// A's window: the pinned setting, or across models this model at the current memory.
    public var windowA: LossWindow? {
        guard let c = comparison else { return nil }
        return c.other == nil ? window(c.a) : window(memory)
    }
    /// B's window: the current setting, or across models the other model at its own memory.
    public var windowB: LossWindow? {
        guard let c = comparison else { return nil }
        guard let o = c.other else { return window(memory) }
        return LossWindow(model: o.name, memory: o.memory, start: evalStart, bytes: evalBytes)
    }
    /// "A" or "B": the side a window is computed for (the progress shown while it runs).
    public func side(of w: LossWindow) -> String { w == windowA ? "A" : "B" }
    /// Per-byte losses of A and B over the window, when both are computed.
    public var abLosses: (a: [Float], b: [Float])? {
        guard let wa = windowA, let wb = windowB, let a = windows[wa], let b = windows[wb] else { return nil }
        return (a, b)
    }
    /// The memory the attention analysis is asked for: A's after a jump to a worst byte, else the current one.
    public var analysisTarget: [Int] {
        if let c = comparison, c.heatmapA { return c.a }
        return memory
    }
    /// bpc of a loss window (its finite bytes).
    public static func bpc(_ bits: [Float]) -> Double {
        var sum = 0.0, n = 0
        for b in bits where b.isFinite { sum += Double(b); n += 1 }
        return n == 0 ? .nan : sum / Double(n)
    }
}

/// How many bytes the list keeps.
public let worstCount = 100

/// The `count` queries where B loses most against A, worst first (ties: earlier first).
public func worstBytes(a: [Float], b: [Float], start: Int, count: Int = worstCount) -> [WorstByte] {
    let n = Swift.min(a.count, b.count)
    var all: [WorstByte] = []
    all.reserveCapacity(n)
    for i in 0..<n where a[i].isFinite && b[i].isFinite {
        all.append(WorstByte(offset: start + i, lossA: a[i], lossB: b[i]))
    }
    all.sort { $0.delta != $1.delta ? $0.delta > $1.delta : $0.offset < $1.offset }
    return Array(all.prefix(count))
}

/// Level -7...7 for a loss difference in bits (B minus A): 0 within ±0.25 bits, then 0.5, 1, 2, 3, 4, 6.
public func deltaLevel(_ bits: Float) -> Int8 {
    guard bits.isFinite else { return 0 }
    let steps: [Float] = [0.25, 0.5, 1, 2, 3, 4, 6]
    var k: Int8 = 0
    for t in steps where abs(bits) >= t { k += 1 }
    return bits < 0 ? -k : k
}

/// The lower bound in bits of each positive Δ level 1...7 (the legend's numbers).
public let deltaSteps: [Float] = [0.25, 0.5, 1, 2, 3, 4, 6]

// MARK: Reduce

func reduceCompare(_ s: inout AppState, _ a: CompareAction) -> Effect {
    switch a {
    case .pin:
        if let o = s.comparison?.other {
            s.say("A/B is across models (B \(o.name)); :compare off ends it", error: true)
            return .redraw
        }
        s.comparison = Comparison(a: s.memory)
        s.say("A pinned: \(MemorySpec.compact(s.memory)); change the memory to make B (C swaps, u undoes)")
        return refreshComparison(&s)
    case .loadModel(let path):
        guard !path.isEmpty else {
            s.say(":compare model takes a path: a .safetensors file or a Hugging Face folder", error: true)
            return .redraw
        }
        s.modelLoadRequest += 1
        s.modelLoad = ModelLoadJob(
            request: s.modelLoadRequest, path: path, stage: "starting", started: ProcessInfo.processInfo.systemUptime)
        s.say("B: loading \(path) (:compare off cancels)")
        var e = Effect.redraw
        e.loadModel = true
        return e
    case .unpin:
        if let job = s.modelLoad {
            s.modelLoad = nil
            s.say("B: loading \(job.path) cancelled")
            return .redraw
        }
        guard s.comparison != nil else { s.say("nothing pinned: c pins the memory as A"); return .redraw }
        let wasA = s.comparison?.heatmapA == true
        s.comparison = nil
        s.say("A unpinned")
        var e = refreshComparison(&s)
        if wasA { e = e.merged(s.recompute()) }
        return e
    case .swap:
        guard let c = s.comparison else { s.say("nothing pinned: c pins the memory as A", error: true); return .redraw }
        if let o = c.other {
            s.say("B is another model (\(o.name)): C swaps two settings of one model", error: true)
            return .redraw
        }
        let b = s.memory
        s.comparison?.a = b
        s.comparison?.heatmapA = false
        s.undoStack.append(b); s.redoStack = []
        s.memory = c.a
        s.preset = nil
        let e = memoryChanged(&s)
        s.say("swapped: A \(MemorySpec.compact(b)), B \(MemorySpec.compact(c.a))")
        return e
    case .undo, .redo:
        let undo = a == .undo
        guard let m = undo ? s.undoStack.popLast() : s.redoStack.popLast() else {
            s.say(undo ? "nothing to undo" : "nothing to redo", error: true)
            return .redraw
        }
        if undo { s.redoStack.append(s.memory) } else { s.undoStack.append(s.memory) }
        s.memory = m
        s.preset = nil
        let e = memoryChanged(&s)
        s.say("\(undo ? "undo" : "redo"): memory \(MemorySpec.compact(m))")
        return e
    case .toggleDelta:
        guard s.comparison != nil else { s.say("Δ needs an A: c pins the memory as A", error: true); return .redraw }
        s.comparison?.deltaMode.toggle()
        return .redraw
    case .nextWorst, .previousWorst:
        guard let c = s.comparison else { s.say("nothing pinned: c pins the memory as A", error: true); return .redraw }
        guard !c.worst.isEmpty else {
            s.say(s.windowJob != nil ? "the A/B window is still being computed" : "A and B are the same", error: true)
            return .redraw
        }
        let n = c.worst.count
        let sel = c.selectedWorst
        let i = a == .nextWorst ? (sel + 1) % n : (sel <= 0 ? n - 1 : sel - 1)
        return jumpToWorst(&s, i)
    case .showB:
        guard s.comparison?.heatmapA == true else { return .redraw }
        s.comparison?.heatmapA = false
        return s.recompute()
    }
}

/// Moves the cursor to a worst byte; the heatmap then shows A's attention on the layer B cut most.
func jumpToWorst(_ s: inout AppState, _ i: Int) -> Effect {
    guard let c = s.comparison, i < c.worst.count else { return .redraw }
    s.comparison?.selectedWorst = i
    let w = c.worst[i]
    let l = s.selectedLayer
    // Across models B's attention is not this model's: the heatmap stays on A (the current setting).
    let cut = c.other != nil ? [] : (0..<s.model.layers).filter { c.a[$0] > s.memory[$0] }
    if !cut.contains(l), let most = cut.max(by: { c.a[$0] - s.memory[$0] < c.a[$1] - s.memory[$1] }) {
        s.selectedLayer = most
    }
    var e = moveCursor(&s, to: w.offset)
    if !cut.isEmpty && !c.heatmapA {
        s.comparison?.heatmapA = true
        e = e.merged(s.recompute())
    } else if cut.isEmpty && c.heatmapA {
        s.comparison?.heatmapA = false
        e = e.merged(s.recompute())
    }
    s.say(
        String(
            format: "#%d: %@ %d, A %.2f B %.2f bits %@%+.2f%@", i + 1, s.model.unit, w.offset, w.lossA, w.lossB,
            s.glyphsDelta, w.delta, cut.isEmpty ? "" : " · heatmap A's, \(s.glyphsTimes) beyond B"))
    return e
}

extension AppState {
    var glyphsDelta: String { Glyphs(ascii: display.ascii).delta }
    var glyphsTimes: String { display.ascii ? "x" : "×" }

    /// Records the memory before a change, for undo.
    mutating func recordUndo() {
        undoStack.append(memory)
        if undoStack.count > 200 { undoStack.removeFirst() }
        redoStack = []
    }
}

/// After the pin, the memory or the window changed: the worst list if both windows are known, else the job
/// for the missing one (superseding a running job for a window no longer wanted).
func refreshComparison(_ s: inout AppState) -> Effect {
    guard s.comparison != nil, s.text.count >= 2 else {
        if s.windowJob != nil { s.windowJob = nil; return Effect(window: .cancel) }
        return .redraw
    }
    let wanted = [s.windowA!, s.windowB!]
    if let missing = wanted.first(where: { s.windows[$0] == nil }) {
        s.comparison?.worst = []
        s.comparison?.selectedWorst = -1
        if s.windowJob?.window == missing { return .redraw }
        s.windowRequest += 1
        s.windowJob = WindowJob(request: s.windowRequest, window: missing, progress: nil)
        return Effect(window: .start)
    }
    var e = Effect.redraw
    if s.windowJob != nil { s.windowJob = nil; e = Effect(window: .cancel) }
    let a = s.windows[wanted[0]]!, b = s.windows[wanted[1]]!
    s.comparison?.worst = wanted[0] == wanted[1] ? [] : worstBytes(a: a, b: b, start: wanted[0].start)
    s.comparison?.selectedWorst = -1
    // Keep the cache small: A, B and the few most recent others.
    if s.windows.count > 12 {
        for k in s.windows.keys where !wanted.contains(k) && s.windows.count > 12 {
            s.windows[k] = nil; s.windowProfiles[k] = nil
        }
    }
    return e
}

/// `:compare model PATH`: the load's stages, then the comparison with the model loaded (or why it cannot be).
func reduceModelLoad(_ s: inout AppState, _ r: WorkerResult) -> Effect {
    switch r {
    case .modelLoadProgress(let request, let stage):
        guard let job = s.modelLoad, job.request == request else { return .none }
        s.modelLoad?.stage = stage
        let secs = ProcessInfo.processInfo.systemUptime - job.started
        s.say(String(format: "B: %@ (%@, %.1f s; :compare off cancels)", stage, job.path, secs))
        return .redraw
    case .modelLoaded(let request, let info):
        guard s.modelLoad?.request == request else { return .none }
        s.modelLoad = nil
        return compareModels(&s, other: info)
    case .modelLoadFailed(let request, let m):
        guard let job = s.modelLoad, job.request == request else { return .none }
        s.modelLoad = nil
        s.say("cannot compare with \((job.path as NSString).lastPathComponent): \(m)", error: true)
        return .redraw
    default:
        return .none
    }
}

func reduceWindowResult(_ s: inout AppState, _ r: WorkerResult) -> Effect {
    switch r {
    case .windowProgress(let request, let p):
        guard s.windowJob?.request == request else { return .none }
        s.windowJob?.progress = p
        return .redraw
    case .windowFinished(let request, let w, let result, let seconds):
        guard s.windowJob?.request == request else { return .none }
        s.windowJob = nil
        s.windows[w] = result.bits
        s.windowProfiles[w] = result.profiles
        if result.firstLayer > 0 {
            let f = result.firstLayer, top = w.memory.count - 1
            s.say(
                String(
                    format: "window of %@ in %.1f s: layers %d-%d run, %d-%d reused from an earlier window",
                    MemorySpec.compact(w.memory), seconds, f, top, 0, f - 1))
        }
        return refreshComparison(&s)
    case .windowFailed(let request, let m):
        guard s.windowJob?.request == request else { return .none }
        s.windowJob = nil
        s.say("A/B window failed: \(m)", error: true)
        return .redraw
    default:
        return .none
    }
}
