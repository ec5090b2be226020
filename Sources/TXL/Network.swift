// What the optimised inference runs, for byte and word models alike: the shapes, each layer's weights and relative
// biases, and how tokens go in (one table, or adaptive input) and come out (tied softmax, or adaptive softmax).
// A byte model is the case of a vocabulary of 256 with no clusters.
import Foundation

public final class Network: @unchecked Sendable {
    /// How token ids become the first layer's input.
    public enum Input: @unchecked Sendable {
        /// x = E[t] sqrt(d_model), E [V, d_model] (MemScope's byte models).
        case table(UnsafePointer<Float>)
        /// Adaptive input (Hugging Face's AdaptiveEmbedding), scaled by sqrt(d_model) inside.
        case adaptive(AdaptiveEmbedding)
    }

    /// How the last layer's output becomes log-probabilities.
    public enum Output: @unchecked Sendable {
        /// log softmax(x E^T + b) over the whole vocabulary, E [V, d_model], b [V].
        case tied(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>)
        /// Projected adaptive log-softmax: the head for every position, only the target's tail cluster.
        case adaptive(AdaptiveSoftmax)
    }

    public let nLayer: Int, nHead: Int, dModel: Int, dHead: Int, dInner: Int
    public let preLnorm: Bool
    public let layerNormEps: Float
    /// Token ids are 0..<vocabularySize.
    public let vocabularySize: Int
    public let layers: [LayerWeights]
    /// Each layer's r_w_bias and r_r_bias [H, D] (the same pair in every layer when the model shares them).
    public let rwBias: [UnsafePointer<Float>], rrBias: [UnsafePointer<Float>]
    public let input: Input
    public let output: Output
    /// Keeps the storage behind the pointers alive.
    let owners: [AnyObject]

    public var dAttn: Int { nHead * dHead }
    /// Whether tokens are bytes (a byte model: bits per byte) or words (bits per token).
    public var isByteLevel: Bool { if case .table = input { return vocabularySize == 256 } else { return false } }

    init(
        nLayer: Int, nHead: Int, dModel: Int, dHead: Int, dInner: Int, preLnorm: Bool, layerNormEps: Float,
        vocabularySize: Int, layers: [LayerWeights], rwBias: [UnsafePointer<Float>], rrBias: [UnsafePointer<Float>],
        input: Input, output: Output, owners: [AnyObject]
    ) {
        precondition(layers.count == nLayer && rwBias.count == nLayer && rrBias.count == nLayer, "Network: layers")
        self.nLayer = nLayer; self.nHead = nHead; self.dModel = dModel; self.dHead = dHead; self.dInner = dInner
        self.preLnorm = preLnorm; self.layerNormEps = layerNormEps; self.vocabularySize = vocabularySize
        self.layers = layers; self.rwBias = rwBias; self.rrBias = rrBias; self.input = input; self.output = output
        self.owners = owners
    }

    /// A MemScope byte model: one embedding table, tied output, one pair of relative biases for all layers.
    public convenience init(_ model: TransformerXL) {
        let c = model.config, w = model.weights
        self.init(
            nLayer: c.nLayer, nHead: c.nHead, dModel: c.dModel, dHead: c.dHead, dInner: c.dInner,
            preLnorm: c.preLnorm, layerNormEps: c.layerNormEps, vocabularySize: c.nToken, layers: w.layers,
            rwBias: Array(repeating: UnsafePointer(w.rwBias), count: c.nLayer),
            rrBias: Array(repeating: UnsafePointer(w.rrBias), count: c.nLayer),
            input: .table(w.emb), output: .tied(weight: w.emb, bias: w.outBias), owners: [model])
    }

    /// A Hugging Face word model: adaptive input and softmax, per-layer (untie_r) or shared relative biases, post-LN.
    public convenience init(_ model: HFCheckpoint) {
        let c = model.config, H = c.nHead, D = c.dHead
        let biases = ParameterStore(
            specs: (0..<c.nLayer).flatMap { l in
                [ParameterSpec(name: "rw.\(l)", shape: [H, D]), ParameterSpec(name: "rr.\(l)", shape: [H, D])]
            })
        for l in 0..<c.nLayer {
            _ = UnsafeMutableBufferPointer(start: biases.pointer("rw.\(l)"), count: H * D)
                .update(fromContentsOf: model.rwBias[l])
            _ = UnsafeMutableBufferPointer(start: biases.pointer("rr.\(l)"), count: H * D)
                .update(fromContentsOf: model.rrBias[l])
        }
        self.init(
            nLayer: c.nLayer, nHead: H, dModel: c.dModel, dHead: D, dInner: c.dInner, preLnorm: false,
            layerNormEps: c.layerNormEps, vocabularySize: c.vocabSize, layers: model.layers,
            rwBias: (0..<c.nLayer).map { UnsafePointer(biases.pointer("rw.\($0)")) },
            rrBias: (0..<c.nLayer).map { UnsafePointer(biases.pointer("rr.\($0)")) },
            input: .adaptive(model.embedding), output: .adaptive(model.softmax),
            owners: [biases] + model.owners)
    }

    /// One layer's dense weights packed for the kernels (`Kernels.pack`): q [A, C], [k | v] [2A, C], o [C, A],
    /// ff1 [F, C], ff2 [C, F].
    public struct PackedLayer: @unchecked Sendable {
        public let q, kv, o, ff1, ff2: UnsafePointer<Float>
    }

    /// The output's weights packed: the tied weight, or the adaptive softmax's.
    public struct PackedOutput: @unchecked Sendable {
        public let tied: UnsafePointer<Float>?
        public let softmax: AdaptiveSoftmax.Packed?
    }

    /// Bytes of one layer's dense weights (float32).
    public var layerBytes: Int { 4 * (4 * dAttn * dModel + 2 * dModel * dInner) }

    /// Every layer's dense weights packed, made on the first call (`parallel` runs its body for each of `workers`, a
    /// layer each) and kept, for every `Inference` of this network to share.
    public func packedLayers(workers: Int, parallel: ((Int) -> Void) -> Void) -> [PackedLayer] {
        packLock.lock()
        defer { packLock.unlock() }
        if let packedLayerStore { return packedLayerStore }
        let C = dModel, A = dAttn, F = dInner
        let shapes = [(A, C), (2 * A, C), (C, A), (F, C), (C, F)]
        let buffers = layers.map { _ in shapes.map { alloc(Kernels.packedFloats(rows: $0.0, columns: $0.1)) } }
        let todo = UncheckedSendable(value: buffers)
        parallel { w in
            for (l, lw) in layers.enumerated() where l % workers == w {
                let b = todo.value[l]
                Kernels.pack(b[0], lw.qkv, ldw: C, rows: A, columns: C)
                Kernels.pack(b[1], lw.qkv + A * C, ldw: C, rows: 2 * A, columns: C)
                Kernels.pack(b[2], lw.o, ldw: A, rows: C, columns: A)
                Kernels.pack(b[3], lw.ff1w, ldw: C, rows: F, columns: C)
                Kernels.pack(b[4], lw.ff2w, ldw: F, rows: C, columns: F)
            }
        }
        let p = buffers.map {
            PackedLayer(
                q: UnsafePointer($0[0]), kv: UnsafePointer($0[1]), o: UnsafePointer($0[2]), ff1: UnsafePointer($0[3]),
                ff2: UnsafePointer($0[4]))
        }
        packedLayerStore = p
        return p
    }

    /// The output's weights packed, made on the first call and kept.
    public func packedOutput() -> PackedOutput {
        packLock.lock()
        defer { packLock.unlock() }
        if let packedOutputStore { return packedOutputStore }
        var p = PackedOutput(tied: nil, softmax: nil)
        switch output {
        case .tied(let weight, _):
            let b = alloc(Kernels.packedFloats(rows: vocabularySize, columns: dModel))
            Kernels.pack(b, weight, ldw: dModel, rows: vocabularySize, columns: dModel)
            p = PackedOutput(tied: UnsafePointer(b), softmax: nil)
        case .adaptive(let s):
            p = PackedOutput(tied: nil, softmax: s.pack { alloc($0) })
        }
        packedOutputStore = p
        return p
    }

    /// A buffer freed with the network.
    private func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
        packedBuffers.append(p)
        return p
    }

    private let packLock = NSLock()
    private var packedLayerStore: [PackedLayer]?
    private var packedOutputStore: PackedOutput?
    private var packedBuffers: [UnsafeMutablePointer<Float>] = []

    deinit { for p in packedBuffers { p.deallocate() } }

    /// Floats of scratch the output needs per row: the whole vocabulary's logits for a tied softmax, none otherwise
    /// (the adaptive softmax allocates per call only what the targets' clusters need).
    var outputRowFloats: Int { if case .tied = output { return vocabularySize } else { return 0 } }
}
