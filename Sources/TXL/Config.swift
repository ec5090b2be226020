// Model configuration: the reference's hyper-parameters (`txl_config` metadata) plus MemScope's defaults.
import Foundation

public struct Config: Codable, Equatable, Sendable {
    public var nToken = 256
    public var nLayer: Int
    public var nHead: Int
    public var dModel: Int
    public var dHead: Int
    public var dInner: Int
    /// Segment length the model was trained with.
    public var tgtLen: Int
    /// Memory length of each layer during training, bottom layer first (0 = none).
    public var memLens: [Int]
    public var sameLength = false
    /// Relative distances above this are clamped to it; -1 (or 0) = off.
    public var clampLen = -1
    public var preLnorm = false
    public var tieWeight = true
    public var activation = "relu"
    public var layerNormEps: Float = 1e-5
    /// MemScope's default evaluation memory per layer; absent in reference files (then `memLens`).
    public var evalMemLens: [Int]?

    enum CodingKeys: String, CodingKey {
        case nToken = "n_token", nLayer = "n_layer", nHead = "n_head", dModel = "d_model", dHead = "d_head"
        case dInner = "d_inner", tgtLen = "tgt_len", memLens = "mem_lens", sameLength = "same_length"
        case clampLen = "clamp_len", preLnorm = "pre_lnorm", tieWeight = "tie_weight", activation
        case layerNormEps = "layer_norm_eps", evalMemLens = "eval_mem_lens"
    }

    public init(
        nLayer: Int, nHead: Int, dModel: Int, dHead: Int, dInner: Int, tgtLen: Int, memLens: [Int],
        sameLength: Bool = false, clampLen: Int = -1, preLnorm: Bool = false, evalMemLens: [Int]? = nil
    ) {
        self.nLayer = nLayer; self.nHead = nHead; self.dModel = dModel; self.dHead = dHead; self.dInner = dInner
        self.tgtLen = tgtLen; self.memLens = memLens; self.sameLength = sameLength; self.clampLen = clampLen
        self.preLnorm = preLnorm; self.evalMemLens = evalMemLens
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nToken = try c.decodeIfPresent(Int.self, forKey: .nToken) ?? 256
        nLayer = try c.decode(Int.self, forKey: .nLayer)
        nHead = try c.decode(Int.self, forKey: .nHead)
        dModel = try c.decode(Int.self, forKey: .dModel)
        dHead = try c.decode(Int.self, forKey: .dHead)
        dInner = try c.decode(Int.self, forKey: .dInner)
        tgtLen = try c.decode(Int.self, forKey: .tgtLen)
        memLens = try c.decode([Int].self, forKey: .memLens)
        sameLength = try c.decodeIfPresent(Bool.self, forKey: .sameLength) ?? false
        clampLen = try c.decodeIfPresent(Int.self, forKey: .clampLen) ?? -1
        preLnorm = try c.decodeIfPresent(Bool.self, forKey: .preLnorm) ?? false
        tieWeight = try c.decodeIfPresent(Bool.self, forKey: .tieWeight) ?? true
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "relu"
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? 1e-5
        evalMemLens = try c.decodeIfPresent([Int].self, forKey: .evalMemLens)
    }

    /// Width of the concatenated heads.
    public var dAttn: Int { nHead * dHead }
    /// The memory used when a command is given no `--mem`.
    public var defaultMemory: [Int] { evalMemLens ?? memLens }

    public static let maxLength = 1 << 16

    public func validate() throws {
        func bad(_ what: String) -> ModelError { .badConfig(what) }
        guard nToken == 256 else { throw bad("n_token is \(nToken); MemScope models are byte-level (256)") }
        for (name, v) in [
            ("n_layer", nLayer), ("n_head", nHead), ("d_model", dModel), ("d_head", dHead),
            ("d_inner", dInner), ("tgt_len", tgtLen),
        ] where v < 1 || v > Config.maxLength {
            throw bad("\(name) is \(v); it must be between 1 and \(Config.maxLength)")
        }
        guard dModel % 2 == 0 else {
            throw bad("d_model is \(dModel); it must be even (the position encoding's sin and cos halves)")
        }
        guard clampLen >= -1 && clampLen <= Config.maxLength else {
            throw bad("clamp_len is \(clampLen); it must be between -1 (off) and \(Config.maxLength)")
        }
        guard tieWeight else { throw bad("tie_weight is false; only tied input/output embeddings are supported") }
        guard activation == "relu" else { throw bad("activation is \"\(activation)\"; only \"relu\" is supported") }
        guard layerNormEps.isFinite && layerNormEps > 0 && layerNormEps < 1 else {
            throw bad("layer_norm_eps is \(layerNormEps)")
        }
        try MemorySpec.check(memLens, layers: nLayer, what: "mem_lens")
        if let e = evalMemLens { try MemorySpec.check(e, layers: nLayer, what: "eval_mem_lens") }
    }

    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try! enc.encode(self), as: UTF8.self)
    }

    public static func fromJSON(_ text: String) throws -> Config {
        do { return try JSONDecoder().decode(Config.self, from: Data(text.utf8)) } catch {
            throw ModelError.badConfig("txl_config is not a valid config: \(Config.describe(error))")
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \"\(ctx.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted(let ctx): return ctx.debugDescription
        default: return "\(error)"
        }
    }
}
