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
/// A value: copying it snapshots the memory (the storage is copied on the next write).
public struct KVMemory: @unchecked Sendable {
    public internal(set) var lengths: [Int]
    var storage: KVStorage

    init(layers: Int, batch: Int, capacity: [Int], width: Int) {
        lengths = Array(repeating: 0, count: layers)
        storage = KVStorage(batch: batch, capacity: capacity, width: width)
    }

    /// Storage this value alone owns, for writing.
    mutating func unique() -> KVStorage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }
}

/// Per layer: keys [B, capacity, A], then values [B, capacity, A].
final class KVStorage: @unchecked Sendable {
    let batch: Int, capacity: [Int], width: Int
    let layers: [UnsafeMutableBufferPointer<Float>]

    init(batch: Int, capacity: [Int], width: Int) {
        self.batch = batch; self.capacity = capacity; self.width = width
        layers = capacity.map { cap in
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(2 * batch * cap * width, 1))
            p.initialize(repeating: 0)
            return p
        }
    }

    func copy() -> KVStorage {
        let c = KVStorage(batch: batch, capacity: capacity, width: width)
        for (d, s) in zip(c.layers, layers) { _ = d.update(fromContentsOf: s) }
        return c
    }

    deinit { for p in layers { p.deallocate() } }
}

public struct StepOutput: Sendable {
    /// Natural-log probability of each target, batch-major [B, t].
    public let logProbs: [Float]
    public let attention: [AttentionCapture]
}

public final class Inference: @unchecked Sendable {
    /// Workers a step uses: rows of the dense layers and the (stream, head) pairs of attention are split among them,
    /// with OpenBLAS single-threaded inside each. Read when an `Inference` is made.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    public let model: TransformerXL
    public let batch: Int
    /// Longest segment a step may take.
    public let segment: Int
    public let options: RunOptions
    public var memory: KVMemory
    let workers: Int

    let rTables: [UnsafeMutableBufferPointer<Float>]   // per layer [M_i + T, A]: r_net(position embedding) by distance
    let x, xa, qkv, vec, attnOut, ff, logits, logprob: UnsafeMutableBufferPointer<Float>
    let probs, bd, qb: [UnsafeMutableBufferPointer<Float>]   // per worker scratch: [T, maxK], [T, maxK], [T, D]

    public init(model: TransformerXL, batch: Int, segment: Int, options: RunOptions) throws {
        let c = model.config
        guard batch >= 1 && batch <= 4096 else { throw ModelError.badInput("batch \(batch) is out of range 1...4096") }
        guard segment >= 1 && segment <= Config.maxLength else { throw ModelError.badInput("segment length \(segment) is out of range 1...\(Config.maxLength)") }
        try options.validate(layers: c.nLayer)
        self.model = model; self.batch = batch; self.segment = segment; self.options = options
        let B = batch, T = segment, C = c.dModel, A = c.dAttn, F = c.dInner, V = c.nToken, D = c.dHead
        let caps = options.memory.map { $0 + T }
        workers = max(1, min(Inference.threads, 64))
        // Refuse absurd sizes up front rather than die allocating: activations, per-worker scores, position tables, memory.
        let maxK = caps.max() ?? T
        let floats = Double(B * T) * Double(4 * C + 4 * A + F + V + 1) + Double(workers) * Double(T) * Double(2 * maxK + D)
            + Double(caps.reduce(0, +)) * Double(A + C) + 2 * Double(B) * Double(caps.reduce(0, +)) * Double(A)
        let budget = Double(ProcessInfo.processInfo.physicalMemory) * 0.75
        guard floats * 4 <= budget else {
            throw ModelError.badInput(String(format: "batch %d x segment %d with memory up to %d needs %.1f GB of working memory; this machine has %.1f GB",
                                             B, T, maxK - T, floats * 4 / 1e9, Double(ProcessInfo.processInfo.physicalMemory) / 1e9))
        }
        memory = KVMemory(layers: c.nLayer, batch: B, capacity: caps, width: A)
        func alloc(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1)); p.initialize(repeating: 0); return p
        }
        x = alloc(B * T * C); xa = alloc(B * T * C); qkv = alloc(B * T * 3 * A); vec = alloc(B * T * A)
        attnOut = alloc(B * T * C); ff = alloc(B * T * F); logits = alloc(B * T * V); logprob = alloc(B * T)
        probs = (0..<workers).map { _ in alloc(T * maxK) }
        bd = (0..<workers).map { _ in alloc(T * maxK) }
        qb = (0..<workers).map { _ in alloc(T * D) }
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

    /// Runs `body(w)` for w in 0..<workers, on as many threads, with OpenBLAS single-threaded inside.
    func parallel(_ body: (Int) -> Void) {
        if workers == 1 { body(0); return }
        // Workers write disjoint rows and heads of buffers the step owns; the step waits for all of them.
        withoutActuallyEscaping(body) { body in
            let task = UncheckedSendable(value: body)
            DispatchQueue.concurrentPerform(iterations: workers) { task.value($0) }
        }
    }

    /// Worker w's share of n rows.
    @inline(__always)
    func share(_ n: Int, _ w: Int) -> Range<Int> { (n * w / workers)..<(n * (w + 1) / workers) }

    /// Runs one segment of t <= segment bytes per stream. inputs and targets are batch-major [B, t].
    /// `capture` names the layers whose attention (stream 0) is returned.
    public func step(inputs: [UInt8], targets: [UInt8], capture: Set<Int> = []) -> StepOutput {
        let c = model.config, w = model.weights
        let B = batch, t = inputs.count / batch, N = B * t
        precondition(t >= 1 && t <= segment && inputs.count == N && targets.count == N, "step: bad segment shape")
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner, V = c.nToken, L = c.nLayer
        let scale = 1 / Float(D).squareRoot(), eps = c.layerNormEps, pre = c.preLnorm
        let x = x.baseAddress!, xa = xa.baseAddress!, qkv = qkv.baseAddress!, vec = vec.baseAddress!
        let attnOut = attnOut.baseAddress!, ff = ff.baseAddress!, logits = logits.baseAddress!, logprob = logprob.baseAddress!
        let kv = memory.unique()
        let mlens = memory.lengths
        let caps = kv.capacity
        let savedThreads = BLAS.threads
        if workers > 1 { BLAS.threads = 1 }
        defer { if workers > 1 { BLAS.threads = savedThreads } }

        // Attention block's input projections for rows n of layer l; keys and values also go to the layer's memory.
        func project(_ l: Int, _ rows: Range<Int>) {
            let lw = w.layers[l], n0 = rows.lowerBound, n = rows.count
            if n == 0 { return }
            // Pre-LN normalises the block's input; memory positions were normalised when they were current.
            if pre { LayerNorm.forward(xa + n0 * C, mean: nil, rstd: nil, x + n0 * C, lw.ln1w, lw.ln1b, N: n, C: C, eps: eps) }
            Linear.forward(qkv + n0 * 3 * A, (pre ? xa : x) + n0 * C, lw.qkv, nil, N: n, I: C, O: 3 * A)
            let cap = caps[l], kp = kv.layers[l].baseAddress!, vp = kp + B * cap * A
            for r in rows {
                let b = r / t, i = r % t
                let src = qkv + r * 3 * A, row = (b * cap + mlens[l] + i) * A
                (kp + row).update(from: src + A, count: A)
                (vp + row).update(from: src + 2 * A, count: A)
            }
        }

        // Embedding, scaled by sqrt(d_model) as in the reference's AdaptiveEmbedding; then layer 0's projections.
        let embScale = Float(C).squareRoot()
        inputs.withUnsafeBufferPointer { inp in
            parallel { k in
                let rows = share(N, k)
                for n in rows {
                    let e = w.emb + Int(inp[n]) * C, y = x + n * C
                    for i in 0..<C { y[i] = e[i] * embScale }
                }
                project(0, rows)
            }
        }

        var captures: [AttentionCapture] = []
        for l in 0..<L {
            let lw = w.layers[l]
            let M = options.memory[l], mlen = mlens[l], klen = mlen + t, cap = caps[l]
            let kp = kv.layers[l].baseAddress!, vp = kp + B * cap * A, r = rTables[l].baseAddress!
            let captured = capture.contains(l) ? UnsafeMutableBufferPointer<Float>.allocate(capacity: H * t * klen) : nil
            // One task per (stream, head), spread over the workers, each with its own scratch.
            parallel { k in
                var task = k
                while task < B * H {
                    let b = task / H, h = task % H
                    let p = probs[k].baseAddress!
                    RelativeAttention.forward(vec + b * t * A + h * D, ldo: A, probs: p, bd: bd[k].baseAddress!, qb: qb[k].baseAddress!,
                                              q: qkv + b * t * 3 * A + h * D, ldq: 3 * A,
                                              k: kp + b * cap * A + h * D, v: vp + b * cap * A + h * D, ldkv: A,
                                              r: r + h * D, ldr: A, rw: w.rwBias + h * D, rr: w.rrBias + h * D,
                                              t: t, mlen: mlen, D: D, window: options.sameLength ? M : 0, scale: scale)
                    if b == 0, let captured { (captured.baseAddress! + h * t * klen).update(from: p, count: t * klen) }
                    task += workers
                }
            }
            if let captured {
                captures.append(AttentionCapture(layer: l, heads: H, queries: t, keys: klen, memoryKeys: mlen, probabilities: Array(captured)))
                captured.deallocate()
            }
            // Keep the last M positions of each stream at the front of its rows.
            let keep = min(M, klen), drop = klen - keep
            memory.lengths[l] = keep
            targets.withUnsafeBufferPointer { tg in
                parallel { k in
                    if drop > 0 && keep > 0 {
                        for b in stride(from: k, to: B, by: workers) {
                            let base = b * cap * A
                            (kp + base).update(from: kp + base + drop * A, count: keep * A)
                            (vp + base).update(from: vp + base + drop * A, count: keep * A)
                        }
                    }
                    let rows = share(N, k), n0 = rows.lowerBound, n = rows.count
                    if n == 0 { return }
                    let xr = x + n0 * C, xar = xa + n0 * C, out = attnOut + n0 * C, ffr = ff + n0 * F
                    Linear.forward(out, vec + n0 * A, lw.o, nil, N: n, I: A, O: C)
                    if pre {
                        VectorMath.addBias(xr, nil, residual: out, N: n, O: C)
                        LayerNorm.forward(xar, mean: nil, rstd: nil, xr, lw.ln2w, lw.ln2b, N: n, C: C, eps: eps)
                    } else {
                        VectorMath.addBias(out, nil, residual: xr, N: n, O: C)
                        LayerNorm.forward(xr, mean: nil, rstd: nil, out, lw.ln1w, lw.ln1b, N: n, C: C, eps: eps)
                    }
                    // Position-wise feed-forward: CoreNet = Linear, ReLU, (Dropout), Linear, (Dropout).
                    Linear.forward(ffr, pre ? xar : xr, lw.ff1w, nil, N: n, I: C, O: F)
                    VectorMath.addBiasReLU(ffr, lw.ff1b, N: n, O: F)
                    Linear.forward(out, ffr, lw.ff2w, nil, N: n, I: F, O: C)
                    if pre {
                        VectorMath.addBias(xr, lw.ff2b, residual: out, N: n, O: C)
                    } else {
                        VectorMath.addBias(out, lw.ff2b, residual: xr, N: n, O: C)
                        LayerNorm.forward(xr, mean: nil, rstd: nil, out, lw.ln2w, lw.ln2b, N: n, C: C, eps: eps)
                    }
                    if l + 1 < L {
                        project(l + 1, rows)
                    } else {
                        // Tied output layer.
                        Linear.forward(logits + n0 * V, xr, w.emb, w.outBias, N: n, I: C, O: V)
                        Output.logSoftmax(logprob + n0, logits: logits + n0 * V, targets: tg.baseAddress! + n0, N: n, V: V, keepProbs: false)
                    }
                }
            }
        }
        return StepOutput(logProbs: Array(self.logprob[0..<N]), attention: captures)
    }
}

struct UncheckedSendable<T>: @unchecked Sendable { let value: T }
