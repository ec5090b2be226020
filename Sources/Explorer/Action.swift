// Everything that can happen to the explorer, grouped by the concern that handles it: each group is one
// enum and one reduce function in Reducer.swift, so a new action is a case there and nowhere else.
import Analysis

public enum Direction: Sendable, Equatable { case up, down, left, right }
public enum Jump: Sendable, Equatable { case pageUp, pageDown, first, last }

public enum Action: Sendable {
    case general(GeneralAction)
    case layers(LayerAction)
    case heatmap(HeatmapAction)
    case text(TextAction)
    /// Arrows and pages: what they move depends on the focused pane.
    case navigate(Navigation)
    case eval(EvalAction)
    /// A/B comparison of two memory settings, and undo/redo of memory changes.
    case compare(CompareAction)
    case input(InputAction)
    case mouse(MouseEvent)
    /// Results posted back by the model workers.
    case worker(WorkerResult)
}

/// Overlays, panes, quitting and the terminal.
public enum GeneralAction: Sendable {
    case toggleHelp, scrollHelp(Int), quit, confirmQuit(Bool), interrupt, escape
    /// Help overlay: up or down by pages of its visible height.
    case pageHelp(Int)
    case nextPane, previousPane, focus(Pane)
    case export
    case resize(Size)
}

/// Layers and their memory lengths.
public enum LayerAction: Sendable {
    case previous, next, select(Int)
    case double, halve, clear, copyToAll, cyclePreset, reset
    case set(layer: Int, length: Int), setAll([Int]), applyPreset(Preset)
    case setLong(Int), setShort(Int)
}

/// How the attention heatmap is drawn.
public enum HeatmapAction: Sendable {
    case previousHead, nextHead, cycleHeadAggregate, setHead(HeadView)
    case zoomIn, zoomOut, panLeft, panRight, cycleReduction, toggleScale
    /// The key cursor: a column older or newer, to the oldest memory key or the segment's first key, off.
    case keyOlder, keyNewer, keyToOldest, keyToSegmentStart, keyOff
    /// Colour scale per view (false) or fixed (true); nil toggles.
    case fixedScale(Bool?), setScale(HeatScale)
}

/// The text cursor (the query shown) and search.
public enum TextAction: Sendable {
    case setCursor(Int)
    /// Eight rows of the focused pane up or down.
    case pageUp, pageDown
    case searchNext, searchPrevious
}

public enum Navigation: Sendable, Equatable { case move(Direction), jump(Jump) }

/// A is a pinned memory setting, B the current one; their per-byte losses over the evaluation window.
public enum CompareAction: Sendable, Equatable {
    case pin, unpin, swap, undo, redo, toggleDelta, nextWorst, previousWorst, showB
    /// `:compare model PATH`: load a second model (off the UI thread) and compare this one with it.
    case loadModel(String)
}

public enum EvalAction: Sendable {
    case start, cancel, halveBytes, doubleBytes, pinBaseline
    /// `:bytes N [FROM]`: evaluate N positions (from FROM; else from where the window starts now).
    case setBytes(Int, from: Int?)
    /// The selected run: back to its memory setting (Enter in the Eval pane), or deleted (d / Del there).
    case restoreRun, deleteRun
    /// The chart: bpc against memory state / against the number of long-range layers (the paper's view).
    case toggleChart
}

/// The input line at the bottom: `:` commands, `/` search and a layer's memory value.
public enum InputAction: Sendable {
    case open(InputKind), character(Character), backspace, submit
}

public enum WorkerResult: Sendable {
    case analysisReady(request: Int, SegmentAnalysis, [DistanceProfile], memory: [Int])
    case analysisFailed(request: Int, String)
    /// How far the running analysis has got (segments run of those it needs), for the "computing" readout.
    case analysisProgress(request: Int, WindowProgress)
    case evalProgress(request: Int, EvalProgress)
    case evalFinished(request: Int, EvalResult)
    case evalFailed(request: Int, String)
    case windowProgress(request: Int, WindowProgress)
    case windowFinished(request: Int, LossWindow, WindowLosses, seconds: Double)
    case windowFailed(request: Int, String)
    case exported([String])
    case exportFailed(String)
    /// `:compare model PATH`: what the load is doing (a stage in words), the model loaded, or why it failed.
    case modelLoadProgress(request: Int, String)
    case modelLoaded(request: Int, ModelInfo)
    case modelLoadFailed(request: Int, String)
}

public struct MouseEvent: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case click, wheelUp, wheelDown }
    public var kind: Kind, x: Int, y: Int
    public init(_ kind: Kind, x: Int, y: Int) { self.kind = kind; self.x = x; self.y = y }
}

/// What the adapter must do after a reduce.
public struct Effect: Sendable, Equatable {
    public enum Eval: Sendable, Equatable { case start, cancel }
    public var redraw = false
    /// Ask the worker for state.analysisRequest (cursor segment, current memory).
    public var recompute = false
    public var eval: Eval? = nil
    /// Start (state.windowJob) or cancel the per-byte losses of the A/B window.
    public var window: Eval? = nil
    public var export: Pane? = nil
    public var quit = false
    /// Start loading the model of state.modelLoad (`:compare model PATH`).
    public var loadModel = false
    public init(
        redraw: Bool = false, recompute: Bool = false, eval: Eval? = nil, export: Pane? = nil,
        quit: Bool = false
    ) {
        self.redraw = redraw; self.recompute = recompute; self.eval = eval; self.export = export; self.quit = quit
    }
    public init(window: Eval?) { self.redraw = true; self.window = window }
    public static let none = Effect()
    public static let redraw = Effect(redraw: true)

    public func merged(_ o: Effect) -> Effect {
        var e = Effect(
            redraw: redraw || o.redraw, recompute: recompute || o.recompute, eval: o.eval ?? eval,
            export: o.export ?? export, quit: quit || o.quit)
        e.window = o.window ?? window
        e.loadModel = loadModel || o.loadModel
        return e
    }
}
