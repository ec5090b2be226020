// The training forward pass with saved activations, and its backward pass, for the whole model
// (reference: MemTransformerLM.forward in train mode; llm.c gpt2_forward / gpt2_backward).
// Each layer is AttentionBlock then FeedForwardBlock (Sources/TXL), the same code inference runs.
// Layout: rows are batch-major, [B, t, C]; layer l sees klen = mlen_l + t keys, memory rows first.
import Foundation
import TXL

public final class TrainingPass: @unchecked Sendable {
    public let model: TransformerXL
    public let grads: ParameterStore
    public let batch: Int
    public let segment: Int
    public let dropout: Float
    public let dropatt: Float
    /// Each layer's input rows, outside the gradient graph; `memory.limits` are the training memory lengths.
    public var memory: Memory
    public var rng: Random

    var attention: [AttentionBlock.Saved]
    var feedForward: [FeedForwardBlock.Saved]
    let pos, posMask: UnsafeMutablePointer<Float>  // [maxK, C] position embedding by distance (dropped in training)
    let x0, embMask, xf, finalMask, logits, logprob: UnsafeMutablePointer<Float>
    // Backward scratch.
    let dx, dh, dt, da: UnsafeMutablePointer<Float>
    let work: AttentionBlock.BackwardScratch
    let heads: AttentionBlock.HeadScratch
    var inputs: [UInt8] = [], targets: [UInt8] = []
    var t = 0
    private var blocks: [UnsafeMutableBufferPointer<Float>] = []

    public init(
        model: TransformerXL, grads: ParameterStore, batch: Int, segment: Int, memory: [Int],
        dropout: Float = 0, dropatt: Float = 0, seed: UInt64 = 1
    ) throws {
        let c = model.config
        try MemorySpec.check(memory, layers: c.nLayer, what: "memory")
        guard (0..<1).contains(dropout), (0..<1).contains(dropatt) else {
            throw ModelError.badInput("dropout \(dropout) / dropatt \(dropatt) must be in [0, 1)")
        }
        self.model = model; self.grads = grads; self.batch = batch; self.segment = segment
        self.dropout = dropout; self.dropatt = dropatt
        self.memory = Memory(limits: memory, batch: batch, width: c.dModel, segment: segment)
        self.rng = Random(seed: seed)
        let B = batch, T = segment, C = c.dModel, F = c.dInner, D = c.dHead, V = c.nToken
        let maxK = (memory.max() ?? 0) + T
        var blocks: [UnsafeMutableBufferPointer<Float>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1)); b.initialize(repeating: 0)
            blocks.append(b); return b.baseAddress!
        }
        attention = memory.map {
            AttentionBlock.Saved(alloc: alloc, B: B, T: T, M: $0, c: c, dropout: dropout > 0, dropatt: dropatt > 0)
        }
        feedForward = memory.map { _ in FeedForwardBlock.Saved(alloc: alloc, N: B * T, c: c, dropout: dropout > 0) }
        pos = alloc(maxK * C); posMask = alloc(dropout > 0 ? maxK * C : 0)
        x0 = alloc(B * T * C); embMask = alloc(dropout > 0 ? B * T * C : 0); xf = alloc(B * T * C)
        finalMask = alloc(dropout > 0 ? B * T * C : 0); logits = alloc(B * T * V); logprob = alloc(B * T)
        dx = alloc(B * T * C); dh = alloc(B * T * C); dt = alloc(B * T * C); da = alloc(B * T * F)
        work = AttentionBlock.BackwardScratch(alloc: alloc, B: B, T: T, maxK: maxK, c: c)
        heads = AttentionBlock.HeadScratch(a: alloc(T * maxK), b: alloc(T * maxK), c: alloc(T * D), d: alloc(T * D))
        self.blocks = blocks
    }

    deinit { for b in blocks { b.deallocate() } }

    /// Fills mask[n] with 0 (probability p) or 1/(1-p) and multiplies x by it.
    func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count n: Int, p: Float) {
        let keep = 1 / (1 - p)
        for i in 0..<n {
            let m: Float = rng.uniform() < p ? 0 : keep
            mask[i] = m
            x[i] *= m
        }
    }

    /// Dropout at rate p drawn from this pass's generator, or nil when p is 0.
    func dropout(_ p: Float) -> Dropout? {
        guard p > 0 else { return nil }
        let keep = 1 / (1 - p)
        return Dropout(
            apply: { [unowned self] x, mask, n in self.dropoutForward(x, mask: mask, count: n, p: p) },
            masks: { [unowned self] mask, n in for i in 0..<n { mask[i] = self.rng.uniform() < p ? 0 : keep } })
    }

    /// Runs one segment [B, t] (batch-major inputs and targets); returns the mean NLL in nats.
    /// `training` turns dropout on. Memories advance; activations are kept for `backward()`.
    @discardableResult
    public func forward(inputs: [UInt8], targets: [UInt8], training: Bool) -> Float {
        let c = model.config, w = model.weights
        let B = batch, t = inputs.count / batch, N = B * t
        precondition(t >= 1 && t <= segment && inputs.count == N && targets.count == N, "forward: bad segment shape")
        self.inputs = inputs; self.targets = targets; self.t = t
        let C = c.dModel, F = c.dInner, V = c.nToken
        let p = training ? dropout : 0, drop = dropout(p), dropatt = dropout(training ? self.dropatt : 0)

        // x0 = drop(word_emb * sqrt(d_model))
        let embScale = Float(C).squareRoot()
        for n in 0..<N {
            let e = w.emb + Int(inputs[n]) * C, y = x0 + n * C
            for i in 0..<C { y[i] = e[i] * embScale }
        }
        if p > 0 { dropoutForward(x0, mask: embMask, count: N * C, p: p) }
        let maxK = (0..<c.nLayer).map { memory.lengths[$0] + t }.max()!
        PositionalEncoding.table(pos, distances: maxK, C: C, clampLen: c.clampLen)
        if p > 0 { dropoutForward(pos, mask: posMask, count: maxK * C, p: p) }  // the reference drops pos_emb too

        var x = UnsafePointer(x0)
        for l in 0..<c.nLayer {
            let lw = w.layers[l]
            // cat = [memory; x] per stream, saved for backward; then the memory keeps its last M_l rows.
            let mlen = memory.lengths[l], klen = mlen + t
            attention[l].mlen = mlen
            memory.append(layer: l, x, t: t)
            for b in 0..<B {
                (attention[l].cat + b * klen * C).update(from: memory.row(l, stream: b, 0), count: klen * C)
            }
            memory.trim(layer: l, appended: t)
            AttentionBlock.forward(
                attention[l], x, lw, rwBias: w.rwBias, rrBias: w.rrBias, pos: pos, scratch: heads,
                B: B, t: t, window: c.sameLength ? memory.limits[l] : 0, c: c, drop: drop,
                dropatt: dropatt)
            FeedForwardBlock.forward(
                feedForward[l], attention[l].h, lw, N: N, C: C, F: F, preLnorm: c.preLnorm,
                eps: c.layerNormEps, drop: drop)
            x = UnsafePointer(feedForward[l].out)
        }
        xf.update(from: x, count: N * C)
        if p > 0 { dropoutForward(xf, mask: finalMask, count: N * C, p: p) }
        Linear.forward(logits, xf, w.emb, w.outBias, N: N, I: C, O: V)
        targets.withUnsafeBufferPointer { tg in
            Output.logSoftmax(logprob, logits: logits, targets: tg.baseAddress!, N: N, V: V, keepProbs: true)
        }
        var loss: Double = 0
        for n in 0..<N { loss -= Double(logprob[n]) }
        return Float(loss / Double(N))
    }

    /// Log-probabilities of the targets of the last forward, batch-major [B, t].
    public var lastLogProbs: [Float] { Array(UnsafeBufferPointer(start: logprob, count: batch * t)) }

    /// d(mean NLL of the last forward)/d(parameters), accumulated into `grads` (the caller zeroes them).
    public func backward() {
        let c = model.config, w = model.weights, g = Weights(grads, layers: c.nLayer)
        let B = batch, t = self.t, N = B * t
        let C = c.dModel, F = c.dInner, V = c.nToken

        // logits = xf emb^T + bias; loss = mean NLL
        targets.withUnsafeBufferPointer { tg in
            Output.crossEntropyBackward(logits, targets: tg.baseAddress!, N: N, V: V, scale: 1 / Float(N))
        }
        dx.update(repeating: 0, count: N * C)
        Linear.backward(dinp: dx, dweight: g.emb, dbias: g.outBias, logits, xf, w.emb, N: N, I: C, O: V)
        if dropout > 0 { for i in 0..<(N * C) { dx[i] *= finalMask[i] } }

        // Layers top to bottom; dx holds d(layer output) on entry and d(layer input) after.
        for l in stride(from: c.nLayer - 1, through: 0, by: -1) {
            let s = attention[l]
            FeedForwardBlock.backward(
                dx: dh, dx, feedForward[l], s.h, w.layers[l], g.layers[l], da: da, dt: dt,
                N: N, C: C, F: F, preLnorm: c.preLnorm)
            AttentionBlock.backward(
                dx: dx, dh, s, w.layers[l], g.layers[l], rwBias: w.rwBias, rrBias: w.rrBias,
                drw: g.rwBias, drr: g.rrBias, pos: pos, work: work, scratch: heads, B: B, t: t,
                window: c.sameLength ? memory.limits[l] : 0, c: c, dropout: dropout > 0,
                dropatt: dropatt > 0)
        }
        // x0 = drop(emb[input] * sqrt(C))
        if dropout > 0 { for i in 0..<(N * C) { dx[i] *= embMask[i] } }
        let embScale = Float(C).squareRoot()
        for n in 0..<N {
            let ge = g.emb + Int(inputs[n]) * C, d = dx + n * C
            for i in 0..<C { ge[i] += d[i] * embScale }
        }
    }
}
