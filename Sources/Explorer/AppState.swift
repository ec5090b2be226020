// The explorer's whole state as a value (Elm-style): reduce(&state, action) changes it, render(state) draws it.
import Analysis
import TXL

/// The panes, numbered as their keys (`1`-`5`) and tabs show them.
///
/// To add a pane:
/// 1. Add a case here. The compiler then points at every switch that must handle it: its name below, its
///    render function in `render` (Render.swift), what the arrows do in it (`navigate`, Reducer.swift)
///    and what `x` exports from it (`Export.files`). No switch over panes has a `default:`.
/// 2. Write its render function (a `Renderer` method drawing into the pane's rectangle).
/// 3. Add its key entries to `KeyMap.table`; its number key and tab come from this enum.
/// On a large terminal Layout shows four panes at once: give the new one a place there too.
public enum Pane: Int, Sendable, CaseIterable, CustomStringConvertible {
    case layers = 1, attention, distance, text, evaluation
    public var description: String {
        switch self {
        case .layers: return "Layers";
        case .attention: return "Attention";
        case .distance: return "Distance"
        case .text: return "Text";
        case .evaluation: return "Eval"
        }
    }
}

public enum Overlay: Sendable, Equatable { case help, confirmQuit }

public enum InputKind: Sendable, Equatable { case command, search, memoryValue }

public struct InputLine: Sendable, Equatable {
    public var kind: InputKind
    public var text: String
    public init(kind: InputKind, text: String = "") { self.kind = kind; self.text = text }
}

/// What the terminal can show; decided by the adapter, used by render.
public struct Display: Sendable, Equatable {
    public var colors: Bool
    public var ascii: Bool
    public var label: String  // "256 colours", "8 colours", "no colour"
    public init(colors: Bool = true, ascii: Bool = false, label: String = "256 colours") {
        self.colors = colors; self.ascii = ascii; self.label = label
    }
}

/// One evaluation: what was run (model, text, offset, bytes, memory per layer) and what it gave. Saved with the
/// other runs of its model and text (RunStore.swift).
public struct Run: Sendable, Equatable, Codable {
    public var id: Int
    public var memory: [Int]
    public var stateFloats: Int
    public var bytes: Int
    public var bpc: Double
    public var seconds: Double
    /// First byte of the text evaluated.
    public var offset: Int = 0
    /// The model's name and the text's name (their fingerprints are the run file's).
    public var model: String = ""
    public var text: String = ""
    /// When it finished (ISO 8601, UTC); empty when unknown.
    public var time: String = ""
    /// The preset the memory came from, if any (a chart label).
    public var preset: String? = nil
}

public struct EvalStatus: Sendable {
    public var request: Int
    public var memory: [Int]
    /// The first position evaluated (the run's offset).
    public var start = 0
    public var bytesTotal: Int
    public var progress: EvalProgress?
}

/// The model as the explorer sees it: its config, and the longest memory the engine accepts.
public struct ModelInfo: Sendable, Equatable {
    public var name: String
    public var config: Config
    public var maxMemory: Int
    /// A word model's text as tokens (TokenText.swift); nil for a byte model, whose positions are bytes.
    public var tokens: TokenText?
    public init(_ e: any ExplorerEngine) {
        name = e.modelName; config = e.config; maxMemory = e.maxMemory; tokens = e.tokenText
    }
    public var layers: Int { config.nLayer }
    public var heads: Int { config.nHead }
    public var dModel: Int { config.dModel }
    public var segmentLength: Int { config.tgtLen }
    public var defaultMemory: [Int] { config.defaultMemory }
    /// Floats of memory state for per-layer lengths `memory` (TXL's count, as `eval` reports it).
    public func stateFloats(_ memory: [Int]) -> Int {
        RunOptions(config: config, memory: memory).memoryFloats(dModel: dModel)
    }
}

public struct AppState: Sendable {
    public var model: ModelInfo
    public var text: [UInt8]
    public var textName: String
    public var display = Display()
    public var size = Size(width: 80, height: 24)

    // Memory configuration
    public var memory: [Int]
    public var longLength: Int  // lrm: what presets give long-range layers
    public var shortLength: Int  // srm: what presets give short-range layers
    public var presetIndex = -1
    public var preset: Preset? = nil  // the preset the memory came from, reapplied when lrm/srm change

    // Selection
    public var focus: Pane = .layers
    public var mainPane: Pane = .attention  // the large pane when only one fits
    public var selectedLayer = 0
    public var headView: HeadView = .mean
    public var reduction: Reduction = .max
    public var scale: HeatScale = .log
    public var cursor = 0  // byte offset in the text: the query shown
    public var zoom = 0  // heatmap keys: all / 2^zoom
    public var pan = 0  // heatmap: first key shown when zoomed
    /// The heatmap's key cursor: a key position from the segment start (negative: memory); nil when off.
    public var keyCursor: Int? = nil
    /// The heatmap's colour scale: per view (false: against the view's largest value) or fixed (the same log
    /// scale for every layer, head, setting and zoom).
    public var fixedScale = false
    public var helpTop = 0  // help overlay: first line shown
    /// The newcomer hint in the status bar (`? help · :goto N ...`): set on opening, gone after the first key.
    public var hint = false
    public var selectedRun: Int? = nil

    // Overlays and input
    public var overlay: Overlay? = nil
    public var input: InputLine? = nil
    public var search: String? = nil
    public var message: String? = nil
    public var messageIsError = false

    // Model results
    public var analysisRequest = 0  // tag of the newest analysis asked for
    public var analysis: SegmentAnalysis? = nil
    public var analysisMemory: [Int]? = nil
    public var profiles: [DistanceProfile] = []
    public var analysing = false
    public var analysisProgress: WindowProgress? = nil  // of the running analysis, when it reported any
    public var evalRequest = 0
    public var evalBytes: Int
    /// Where evaluations and the A/B window start (`:bytes N FROM`): a position (byte, or a word model's token).
    public var evalStart = 0
    public var eval: EvalStatus? = nil
    public var runs: [Run] = []
    public var baseline: Int? = nil  // run id pinned as the baseline
    public var nextRunID = 1
    /// The Eval pane's chart: bpc against memory state, or the paper's view (Charts.swift).
    public var chartView: ChartView = .state

    // A/B comparison (Comparison.swift): A pinned, B the current memory; undo and redo of memory changes.
    public var comparison: Comparison? = nil
    public var undoStack: [[Int]] = []
    public var redoStack: [[Int]] = []
    /// Per-byte losses in bits over a window, by memory setting (cached: swapping or undoing costs nothing).
    public var windows: [LossWindow: [Float]] = [:]
    public var windowProfiles: [LossWindow: [DistanceProfile]] = [:]
    public var windowRequest = 0
    public var windowJob: WindowJob? = nil
    /// `:compare model PATH` while its model loads; the tag of the newest load asked for.
    public var modelLoad: ModelLoadJob? = nil
    public var modelLoadRequest = 0

    public init(
        model: ModelInfo, text: [UInt8], textName: String, memory: [Int]? = nil,
        display: Display = Display()
    ) {
        self.model = model; self.text = text; self.textName = textName; self.display = display
        self.memory = memory ?? model.defaultMemory
        longLength = MemorySpec.defaultLong(model.config)  // the --lrm and --srm defaults of every command
        shortLength = model.segmentLength
        evalBytes = Swift.min(text.count, 65_536)
    }

    // Derived values
    public var stateFloats: Int { model.stateFloats(memory) }
    public var ratioToFull: Double { MemoryPlan.ratio(memory, to: model.defaultMemory) }
    public var segmentStart: Int { model.segmentLength > 0 ? cursor / model.segmentLength * model.segmentLength : 0 }
    public var isEvaluating: Bool { eval != nil }
    /// Whether the shown analysis is for the current cursor segment and memory.
    public var analysisIsCurrent: Bool {
        guard let a = analysis else { return false }
        return analysisMemory == analysisTarget && cursor >= a.offset && cursor < a.offset + a.bytes.count
    }
    public var lastBPC: Double? { runs.last?.bpc }

    /// The opening segment: the first at or after the largest memory length, so that every layer's memory is
    /// full; the last segment when the text is shorter than that.
    public var openingCursor: Int {
        let T = Swift.max(1, model.segmentLength), longest = memory.max() ?? 0
        guard !text.isEmpty else { return 0 }
        let full = (longest + T - 1) / T * T
        return full < text.count ? full : (text.count - 1) / T * T
    }

    /// Where the explorer opens: on a segment whose memory is full, with the newcomer hint.
    public mutating func open() {
        cursor = openingCursor
        hint = true
    }

    public func kind(ofLayer l: Int) -> String {
        let m = memory[l]
        if m == 0 { return "none" }
        return m > shortLength ? "long" : "short"
    }
}

extension AppState {
    /// Heat cells hold two query rows (`▀` with foreground and background) only with colour and block glyphs.
    public var halfBlocks: Bool { display.colors && !display.ascii }
    /// The attention pane's view of heads, with an out-of-range head falling back to the mean.
    var effectiveHeadView: HeadView {
        if case .head(let h) = headView, h >= model.heads { return .mean }
        return headView
    }
}
