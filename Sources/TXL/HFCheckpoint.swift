// A Hugging Face Transformer-XL folder (config.json, model.safetensors, vocab.json) mapped onto MemScope's layers.
// Tensor names are transformers' TransfoXLLMHeadModel state dict; save_pretrained leaves tied copies out.
import Foundation

/// One decoder layer (transformers' RelPartialLearnableDecoderLayer), post-LN.
public struct HFCheckpoint: @unchecked Sendable {
    public let directory: String
    public let config: HFConfig
    public let vocabulary: WordVocabulary
    public let embedding: AdaptiveEmbedding
    public let softmax: AdaptiveSoftmax
    /// Layer weights that could not be used in place in the mapped file (float16, bfloat16, unaligned), converted
    /// to float32, under MemScope's parameter names (a Hugging Face name is "transformer." + its name).
    public let layerParams: ParameterStore
    /// The mapped model.safetensors: float32 layer weights are read from it in place.
    public let file: SafetensorsFile
    /// Parameters stored in the file (tied copies counted once).
    public let parameterCount: Int
    /// Typed views of each layer (in the mapped file or `layerParams`), for the blocks.
    public let layers: [LayerWeights]
    /// Each layer's r_w_bias and r_r_bias [H, D]: its own with untie_r, else the model's shared pair.
    public let rwBias, rrBias: [[Float]]

    /// What keeps the layers' storage alive, for views such as `Network`.
    public var owners: [AnyObject] { [layerParams, file.owner] }

    /// Whether `directory` looks like a Hugging Face model folder (it has a config.json).
    public static func isFolder(_ directory: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) && isDir.boolValue
            && FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent("config.json"))
    }

    public init(directory: String) throws {
        func file(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ModelError.checkpoint(
                path: directory, problem: "not a directory (a Hugging Face model folder is expected)")
        }
        let config = try HFConfig(path: file("config.json"))
        let weightsPath = file("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            let hint =
                FileManager.default.fileExists(atPath: file("pytorch_model.bin"))
                ? "; scripts/convert-hf.py converts pytorch_model.bin" : ""
            throw ModelError.checkpoint(path: weightsPath, problem: "no such file\(hint)")
        }
        let vocabPath = file("vocab.json")
        guard FileManager.default.fileExists(atPath: vocabPath) else {
            throw ModelError.checkpoint(
                path: vocabPath, problem: "no such file; scripts/convert-hf.py writes it from vocab.pkl")
        }
        let vocabulary = try WordVocabulary(path: vocabPath)
        guard vocabulary.count == config.vocabSize else {
            throw ModelError.checkpoint(
                path: vocabPath,
                problem: "field \"idx2sym\" has \(vocabulary.count) words, "
                    + "but config.json's vocab_size is \(config.vocabSize)")
        }
        try self.init(
            config: config, vocabulary: vocabulary, weights: SafetensorsFile(path: weightsPath), directory: directory)
    }

    public init(
        config c: HFConfig, vocabulary: WordVocabulary, weights f: SafetensorsFile, directory: String = "."
    ) throws {
        var used = Set<String>()
        func take(_ name: String, _ shape: [Int], why: String = "") throws -> FloatView {
            guard f.tensors[name] != nil else {
                throw ModelError.checkpoint(path: f.path, problem: "missing tensor \"\(name)\"\(why)")
            }
            used.insert(name)
            return try f.view(name, shape: shape)
        }
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner
        let ends = c.clusterEnds
        let adaptive = c.divVal > 1

        // Input side: one table per cluster (one table in all when div_val is 1).
        let embClusters = adaptive ? ends.count - 1 : 1
        let embEnds = adaptive ? ends : [0, c.vocabSize]
        var tables: [FloatView] = [], embProjs: [FloatView?] = []
        for i in 0..<embClusters {
            let w = c.embeddingWidth(i), n = embEnds[i + 1] - embEnds[i]
            tables.append(try take("transformer.word_emb.emb_layers.\(i).weight", [n, w]))
            embProjs.append(adaptive || w != C ? try take("transformer.word_emb.emb_projs.\(i)", [C, w]) : nil)
        }
        embedding = AdaptiveEmbedding(dModel: C, ends: embEnds, tables: tables, projections: embProjs)

        // Output side: tied weights come from the embedding (save_pretrained leaves them out of the file).
        let tieNote = " (config.json: tie_word_embeddings false)"
        var clusters: [AdaptiveSoftmax.Cluster] = []
        for i in 0..<(ends.count - 1) {
            let w = c.embeddingWidth(adaptive ? i : 0), n = ends[i + 1] - ends[i]
            let projection: FloatView?
            if !adaptive && w == C {
                projection = nil
            } else if c.tieProjs[i] {
                projection = embProjs[adaptive ? i : 0]
                used.insert("crit.out_projs.\(i)")
            } else {
                projection = try take("crit.out_projs.\(i)", [C, w], why: " (config.json: tie_projs[\(i)] false)")
            }
            let weight: FloatView, bias: FloatView
            if adaptive {
                if c.tieWeight {
                    weight = tables[i]; used.insert("crit.out_layers.\(i).weight")
                } else {
                    weight = try take("crit.out_layers.\(i).weight", [n, w], why: tieNote)
                }
                bias = try take("crit.out_layers.\(i).bias", [n])
            } else {
                // div_val 1: one output layer over the whole vocabulary, sliced by cluster.
                if i == 0 {
                    if c.tieWeight {
                        used.insert("crit.out_layers.0.weight")
                    } else {
                        _ = try take("crit.out_layers.0.weight", [c.vocabSize, w], why: tieNote)
                    }
                    _ = try take("crit.out_layers.0.bias", [c.vocabSize])
                }
                let all = c.tieWeight ? tables[0] : try f.view("crit.out_layers.0.weight")
                weight = all.slice((ends[i] * w)..<(ends[i + 1] * w))
                bias = try f.view("crit.out_layers.0.bias").slice(ends[i]..<ends[i + 1])
            }
            clusters.append(.init(weight: weight, bias: bias, projection: projection))
        }
        let tails = ends.count - 2, w0 = c.embeddingWidth(0)
        let clusterWeight = tails > 0 ? try take("crit.cluster_weight", [tails, w0]) : FloatView([])
        let clusterBias = tails > 0 ? try take("crit.cluster_bias", [tails]) : FloatView([])
        softmax = AdaptiveSoftmax(
            dModel: C, ends: ends, clusters: clusters, clusterWeight: clusterWeight, clusterBias: clusterBias)

        // Layers. Without untie_r the model has one pair of biases (stored under the model or under any layer).
        let shapes = Config(
            nLayer: c.nLayer, nHead: H, dModel: C, dHead: D, dInner: F, tgtLen: 1,
            memLens: Array(repeating: 0, count: c.nLayer))
        let specs = (0..<c.nLayer).flatMap { l in
            ParameterTable.Layer.allCases.map {
                ParameterSpec(name: ParameterTable.name(layer: l, $0), shape: $0.shape(shapes))
            }
        }
        // Layer tensors stay in the mapped file where they are float32 and aligned; others are converted, each once.
        for spec in specs {
            let name = "transformer." + spec.name
            guard let t = f.tensors[name] else {
                throw ModelError.checkpoint(path: f.path, problem: "missing tensor \"\(name)\"")
            }
            guard t.shape == spec.shape else {
                throw ModelError.checkpoint(
                    path: f.path, problem: "tensor \"\(name)\" has shape \(t.shape), expected \(spec.shape)")
            }
            used.insert(name)
        }
        let converted = specs.filter { f.mappedFloats("transformer." + $0.name) == nil }
        let store = ParameterStore(specs: converted)
        for spec in converted {
            _ = store.buffer(spec).update(fromContentsOf: try f.floats("transformer." + spec.name))
        }
        func pointer(_ name: String) -> UnsafeMutablePointer<Float> {
            if let p = f.mappedFloats("transformer." + name) { return UnsafeMutablePointer(mutating: p) }
            return store.pointer(name)
        }
        var rw: [[Float]] = [], rr: [[Float]] = []
        for l in 0..<c.nLayer {
            func bias(_ kind: String) throws -> [Float] {
                let own = "transformer.layers.\(l).dec_attn.\(kind)"
                if c.untieR || f.tensors[own] != nil {
                    return try take(own, [H, D], why: c.untieR ? " (config.json: untie_r true)" : "").array
                }
                return try take("transformer.\(kind)", [H, D], why: " (config.json: untie_r false)").array
            }
            rw.append(try bias("r_w_bias")); rr.append(try bias("r_r_bias"))
        }
        _ = A
        if !c.untieR {
            // Shared biases may also be stored once more under the model; they are the same tensor.
            used.insert("transformer.r_w_bias"); used.insert("transformer.r_r_bias")
        }
        used.insert("transformer.pos_emb.inv_freq")  // a buffer recomputed from d_model
        let extra = f.tensors.keys.filter { !used.contains($0) }.sorted()
        if let first = extra.first {
            let more = extra.count > 1 ? " and \(extra.count - 1) more" : ""
            throw ModelError.checkpoint(
                path: f.path, problem: "unexpected tensor \"\(first)\"\(more) for this config.json")
        }
        self.directory = directory; self.config = c; self.vocabulary = vocabulary
        layerParams = store; file = f
        layers = (0..<c.nLayer).map { l in LayerWeights { pointer(ParameterTable.name(layer: l, $0)) } }
        rwBias = rw; rrBias = rr
        parameterCount =
            f.tensors.filter { used.contains($0.key) && $0.key != "transformer.pos_emb.inv_freq" }.values
            .reduce(0) { $0 + $1.count }
    }
}
