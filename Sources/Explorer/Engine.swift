// The seam between the explorer and a model runtime: what the TUI asks of a Transformer-XL.
// The real adapter (TXLEngine) lives outside this target; tests use a synthetic engine.

/// One layer's attention over its memory and the segment (Transformer-XL, Dai et al. 2019, sec. 3.2).
public struct LayerAttention: Sendable {
    public let layer: Int                 // 0 = bottom layer
    public let heads: Int, queries: Int, keys: Int
    public let memoryKeys: Int            // keys before the segment; keys are ordered oldest memory first
    public let probabilities: [Float]     // [heads][queries][keys] row-major; masked keys are exactly 0
    public func distance(query q: Int, key k: Int) -> Int { memoryKeys + q - k }   // >= 0 for visible keys

    public init(layer: Int, heads: Int, queries: Int, keys: Int, memoryKeys: Int, probabilities: [Float]) {
        precondition(probabilities.count == heads * queries * keys, "attention shape mismatch")
        self.layer = layer; self.heads = heads; self.queries = queries; self.keys = keys
        self.memoryKeys = memoryKeys; self.probabilities = probabilities
    }
}

/// Everything the explorer shows about one segment under one memory configuration.
public struct SegmentAnalysis: Sendable {
    public let offset: Int                // index in the text of the segment's first byte
    public let bytes: [UInt8]             // the segment's bytes (queries)
    public let memoryBytes: [[UInt8]]     // per layer: the text bytes its memory keys stand for (oldest first)
    public let lossBits: [Float]          // per query: -log2 p(next byte | ...); NaN where there is no next byte
    public let attention: [LayerAttention] // one per layer

    public init(offset: Int, bytes: [UInt8], memoryBytes: [[UInt8]], lossBits: [Float], attention: [LayerAttention]) {
        self.offset = offset; self.bytes = bytes; self.memoryBytes = memoryBytes
        self.lossBits = lossBits; self.attention = attention
    }
}

/// A running evaluation's progress; running bpc = bits / bytesDone.
public struct EvalProgress: Sendable, Equatable {
    public let bytesDone: Int; public let bytesTotal: Int; public let bits: Double; public let seconds: Double
    public init(bytesDone: Int, bytesTotal: Int, bits: Double, seconds: Double) {
        self.bytesDone = bytesDone; self.bytesTotal = bytesTotal; self.bits = bits; self.seconds = seconds
    }
    public var bpc: Double { bytesDone > 0 ? bits / Double(bytesDone) : .nan }
}

public struct EvalResult: Sendable, Equatable {
    public let bytes: Int; public let bpc: Double; public let seconds: Double; public let memory: [Int]
    public init(bytes: Int, bpc: Double, seconds: Double, memory: [Int]) {
        self.bytes = bytes; self.bpc = bpc; self.seconds = seconds; self.memory = memory
    }
}

public protocol ExplorerEngine: Sendable {
    var modelName: String { get }
    var layerCount: Int { get }
    var headCount: Int { get }
    var dModel: Int { get }
    var segmentLength: Int { get }
    var defaultMemory: [Int] { get }      // per layer: the checkpoint's default evaluation memory lengths
    var maxMemory: Int { get }            // largest memory length the engine accepts per layer
    /// The segment that holds text[offset], with memories carried in from earlier text. Throws CancellationError if cancelled() turns true.
    func analyse(text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool) throws -> SegmentAnalysis
    /// bpc over text[start ..< start+bytes], segment by segment, memories carried.
    func evaluate(text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (EvalProgress) -> Void, cancelled: @Sendable () -> Bool) throws -> EvalResult
}
