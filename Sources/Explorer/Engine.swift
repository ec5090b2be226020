// The seam between the explorer and a model runtime: what the TUI asks of a Transformer-XL.
// TXLEngine runs the real model; tests use a synthetic engine. Attention is TXL's AttentionCapture and
// evaluation reports Analysis's EvalProgress and EvalResult, the types `memscope attention` and `eval` use.
import Analysis
import TXL

/// Everything the explorer shows about one segment under one memory configuration.
public struct SegmentAnalysis: Sendable {
    public let offset: Int  // index in the text of the segment's first byte
    public let bytes: [UInt8]  // the segment's bytes (queries)
    public let memoryBytes: [[UInt8]]  // per layer: the text bytes its memory keys stand for (oldest first)
    public let lossBits: [Float]  // per query: -log2 p(next byte | ...); NaN where there is no next byte
    public let attention: [AttentionCapture]  // one per layer, bottom layer first

    public init(
        offset: Int, bytes: [UInt8], memoryBytes: [[UInt8]], lossBits: [Float],
        attention: [AttentionCapture]
    ) {
        self.offset = offset; self.bytes = bytes; self.memoryBytes = memoryBytes
        self.lossBits = lossBits; self.attention = attention
    }
}

public protocol ExplorerEngine: Sendable {
    var modelName: String { get }
    /// The model's shape; `defaultMemory` is the checkpoint's evaluation memory per layer.
    var config: Config { get }
    /// Largest memory length the engine accepts per layer.
    var maxMemory: Int { get }
    /// The segment that holds text[offset], with memories carried in from earlier text.
    /// Throws CancellationError if cancelled() turns true.
    func analyse(
        text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool
    ) throws
        -> SegmentAnalysis
    /// bpc over text[start ..< start+bytes], segment by segment, memories carried.
    func evaluate(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (EvalProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> EvalResult
}

extension ExplorerEngine {
    public var layerCount: Int { config.nLayer }
    public var segmentLength: Int { config.tgtLen }
    public var defaultMemory: [Int] { config.defaultMemory }
}
