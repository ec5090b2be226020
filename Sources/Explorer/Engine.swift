// The seam between the explorer and a model runtime: what the TUI asks of a Transformer-XL.
// TXLEngine runs the real model; tests use a synthetic engine. Attention is TXL's AttentionCapture and
// evaluation reports Analysis's EvalProgress and EvalResult, the types `memscope attention` and `eval` use.
import Analysis
import TXL

/// Everything the explorer shows about one segment under one memory configuration.
public struct SegmentAnalysis: Sendable {
    public let offset: Int  // index in the text of the segment's first byte (token)
    public let bytes: [UInt8]  // the segment's bytes (queries); a word model: TokenText.placeholderBytes
    public let memoryBytes: [[UInt8]]  // per layer: the text bytes its memory keys stand for (oldest first)
    public let lossBits: [Float]  // per query: -log2 p(next byte | ...); NaN where there is no next byte
    public let attention: [AttentionCapture]  // one per layer, bottom layer first
    /// Layers the engine ran for this result: all of them, or (a memory change of layer l, IncrementalAnalysis)
    /// only l and above; 0 when unknown.
    public let layersRun: Int

    public init(
        offset: Int, bytes: [UInt8], memoryBytes: [[UInt8]], lossBits: [Float],
        attention: [AttentionCapture], layersRun: Int = 0
    ) {
        self.offset = offset; self.bytes = bytes; self.memoryBytes = memoryBytes
        self.lossBits = lossBits; self.attention = attention; self.layersRun = layersRun
    }
}

public protocol ExplorerEngine: Sendable {
    var modelName: String { get }
    /// The model's shape; `defaultMemory` is the checkpoint's evaluation memory per layer.
    var config: Config { get }
    /// Largest memory length the engine accepts per layer.
    var maxMemory: Int { get }
    /// A word model's text as tokens: positions (offsets, cursor, windows) are then token indices into it, and the
    /// `text` bytes passed in are its placeholders. nil for a byte model.
    var tokenText: TokenText? { get }
    /// The segment that holds text[offset], with memories carried in from earlier text.
    /// Throws CancellationError if cancelled() turns true.
    func analyse(
        text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool
    ) throws
        -> SegmentAnalysis
    /// `analyse`, reporting after each segment run (done of total segments) to `progress`.
    func analyse(
        text: [UInt8], offset: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> SegmentAnalysis
    /// bpc over text[start ..< start+bytes], segment by segment, memories carried.
    func evaluate(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (EvalProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> EvalResult
    /// Per-byte losses in bits over text[start ..< start+bytes], run as `evaluate` runs it (segment by segment,
    /// memories carried), and each layer's distance profile over the whole window.
    func losses(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> WindowLosses
}

/// How far a loss window has got: bytes predicted of the total, and the seconds so far.
public struct WindowProgress: Sendable, Equatable {
    public let done: Int, total: Int
    public let seconds: Double
    public init(done: Int, total: Int, seconds: Double) { self.done = done; self.total = total; self.seconds = seconds }
    public var fraction: Double { total == 0 ? 1 : Double(done) / Double(total) }
}

/// A window of text under one memory setting: what the A/B comparison needs from the model.
public struct WindowLosses: Sendable {
    /// Element i is the loss in bits of predicting byte start+i+1 from the bytes up to start+i; the last is NaN
    /// (nothing after it in the window). Their mean is `evaluate`'s bpc.
    public let bits: [Float]
    /// Per layer: attention mass by distance, averaged over the queries of the window's segments (at most
    /// `profiledSegments` of them, evenly spaced, as the real engine samples them).
    public let profiles: [DistanceProfile]
    public static let profiledSegments = 64
    /// The lowest layer run: above 0 when the layers below were reused from an earlier window with the same memory
    /// there (TXLEngine's WindowCache).
    public var firstLayer = 0
    public init(bits: [Float], profiles: [DistanceProfile]) { self.bits = bits; self.profiles = profiles }
}

extension ExplorerEngine {
    public var tokenText: TokenText? { nil }
    public func analyse(
        text: [UInt8], offset: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> SegmentAnalysis {
        try analyse(text: text, offset: offset, memory: memory, cancelled: cancelled)
    }
    public var layerCount: Int { config.nLayer }
    public var segmentLength: Int { config.tgtLen }
    public var defaultMemory: [Int] { config.defaultMemory }
}
