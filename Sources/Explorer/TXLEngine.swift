// The explorer's engine on the real runtime: a MemScope byte model or a Hugging Face word model, run by TXL's
// Inference through one Network. A word model's positions are tokens (TokenText); a byte model's are bytes.
// The visible segment's analysis is incremental (IncrementalAnalysis): after a memory change in layer l only layers
// l and above are rerun, from the cached inputs of the layers below.
import Analysis
import Foundation
import TXL

public final class TXLEngine: ExplorerEngine, @unchecked Sendable {
    public let network: Network
    public let config: Config
    public let modelName: String
    public let tokenText: TokenText?
    /// The byte model (nil for a word model).
    public let model: TransformerXL!
    private let lock = NSLock()
    // Guarded by lock: the incremental analysis of the last text analysed, and its layer steps.
    private var incremental: IncrementalAnalysis?
    private var incrementalText: [UInt8] = []
    private var steps = 0
    /// Layer inputs of earlier loss windows (the A/B comparison's B starts where its memory first differs from A's).
    let windowCache = WindowCache()

    /// A MemScope byte model.
    public init(model: TransformerXL, name: String) {
        network = Network(model)
        config = model.config
        modelName = name
        tokenText = nil
        self.model = model
    }

    /// A Hugging Face word model exploring `text` (its bytes, tokenized with the model's vocabulary). The name
    /// (header and status bar) says the vocabulary's size.
    public init(model: HFCheckpoint, name: String, text: [UInt8]) throws {
        guard let s = String(validating: text, as: UTF8.self) else {
            throw AnalysisError.badRequest("the text is not UTF-8; a word model reads UTF-8 text (like WikiText-103)")
        }
        let v = model.vocabulary
        tokenText = TokenText(ids: try v.encode(s), vocabulary: v.words, eos: v.eos, sourceBytes: text.count)
        network = Network(model)
        config = TXLEngine.config(model.config)
        modelName = "\(name) (\(model.config.vocabSize) words)"
        self.model = nil
    }

    private init(network: Network, config: Config, name: String, tokenText: TokenText?, model: TransformerXL?) {
        self.network = network; self.config = config; modelName = name; self.tokenText = tokenText
        self.model = model
    }

    /// The same model under another name (B of an A/B comparison whose name is A's: named by its folder too).
    public func renamed(_ name: String) -> TXLEngine {
        TXLEngine(network: network, config: config, name: name, tokenText: tokenText, model: model)
    }

    /// The explorer's view of a Hugging Face config: shape, segment, mem_len in every layer, same_length and clamp.
    public static func config(_ c: HFConfig) -> Config {
        var out = Config(
            nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, dHead: c.dHead, dInner: c.dInner, tgtLen: c.tgtLen,
            memLens: Array(repeating: c.memLen, count: c.nLayer), sameLength: c.sameLength, clampLen: c.clampLen)
        out.nToken = c.vocabSize
        out.layerNormEps = c.layerNormEps
        return out
    }

    public var maxMemory: Int { 8192 }

    /// The explorer's text as the model's token ids: the word ids, or the bytes.
    func tokens(_ text: [UInt8]) -> [Int] {
        if let t = tokenText {
            precondition(text.count == t.count, "TXLEngine: a word model's text is its TokenText placeholders")
            return t.ids
        }
        return text.map { Int($0) }
    }

    func options(_ memory: [Int]) -> RunOptions { RunOptions(config: config, memory: memory) }

    /// Segments run before the one shown: enough to fill every layer's memory once, at the default memory or the
    /// given one, whichever is longer (so that shortening a layer keeps the same segments and stays incremental).
    /// The explorer trades exactness far back for latency; `memscope attention --at` carries memory from the start.
    public func warmupSegments(memory: [Int]) -> Int {
        let T = segmentLength
        return (Swift.max(memory.max() ?? 0, config.defaultMemory.max() ?? 0) + T - 1) / T
    }

    /// Layer steps run by the engine's analyses so far (segments times layers; a partial recompute counts only the
    /// layers it reran).
    public var layerSteps: Int { lock.withLock { steps } }

    public func analyse(
        text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool
    ) throws
        -> SegmentAnalysis
    {
        try analyse(text: text, offset: offset, memory: memory, progress: { _ in }, cancelled: cancelled)
    }

    /// The segment holding text[offset]: after a memory change in layer l (same segment and warm-up) only layers l
    /// and above are run (`layersRun`); `progress` hears after each warm-up segment, `cancelled` is asked as often.
    public func analyse(
        text: [UInt8], offset: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> SegmentAnalysis {
        try lock.withLock {
            let offset = min(max(0, offset), max(0, text.count - 2))
            if incremental == nil || incrementalText != text {
                incremental = IncrementalAnalysis(
                    network: network, tokens: tokens(text), segment: segmentLength, sameLength: config.sameLength,
                    clampLen: config.clampLen)
                incrementalText = text
            }
            let inc = incremental!
            let seg: SegmentAttention
            do {
                let T = segmentLength, target = offset / T, first = max(0, target - warmupSegments(memory: memory))
                seg = try withoutActuallyEscaping(cancelled) { cancelled in
                    try withoutActuallyEscaping(progress) { progress in
                        try inc.analyse(
                            offset: offset, memory: memory, warmup: warmupSegments(memory: memory),
                            progress: { p in
                                // p.done is the tokens run up to the end of a warm-up segment.
                                progress(
                                    WindowProgress(
                                        done: (p.done - 1) / T - first + 1, total: target - first + 1,
                                        seconds: p.seconds))
                                return !cancelled()
                            })
                    }
                }
            } catch AnalysisError.cancelled {
                throw CancellationError()
            }
            steps += inc.lastLayerSteps
            if cancelled() { throw CancellationError() }
            let memoryBytes = seg.memoryBefore.map { m in Array(text[max(0, seg.start - m)..<seg.start]) }
            let lossBits = seg.logProbs.map { -$0 / Float(M_LN2) }
            return SegmentAnalysis(
                offset: seg.start, bytes: Array(text[seg.start..<(seg.start + seg.tokens.count)]),
                memoryBytes: memoryBytes, lossBits: lossBits,
                attention: seg.captures.sorted { $0.layer < $1.layer }, layersRun: network.nLayer - inc.lastFirstLayer)
        }
    }

    public func evaluate(
        text: [UInt8], start: Int, bytes: Int, memory: [Int],
        progress: @Sendable (EvalProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> EvalResult {
        let lo = min(max(0, start), text.count), hi = min(text.count, lo + max(0, bytes))
        let ids = Array(tokens(text)[lo..<hi])
        do {
            return try withoutActuallyEscaping(cancelled) { cancelled in
                try withoutActuallyEscaping(progress) { progress in
                    try Evaluator.evaluate(
                        network: network, tokens: ids, options: options(memory), segment: segmentLength
                    ) { p in
                        progress(p)
                        return !cancelled()
                    }
                }
            }
        } catch AnalysisError.cancelled {
            throw CancellationError()
        }
    }

    /// The window's losses and profiles. A window whose memory matches an earlier window's below some layer (B after
    /// A in the comparison) starts at that layer, from the inputs the earlier one recorded (`WindowCache`): the
    /// layers below are not run, and their profiles are the earlier window's. `firstLayer` says where it started.
    public func losses(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> WindowLosses {
        let lo = min(max(0, start), text.count), hi = min(text.count, lo + max(0, bytes)), n = hi - lo
        let unit = tokenText == nil ? "bytes" : "tokens"
        guard n >= 2 else { throw AnalysisError.badRequest("a loss window needs at least 2 \(unit), not \(n)") }
        let T = segmentLength, L = config.nLayer, C = network.dModel
        let ids = Array(tokens(text)[lo..<hi])
        // Batch 1 and segments as Evaluator.evaluate runs them, so that the window's mean is eval's bpc.
        let run = try Evaluator.inference(network: network, batch: 1, segment: min(T, n - 1), options: options(memory))
        let cached = windowCache.best(tokens: ids, memory: memory)
        let first = cached?.layer ?? 0
        let record = windowCache.layersToRecord(above: first, layers: L, bytesPerLayer: (n - 1) * C * 4)
        let keep = Set(record)
        var recorded = [[Float]](repeating: [], count: L)
        for l in record { recorded[l].reserveCapacity((n - 1) * C) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        var out = [Float](repeating: .nan, count: n)
        // Per layer, over the profiled segments: attention mass by distance, each segment weighted by its queries.
        var profiles = (cached?.profiles ?? []) + [DistanceProfile.Accumulator](repeating: .init(), count: L - first)
        // The profiles sample at most 64 segments, evenly; they come summed by distance from the step (no capture).
        let segments = (n - 1 + T - 1) / T, stride = max(1, segments / WindowLosses.profiledSegments)
        var index = 0, pos = 0
        while pos < n - 1 {
            if cancelled() { throw CancellationError() }
            let t = min(T, n - 1 - pos)
            let targets = Array(ids[(pos + 1)...(pos + t)])
            let profile = index % stride == 0 ? Set(first..<L) : []
            let step =
                if let cached {
                    run.step(
                        resumingAt: first, input: Array(cached.inputs[(pos * C)..<((pos + t) * C)]), targets: targets,
                        recordInputs: keep, profile: profile)
                } else {
                    run.step(
                        tokens: Array(ids[pos..<(pos + t)]), targets: targets, recordInputs: keep,
                        profile: profile)
                }
            index += 1
            for m in step.distances { profiles[m.layer].add(m) }
            for l in record { recorded[l] += step.layerInputs[l] }
            for i in 0..<t { out[pos + i] = -step.logProbs[i] / Float(M_LN2) }
            pos += t
            let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            progress(WindowProgress(done: pos, total: n - 1, seconds: secs))
        }
        windowCache.insert(
            record.map { l in
                WindowCache.Entry(
                    layer: l, memory: memory[0..<l], tokens: ids, inputs: recorded[l], profiles: Array(profiles[0..<l]))
            })
        let bins = profiles.map(\.binCount).max() ?? 1
        var result = WindowLosses(bits: out, profiles: profiles.enumerated().map { $1.profile(layer: $0, bins: bins) })
        result.firstLayer = first
        return result
    }
}
