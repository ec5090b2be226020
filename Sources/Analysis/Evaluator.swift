// Bits per byte of a text under a model with a given per-layer memory (Rae & Razavi 2020 §4 report bpc this way):
// the text streams through `Inference` segment by segment, memories carried, never reset.
import Foundation
import TXL

/// Errors of an evaluation request, one line each.
public enum AnalysisError: Error, CustomStringConvertible, Equatable {
    case badRequest(String)
    case cancelled

    public var description: String {
        switch self {
        case .badRequest(let s): return s
        case .cancelled: return "cancelled"
        }
    }
}

/// How far an evaluation has got, for progress bars.
public struct EvalProgress: Sendable {
    /// Bytes predicted so far, of `total`.
    public let done: Int, total: Int
    public let seconds: Double
    public let bits: Double
    public var fraction: Double { total == 0 ? 1 : Double(done) / Double(total) }
    /// Bits per byte so far.
    public var bpc: Double { done == 0 ? .nan : bits / Double(done) }
}

public struct EvalResult: Sendable, Equatable {
    /// -sum(log2 p) over the predicted bytes.
    public let bits: Double
    /// Bytes predicted: every byte of each stream but its first.
    public let predicted: Int
    public let seconds: Double
    public let memory: [Int]
    public let segment: Int
    public let batch: Int
    /// Floats of memory state per stream (sum of M_i x d_model), the paper's measure of memory cost.
    public let memoryFloats: Int
    public var bpc: Double { predicted == 0 ? .nan : bits / Double(predicted) }
    public var bytesPerSecond: Double { seconds > 0 ? Double(predicted) / seconds : 0 }
}

public enum Evaluator {
    /// Splits `count` bytes into `batch` contiguous streams of equal length: stream b starts at b * length.
    /// The last (count mod batch) bytes are not used. Each stream predicts all its bytes but the first.
    public static func streamLength(bytes count: Int, batch: Int) throws -> Int {
        guard batch >= 1 else { throw AnalysisError.badRequest("batch \(batch) must be at least 1") }
        guard count >= 2 else {
            throw AnalysisError.badRequest("the text has \(count) byte\(count == 1 ? "" : "s"); bpc needs at least 2")
        }
        let length = count / batch
        guard length >= 2 else {
            throw AnalysisError.badRequest(
                "batch \(batch) splits \(count) bytes into streams of \(length); each needs at least 2 bytes")
        }
        return length
    }

    /// Evaluates `text` with `batch` streams. `progress` is called after every segment; returning false stops
    /// the run with `AnalysisError.cancelled`.
    public static func evaluate(
        model: TransformerXL, text: [UInt8], options: RunOptions, segment: Int, batch: Int = 1,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> EvalResult {
        let L = try streamLength(bytes: text.count, batch: batch)
        let run = try inference(model: model, batch: batch, segment: min(segment, L - 1), options: options)
        return try evaluate(run: run, tokens: text, segment: segment, progress: progress)
    }

    /// Evaluates a token sequence (bytes of a byte model, word ids of a word model) with `batch` streams:
    /// `bits` over `predicted` tokens. `progress` is called after every segment; false stops the run.
    public static func evaluate<Token: BinaryInteger>(
        network: Network, tokens text: [Token], options: RunOptions, segment: Int, batch: Int = 1,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> EvalResult {
        let L = try streamLength(bytes: text.count, batch: batch)
        // A segment longer than a stream runs as one shorter segment: size the buffers by what is run.
        let run = try inference(network: network, batch: batch, segment: min(segment, L - 1), options: options)
        return try evaluate(run: run, tokens: text, segment: segment, progress: progress)
    }

    static func evaluate<Token: BinaryInteger>(
        run: Inference, tokens text: [Token], segment: Int, progress: ((EvalProgress) -> Bool)?
    ) throws -> EvalResult {
        let network = run.network, options = run.options, batch = run.batch
        let L = try streamLength(bytes: text.count, batch: batch)
        let B = batch, perStream = L - 1, total = B * perStream
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var nats = 0.0, done = 0
        var inputs = [Int](), targets = [Int]()
        var pos = 0
        while pos < perStream {
            let t = min(segment, perStream - pos)
            inputs.removeAll(keepingCapacity: true); targets.removeAll(keepingCapacity: true)
            for b in 0..<B {
                let s = b * L + pos
                for i in s..<(s + t) { inputs.append(Int(text[i])); targets.append(Int(text[i + 1])) }
            }
            let out = run.step(tokens: inputs, targets: targets)
            var sum = 0.0
            for lp in out.logProbs { sum += Double(lp) }
            if !sum.isFinite {
                throw nonFinite(
                    network: network, text: text, options: options, segment: segment, streams: B, length: L,
                    at: pos, logProbs: out.logProbs, step: t)
            }
            nats -= sum
            pos += t; done += B * t
            if let progress, !progress(EvalProgress(done: done, total: total, seconds: elapsed(), bits: nats / M_LN2)) {
                throw AnalysisError.cancelled
            }
        }
        return EvalResult(
            bits: nats / M_LN2, predicted: total, seconds: elapsed(), memory: options.memory, segment: segment,
            batch: B, memoryFloats: options.memoryFloats(dModel: network.dModel))
    }

    /// An `Inference` whose estimated peak fits the memory this process may use (MemoryBudget).
    static func inference(model: TransformerXL, batch: Int, segment: Int, options: RunOptions) throws -> Inference {
        guard batch >= 1 && batch <= 4096 else {
            throw AnalysisError.badRequest("batch \(batch) is out of range 1...4096")
        }
        guard segment >= 1 && segment <= Config.maxLength else {
            throw AnalysisError.badRequest("segment length \(segment) is out of range 1...\(Config.maxLength)")
        }
        try options.validate(layers: model.config.nLayer)
        let bytes = MemoryBudget.inferenceBytes(
            config: model.config, batch: batch, segment: segment, memory: options.memory,
            workers: max(1, min(Inference.threads, 64)))
        try MemoryBudget.check(
            bytes, for: "batch \(batch) x segment \(segment) with memory up to \(options.memory.max() ?? 0)")
        return try Inference(model: model, batch: batch, segment: segment, options: options)
    }

    /// An `Inference` whose estimated peak fits the memory this process may use (MemoryBudget).
    public static func inference(network: Network, batch: Int, segment: Int, options: RunOptions) throws -> Inference {
        guard batch >= 1 && batch <= 4096 else {
            throw AnalysisError.badRequest("batch \(batch) is out of range 1...4096")
        }
        guard segment >= 1 && segment <= Config.maxLength else {
            throw AnalysisError.badRequest("segment length \(segment) is out of range 1...\(Config.maxLength)")
        }
        try options.validate(layers: network.nLayer)
        return try Inference(network: network, batch: batch, segment: segment, options: options)
    }

    /// What is non-finite in a step's output, first layer first: "attention in layer L" or "log-probability".
    static func firstNonFinite(_ out: StepOutput, layers: [Int]) -> String? {
        for l in layers {
            if let cap = out.attention.first(where: { $0.layer == l }),
                cap.probabilities.contains(where: { !$0.isFinite })
            {
                return "attention in layer \(l)"
            }
        }
        return out.logProbs.contains { !$0.isFinite } ? "log-probability (output layer)" : nil
    }

    /// The error for a segment whose loss is not finite: reruns the first bad stream alone up to that segment with
    /// every layer's attention captured, to name the first layer where it appears.
    static func nonFinite<Token: BinaryInteger>(
        network: Network, text: [Token], options: RunOptions, segment: Int, streams: Int, length L: Int,
        at pos: Int, logProbs: [Float], step t: Int
    ) -> AnalysisError {
        let stream = (logProbs.firstIndex { !$0.isFinite } ?? 0) / t
        let base = stream * L, index = pos / segment
        var place = "the output layer"
        if let run = try? Inference(network: network, batch: 1, segment: segment, options: options) {
            var p = 0
            while p <= pos {
                let n = min(segment, L - 1 - p)
                let out = run.step(
                    tokens: text[(base + p)..<(base + p + n)].map { Int($0) },
                    targets: text[(base + p + 1)...(base + p + n)].map { Int($0) },
                    capture: p == pos ? Set(0..<network.nLayer) : [])
                if p == pos, let bad = firstNonFinite(out, layers: Array(0..<network.nLayer)) { place = bad }
                p += n
            }
        }
        let where_ = streams == 1 ? "" : " of stream \(stream)"
        return AnalysisError.badRequest(
            "non-finite loss in segment \(index)\(where_) (\(network.isByteLevel ? "bytes" : "tokens") "
                + "\(base + pos)-\(base + pos + t - 1)), "
                + "first non-finite value: \(place); the model's weights overflow float32 on this text")
    }

    /// The segment (batch 1, segments counted from the start of `text`) whose inputs hold byte `offset`: its attention
    /// for `layers` (all when nil) and its log-probs. Memories are carried from the start of the text, or, with
    /// `warmup`, from that many segments before it (the explorer's bounded latency). For the explorer and
    /// `memscope attention`.
    public static func attention(
        model: TransformerXL, text: [UInt8], offset: Int, options: RunOptions, segment: Int,
        layers: Set<Int>? = nil, warmup: Int? = nil,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> SegmentAttention {
        let plan = try SegmentPlan(
            network: Network(model), count: text.count, offset: offset, segment: segment, layers: layers,
            warmup: warmup)
        let run = try inference(model: model, batch: 1, segment: min(segment, text.count - 1), options: options)
        return try plan.run(run, tokens: text, progress: progress)
    }

    /// `attention` for any model: `tokens` are bytes of a byte model or word ids of a word model; `offset` is a
    /// token index.
    public static func attention<Token: BinaryInteger>(
        network: Network, tokens: [Token], offset: Int, options: RunOptions, segment: Int,
        layers: Set<Int>? = nil, warmup: Int? = nil,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> SegmentAttention {
        let plan = try SegmentPlan(
            network: network, count: tokens.count, offset: offset, segment: segment, layers: layers, warmup: warmup)
        let run = try inference(
            network: network, batch: 1, segment: min(segment, tokens.count - 1), options: options)
        return try plan.run(run, tokens: tokens, progress: progress)
    }
}

/// Which segments an attention request runs: from `first` (empty memory) to `target`, whose attention is kept.
struct SegmentPlan {
    let network: Network
    let count: Int, segment: Int, first: Int, target: Int, wanted: Set<Int>
    var unit: String { network.isByteLevel ? "bytes" : "tokens" }

    init(network: Network, count: Int, offset: Int, segment: Int, layers: Set<Int>?, warmup: Int?) throws {
        let unit = network.isByteLevel ? "bytes" : "tokens"
        guard count >= 2 else {
            throw AnalysisError.badRequest("the text has \(count) \(unit); attention needs at least 2")
        }
        guard offset >= 0 && offset < count - 1 else {
            throw AnalysisError.badRequest(
                "offset \(offset) is outside the text's predicting \(unit) 0-\(count - 2)")
        }
        guard segment >= 1 else { throw AnalysisError.badRequest("segment length \(segment) is below 1") }
        if let layers, let bad = layers.first(where: { $0 < 0 || $0 >= network.nLayer }) {
            throw AnalysisError.badRequest("layer \(bad) is outside the model's layers 0-\(network.nLayer - 1)")
        }
        self.network = network; self.count = count; self.segment = segment
        let target = offset / segment
        self.target = target
        first = warmup.map { max(0, target - $0) } ?? 0
        wanted = layers ?? Set(0..<network.nLayer)
    }

    /// Segment s's input and target positions: lo..<hi predict lo+1...hi.
    func bounds(_ s: Int) -> (lo: Int, hi: Int) {
        let lo = s * segment
        return (lo, min(lo + segment, count - 1))
    }

    func check(_ out: StepOutput, segment s: Int) throws {
        if let bad = Evaluator.firstNonFinite(out, layers: wanted.sorted()) {
            let (lo, hi) = bounds(s)
            throw AnalysisError.badRequest(
                "non-finite \(bad) in segment \(s) (\(unit) \(lo)-\(hi - 1)): "
                    + "the model's weights overflow float32 on this text")
        }
    }

    func result<Token: BinaryInteger>(
        _ out: StepOutput, tokens: [Token], memoryBefore: [Int]
    ) -> SegmentAttention {
        let (lo, hi) = bounds(target)
        let ids = tokens[lo..<hi].map { Int($0) }
        return SegmentAttention(
            start: lo, inputs: network.isByteLevel ? ids.map { UInt8($0) } : [], tokens: ids, logProbs: out.logProbs,
            memoryBefore: memoryBefore, captures: out.attention)
    }

    func run<Token: BinaryInteger>(
        _ run: Inference, tokens: [Token], progress: ((EvalProgress) -> Bool)?
    ) throws -> SegmentAttention {
        let start = DispatchTime.now().uptimeNanoseconds
        let end = min((target + 1) * segment, count - 1)
        for s in first...target {
            let (lo, hi) = bounds(s)
            let memoryBefore = run.memory.lengths
            let out = run.step(
                tokens: tokens[lo..<hi].map { Int($0) }, targets: tokens[(lo + 1)...hi].map { Int($0) },
                capture: s == target ? wanted : [])
            try check(out, segment: s)
            if s == target { return result(out, tokens: tokens, memoryBefore: memoryBefore) }
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let progress, !progress(EvalProgress(done: hi, total: end, seconds: secs, bits: 0)) {
                throw AnalysisError.cancelled
            }
        }
        preconditionFailure("unreachable: the loop returns at the target segment")
    }
}

/// One segment as the model saw it: where it starts in the text, its bytes, and what each captured layer attended to.
public struct SegmentAttention: Sendable {
    /// Offset of the segment's first input byte (token); input i predicts text[start + i + 1].
    public let start: Int
    /// The segment's input bytes (a byte model; empty for a word model).
    public let inputs: [UInt8]
    /// The segment's input token ids (bytes of a byte model, word ids of a word model).
    public let tokens: [Int]
    public let logProbs: [Float]
    /// Memory present in each layer when the segment ran.
    public let memoryBefore: [Int]
    public let captures: [AttentionCapture]
}
