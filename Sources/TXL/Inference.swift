// The forward pass at inference: segment after segment, each layer with its own memory length (Rae & Razavi 2020),
// memory kept as keys and values so that no memory position is projected twice (reference: MemTransformerLM._forward).
import Foundation
import Synchronization

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

    /// A model without a MemScope config (a Hugging Face checkpoint): every setting given.
    public init(memory: [Int], sameLength: Bool, clampLen: Int) {
        self.memory = memory; self.sameLength = sameLength; self.clampLen = clampLen
    }

    public func validate(layers: Int) throws {
        try MemorySpec.check(memory, layers: layers, what: "memory")
        if sameLength, let i = memory.firstIndex(of: 0) {
            throw ModelError.badMemory(
                "--same-length needs memory in every layer, but layer \(i) has 0 (a window of no keys)")
        }
        guard clampLen >= -1 && clampLen <= Config.maxLength else {
            throw ModelError.badMemory("clamp length \(clampLen) is out of range")
        }
    }

    /// Floats of memory state per stream: sum of M_i x d_model, the count the paper compares.
    public func memoryFloats(dModel: Int) -> Int { memory.reduce(0, +) * dModel }
}

/// Attention probabilities of one layer for the segment just run (stream 0): [head][query][key], oldest key first.
public struct AttentionCapture: Sendable {
    public let layer: Int
    public let heads: Int, queries: Int, keys: Int
    /// Keys before the segment (memory actually present).
    public let memoryKeys: Int
    public let probabilities: [Float]
    public func distance(query q: Int, key k: Int) -> Int { memoryKeys + q - k }
    public func probability(head h: Int, query q: Int, key k: Int) -> Float {
        probabilities[(h * queries + q) * keys + k]
    }
}

/// One layer's attention for the segment just run (stream 0), summed by distance over heads and queries: what a
/// distance profile needs, without keeping the probabilities.
public struct DistanceMass: Sendable {
    public let layer: Int
    public let heads: Int, queries: Int
    /// Keys before the segment (memory actually present).
    public let memoryKeys: Int
    /// mass[d] for d in 0...memoryKeys + queries - 1: the probability on keys at distance d, summed over heads and
    /// queries (the whole sums to heads x queries).
    public let mass: [Double]
    /// The part of that mass on memory keys (keys before the segment).
    public let memory: Double
}

public struct StepOutput: Sendable {
    /// Natural-log probability of each target, batch-major [B, t].
    public let logProbs: [Float]
    public let attention: [AttentionCapture]
    /// With `recordInputs`: layerInputs[l] is layer l's input x [B, t, d_model] for each layer named there that the
    /// step ran, else empty. What `step(resumingAt:)` needs to rerun the layers above a change.
    public var layerInputs: [[Float]] = []
    /// The layers named by `profile`, by distance, in layer order.
    public var distances: [DistanceMass] = []

    public init(
        logProbs: [Float], attention: [AttentionCapture], layerInputs: [[Float]] = [], distances: [DistanceMass] = []
    ) {
        self.logProbs = logProbs; self.attention = attention; self.layerInputs = layerInputs
        self.distances = distances
    }
}

public final class Inference: @unchecked Sendable {
    /// Workers a step uses: rows of the dense layers and the (stream, head) pairs of attention are split among them,
    /// with OpenBLAS single-threaded inside each. Read when an `Inference` is made.
    nonisolated(unsafe) public static var threads = ProcessInfo.processInfo.activeProcessorCount

    /// The model as the runtime sees it (byte or word).
    public let network: Network
    public let batch: Int
    /// Longest segment a step may take.
    public let segment: Int
    public let options: RunOptions
    /// Each layer's memory as projected keys and values, [k | v] rows of width 2A.
    public var memory: Memory
    let workers: Int

    // Per layer [M_l + T, A]: r_net(position embedding) by reversed distance, row c is distance M_l + T - 1 - c
    // (RelativeAttention.inferenceForward).
    let rTables: [UnsafeMutableBufferPointer<Float>]
    let x, xn, q, vec, z, a, logits, logprob: UnsafeMutableBufferPointer<Float>
    let scores, qb: [UnsafeMutableBufferPointer<Float>]  // per worker scratch: [T, maxK + 1], [T, D]
    /// Whether this run's attention, output and (unless its layers are large) dense products use the AVX2 kernels,
    /// else OpenBLAS.
    public let usesKernels: Bool
    // With the kernels: each layer's dense weights packed (shared by the network; nil for layers of more than
    // `packLimit` bytes, whose products stay with OpenBLAS), the output's, and per layer [H][packed Rrev^T of one
    // head]; per worker scratch [T, D] for (q + v) and the attention kernel's.
    let packed: [Network.PackedLayer]?
    let packedSoftmax: AdaptiveSoftmax.Packed?
    let packedOutput: UnsafePointer<Float>?
    let rPacked: [UnsafeMutableBufferPointer<Float>]
    let qr, attentionScratch: [UnsafeMutableBufferPointer<Float>]
    let distanceMass: [UnsafeMutableBufferPointer<Double>]  // per worker [maxK + 1]: mass by distance, then memory

    /// Layers whose dense weights take more bytes than this are not packed for the kernels: packing the 18-layer word
    /// model's (1.1 GB) costs a second copy and a second or two at the first step, for a few percent of speed.
    public static let packLimit = 8 << 20

    /// A MemScope byte model. `kernels`: whether to run the AVX2 kernels (default `Kernels.enabled`) or OpenBLAS alone;
    /// `packLimit`: see `Inference.packLimit`.
    public convenience init(
        model: TransformerXL, batch: Int, segment: Int, options: RunOptions, kernels: Bool = Kernels.enabled,
        packLimit: Int = Inference.packLimit
    ) throws {
        let workers = max(1, min(Inference.threads, 64))
        try self.init(
            network: Network(model), batch: batch, segment: segment, options: options, kernels: kernels,
            packLimit: packLimit,
            estimate: {
                MemoryBudget.inferenceBytes(
                    config: model.config, batch: batch, segment: segment, memory: options.memory, workers: workers)
            })
    }

    /// Any model the runtime can run (a Hugging Face word model: `Network(HFCheckpoint)`).
    public convenience init(
        network: Network, batch: Int, segment: Int, options: RunOptions, kernels: Bool = Kernels.enabled,
        packLimit: Int = Inference.packLimit
    ) throws {
        let workers = max(1, min(Inference.threads, 64))
        try self.init(
            network: network, batch: batch, segment: segment, options: options, kernels: kernels,
            packLimit: packLimit,
            estimate: {
                MemoryBudget.inferenceBytes(
                    network: network, batch: batch, segment: segment, memory: options.memory, workers: workers)
            })
    }

    init(
        network n: Network, batch: Int, segment: Int, options: RunOptions, kernels: Bool, packLimit: Int,
        estimate: () -> Double
    ) throws {
        guard batch >= 1 && batch <= 4096 else { throw ModelError.badInput("batch \(batch) is out of range 1...4096") }
        guard segment >= 1 && segment <= Config.maxLength else {
            throw ModelError.badInput("segment length \(segment) is out of range 1...\(Config.maxLength)")
        }
        try options.validate(layers: n.nLayer)
        self.network = n; self.batch = batch; self.segment = segment; self.options = options
        let B = batch, T = segment, C = n.dModel, A = n.dAttn, F = n.dInner, V = n.outputRowFloats, D = n.dHead
        let caps = options.memory.map { $0 + T }
        workers = max(1, min(Inference.threads, 64))
        // Refuse absurd sizes up front rather than die allocating (MemoryBudget has the same terms as below).
        let maxK = caps.max() ?? T
        try MemoryBudget.check(estimate(), for: "batch \(B) x segment \(T) with memory up to \(maxK - T)")
        memory = Memory(limits: options.memory, batch: B, width: 2 * A, segment: T)
        func alloc(_ n: Int) -> UnsafeMutableBufferPointer<Float> {
            let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1)); p.initialize(repeating: 0);
            return p
        }
        x = alloc(B * T * C); xn = alloc(B * T * C); q = alloc(B * T * A); vec = alloc(B * T * A)
        z = alloc(B * T * C); a = alloc(B * T * F); logits = alloc(B * T * V); logprob = alloc(B * T)
        scores = (0..<workers).map { _ in alloc(T * (maxK + 1)) }
        qb = (0..<workers).map { _ in alloc(T * D) }
        distanceMass = (0..<workers).map { _ in
            let p = UnsafeMutableBufferPointer<Double>.allocate(capacity: maxK + 1); p.initialize(repeating: 0)
            return p
        }
        // Position projections depend on distance and weights only: computed once, reused by every segment.
        let rTables = caps.enumerated().map { l, cap in
            let pos = alloc(cap * C), r = alloc(cap * A)
            PositionalEncoding.table(pos.baseAddress!, distances: cap, C: C, clampLen: options.clampLen)
            Linear.forward(r.baseAddress!, pos.baseAddress!, n.layers[l].r, nil, N: cap, I: C, O: A)
            pos.deallocate()
            // Reversed rows: distance cap - 1 - c in row c.
            for c in 0..<(cap / 2) {
                let u = r.baseAddress! + c * A, w = r.baseAddress! + (cap - 1 - c) * A
                for i in 0..<A { let s = u[i]; u[i] = w[i]; w[i] = s }
            }
            return r
        }
        self.rTables = rTables
        let kernels = kernels && Kernels.available, workers = workers
        usesKernels = kernels
        if kernels {
            packed =
                n.layerBytes > packLimit
                ? nil : n.packedLayers(workers: workers) { Inference.concurrent(workers: workers, $0) }
            let p = n.packedOutput()
            packedOutput = p.tied; packedSoftmax = p.softmax
            rPacked = rTables.map { r in
                let cap = r.count / A, head = Kernels.packedFloats(rows: cap, columns: D)
                let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: n.nHead * head)
                for h in 0..<n.nHead {
                    Kernels.pack(b.baseAddress! + h * head, r.baseAddress! + h * D, ldw: A, rows: cap, columns: D)
                }
                return b
            }
        } else {
            packed = nil; packedOutput = nil; packedSoftmax = nil; rPacked = []
        }
        qr = (0..<(kernels ? workers : 0)).map { _ in alloc(T * D) }
        attentionScratch = (0..<(kernels ? workers : 0)).map { _ in
            alloc(Kernels.attentionScratch(t: T, keys: maxK, D: D))
        }
    }

    deinit {
        for b in [x, xn, q, vec, z, a, logits, logprob] + scores + qb + rTables + rPacked + qr + attentionScratch {
            b.deallocate()
        }
        for b in distanceMass { b.deallocate() }
    }

    /// Forgets all memory, as at the start of a text.
    public func reset() { memory.reset() }

    /// Layers run so far, counted once per layer per step (a partial recompute from layer l counts nLayer - l).
    public private(set) var layerSteps = 0

    /// Runs `body(w)` for w in 0..<workers, on as many threads, with OpenBLAS single-threaded inside.
    func parallel(_ body: (Int) -> Void) { Inference.concurrent(workers: workers, body) }

    /// Runs body(w) for w in 0..<workers on the runtime's worker threads (the caller is worker 0).
    public static func concurrent(workers: Int, _ body: (Int) -> Void) {
        if workers == 1 { body(0); return }
        // Workers write disjoint rows and heads of buffers the step owns; the step waits for all of them.
        WorkerPool.shared(workers: workers).run(body)
    }

    /// Whether a dense product of N rows and O output columns splits the columns among the workers, each reading
    /// only its share of the weight, rather than the rows, each reading all of it. With OpenBLAS, when there are
    /// fewer rows than columns (batch 1), where packing the weights again per worker costs as much as a sixth of the
    /// step. With weights packed for the kernels, only for the feed-forward block (`feedForwardSplitsColumns`): the
    /// other products run each worker's rows through a whole block, with fewer waits between phases.
    @inline(__always)
    func splitsColumns(rows N: Int, columns O: Int) -> Bool { packed == nil && workers > 1 && N < O }

    /// Whether the feed-forward block's two products split their columns. With packed weights, up to
    /// `Inference.columnRows` rows: a row split streams both weights (2 MB a layer for the byte model) to each chunk
    /// of rows, a column split once in all, the rows staying in L2.
    @inline(__always)
    func feedForwardSplitsColumns(rows N: Int) -> Bool {
        packed == nil ? splitsColumns(rows: N, columns: network.dInner) : workers > 1 && N <= Inference.columnRows
    }

    /// See `feedForwardSplitsColumns`.
    public static let columnRows = 256

    /// Worker w's share of O columns, in blocks of 16 (the sgemm kernel's width).
    @inline(__always)
    func columnShare(_ O: Int, _ w: Int) -> Range<Int> {
        let blocks = (O + 15) / 16
        return min(O, blocks * w / workers * 16)..<min(O, blocks * (w + 1) / workers * 16)
    }

    /// body(cols) over 0..<O split among the workers: with packed weights in chunks of `grain` columns (a multiple of
    /// 16), each claimed by whichever worker is free; with OpenBLAS one share per worker.
    func parallelColumns(_ O: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        if packed == nil {
            parallel { k in
                let cols = columnShare(O, k)
                if !cols.isEmpty { body(cols) }
            }
        } else {
            parallelChunks(O, grain: grain) { _, cols in body(cols) }
        }
    }

    /// out[N, cols] = inp[N, I] W[cols, I]^T: the columns `cols` of a linear layer without bias, out's rows ldo apart,
    /// from W packed when given (the kernels, bias and ReLU fused into their stores), else with OpenBLAS. With
    /// `reluBias`, out = max(out + bias, 0) (the feed-forward's first product).
    static func columns(
        _ out: UnsafeMutablePointer<Float>, ldo: Int, _ inp: UnsafePointer<Float>, I: Int,
        _ weight: UnsafePointer<Float>, packed: UnsafePointer<Float>? = nil, reluBias: UnsafePointer<Float>? = nil,
        N: Int, _ cols: Range<Int>
    ) {
        if cols.isEmpty { return }
        if let packed {
            Kernels.gemm(out, ldo: ldo, inp, lda: I, packed: packed, columns: cols, m: N, k: I, reluBias: reluBias)
            return
        }
        BLAS.gemm(
            out + cols.lowerBound, ldc: ldo, inp, lda: I, weight + cols.lowerBound * I, ldb: I, transB: true,
            m: N, n: cols.count, k: I)
        guard let reluBias else { return }
        for n in 0..<N {
            VectorMath.addBiasReLU(out + n * ldo + cols.lowerBound, reluBias + cols.lowerBound, N: 1, O: cols.count)
        }
    }

    /// out = LN(x) over N rows, row-parallel (no statistics kept).
    func layerNorm(
        _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
        _ b: UnsafePointer<Float>, rows N: Int
    ) {
        let C = network.dModel, eps = network.layerNormEps
        parallel { k in
            let rows = share(N, k), n0 = rows.lowerBound
            if rows.isEmpty { return }
            LayerNorm.forward(out + n0 * C, mean: nil, rstd: nil, x + n0 * C, w, b, N: rows.count, C: C, eps: eps)
        }
    }

    /// body(rows) over 0..<N split among the workers. With weights packed for the kernels, in chunks of 18 rows
    /// (three of the kernel's 6-row blocks), each claimed by whichever worker is free, so that a core slowed by a
    /// neighbour takes fewer; otherwise one share per worker (OpenBLAS would pack the weights again for each chunk).
    func parallelRows(_ N: Int, _ body: (Range<Int>) -> Void) {
        if packed == nil {
            parallel { k in
                let rows = share(N, k)
                if !rows.isEmpty { body(rows) }
            }
        } else {
            parallelChunks(N, grain: 18) { _, rows in body(rows) }
        }
    }

    /// body(worker, chunk) for the chunks of `grain` items of 0..<n, each claimed by whichever worker is free.
    func parallelChunks(_ n: Int, grain: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = (n + grain - 1) / grain
        if workers == 1 || chunks <= 1 {
            if n > 0 { body(0, 0..<n) }
            return
        }
        let next = ChunkCounter()
        parallel { k in
            while true {
                let c = next.claim()
                if c >= chunks { return }
                body(k, (c * grain)..<min(n, (c + 1) * grain))
            }
        }
    }

    /// Worker w's share of n rows.
    @inline(__always)
    func share(_ n: Int, _ w: Int) -> Range<Int> { (n * w / workers)..<(n * (w + 1) / workers) }

    /// The forward pass for one segment of t <= segment bytes per stream (a byte model).
    public func step(inputs: [UInt8], targets: [UInt8], capture: Set<Int> = [], profile: Set<Int> = []) -> StepOutput {
        step(tokens: inputs.map { Int($0) }, targets: targets.map { Int($0) }, capture: capture, profile: profile)
    }

    /// The forward pass for one segment of t <= segment tokens per stream: the embedding, then each layer's attention
    /// and feed-forward blocks, then the output layer. tokens and targets are batch-major [B, t], ids in
    /// 0..<vocabularySize. `capture` names the layers whose attention (stream 0) is returned.
    /// `recordInputs` names the layers whose input is kept in the output (`layerInputs`).
    /// `logProbs: false` skips the output layer (a warm-up segment whose losses are not needed): the output's
    /// logProbs are then empty. `profile` names the layers whose attention (stream 0) is returned summed by distance
    /// (`distances`), at a fraction of a capture's cost.
    public func step(
        tokens: [Int], targets: [Int], capture: Set<Int> = [], recordInputs: Set<Int> = [], logProbs: Bool = true,
        profile: Set<Int> = []
    ) -> StepOutput {
        let N = tokens.count, t = N / batch
        precondition(t >= 1 && t <= segment && N == batch * t && targets.count == N, "step: bad segment shape")
        let V = network.vocabularySize
        precondition(
            !tokens.contains { $0 < 0 || $0 >= V } && !targets.contains { $0 < 0 || $0 >= V },
            "step: token id outside 0..<\(V)")
        embed(tokens)
        return run(
            from: 0, t: t, targets: targets, capture: capture, recordInputs: recordInputs, logProbs: logProbs,
            profile: profile)
    }

    /// Partial recompute: the same segment's forward from layer `first` up, given that layer's input x [B, t, C]
    /// (recorded by an earlier step with `recordInputs`). Layers below `first` are not run and their memory is not
    /// touched; layers `first` and above attend over and update their own memory as in `step`. Identical to a
    /// full step whenever the layers below `first` saw the same tokens and memory lengths.
    public func step(
        resumingAt first: Int, input: [Float], targets: [Int], capture: Set<Int> = [], recordInputs: Set<Int> = [],
        logProbs: Bool = true, profile: Set<Int> = []
    ) -> StepOutput {
        let N = targets.count, t = N / batch, V = network.vocabularySize
        precondition(first >= 0 && first <= network.nLayer, "step: layer \(first) outside 0...\(network.nLayer)")
        precondition(t >= 1 && t <= segment && N == batch * t, "step: bad segment shape")
        precondition(input.count == N * network.dModel, "step: input is not [B, t, d_model]")
        precondition(!targets.contains { $0 < 0 || $0 >= V }, "step: token id outside 0..<\(V)")
        _ = x.update(fromContentsOf: input)
        return run(
            from: first, t: t, targets: targets, capture: capture, recordInputs: recordInputs, logProbs: logProbs,
            profile: profile)
    }

    /// Layers `first` and above, then the output, with x holding layer `first`'s input [B, t, C].
    func run(
        from first: Int, t: Int, targets: [Int], capture: Set<Int>, recordInputs: Set<Int>, logProbs: Bool = true,
        profile: Set<Int> = []
    ) -> StepOutput {
        let N = batch * t
        let savedThreads = BLAS.threads
        if workers > 1 { BLAS.threads = 1 }
        defer { if workers > 1 { BLAS.threads = savedThreads } }
        var captures: [AttentionCapture] = []
        var distances: [DistanceMass] = []
        var inputs: [[Float]] = recordInputs.isEmpty ? [] : Array(repeating: [], count: network.nLayer)
        layerSteps += network.nLayer - first
        for l in first..<network.nLayer {
            if recordInputs.contains(l) { inputs[l] = Array(x[0..<(N * network.dModel)]) }
            let (a, d) = attentionBlock(l, t: t, capture: capture.contains(l), profile: profile.contains(l))
            if let a { captures.append(a) }
            if let d { distances.append(d) }
            feedForwardBlock(l, rows: N)
        }
        if logProbs { output(targets) }
        return StepOutput(
            logProbs: logProbs ? Array(logprob[0..<N]) : [], attention: captures, layerInputs: inputs,
            distances: distances)
    }

    /// x = word_emb(inputs) * sqrt(d_model), as the reference's AdaptiveEmbedding.
    func embed(_ inputs: [Int]) {
        let C = network.dModel, x = x.baseAddress!
        let savedThreads = BLAS.threads
        if workers > 1 { BLAS.threads = 1 }
        defer { if workers > 1 { BLAS.threads = savedThreads } }
        switch network.input {
        case .table(let emb):
            let scale = Float(C).squareRoot()
            inputs.withUnsafeBufferPointer { inp in
                parallel { k in
                    for n in share(inp.count, k) {
                        let e = emb + inp[n] * C, y = x + n * C
                        for i in 0..<C { y[i] = e[i] * scale }
                    }
                }
            }
        case .adaptive(let embedding):
            parallel { k in
                let rows = share(inputs.count, k)
                if rows.isEmpty { return }
                embedding.forward(x + rows.lowerBound * C, tokens: Array(inputs[rows]))
            }
        }
    }
    /// Layer l's attention block, x = block(x). The segment's keys and values join the layer's memory, which is
    /// then trimmed to its length. Returns stream 0's attention when `capture` is set, and summed by distance when
    /// `profile` is.
    func attentionBlock(_ l: Int, t: Int, capture: Bool, profile: Bool = false) -> (AttentionCapture?, DistanceMass?) {
        let c = network, rwBias = c.rwBias[l], rrBias = c.rrBias[l]
        var lw = c.layers[l]
        lw.packed = packed?[l]
        let B = batch, N = B * t, C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn
        let x = x.baseAddress!, xn = xn.baseAddress!, q = q.baseAddress!, vec = vec.baseAddress!, z = z.baseAddress!
        memory.makeUnique()
        let mlen = memory.lengths[l], klen = mlen + t
        let r = rTables[l].baseAddress! + (rTables[l].count / A - klen) * A  // reversed distances klen - 1 ... 0
        let pre = c.preLnorm, window = options.sameLength ? memory.limits[l] : 0, scale = 1 / Float(D).squareRoot()
        // Stream b's memory rows, then its segment's: [k | v] rows of width 2A, `stride` floats between streams.
        let kvBase = memory.row(l, stream: 0, 0), stride = memory.stride(l) * 2 * A
        // q for the segment; [k | v] straight into the memory, after its mlen rows. Pre-LN normalises first (memory
        // rows were normalised when they were current). With packed weights whose heads fill whole panels (post-LN),
        // each (stream, head) task below projects its own head instead: one wait fewer.
        let perHead = packed != nil && D % 16 == 0 && !pre
        if perHead {
            // Nothing here: each (stream, head) task below projects its own head.
        } else if splitsColumns(rows: N, columns: 3 * A) {
            if pre { layerNorm(xn, x, lw.ln1w, lw.ln1b, rows: N) }
            let src = pre ? xn : x
            parallel { k in
                Inference.columns(q, ldo: A, src, I: C, lw.qkv, N: N, columnShare(A, k))
                let kv = columnShare(2 * A, k)
                for b in 0..<B {
                    Inference.columns(
                        kvBase + b * stride + mlen * 2 * A, ldo: 2 * A, src + b * t * C, I: C, lw.qkv + A * C,
                        N: t, kv)
                }
            }
        } else { parallelRows(N) { rows in
            let n0 = rows.lowerBound
            if pre {
                LayerNorm.forward(
                    xn + n0 * C, mean: nil, rstd: nil, x + n0 * C, lw.ln1w, lw.ln1b, N: rows.count, C: C,
                    eps: c.layerNormEps)
            }
            let src = pre ? xn : x
            AttentionBlock.query(q + n0 * A, src + n0 * C, lw, N: rows.count, C: C, A: A)
            var n = n0
            while n < rows.upperBound {  // a stream's rows are contiguous in memory
                let b = n / t, i = n % t, count = min(rows.upperBound, (b + 1) * t) - n
                AttentionBlock.keyValue(kvBase + b * stride + (mlen + i) * 2 * A, src + n * C, lw, N: count, C: C, A: A)
                n += count
            }
        } }
        let captured = capture ? UnsafeMutableBufferPointer<Float>.allocate(capacity: H * t * klen) : nil
        if profile { for w in 0..<workers { distanceMass[w].update(repeating: 0) } }
        // One task per (stream, head), each claimed by whichever worker is free, with that worker's scratch.
        parallelChunks(B * H, grain: 1) { k, tasks in
            for task in tasks {
                let b = task / H, h = task % H, kv = kvBase + b * stride + h * D
                if perHead, let pw = packed?[l] {
                    // This head's q, k and v columns: q into q, [k | v] into the memory after its mlen rows.
                    let src = x + b * t * C, kvRows = kvBase + b * stride + mlen * 2 * A, cols = (h * D)..<((h + 1) * D)
                    Kernels.gemm(q + b * t * A, ldo: A, src, lda: C, packed: pw.q, columns: cols, m: t, k: C)
                    Kernels.gemm(kvRows, ldo: 2 * A, src, lda: C, packed: pw.kv, columns: cols, m: t, k: C)
                    let vCols = (A + cols.lowerBound)..<(A + cols.upperBound)
                    Kernels.gemm(kvRows, ldo: 2 * A, src, lda: C, packed: pw.kv, columns: vCols, m: t, k: C)
                }
                let p: UnsafeMutablePointer<Float>
                if usesKernels, let rp = rPacked[l].baseAddress {
                    let qw = qb[k].baseAddress!, qr = qr[k].baseAddress!, qh = q + b * t * A + h * D
                    let cap = rTables[l].count / A
                    RelativeAttention.addBias(qw, qh, ldq: A, rwBias + h * D, t: t, D: D, scale: scale)
                    RelativeAttention.addBias(qr, qh, ldq: A, rrBias + h * D, t: t, D: D, scale: scale)
                    p = scores[k].baseAddress!
                    Kernels.relativeAttention(
                        vec + b * t * A + h * D, ldo: A, probs: b == 0 && (captured != nil || profile) ? p : nil,
                        scratch: attentionScratch[k].baseAddress!, qw: qw, qr: qr, k: kv, v: kv + A, ldkv: 2 * A,
                        rPacked: rp + h * Kernels.packedFloats(rows: cap, columns: D), distances: cap, t: t,
                        mlen: mlen, D: D, window: window)
                } else { p = RelativeAttention.inferenceForward(
                    vec + b * t * A + h * D, ldo: A, scores: scores[k].baseAddress!,
                    qb: qb[k].baseAddress!, q: q + b * t * A + h * D, ldq: A,
                    k: kv, v: kv + A, ldkv: 2 * A, rReversed: r + h * D, ldr: A,
                    rw: rwBias + h * D, rr: rrBias + h * D,
                    t: t, mlen: mlen, D: D, window: window, scale: scale) }
                if b == 0, let captured { (captured.baseAddress! + h * t * klen).update(from: p, count: t * klen) }
                if b == 0 && profile {
                    let m = distanceMass[k].baseAddress!
                    m[klen] += RelativeAttention.accumulateDistances(m, probs: p, t: t, mlen: mlen)
                }
            }
        }
        var distances: DistanceMass?
        if profile {
            var mass = [Double](repeating: 0, count: klen)
            var onMemory = 0.0
            for w in 0..<workers {
                for d in 0..<klen { mass[d] += distanceMass[w][d] }
                onMemory += distanceMass[w][klen]
            }
            distances = DistanceMass(layer: l, heads: H, queries: t, memoryKeys: mlen, mass: mass, memory: onMemory)
        }
        memory.trim(layer: l, appended: t)
        if splitsColumns(rows: N, columns: C) {
            // z = vec Wo^T by columns, then the residual and LN1 by rows, as AttentionBlock.output does.
            parallel { k in Inference.columns(z, ldo: C, vec, I: A, lw.o, N: N, columnShare(C, k)) }
            parallel { k in
                let rows = share(N, k), n0 = rows.lowerBound
                if rows.isEmpty { return }
                if pre {
                    VectorMath.addBias(x + n0 * C, nil, residual: z + n0 * C, N: rows.count, O: C)
                } else {
                    VectorMath.addBias(z + n0 * C, nil, residual: x + n0 * C, N: rows.count, O: C)
                    LayerNorm.forward(
                        x + n0 * C, mean: nil, rstd: nil, z + n0 * C, lw.ln1w, lw.ln1b, N: rows.count, C: C,
                        eps: c.layerNormEps)
                }
            }
        } else { parallelRows(N) { rows in
            let n0 = rows.lowerBound
            AttentionBlock.output(
                x + n0 * C, z: z + n0 * C, mean: nil, rstd: nil, zMask: nil, x + n0 * C,
                vec + n0 * A, lw, N: rows.count, C: C, A: A, preLnorm: pre, eps: c.layerNormEps,
                drop: nil)
        } }
        guard let captured else { return (nil, distances) }
        defer { captured.deallocate() }
        return (
            AttentionCapture(
                layer: l, heads: H, queries: t, keys: klen, memoryKeys: mlen, probabilities: Array(captured)),
            distances
        )
    }

    /// Layer l's feed-forward block, x = block(x), row-parallel.
    func feedForwardBlock(_ l: Int, rows N: Int) {
        let c = network, C = c.dModel, F = c.dInner
        var lw = c.layers[l]
        lw.packed = packed?[l]
        let x = x.baseAddress!, xn = xn.baseAddress!, z = z.baseAddress!, a = a.baseAddress!
        if feedForwardSplitsColumns(rows: N) {
            // FeedForwardBlock.forward's steps, the two products split by columns, the rest by rows.
            let pre = c.preLnorm
            if pre { layerNorm(xn, x, lw.ln2w, lw.ln2b, rows: N) }
            let src = pre ? xn : x
            parallelColumns(F, grain: 64) { cols in
                Inference.columns(
                    a, ldo: F, src, I: C, lw.ff1w, packed: lw.packed?.ff1, reluBias: lw.ff1b, N: N, cols)
            }
            parallelColumns(C, grain: 32) { cols in
                Inference.columns(z, ldo: C, a, I: F, lw.ff2w, packed: lw.packed?.ff2, N: N, cols)
            }
            parallelRows(N) { rows in
                let n0 = rows.lowerBound
                if pre {
                    VectorMath.addBias(x + n0 * C, lw.ff2b, residual: z + n0 * C, N: rows.count, O: C)
                } else {
                    VectorMath.addBias(z + n0 * C, lw.ff2b, residual: x + n0 * C, N: rows.count, O: C)
                    LayerNorm.forward(
                        x + n0 * C, mean: nil, rstd: nil, z + n0 * C, lw.ln2w, lw.ln2b, N: rows.count, C: C,
                        eps: c.layerNormEps)
                }
            }
            return
        }
        parallelRows(N) { rows in
            let n0 = rows.lowerBound
            let s = FeedForwardBlock.Saved(
                xn: xn + n0 * C, mean: nil, rstd: nil, a: a + n0 * F, u: nil, uMask: nil,
                z: z + n0 * C, zMask: nil, out: x + n0 * C)
            FeedForwardBlock.forward(
                s, x + n0 * C, lw, N: rows.count, C: C, F: F, preLnorm: c.preLnorm,
                eps: c.layerNormEps, drop: nil)
        }
    }

    /// The output layer and log-softmax: logprob[n] = log p(targets[n]).
    func output(_ targets: [Int]) {
        let C = network.dModel, x = x.baseAddress!, logits = logits.baseAddress!, logprob = logprob.baseAddress!
        switch network.output {
        case .tied(let weight, let bias):
            let V = network.vocabularySize
            targets.withUnsafeBufferPointer { tg in
                parallel { k in
                    let rows = share(tg.count, k), n0 = rows.lowerBound
                    if rows.isEmpty { return }
                    Linear.forward(
                        logits + n0 * V, x + n0 * C, weight, bias, N: rows.count, I: C, O: V, packed: packedOutput)
                    Output.logSoftmax(
                        logprob + n0, logits: logits + n0 * V, targets: tg.baseAddress! + n0, N: rows.count,
                        V: V, keepProbs: false)
                }
            }
        case .adaptive(let softmax):
            // The head for every row, each row's target cluster only (rows split among the workers).
            parallel { k in
                let rows = share(targets.count, k), n0 = rows.lowerBound
                if rows.isEmpty { return }
                let lp = softmax.logProbs(x + n0 * C, targets: Array(targets[rows]), packed: packedSoftmax)
                for (i, v) in lp.enumerated() { logprob[n0 + i] = v }
            }
        }
    }
}

struct UncheckedSendable<T>: @unchecked Sendable { let value: T }

/// The next chunk of a `parallelChunks`, shared by its workers.
final class ChunkCounter: Sendable {
    private let next = Atomic<Int>(0)
    func claim() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
