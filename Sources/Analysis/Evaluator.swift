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
        // A segment longer than a stream runs as one shorter segment: size the buffers by what is run.
        let run = try inference(model: model, batch: batch, segment: min(segment, L - 1), options: options)
        let B = batch, perStream = L - 1, total = B * perStream
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var nats = 0.0, done = 0
        var inputs = [UInt8](), targets = [UInt8]()
        var pos = 0
        while pos < perStream {
            let t = min(segment, perStream - pos)
            inputs.removeAll(keepingCapacity: true); targets.removeAll(keepingCapacity: true)
            for b in 0..<B {
                let s = b * L + pos
                inputs += text[s..<(s + t)]
                targets += text[(s + 1)..<(s + 1 + t)]
            }
            let out = run.step(inputs: inputs, targets: targets)
            var sum = 0.0
            for lp in out.logProbs { sum += Double(lp) }
            if !sum.isFinite {
                throw nonFinite(
                    model: model, text: text, options: options, segment: segment, streams: B, length: L,
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
            batch: B, memoryFloats: options.memoryFloats(dModel: model.config.dModel))
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
    static func nonFinite(
        model: TransformerXL, text: [UInt8], options: RunOptions, segment: Int, streams: Int, length L: Int,
        at pos: Int, logProbs: [Float], step t: Int
    ) -> AnalysisError {
        let stream = (logProbs.firstIndex { !$0.isFinite } ?? 0) / t
        let base = stream * L, index = pos / segment
        var place = "the output layer"
        if let run = try? Inference(model: model, batch: 1, segment: segment, options: options) {
            var p = 0
            while p <= pos {
                let n = min(segment, L - 1 - p)
                let out = run.step(
                    inputs: Array(text[(base + p)..<(base + p + n)]),
                    targets: Array(text[(base + p + 1)...(base + p + n)]),
                    capture: p == pos ? Set(0..<model.config.nLayer) : [])
                if p == pos, let bad = firstNonFinite(out, layers: Array(0..<model.config.nLayer)) { place = bad }
                p += n
            }
        }
        let where_ = streams == 1 ? "" : " of stream \(stream)"
        return AnalysisError.badRequest(
            "non-finite loss in segment \(index)\(where_) (bytes \(base + pos)..<\(base + pos + t)), "
                + "first non-finite value: \(place); the model's weights overflow float32 on this text")
    }

    /// The segment (batch 1, segments counted from the start of `text`) whose inputs hold byte `offset`: its attention
    /// for `layers` (all when nil) and its log-probs. Memories are carried from the start of the text, or, with
    /// `warmup`, from that many segments before it (the explorer's bounded latency). For the explorer and `memscope attention`.
    public static func attention(
        model: TransformerXL, text: [UInt8], offset: Int, options: RunOptions, segment: Int,
        layers: Set<Int>? = nil, warmup: Int? = nil,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> SegmentAttention {
        guard text.count >= 2 else {
            throw AnalysisError.badRequest("the text has \(text.count) bytes; attention needs at least 2")
        }
        guard offset >= 0 && offset < text.count - 1 else {
            throw AnalysisError.badRequest(
                "offset \(offset) is outside the text's predicting bytes 0..<\(text.count - 1)")
        }
        if let layers, let bad = layers.first(where: { $0 < 0 || $0 >= model.config.nLayer }) {
            throw AnalysisError.badRequest("layer \(bad) is outside the model's layers 0..<\(model.config.nLayer)")
        }
        let run = try inference(model: model, batch: 1, segment: min(segment, text.count - 1), options: options)
        let target = offset / segment, wanted = layers ?? Set(0..<model.config.nLayer)
        let start = DispatchTime.now().uptimeNanoseconds
        let end = min((target + 1) * segment, text.count - 1)
        for s in (warmup.map { max(0, target - $0) } ?? 0)...target {
            let lo = s * segment, hi = min(lo + segment, text.count - 1)
            let memoryBefore = run.memory.lengths
            let out = run.step(
                inputs: Array(text[lo..<hi]), targets: Array(text[(lo + 1)...hi]), capture: s == target ? wanted : [])
            if let bad = firstNonFinite(out, layers: wanted.sorted()) {
                throw AnalysisError.badRequest(
                    "non-finite \(bad) in segment \(s) (bytes \(lo)..<\(hi)): "
                        + "the model's weights overflow float32 on this text")
            }
            if s == target {
                return SegmentAttention(
                    start: lo, inputs: Array(text[lo..<hi]), logProbs: out.logProbs,
                    memoryBefore: memoryBefore, captures: out.attention)
            }
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
    /// Offset of the segment's first input byte; input i predicts text[start + i + 1].
    public let start: Int
    public let inputs: [UInt8]
    public let logProbs: [Float]
    /// Memory present in each layer when the segment ran.
    public let memoryBefore: [Int]
    public let captures: [AttentionCapture]
}
