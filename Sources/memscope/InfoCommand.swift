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
        let (m, path) = try model.loadModel()
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
            print(
                String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self)
            )
            return
        }
        print("model           \(path)")
        print(
            "layers          \(c.nLayer), d_model \(c.dModel), \(c.nHead) heads of \(c.dHead), d_inner \(c.dInner), vocabulary \(c.nToken)"
        )
        print(
            "norm            \(c.preLnorm ? "pre-LN" : "post-LN"), eps \(c.layerNormEps), activation \(c.activation), tied embedding"
        )
        print(
            "parameters      \(m.parameterCount) (\(String(format: "%.2f", Double(m.parameterCount) / 1e6)) M, \(m.parameterCount * 4) bytes as float32)"
        )
        print(
            "trained         segment \(c.tgtLen), memory \(MemorySpec.compact(c.memLens))\(c.sameLength ? ", same-length" : ""), clamp \(c.clampLen)"
        )
        print(
            "eval memory     \(MemorySpec.compact(options.memory)), segment \(T)\(options.sameLength ? ", same-length" : "")\(options.clampLen > 0 ? ", clamp \(options.clampLen)" : "")"
        )
        print(
            "memory state    \(floats) floats (\(floats * 4) bytes) per stream; cached as keys+values: \(kvFloats) floats"
        )
        print("metadata        \(metaKeys.isEmpty ? "(none)" : metaKeys.joined(separator: ", "))")
    }
}
