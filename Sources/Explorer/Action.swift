// Everything that can happen to the explorer: key actions from the KeyMap, typed input, mouse,
// terminal events and results posted back by the model workers.

public enum Direction: Sendable, Equatable { case up, down, left, right }
public enum Jump: Sendable, Equatable { case pageUp, pageDown, first, last }

public enum Action: Sendable {
    // Global
    case toggleHelp, quit, interrupt, escape
    case nextPane, previousPane, focus(Pane)
    case openCommandLine, openSearch, searchNext, searchPrevious
    // Movement (meaning depends on the focused pane)
    case move(Direction), pan(Direction), jump(Jump)
    // Layers and heads
    case previousLayer, nextLayer, previousHead, nextHead, cycleHeadAggregate
    case setLayer(Int), setHead(HeadView), setCursor(Int)
    // Memory
    case doubleMemory, halveMemory, clearMemory, copyMemoryToAll, enterMemoryValue
    case cyclePreset, resetMemory
    case setMemory(layer: Int, length: Int), setAllMemory([Int]), applyPreset(Preset)
    case setLong(Int), setShort(Int)
    // Heatmap view
    case zoomIn, zoomOut, cycleReduction, toggleScale
    // Evaluation
    case startEval, cancelEval, halveEvalBytes, doubleEvalBytes, setEvalBytes(Int), pinBaseline
    case export
    // Input line editing
    case inputCharacter(Character), inputBackspace, inputSubmit
    // Terminal
    case resize(Size), mouse(MouseEvent), confirm(Bool)
    // Results from the workers
    case analysisReady(request: Int, SegmentAnalysis, [DistanceProfile], memory: [Int])
    case analysisFailed(request: Int, String)
    case evalProgress(request: Int, EvalProgress)
    case evalFinished(request: Int, EvalResult)
    case evalFailed(request: Int, String)
    case exported([String])
    case exportFailed(String)
    case showMessage(String)
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
    public var export: Pane? = nil
    public var quit = false
    public init(redraw: Bool = false, recompute: Bool = false, eval: Eval? = nil, export: Pane? = nil, quit: Bool = false) {
        self.redraw = redraw; self.recompute = recompute; self.eval = eval; self.export = export; self.quit = quit
    }
    public static let none = Effect()
    public static let redraw = Effect(redraw: true)
}
