// A plain, unoptimised Transformer-XL forward over word tokens for Hugging Face checkpoints (reference: transformers'
// TransfoXLModel.forward, attn_type 0, post-LN): one stream, memory carried as each layer's input hidden states.
import Foundation

public final class HFReference {
    public let model: HFCheckpoint
    /// Memory length of each layer, bottom first (Hugging Face: mem_len everywhere).
    public let memory: [Int]
    /// Per layer: the last hidden states that layer took as input, [m_l, d_model], oldest first.
    public private(set) var mems: [[Float]]

    public init(model: HFCheckpoint, memory: [Int]? = nil) throws {
        let c = model.config
        let memory = memory ?? Array(repeating: c.memLen, count: c.nLayer)
        try MemorySpec.check(memory, layers: c.nLayer, what: "memory")
        if c.sameLength, let i = memory.firstIndex(of: 0) {
            throw ModelError.badMemory(
                "same_length needs memory in every layer, but layer \(i) has 0 (a window of no keys)")
        }
        self.model = model; self.memory = memory
        mems = Array(repeating: [], count: c.nLayer)
    }

    /// Forgets all memory, as at the start of a text.
    public func reset() { mems = Array(repeating: [], count: model.config.nLayer) }

    /// Natural-log probability of each target given its inputs and the memory; then the memory moves on.
    public func step(inputs: [Int], targets: [Int]) throws -> [Float] {
        let c = model.config, V = c.vocabSize
        guard !inputs.isEmpty, inputs.count == targets.count else {
            throw ModelError.badInput(
                "a segment needs as many targets as inputs (\(inputs.count) and \(targets.count)), at least one")
        }
        if let bad = (inputs + targets).first(where: { $0 < 0 || $0 >= V }) {
            throw ModelError.badInput("token id \(bad) is outside the vocabulary 0-\(V - 1)")
        }
        let t = inputs.count, C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner
        let eps = c.layerNormEps, scale = 1 / Float(D).squareRoot()
        var x = [Float](repeating: 0, count: t * C)  // [t, C]
        model.embedding.forward(&x, tokens: inputs)
        // Scratch for the longest key range any layer sees.
        let maxK = mems.map { $0.count / C }.max()! + t
        let work = UnsafeMutableBufferPointer<Float>.allocate(
            capacity: 2 * t * A + 2 * t * C + t * F + maxK * (3 * A + C)
                + 2 * t * maxK + t * D)
        work.initialize(repeating: 0)
        defer { work.deallocate() }
        var next = work.baseAddress!
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { next += n }; return next }
        let q = take(t * A), vec = take(t * A), h = take(t * C), z = take(t * C), a = take(t * F)
        let kv = take(maxK * 2 * A), r = take(maxK * A), pos = take(maxK * C)
        let probs = take(t * maxK), bd = take(t * maxK), qb = take(t * D)
        for (l, lw) in model.layers.enumerated() {
            let m = mems[l].count / C, klen = m + t
            let cat = mems[l] + x  // [klen, C]: memory, then the segment
            mems[l] = Array(cat.suffix(memory[l] * C))
            PositionalEncoding.table(pos, distances: klen, C: C, clampLen: c.clampLen)  // [klen, C] by distance
            Linear.forward(r, pos, lw.r, nil, N: klen, I: C, O: A)  // [klen, A]
            // The same blocks as MemScope's own models: AttentionBlock, then FeedForwardBlock (post-LN).
            cat.withUnsafeBufferPointer { cb in
                AttentionBlock.query(q, cb.baseAddress! + m * C, lw, N: t, C: C, A: A)
                AttentionBlock.keyValue(kv, cb.baseAddress!, lw, N: klen, C: C, A: A)
                h.update(from: cb.baseAddress! + m * C, count: t * C)  // the block's input, x
            }
            model.rwBias[l].withUnsafeBufferPointer { rw in
                model.rrBias[l].withUnsafeBufferPointer { rr in
                    for hd in 0..<H {
                        RelativeAttention.forward(
                            vec + hd * D, ldo: A, probs: probs, bd: bd, qb: qb, q: q + hd * D, ldq: A,
                            k: kv + hd * D, v: kv + A + hd * D, ldkv: 2 * A, r: r + hd * D, ldr: A,
                            rw: rw.baseAddress! + hd * D, rr: rr.baseAddress! + hd * D,
                            t: t, mlen: m, D: D, window: c.sameLength ? memory[l] : 0, scale: scale)
                    }
                }
            }
            AttentionBlock.output(
                h, z: z, mean: nil, rstd: nil, zMask: nil, h, vec, lw, N: t, C: C, A: A,
                preLnorm: false, eps: eps, drop: nil)
            let s = FeedForwardBlock.Saved(
                xn: nil, mean: nil, rstd: nil, a: a, u: nil, uMask: nil, z: z, zMask: nil, out: h)
            FeedForwardBlock.forward(s, h, lw, N: t, C: C, F: F, preLnorm: false, eps: eps, drop: nil)
            x = Array(UnsafeBufferPointer(start: h, count: t * C))
        }
        return model.softmax.logProbs(x, targets: targets)
    }

    /// Log-probabilities of tokens[1...] given what precedes, from empty memory, segment after segment
    /// (the last one may be shorter).
    public func logProbs(stream tokens: [Int], segment: Int) throws -> [Float] {
        guard segment >= 1 else { throw ModelError.badInput("segment length \(segment) is below 1") }
        reset()
        var out: [Float] = []
        var s = 0
        while s + 1 < tokens.count {
            let e = min(s + segment, tokens.count - 1)
            out += try step(inputs: Array(tokens[s..<e]), targets: Array(tokens[(s + 1)...e]))
            s = e
        }
        return out
    }
}
