// Model checkpoints: safetensors with the reference's state_dict names and the config as `txl_config` JSON.
// A file written by the reference PyTorch code (plus that metadata) loads as it is: this is the one place names meet.
import Foundation

public final class TransformerXL: @unchecked Sendable {
    public let config: Config
    public let params: ParameterStore
    public let weights: Weights
    /// Metadata of the file it came from (model card fields, training state), if any.
    public var metadata: [String: String]

    public init(config: Config, params: ParameterStore? = nil, metadata: [String: String] = [:]) {
        self.config = config
        self.params = params ?? ParameterStore(config: config)
        self.weights = Weights(self.params, layers: config.nLayer)
        self.metadata = metadata
    }

    /// Tensors a file may carry beside the model: fixtures' inputs and gradients, optimizer state, reference buffers.
    static let ignoredPrefixes = ["fixture.", "grad.", "optim.", "pos_emb.inv_freq"]

    /// The reference's output layer: in a tied model it is the embedding itself, so a `state_dict` saved with
    /// cloned tensors holds a copy of it, accepted when it equals the embedding.
    static let tiedOutputName = "crit.out_layers.0.weight"
    static let embeddingName = "word_emb.emb_layers.0.weight"

    static func isTiedCopy(_ file: SafetensorsFile) -> Bool {
        guard let out = file.tensors[tiedOutputName], let emb = file.tensors[embeddingName], out.shape == emb.shape,
            let a = try? file.floats(tiedOutputName), let b = try? file.floats(embeddingName)
        else { return false }
        return a.elementsEqual(b) { $0.bitPattern == $1.bitPattern || $0 == $1 }
    }

    public convenience init(path: String) throws {
        try self.init(file: SafetensorsFile(path: path))
    }

    public convenience init(file: SafetensorsFile) throws {
        guard let json = file.metadata["txl_config"] else {
            throw ModelError.checkpoint(
                path: file.path,
                problem:
                    "no txl_config metadata: not a MemScope or converted Transformer-XL checkpoint (see "
                        + "README, \"Bring your own model\")"
            )
        }
        let config: Config
        do { config = try Config.fromJSON(json); try config.validate() } catch let e as ModelError {
            throw ModelError.checkpoint(path: file.path, problem: e.description)
        }
        let specs = ParameterTable.specs(for: config)
        let known = Set(specs.map(\.name))
        let extra = file.tensors.keys.filter { k in
            !known.contains(k) && !TransformerXL.ignoredPrefixes.contains { k.hasPrefix($0) }
        }
        .filter { !($0 == TransformerXL.tiedOutputName && TransformerXL.isTiedCopy(file)) }.sorted()
        if !extra.isEmpty {
            let hint =
                extra.contains(TransformerXL.tiedOutputName)
                ? " (an untied output layer that differs from the embedding: only tie_weight=true models are supported)"
                : ""
            let names = extra.prefix(5).map { ModelError.quote($0, limit: 60) }.joined(separator: ", ")
            throw ModelError.checkpoint(
                path: file.path,
                problem: "unexpected tensors \(names)\(extra.count > 5 ? " and \(extra.count - 5) more" : "")\(hint)")
        }
        let missing = specs.map(\.name).filter { file.tensors[$0] == nil }
        if !missing.isEmpty {
            let more = missing.count > 5 ? " and \(missing.count - 5) more" : ""
            throw ModelError.checkpoint(
                path: file.path, problem: "missing tensors \(missing.prefix(5).joined(separator: ", "))\(more)")
        }
        // Shapes before allocation: a hostile config cannot make us allocate more than the file holds.
        for s in specs where file.tensors[s.name]!.shape != s.shape {
            throw ModelError.checkpoint(
                path: file.path,
                problem: "tensor \"\(s.name)\" has shape \(file.tensors[s.name]!.shape), expected \(s.shape)")
        }
        let store = ParameterStore(specs: specs)
        for s in specs {
            let values = try file.floats(s.name, shape: s.shape)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.checkpoint(
                    path: file.path, problem: "tensor \"\(s.name)\" holds a non-finite value at index \(bad)")
            }
            _ = store.buffer(s).update(fromContentsOf: values)
        }
        self.init(config: config, params: store, metadata: file.metadata)
    }

    /// Writes the model (float32) with its config; `extra` adds tensors such as optimizer state.
    public func save(
        to path: String, metadata extraMeta: [String: String] = [:],
        extra: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = []
    ) throws {
        var meta = metadata.filter { $0.key != "layout" }
        for (k, v) in extraMeta { meta[k] = v }
        meta["txl_config"] = config.json()
        var w = SafetensorsWriter(metadata: meta)
        for s in params.specs { w.add(s.name, shape: s.shape, floats: UnsafeBufferPointer(params.buffer(s))) }
        for e in extra { w.add(e.name, shape: e.shape, floats: e.values) }
        try w.write(to: path)
    }

    public var parameterCount: Int { params.count }

    /// The reference's initialisation (init_std 0.02): N(0, 0.02) weights and r biases, layer-norm gains 1, biases 0.
    public func initialise(seed: UInt64) {
        var rng = Random(seed: seed ^ 0x5EED)
        for spec in params.specs {
            let b = params.buffer(spec)
            if spec.isLayerNormWeight {
                b.update(repeating: 1)
            } else if spec.name.hasSuffix(".bias") {
                b.update(repeating: 0)
            } else {
                for i in b.indices { b[i] = 0.02 * rng.normal() }
            }
        }
    }
}
