// The forward pass at inference: segment after segment, each layer with its own memory length (Rae & Razavi 2020),
// memory kept as keys and values so that no memory position is projected twice (reference: MemTransformerLM._forward).
import Foundation

/// How to run a model: memory length per layer and the masking mode. Defaults come from the checkpoint.
public struct RunOptions: Sendable, Equatable {
    public var memory: [Int]
    public var sameLength: Bool
    public var clampLen: Int

    public init(config: Config, memory: [Int]? = nil, sameLength: Bool? = nil, clampLen: Int? = nil) {
        self.memory = memory ?? config.defaultMemory
        self.sameLength = sameLength ?? config.sameLength
        self.clampLen = clampLen ?? config.clampLen
    }

    public func validate(layers: Int) throws {
        try MemorySpec.check(memory, layers: layers, what: "memory")
        if sameLength, let i = memory.firstIndex(of: 0) {
            throw ModelError.badMemory("--same-length needs memory in every layer, but layer \(i) has 0 (a window of no keys)")
        }
        guard clampLen >= -1 && clampLen <= Config.maxLength else { throw ModelError.badMemory("clamp length \(clampLen) is out of range") }
    }

    /// Floats of memory state per stream: sum of M_i x d_model, the count the paper compares.
    public func memoryFloats(dModel: Int) -> Int { memory.reduce(0, +) * dModel }
}

/// Attention probabilities of one layer for the segment just run (stream 0): [head][query][key], keys oldest memory first.
public struct AttentionCapture: Sendable {
    public let layer: Int
    public let heads: Int, queries: Int, keys: Int
    /// Keys before the segment (memory actually present).
    public let memoryKeys: Int
    public let probabilities: [Float]
    public func distance(query q: Int, key k: Int) -> Int { memoryKeys + q - k }
    public func probability(head h: Int, query q: Int, key k: Int) -> Float { probabilities[(h * queries + q) * keys + k] }
}

/// Per layer, the keys and values of the last `lengths[l]` positions of each stream, then room for one segment.
/// A value: copying it snapshots the memory (copy on write).
public struct KVMemory: Sendable {
    public internal(set) var lengths: [Int]
    var kv: [[Float]]    // per layer: keys [B, capacity, A], then values [B, capacity, A]
    let capacity: [Int]

    init(layers: Int, batch: Int, capacity: [Int], width: Int) {
        lengths = Array(repeating: 0, count: layers)
        self.capacity = capacity
        kv = capacity.map { [Float](repeating: 0, count: 2 * batch * $0 * width) }
    }
}

public struct StepOutput: Sendable {
    /// Natural-log probability of each target, batch-major [B, t].
    public let logProbs: [Float]
    public let attention: [AttentionCapture]
}

public final class Inference: @unchecked Sendable {
    /// Threads a step may use (its own workers; OpenBLAS runs single-threaded inside them). Set once at start-up.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount
    public let model: TransformerXL
    public let batch: Int
    /// Longest segment a step may take.
    public let segment: Int
    public let options: RunOptions
    public var memory: KVMemory

    let rTables: [UnsafeMutableBufferPointer<Float>]   // per layer [M_i + T, A]: r_net(position embedding) by distance
    let x, xa, qkv, vec, attnOut, ff, logits, logprob: UnsafeMutableBufferPointer<Float>
    let probs, bd, qb: [UnsafeMutableBufferPointer<Float>]   // per head scratch

    public init(model: TransformerXL, batch: Int, segment: Int, options: RunOptions) throws {
        let c = model.config
        guard batch >= 1 && batch <= 4096 else { throw ModelError.badInput("batch \(batch) is out of range 1...4096") }
        guard segment >= 1 && segment <= Config.maxLength else { throw ModelError.badInput("segment length \(segment) is out of range 1...\(Config.maxLength)") }
        try options.validate(layers: c.nLayer)
        self.model = model; self.batch = batch; self.segment = segment; self.options = options
        let B = batch, T = segment, C = c.dModel, A = c.dAttn, F = c.dInner, V = c.nToken, H = c.nHead, D = c.dHead
        let caps = options.memory.map { $0 + T }
        memory = KVMemory(layers: c.nLayer, batch: B, capacity: caps, width: A)
        func alloc(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1)); p.initialize(repeating: 0); return p
        }
        x = alloc(B * T * C); xa = alloc(B * T * C); qkv = alloc(B * T * 3 * A); vec = alloc(B * T * A)
        attnOut = alloc(B * T * C); ff = alloc(B * T * F); logits = alloc(B * T * V); logprob = alloc(B * T)
        let maxK = caps.max() ?? T
        probs = (0..<H).map { _ in alloc(T * maxK) }
        bd = (0..<H).map { _ in alloc(T * maxK) }
        qb = (0..<H).map { _ in alloc(T * D) }
        // Position projections depend on distance and weights only: computed once, reused by every segment.
        rTables = caps.enumerated().map { l, cap in
            let pos = alloc(cap * C), r = alloc(cap * A)
            PositionalEncoding.table(pos.baseAddress!, distances: cap, C: C, clampLen: options.clampLen)
            Linear.forward(r.baseAddress!, pos.baseAddress!, model.weights.layers[l].r, nil, N: cap, I: C, O: A)
            pos.deallocate()
            return r
        }
    }

    deinit {
        for b in [x, xa, qkv, vec, attnOut, ff, logits, logprob] + probs + bd + qb + rTables { b.deallocate() }
    }

    /// Forgets all memory, as at the start of a text.
    public func reset() {
        memory.lengths = Array(repeating: 0, count: memory.lengths.count)
    }

    /// Runs one segment of t <= segment bytes per stream. inputs and targets are batch-major [B, t].
    /// `capture` names the layers whose attention (stream 0) is returned.
    public func step(inputs: [UInt8], targets: [UInt8], capture: Set<Int> = []) -> StepOutput {
        let c = model.config, w = model.weights
        let B = batch, t = inputs.count / batch, N = B * t
        precondition(t >= 1 && t <= segment && inputs.count == N && targets.count == N, "step: bad segment shape")
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner, V = c.nToken
        let scale = 1 / Float(D).squareRoot(), eps = c.layerNormEps
        let x = x.baseAddress!, xa = xa.baseAddress!, qkv = qkv.baseAddress!, vec = vec.baseAddress!
        let attnOut = attnOut.baseAddress!, ff = ff.baseAddress!
        var captures: [AttentionCapture] = []

        // Embedding, scaled by sqrt(d_model) as in the reference's AdaptiveEmbedding.
        let embScale = Float(C).squareRoot()
        for n in 0..<N {
            let e = w.emb + Int(inputs[n]) * C, y = x + n * C
            for i in 0..<C { y[i] = e[i] * embScale }
        }

        for l in 0..<c.nLayer {
            let lw = w.layers[l]
            let M = options.memory[l], mlen = memory.lengths[l], klen = mlen + t, cap = memory.capacity[l]
            // Attention block: pre-LN normalises the block's input (memory included, which is why K/V are cached after it).
            if c.preLnorm { LayerNorm.forward(xa, mean: nil, rstd: nil, x, lw.ln1w, lw.ln1b, N: N, C: C, eps: eps) }
            Linear.forward(qkv, c.preLnorm ? xa : x, lw.qkv, nil, N: N, I: C, O: 3 * A)
            let keep = min(M, klen), drop = klen - keep
            memory.kv[l].withUnsafeMutableBufferPointer { kvbuf in
                    let kp = kvbuf.baseAddress!, vp = kp + B * cap * A
                    for b in 0..<B {
                        for i in 0..<t {
                            let src = qkv + (b * t + i) * 3 * A, row = (b * cap + mlen + i) * A
                            (kp + row).update(from: src + A, count: A)
                            (vp + row).update(from: src + 2 * A, count: A)
                        }
                    }
                    for b in 0..<B {
                        for h in 0..<H {
                            RelativeAttention.forward(vec + b * t * A + h * D, ldo: A, probs: probs[h].baseAddress!,
                                                      bd: bd[h].baseAddress!, qb: qb[h].baseAddress!,
                                                      q: qkv + b * t * 3 * A + h * D, ldq: 3 * A,
                                                      k: kp + b * cap * A + h * D, v: vp + b * cap * A + h * D, ldkv: A,
                                                      r: rTables[l].baseAddress! + h * D, ldr: A,
                                                      rw: w.rwBias + h * D, rr: w.rrBias + h * D,
                                                      t: t, mlen: mlen, D: D, window: options.sameLength ? M : 0, scale: scale)
                        }
                        if b == 0 && capture.contains(l) {
                            var p = [Float](repeating: 0, count: H * t * klen)
                            for h in 0..<H { for i in 0..<(t * klen) { p[h * t * klen + i] = probs[h][i] } }
                            captures.append(AttentionCapture(layer: l, heads: H, queries: t, keys: klen, memoryKeys: mlen, probabilities: p))
                        }
                    }
                    // Keep the last M positions of each stream at the front of its rows.
                    if drop > 0 && keep > 0 {
                        for b in 0..<B {
                            let base = b * cap * A
                            (kp + base).update(from: kp + base + drop * A, count: keep * A)
                            (vp + base).update(from: vp + base + drop * A, count: keep * A)
                        }
                    }
            }
            memory.lengths[l] = keep
            Linear.forward(attnOut, vec, lw.o, nil, N: N, I: A, O: C)
            if c.preLnorm {
                for i in 0..<(N * C) { x[i] += attnOut[i] }
            } else {
                for i in 0..<(N * C) { attnOut[i] += x[i] }
                LayerNorm.forward(x, mean: nil, rstd: nil, attnOut, lw.ln1w, lw.ln1b, N: N, C: C, eps: eps)
            }
            // Position-wise feed-forward: CoreNet = Linear, ReLU, (Dropout), Linear, (Dropout).
            if c.preLnorm { LayerNorm.forward(xa, mean: nil, rstd: nil, x, lw.ln2w, lw.ln2b, N: N, C: C, eps: eps) }
            Linear.forward(ff, c.preLnorm ? xa : x, lw.ff1w, lw.ff1b, N: N, I: C, O: F)
            ReLU.forward(ff, count: N * F)
            Linear.forward(attnOut, ff, lw.ff2w, lw.ff2b, N: N, I: F, O: C)
            if c.preLnorm {
                for i in 0..<(N * C) { x[i] += attnOut[i] }
            } else {
                for i in 0..<(N * C) { attnOut[i] += x[i] }
                LayerNorm.forward(x, mean: nil, rstd: nil, attnOut, lw.ln2w, lw.ln2b, N: N, C: C, eps: eps)
            }
        }

        // Tied output layer.
        Linear.forward(logits.baseAddress!, x, w.emb, w.outBias, N: N, I: C, O: V)
        targets.withUnsafeBufferPointer { tg in
            Output.logSoftmax(logprob.baseAddress!, logits: logits.baseAddress!, targets: tg.baseAddress!, N: N, V: V, keepProbs: false)
        }
        return StepOutput(logProbs: Array(logprob[0..<N]), attention: captures)
    }
}
