// A Hugging Face Transformer-XL config.json (transformers' TransfoXLConfig), read field by field.
// Accepts the old key names of the original checkpoints too (n_token, tie_weight); refuses unsupported settings
// by name.
import Foundation

public struct HFConfig: Sendable, Equatable {
    public var vocabSize: Int
    /// Cluster boundaries inside the vocabulary, without the vocabulary size: [20000, 40000, 200000] for WikiText-103.
    public var cutoffs: [Int]
    public var dModel: Int
    public var dEmbed: Int
    public var nHead: Int
    public var dHead: Int
    public var dInner: Int
    public var divVal: Int
    public var nLayer: Int
    public var memLen: Int
    /// Distances above this are clamped to it when > 0.
    public var clampLen: Int
    public var sameLength: Bool
    /// Per cluster: the softmax's projection is the embedding's (index 0 is the head).
    public var tieProjs: [Bool]
    /// The softmax's output weights are the embedding tables (`tie_word_embeddings`, absent = true).
    public var tieWeight: Bool
    /// Each layer has its own r_w_bias and r_r_bias; else the model has one pair.
    public var untieR: Bool
    public var layerNormEps: Float
    /// Segment length: `tgt_len` where the file has it (the original checkpoints), else 128.
    public var tgtLen: Int

    /// [0, cutoffs..., vocabSize].
    public var clusterEnds: [Int] { [0] + cutoffs + [vocabSize] }
    /// Tail clusters of the softmax (the head is cluster 0).
    public var tailClusters: Int { cutoffs.count }
    /// Width of cluster i's embedding: d_embed / div_val^i (one table of d_embed when div_val is 1).
    public func embeddingWidth(_ i: Int) -> Int {
        var w = dEmbed
        for _ in 0..<i { w /= divVal }
        return w
    }
    public var dAttn: Int { nHead * dHead }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.checkpoint(path: path, problem: "cannot be read (no such file?)")
        }
        try self.init(json: data, path: path)
    }

    public init(json data: Data, path: String = "config.json") throws {
        func fail(_ field: String, _ s: String) -> ModelError {
            .checkpoint(path: path, problem: "field \"\(field)\" \(s)")
        }
        let d = try JSONValue.object(data, path: path)
        func int(
            _ key: String, _ alt: String? = nil, default def: Int? = nil,
            min lo: Int = 1, max hi: Int = 1 << 24
        ) throws -> Int {
            let k = d[key] != nil || alt == nil ? key : alt!
            guard let v = d[k] else {
                if let def { return def }
                throw fail(key, "is missing")
            }
            guard case .int(let n) = v else { throw fail(k, "is not an integer: \(v)") }
            guard n >= lo && n <= hi else { throw fail(k, "is \(n), outside \(lo)...\(hi)") }
            return n
        }
        func bool(_ key: String, _ alt: String? = nil, default def: Bool) throws -> Bool {
            let k = d[key] != nil || alt == nil ? key : alt!
            guard let v = d[k] else { return def }
            guard case .bool(let b) = v else { throw fail(k, "is not true or false: \(v)") }
            return b
        }
        if let t = d["model_type"] {
            guard case .string("transfo-xl") = t else {
                throw fail("model_type", "is \(t); only \"transfo-xl\" is supported")
            }
        }
        // Settings this runtime does not implement, refused by name.
        let attnType = try int("attn_type", default: 0, min: 0, max: 3)
        guard attnType == 0 else {
            throw fail("attn_type", "is \(attnType); only 0 (Transformer-XL relative attention) is supported")
        }
        guard try !bool("pre_lnorm", default: false) else {
            throw fail("pre_lnorm", "is true; only post-LN models are supported")
        }
        let sample = try int("sample_softmax", default: -1, min: Int.min, max: Int.max)
        guard sample <= 0 else {
            throw fail("sample_softmax", "is \(sample); only -1 (the full adaptive softmax) is supported")
        }
        guard try bool("adaptive", default: true) else {
            throw fail("adaptive", "is false; only the adaptive softmax is supported")
        }

        vocabSize = try int("vocab_size", "n_token")
        dModel = try int("d_model")
        dEmbed = try int("d_embed", default: dModel)
        nHead = try int("n_head")
        dHead = try int("d_head")
        dInner = try int("d_inner")
        divVal = try int("div_val", default: 1)
        nLayer = try int("n_layer", max: 4096)
        memLen = try int("mem_len", default: 0, min: 0)
        clampLen = try int("clamp_len", default: -1, min: Int.min, max: Int.max)
        sameLength = try bool("same_length", default: false)
        untieR = try bool("untie_r", default: true)
        tieWeight = try bool("tie_word_embeddings", "tie_weight", default: true)
        tgtLen = try int("tgt_len", default: 128)
        if let e = d["layer_norm_epsilon"] ?? d["layer_norm_eps"] {
            guard let x = e.number, x > 0, x < 1 else {
                throw fail("layer_norm_epsilon", "is not a number in (0, 1): \(e)")
            }
            layerNormEps = Float(x)
        } else {
            layerNormEps = 1e-5
        }

        let cutoffsValue = d["cutoffs"] ?? .array([])
        guard case .array(let list) = cutoffsValue else { throw fail("cutoffs", "is not a list: \(cutoffsValue)") }
        cutoffs = try list.map { x in
            guard case .int(let n) = x else { throw fail("cutoffs", "holds \(x), not an integer") }
            return n
        }
        var last = 0
        for x in cutoffs {
            guard x > last && x < vocabSize else {
                throw fail(
                    "cutoffs",
                    "is \(cutoffs); each must be above the one before and below vocab_size \(vocabSize)")
            }
            last = x
        }
        if let t = d["tie_projs"] {
            guard case .array(let l) = t, l.count == cutoffs.count + 1 else {
                throw fail("tie_projs", "is \(t); expected a list of \(cutoffs.count + 1) booleans (one per cluster)")
            }
            tieProjs = try l.map { x in
                guard case .bool(let b) = x else { throw fail("tie_projs", "holds \(x), not a boolean") }
                return b
            }
        } else {
            // transformers' default: share every projection but the head's.
            let share = try bool("proj_share_all_but_first", default: true)
            tieProjs = [false] + Array(repeating: share, count: cutoffs.count)
        }

        if divVal > 1 {
            for i in 0...cutoffs.count where embeddingWidth(i) < 1 {
                throw fail("div_val", "is \(divVal): cluster \(i)'s width d_embed \(dEmbed) / div_val^\(i) is 0")
            }
        }
        if sameLength && memLen == 0 {
            throw fail("same_length", "is true with mem_len 0: Hugging Face then masks every key")
        }
        guard dModel % 2 == 0 else {
            throw fail("d_model", "is \(dModel); the sinusoid position embedding needs an even width")
        }
    }
}

/// A JSON value as read from config.json and vocab.json: booleans, integers and other numbers kept apart.
enum JSONValue: Decodable, Sendable, Equatable, CustomStringConvertible {
    case null, bool(Bool), int(Int), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let x = try? c.decode(Double.self) {
            self = .double(x)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    /// The top-level object of a JSON file, or a one-line error naming the file.
    static func object(_ data: Data, path: String) throws -> [String: JSONValue] {
        guard case .object(let d)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ModelError.checkpoint(path: path, problem: "not a JSON object")
        }
        return d
    }

    var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let x): return x
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let x): return "\(x)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .object: return "an object"
        }
    }
}
