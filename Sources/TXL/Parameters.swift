// The one list of parameters: names (the reference PyTorch state_dict's), shapes, and flat storage.
// It drives allocation, zeroing, counts, checkpoint I/O, the optimizer, the typed views and the gradient checks.

public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    /// Layer norm gains start at 1, everything else is drawn at random or zero.
    public var isLayerNormWeight: Bool { name.hasSuffix("layer_norm.weight") }
}

public enum ParameterTable {
    /// Model-wide parameters, each name written once.
    public enum Global: String, CaseIterable, Sendable {
        case embedding = "word_emb.emb_layers.0.weight"  // [V, C], also the output layer (tied)
        case rwBias = "r_w_bias"  // [H, D], shared by all layers
        case rrBias = "r_r_bias"  // [H, D]
        case outBias = "crit.out_layers.0.bias"  // [V]

        func shape(_ c: Config) -> [Int] {
            switch self {
            case .embedding: return [c.nToken, c.dModel]
            case .rwBias, .rrBias: return [c.nHead, c.dHead]
            case .outBias: return [c.nToken]
            }
        }
    }

    /// Parameters of each layer, under `layers.N.`.
    public enum Layer: String, CaseIterable, Sendable {
        case qkv = "dec_attn.qkv_net.weight"  // [3A, C], rows q, k, v
        case r = "dec_attn.r_net.weight"  // [A, C]
        case o = "dec_attn.o_net.weight"  // [C, A]
        case ln1w = "dec_attn.layer_norm.weight"  // [C]
        case ln1b = "dec_attn.layer_norm.bias"
        case ff1w = "pos_ff.CoreNet.0.weight"  // [F, C]
        case ff1b = "pos_ff.CoreNet.0.bias"  // [F]
        case ff2w = "pos_ff.CoreNet.3.weight"  // [C, F]
        case ff2b = "pos_ff.CoreNet.3.bias"  // [C]
        case ln2w = "pos_ff.layer_norm.weight"  // [C]
        case ln2b = "pos_ff.layer_norm.bias"

        func shape(_ c: Config) -> [Int] {
            let C = c.dModel, A = c.dAttn, F = c.dInner
            switch self {
            case .qkv: return [3 * A, C]
            case .r: return [A, C]
            case .o: return [C, A]
            case .ln1w, .ln1b, .ff2b, .ln2w, .ln2b: return [C]
            case .ff1w: return [F, C]
            case .ff1b: return [F]
            case .ff2w: return [C, F]
            }
        }
    }

    public static func name(_ p: Global) -> String { p.rawValue }
    public static func name(layer l: Int, _ p: Layer) -> String { "layers.\(l)." + p.rawValue }

    /// In the reference's state_dict order: embedding, r biases, each layer, output bias.
    public static func specs(for c: Config) -> [ParameterSpec] {
        var s = [Global.embedding, .rwBias, .rrBias].map { ParameterSpec(name: name($0), shape: $0.shape(c)) }
        for l in 0..<c.nLayer {
            s += Layer.allCases.map { ParameterSpec(name: name(layer: l, $0), shape: $0.shape(c)) }
        }
        s.append(ParameterSpec(name: name(.outBias), shape: Global.outBias.shape(c)))
        return s
    }

    public static func count(for c: Config) -> Int { specs(for: c).reduce(0) { $0 + $1.count } }
}

/// All parameters of one model (or their gradients, or an optimizer moment) in one flat buffer, llm.c style.
public final class ParameterStore: @unchecked Sendable {
    public let specs: [ParameterSpec]
    public let offsets: [String: Int]
    public let storage: UnsafeMutableBufferPointer<Float>

    public init(specs: [ParameterSpec]) {
        self.specs = specs
        var off: [String: Int] = [:], total = 0
        for s in specs { off[s.name] = total; total += s.count }
        offsets = off
        storage = .allocate(capacity: max(total, 1))
        storage.initialize(repeating: 0)
    }

    public convenience init(config: Config) { self.init(specs: ParameterTable.specs(for: config)) }

    deinit { storage.deallocate() }

    public var count: Int { specs.reduce(0) { $0 + $1.count } }

    public func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let o = offsets[name] else { preconditionFailure("no parameter named \(name)") }
        return storage.baseAddress! + o
    }

    public func buffer(_ spec: ParameterSpec) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer(spec.name), count: spec.count)
    }

    public func zero() { storage.update(repeating: 0) }

    public func copy(from other: ParameterStore) {
        precondition(other.specs == specs)
        _ = storage.update(fromContentsOf: other.storage)
    }
}

/// Typed views of one layer's parameters (see `ParameterTable.Layer` for names and shapes).
public struct LayerWeights {
    public let qkv, r, o: UnsafeMutablePointer<Float>  // [3A, C], [A, C], [C, A]
    public let ln1w, ln1b: UnsafeMutablePointer<Float>  // attention block's norm [C]
    public let ff1w, ff1b, ff2w, ff2b: UnsafeMutablePointer<Float>  // [F, C], [F], [C, F], [C]
    public let ln2w, ln2b: UnsafeMutablePointer<Float>  // feed-forward block's norm [C]
    /// At inference with the kernels: the same weights packed (`Network.packed`), which the blocks' products then use.
    public var packed: Network.PackedLayer?

    init(_ s: ParameterStore, layer l: Int) {
        self.init { s.pointer(ParameterTable.name(layer: l, $0)) }
    }

    /// Views of tensors held anywhere (a mapped file, converted copies), read only at inference.
    init(_ p: (ParameterTable.Layer) -> UnsafeMutablePointer<Float>) {
        qkv = p(.qkv); r = p(.r); o = p(.o); ln1w = p(.ln1w); ln1b = p(.ln1b)
        ff1w = p(.ff1w); ff1b = p(.ff1b); ff2w = p(.ff2w); ff2b = p(.ff2b); ln2w = p(.ln2w); ln2b = p(.ln2b)
    }
}

/// Typed views into a `ParameterStore` (weights or gradients), obtained once so kernels never look names up.
public struct Weights {
    public let emb: UnsafeMutablePointer<Float>  // [V, C], also the output layer (tied)
    public let rwBias, rrBias: UnsafeMutablePointer<Float>  // [H, D], shared by all layers
    public let outBias: UnsafeMutablePointer<Float>  // [V]
    public let layers: [LayerWeights]

    public init(_ s: ParameterStore, layers n: Int) {
        emb = s.pointer(ParameterTable.name(.embedding))
        rwBias = s.pointer(ParameterTable.name(.rwBias)); rrBias = s.pointer(ParameterTable.name(.rrBias))
        outBias = s.pointer(ParameterTable.name(.outBias))
        layers = (0..<n).map { LayerWeights(s, layer: $0) }
    }
}
