// `memscope info`: what a checkpoint holds: config, size, trained memory and the memory state it implies.
import ArgumentParser
import Foundation
import TXL

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show a model's config, parameter count, memory lengths and memory-state size.")

    @OptionGroup var model: ModelOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let (loaded, path) = try model.loadAnyModel()
        guard case .byte(let m) = loaded else { return try runWord(loaded, path: path) }
        let (options, T) = try model.run(for: m)
        let c = m.config
        let floats = options.memoryFloats(dModel: c.dModel)
        // What the runtime actually caches: keys and values of each memory position.
        let kvFloats = options.memory.reduce(0, +) * 2 * c.dAttn
        let metaKeys = m.metadata.keys.sorted()
        if json {
            let obj: [String: Any] = [
                "model": path, "config": (try? JSONSerialization.jsonObject(with: Data(c.json().utf8))) ?? [:],
                "parameters": m.parameterCount, "trained_memory": c.memLens, "memory": options.memory, "segment": T,
                "same_length": options.sameLength, "clamp": options.clampLen,
                "memory_floats": floats, "memory_bytes": floats * 4, "kv_cache_floats": kvFloats,
                "metadata_keys": metaKeys,
            ]
            try StandardOutput.printJSON(obj)
            return
        }
        print("model           \(path)")
        print(
            "layers          \(c.nLayer), d_model \(c.dModel), \(c.nHead) heads of \(c.dHead), d_inner "
                + "\(c.dInner), vocabulary \(c.nToken)"
        )
        print(
            "norm            \(c.preLnorm ? "pre-LN" : "post-LN"), eps \(c.layerNormEps), activation "
                + "\(c.activation), tied embedding"
        )
        print(
            "parameters      \(m.parameterCount) (\(String(format: "%.2f", Double(m.parameterCount) / 1e6)) M, "
                + "\(m.parameterCount * 4) bytes as float32)"
        )
        print(
            "trained         segment \(c.tgtLen), memory "
                + "\(MemorySpec.compact(c.memLens))\(c.sameLength ? ", same-length" : ""), clamp \(c.clampLen)"
        )
        print(
            "eval memory     \(MemorySpec.compact(options.memory)), " + options.segmentDescription(T)
        )
        print(
            "memory state    \(floats) floats (\(floats * 4) bytes) per stream; cached as "
                + "keys+values: \(kvFloats) floats"
        )
        print("metadata        \(metaKeys.isEmpty ? "(none)" : metaKeys.joined(separator: ", "))")
    }
}

extension InfoCommand {
    /// A Hugging Face word model: its config.json as the runtime reads it.
    func runWord(_ loaded: LoadedModel, path: String) throws {
        guard case .word(let m) = loaded else { return }
        let (options, T) = try model.run(for: loaded)
        let c = m.config, n = loaded.network
        let floats = options.memoryFloats(dModel: c.dModel)
        let kvFloats = options.memory.reduce(0, +) * 2 * c.dAttn
        let tensors = m.parameterCount
        let dtypes = Set(m.file.tensors.values.map(\.dtype.rawValue)).sorted()
        if json {
            let obj: [String: Any] = [
                "model": path, "kind": "huggingface-transfo-xl", "vocabulary": c.vocabSize, "cutoffs": c.cutoffs,
                "div_val": c.divVal, "layers": c.nLayer, "d_model": c.dModel, "d_embed": c.dEmbed, "heads": c.nHead,
                "d_head": c.dHead, "d_inner": c.dInner, "untie_r": c.untieR, "tie_projs": c.tieProjs,
                "parameters": tensors, "trained_memory": c.memLen, "memory": options.memory, "segment": T,
                "same_length": options.sameLength, "clamp": options.clampLen, "memory_floats": floats,
                "memory_bytes": floats * 4, "kv_cache_floats": kvFloats, "dtypes": dtypes,
            ]
            try StandardOutput.printJSON(obj)
            return
        }
        print("model           \(path) (Hugging Face Transformer-XL, word level)")
        print(
            "layers          \(c.nLayer), d_model \(c.dModel), \(c.nHead) heads of \(c.dHead), d_inner \(c.dInner), "
                + "vocabulary \(c.vocabSize)")
        print(
            "vocabulary      cutoffs \(c.cutoffs), div_val \(c.divVal), d_embed \(c.dEmbed), tie_projs \(c.tieProjs); "
                + "adaptive input and softmax")
        print(
            "norm            post-LN, eps \(n.layerNormEps), relu, "
                + "\(c.untieR ? "r biases per layer (untie_r)" : "shared r biases")"
        )
        print(
            "parameters      \(tensors) (\(String(format: "%.2f", Double(tensors) / 1e6)) M), stored as "
                + dtypes.joined(separator: ", "))
        print(
            "trained         segment \(c.tgtLen), memory \(c.memLen) in every layer"
                + "\(c.sameLength ? ", same-length" : ""), clamp \(c.clampLen)")
        print(
            "eval memory     \(MemorySpec.compact(options.memory)), " + options.segmentDescription(T)
        )
        print(
            "memory state    \(floats) floats (\(floats * 4) bytes) per stream; cached as "
                + "keys+values: \(kvFloats) floats"
        )
        print("tokenizer       whitespace split, <eos> per line: WikiText-103-style pre-tokenized text is expected")
    }
}
