// A segment's analysis (attention and per-token loss) that, after a memory change in layer L, reruns only layers L
// and above. Layer l's output depends only on the layers below it and their memories, so when layers 0..<L keep
// their memory lengths, every segment's input to layer L is what the previous analysis saw: it is cached (each layer's
// input for each segment run) and fed back through `Inference.step(resumingAt:)`.
import Foundation
import TXL

public final class IncrementalAnalysis: @unchecked Sendable {
    public let network: Network
    /// Bytes of a byte model or word ids of a word model.
    public let tokens: [Int]
    public let segment: Int
    public let sameLength: Bool, clampLen: Int
    /// The first layer the last `analyse` ran: 0 = all of them, nLayer = none (the cached result was returned).
    public private(set) var lastFirstLayer = 0
    /// Layer steps the last `analyse` ran (segments times layers run; 0 when the cached result was returned).
    public private(set) var lastLayerSteps = 0

    struct Cache {
        let memory: [Int], first: Int, target: Int, wanted: Set<Int>
        /// inputs[s - first][l]: layer l's input x [t, d_model] in segment s.
        let inputs: [[[Float]]]
        let result: SegmentAttention
    }
    var cache: Cache?

    public init<Token: BinaryInteger>(
        network: Network, tokens: [Token], segment: Int, sameLength: Bool, clampLen: Int
    ) {
        self.network = network; self.tokens = tokens.map { Int($0) }; self.segment = segment
        self.sameLength = sameLength; self.clampLen = clampLen
    }

    /// Floats held by the cache (each layer's input for every segment of the last analysis).
    public var cachedFloats: Int { cache?.inputs.reduce(0) { $0 + $1.reduce(0) { $0 + $1.count } } ?? 0 }

    /// Forgets the cache: the next `analyse` runs every layer.
    public func invalidate() { cache = nil }

    /// What `Evaluator.attention(network:tokens:offset:...)` returns for this memory, computed from the first layer
    /// whose memory differs from the previous call's (same offset's segment, warm-up and layers), else in full.
    /// `progress` returning false cancels (`AnalysisError.cancelled`); the cache then keeps the previous result.
    public func analyse(
        offset: Int, memory: [Int], layers: Set<Int>? = nil, warmup: Int? = nil,
        progress: ((EvalProgress) -> Bool)? = nil
    ) throws -> SegmentAttention {
        let plan = try SegmentPlan(
            network: network, count: tokens.count, offset: offset, segment: segment, layers: layers, warmup: warmup)
        let options = RunOptions(memory: memory, sameLength: sameLength, clampLen: clampLen)
        try options.validate(layers: network.nLayer)
        var from = 0
        if let c = cache, c.first == plan.first, c.target == plan.target, c.wanted == plan.wanted {
            from = memory.indices.first { c.memory[$0] != memory[$0] } ?? network.nLayer
        }
        lastFirstLayer = from
        lastLayerSteps = 0
        let old = cache
        if from == network.nLayer, let old { return old.result }
        cache = nil
        let run = try Evaluator.inference(
            network: network, batch: 1, segment: min(segment, tokens.count - 1), options: options)
        let start = DispatchTime.now().uptimeNanoseconds
        let end = min((plan.target + 1) * segment, tokens.count - 1)
        var inputs: [[[Float]]] = []
        let all = Set(0..<network.nLayer)
        for s in plan.first...plan.target {
            let (lo, hi) = plan.bounds(s)
            let memoryBefore = run.memory.lengths
            let targets = Array(tokens[(lo + 1)...hi]), capture = s == plan.target ? plan.wanted : []
            var out: StepOutput
            var layerInputs: [[Float]]
            if from == 0 {
                // A warm-up segment's losses are not shown: its output layer (the softmax) is skipped.
                out = run.step(
                    tokens: Array(tokens[lo..<hi]), targets: targets, capture: capture, recordInputs: all,
                    logProbs: s == plan.target)
                layerInputs = out.layerInputs
            } else {
                let below = old!.inputs[s - plan.first]
                out = run.step(
                    resumingAt: from, input: below[from], targets: targets,
                    capture: capture.filter { $0 >= from }, recordInputs: all, logProbs: s == plan.target)
                layerInputs = Array(below[0..<from]) + out.layerInputs[from...]
            }
            inputs.append(layerInputs)
            if s == plan.target {
                var memoryBefore = memoryBefore
                if from > 0, let old {
                    // Layers below `from` are as before: their captures and memory lengths come from the cache.
                    let kept = old.result.captures.filter { $0.layer < from }
                    memoryBefore = Array(old.result.memoryBefore[0..<from]) + memoryBefore[from...]
                    out = StepOutput(
                        logProbs: out.logProbs, attention: (kept + out.attention).sorted { $0.layer < $1.layer })
                }
                try plan.check(out, segment: s)
                let result = plan.result(out, tokens: tokens, memoryBefore: memoryBefore)
                cache = Cache(
                    memory: memory, first: plan.first, target: plan.target, wanted: plan.wanted, inputs: inputs,
                    result: result)
                lastLayerSteps = run.layerSteps
                return result
            }
            try plan.check(out, segment: s)
            let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if let progress, !progress(EvalProgress(done: hi, total: end, seconds: secs, bits: 0)) {
                // The earlier result still holds for its own memory: a newer change resumes from it.
                cache = old
                throw AnalysisError.cancelled
            }
        }
        preconditionFailure("unreachable: the loop returns at the target segment")
    }
}
