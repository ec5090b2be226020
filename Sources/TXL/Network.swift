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

    /// Everything the kernels read, packed: every layer, and the output's weights (the tied weight, or the adaptive
    /// softmax's).
    public struct Packed: @unchecked Sendable {
        public let layers: [PackedLayer]
        public let output: UnsafePointer<Float>?
        public let softmax: AdaptiveSoftmax.Packed?
    }

    /// The weights packed: made on the first call (`parallel` runs its body for each of `workers`, a layer each) and
    /// kept, for every `Inference` of this network to share.
    public func packed(workers: Int, parallel: ((Int) -> Void) -> Void) -> Packed {
        packLock.lock()
        defer { packLock.unlock() }
        if let packedStore { return packedStore }
        let C = dModel, A = dAttn, F = dInner
        func alloc(_ n: Int, _ k: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Kernels.packedFloats(rows: n, columns: k))
            packedBuffers.append(p)
            return p
        }
        let shapes = [(A, C), (2 * A, C), (C, A), (F, C), (C, F)]
        let buffers = layers.map { _ in shapes.map { alloc($0.0, $0.1) } }
        let out: UnsafeMutablePointer<Float>?
        if case .tied = output { out = alloc(vocabularySize, C) } else { out = nil }
        var softmax: AdaptiveSoftmax.Packed?
        if case .adaptive(let s) = output {
            softmax = s.pack { n in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
                packedBuffers.append(p)
                return p
            }
        }
        let todo = UncheckedSendable(value: (buffers, out))
        parallel { w in
            let (buffers, out) = todo.value
            for (l, lw) in layers.enumerated() where l % workers == w {
                let b = buffers[l]
                Kernels.pack(b[0], lw.qkv, ldw: C, rows: A, columns: C)
                Kernels.pack(b[1], lw.qkv + A * C, ldw: C, rows: 2 * A, columns: C)
                Kernels.pack(b[2], lw.o, ldw: A, rows: C, columns: A)
                Kernels.pack(b[3], lw.ff1w, ldw: C, rows: F, columns: C)
                Kernels.pack(b[4], lw.ff2w, ldw: F, rows: C, columns: F)
            }
            if w == 0, let out, case .tied(let weight, _) = output {
                Kernels.pack(out, weight, ldw: C, rows: vocabularySize, columns: C)
            }
        }
        let p = Packed(
            layers: buffers.map {
                PackedLayer(
                    q: UnsafePointer($0[0]), kv: UnsafePointer($0[1]), o: UnsafePointer($0[2]),
                    ff1: UnsafePointer($0[3]), ff2: UnsafePointer($0[4]))
            },
            output: out.map { UnsafePointer($0) }, softmax: softmax)
        packedStore = p
        return p
    }

    private let packLock = NSLock()
    private var packedStore: Packed?
    private var packedBuffers: [UnsafeMutablePointer<Float>] = []

    deinit { for p in packedBuffers { p.deallocate() } }

    /// Floats of scratch the output needs per row: the whole vocabulary's logits for a tied softmax, none otherwise
    /// (the adaptive softmax allocates per call only what the targets' clusters need).
    var outputRowFloats: Int { if case .tied = output { return vocabularySize } else { return 0 } }
}
