// The one list of parameters: names (the reference PyTorch state_dict's), shapes, and flat storage.
// It drives allocation, zeroing, counts, checkpoint I/O, the optimizer and the gradient checks.

public struct ParameterSpec: Sendable, Equatable {
    public let name: String
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    /// Layer norm gains start at 1, everything else is drawn at random or zero.
    public var isLayerNormWeight: Bool { name.hasSuffix("layer_norm.weight") }
    public var isBias: Bool { name.hasSuffix(".bias") || name.hasSuffix("_bias") }
}

public enum ParameterTable {
    public static func specs(for c: Config) -> [ParameterSpec] {
        let C = c.dModel, A = c.dAttn, F = c.dInner
        var s = [ParameterSpec(name: "word_emb.emb_layers.0.weight", shape: [c.nToken, C]),
                 ParameterSpec(name: "r_w_bias", shape: [c.nHead, c.dHead]),
                 ParameterSpec(name: "r_r_bias", shape: [c.nHead, c.dHead])]
        for l in 0..<c.nLayer {
            let p = "layers.\(l)."
            s += [ParameterSpec(name: p + "dec_attn.qkv_net.weight", shape: [3 * A, C]),
                  ParameterSpec(name: p + "dec_attn.r_net.weight", shape: [A, C]),
                  ParameterSpec(name: p + "dec_attn.o_net.weight", shape: [C, A]),
                  ParameterSpec(name: p + "dec_attn.layer_norm.weight", shape: [C]),
                  ParameterSpec(name: p + "dec_attn.layer_norm.bias", shape: [C]),
                  ParameterSpec(name: p + "pos_ff.CoreNet.0.weight", shape: [F, C]),
                  ParameterSpec(name: p + "pos_ff.CoreNet.0.bias", shape: [F]),
                  ParameterSpec(name: p + "pos_ff.CoreNet.3.weight", shape: [C, F]),
                  ParameterSpec(name: p + "pos_ff.CoreNet.3.bias", shape: [C]),
                  ParameterSpec(name: p + "pos_ff.layer_norm.weight", shape: [C]),
                  ParameterSpec(name: p + "pos_ff.layer_norm.bias", shape: [C])]
        }
        s.append(ParameterSpec(name: "crit.out_layers.0.bias", shape: [c.nToken]))
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

/// Typed views into a `ParameterStore`, obtained once so kernels never look names up.
public struct LayerWeights {
    public let qkv, r, o: UnsafeMutablePointer<Float>          // [3A, C], [A, C], [C, A]
    public let ln1w, ln1b: UnsafeMutablePointer<Float>         // attention block's norm [C]
    public let ff1w, ff1b, ff2w, ff2b: UnsafeMutablePointer<Float>  // [F, C], [F], [C, F], [C]
    public let ln2w, ln2b: UnsafeMutablePointer<Float>         // feed-forward block's norm [C]
}

public struct Weights {
    public let emb: UnsafeMutablePointer<Float>       // [V, C], also the output layer (tied)
    public let rwBias, rrBias: UnsafeMutablePointer<Float>  // [H, D], shared by all layers
    public let outBias: UnsafeMutablePointer<Float>   // [V]
    public let layers: [LayerWeights]

    public init(_ s: ParameterStore, layers n: Int) {
        emb = s.pointer("word_emb.emb_layers.0.weight")
        rwBias = s.pointer("r_w_bias"); rrBias = s.pointer("r_r_bias")
        outBias = s.pointer("crit.out_layers.0.bias")
        layers = (0..<n).map { l in
            let p = "layers.\(l)."
            return LayerWeights(qkv: s.pointer(p + "dec_attn.qkv_net.weight"), r: s.pointer(p + "dec_attn.r_net.weight"),
                                o: s.pointer(p + "dec_attn.o_net.weight"),
                                ln1w: s.pointer(p + "dec_attn.layer_norm.weight"), ln1b: s.pointer(p + "dec_attn.layer_norm.bias"),
                                ff1w: s.pointer(p + "pos_ff.CoreNet.0.weight"), ff1b: s.pointer(p + "pos_ff.CoreNet.0.bias"),
                                ff2w: s.pointer(p + "pos_ff.CoreNet.3.weight"), ff2b: s.pointer(p + "pos_ff.CoreNet.3.bias"),
                                ln2w: s.pointer(p + "pos_ff.layer_norm.weight"), ln2b: s.pointer(p + "pos_ff.layer_norm.bias"))
        }
    }
}
