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
            throw ModelError.badInput("token id \(bad) is outside the vocabulary 0..<\(V)")
        }
        let t = inputs.count, C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner
        let eps = c.layerNormEps, scale = 1 / Float(D).squareRoot()
        var x = [Float](repeating: 0, count: t * C)                       // [t, C]
        model.embedding.forward(&x, tokens: inputs)
        for (l, lw) in model.layers.enumerated() {
            let m = mems[l].count / C, klen = m + t
            let cat = mems[l] + x                                          // [klen, C]: memory, then the segment
            mems[l] = Array(cat.suffix(memory[l] * C))
            var qkv = [Float](repeating: 0, count: klen * 3 * A)           // [klen, 3A]
            Linear.forward(&qkv, cat, lw.qkv, nil, N: klen, I: C, O: 3 * A)
            var pos = [Float](repeating: 0, count: klen * C)               // [klen, C] by distance
            PositionalEncoding.table(&pos, distances: klen, C: C, clampLen: c.clampLen)
            var r = [Float](repeating: 0, count: klen * A)                 // [klen, A]
            Linear.forward(&r, pos, lw.r, nil, N: klen, I: C, O: A)
            var vec = [Float](repeating: 0, count: t * A)                  // [t, A]
            let probs = UnsafeMutablePointer<Float>.allocate(capacity: t * klen)   // [t, klen]
            let bd = UnsafeMutablePointer<Float>.allocate(capacity: t * klen)      // [t, klen]
            let qb = UnsafeMutablePointer<Float>.allocate(capacity: t * D)         // [t, D]
            defer { probs.deallocate(); bd.deallocate(); qb.deallocate() }
            vec.withUnsafeMutableBufferPointer { vb in
                qkv.withUnsafeBufferPointer { kvb in
                    r.withUnsafeBufferPointer { rb in
                        lw.rwBias.withUnsafeBufferPointer { rwb in
                            lw.rrBias.withUnsafeBufferPointer { rrb in
                                let kv = kvb.baseAddress!
                                for h in 0..<H {
                                    RelativeAttention.forward(vb.baseAddress! + h * D, ldo: A,
                                                              probs: probs, bd: bd, qb: qb,
                                                              q: kv + m * 3 * A + h * D, ldq: 3 * A,
                                                              k: kv + A + h * D, v: kv + 2 * A + h * D, ldkv: 3 * A,
                                                              r: rb.baseAddress! + h * D, ldr: A,
                                                              rw: rwb.baseAddress! + h * D,
                                                              rr: rrb.baseAddress! + h * D,
                                                              t: t, mlen: m, D: D, window: c.sameLength ? memory[l] : 0,
                                                              scale: scale)
                                }
                            }
                        }
                    }
                }
            }
            // Post-LN: y = LN(x + attention), x' = LN(y + FF(y)).
            var y = [Float](repeating: 0, count: t * C)
            Linear.forward(&y, vec, lw.out, nil, N: t, I: A, O: C)
            for i in 0..<(t * C) { y[i] += x[i] }
            LayerNorm.forward(&x, mean: nil, rstd: nil, y, lw.ln1w, lw.ln1b, N: t, C: C, eps: eps)
            var ff = [Float](repeating: 0, count: t * F)
            Linear.forward(&ff, x, lw.ff1, lw.ff1b, N: t, I: C, O: F)
            ReLU.forward(&ff, count: t * F)
            Linear.forward(&y, ff, lw.ff2, lw.ff2b, N: t, I: F, O: C)
            for i in 0..<(t * C) { y[i] += x[i] }
            LayerNorm.forward(&x, mean: nil, rstd: nil, y, lw.ln2w, lw.ln2b, N: t, C: C, eps: eps)
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
