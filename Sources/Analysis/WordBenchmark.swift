// `memscope bench --wt103`: the WikiText-103 Transformer-XL's shape (transfo-xl/transfo-xl-wt103) with random weights,
// written as a Hugging Face folder tensor by tensor (no download, never the whole model in memory), then run:
// tokens/s against a counted FLOP model and the same run's sgemm rate.
import Foundation
import TXL

public enum WordBenchmark {
    /// config.json of the WikiText-103 model (the fields MemScope reads), with `layers` layers.
    public static func wt103Config(layers: Int = 18) -> [String: Any] {
        [
            "model_type": "transfo-xl", "vocab_size": 267_735, "cutoffs": [20000, 40000, 200_000], "div_val": 4,
            "d_model": 1024, "d_embed": 1024, "n_head": 16, "d_head": 64, "d_inner": 4096, "n_layer": layers,
            "mem_len": 1600, "tgt_len": 128, "clamp_len": 1000, "same_length": true, "pre_lnorm": false,
            "attn_type": 0, "adaptive": true, "sample_softmax": -1, "untie_r": true,
            "tie_projs": [false, true, true, true], "layer_norm_epsilon": 1e-5,
        ]
    }

    /// The tensors of a Hugging Face folder for `c` as save_pretrained writes them (tied copies left out).
    public static func tensorShapes(_ c: HFConfig) -> [(name: String, shape: [Int])] {
        var out: [(String, [Int])] = []
        let ends = c.clusterEnds, C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner
        let adaptive = c.divVal > 1
        for i in 0..<(adaptive ? ends.count - 1 : 1) {
            let w = c.embeddingWidth(i), n = adaptive ? ends[i + 1] - ends[i] : c.vocabSize
            out.append(("transformer.word_emb.emb_layers.\(i).weight", [n, w]))
            if adaptive || w != C { out.append(("transformer.word_emb.emb_projs.\(i)", [C, w])) }
        }
        for l in 0..<c.nLayer {
            let p = "transformer.layers.\(l)."
            out += [
                (p + "dec_attn.qkv_net.weight", [3 * A, C]), (p + "dec_attn.r_net.weight", [A, C]),
                (p + "dec_attn.o_net.weight", [C, A]), (p + "dec_attn.layer_norm.weight", [C]),
                (p + "dec_attn.layer_norm.bias", [C]), (p + "dec_attn.r_w_bias", [H, D]),
                (p + "dec_attn.r_r_bias", [H, D]), (p + "pos_ff.CoreNet.0.weight", [F, C]),
                (p + "pos_ff.CoreNet.0.bias", [F]), (p + "pos_ff.CoreNet.3.weight", [C, F]),
                (p + "pos_ff.CoreNet.3.bias", [C]), (p + "pos_ff.layer_norm.weight", [C]),
                (p + "pos_ff.layer_norm.bias", [C]),
            ]
        }
        if ends.count > 2 {
            out.append(("crit.cluster_weight", [ends.count - 2, c.embeddingWidth(0)]))
            out.append(("crit.cluster_bias", [ends.count - 2]))
        }
        for i in 0..<(adaptive ? ends.count - 1 : 1) {
            let n = adaptive ? ends[i + 1] - ends[i] : c.vocabSize
            out.append(("crit.out_layers.\(i).bias", [n]))
            if !c.tieProjs[i] && (adaptive || c.embeddingWidth(0) != C) {
                out.append(("crit.out_projs.\(i)", [C, c.embeddingWidth(adaptive ? i : 0)]))
            }
        }
        return out
    }

    /// Writes config.json, vocab.json (words w0, w1, ... with <eos> and <unk>) and model.safetensors (float32,
    /// N(0, 0.02)-like uniform weights, layer-norm gains 1) into `dir`. Returns the file's parameter count.
    @discardableResult
    public static func writeRandomFolder(_ dir: String, config json: [String: Any], seed: UInt64 = 1) throws -> Int {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let configData = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
        try configData.write(to: URL(fileURLWithPath: dir + "/config.json"))
        let c = try HFConfig(json: configData, path: dir + "/config.json")
        var words = ["<eos>", "<unk>"]
        words.reserveCapacity(c.vocabSize)
        for i in 2..<c.vocabSize { words.append("w\(i)") }
        let vocab: [String: Any] = ["format": "memscope-word-vocab-1", "idx2sym": words]
        try JSONSerialization.data(withJSONObject: vocab).write(to: URL(fileURLWithPath: dir + "/vocab.json"))
        // The header first (offsets known from the shapes), then each tensor as it is drawn.
        let tensors = tensorShapes(c)
        var header: [String: Any] = [:], offset = 0
        for t in tensors {
            let bytes = t.shape.reduce(1, *) * 4
            header[t.name] =
                ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var h = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + h.count) % 8 != 0 { h.append(0x20) }
        let path = dir + "/model.safetensors"
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let out = FileHandle(forWritingAtPath: path) else {
            throw ModelError.checkpoint(path: path, problem: "cannot write")
        }
        defer { try? out.close() }
        var length = UInt64(h.count).littleEndian
        try out.write(contentsOf: Data(bytes: &length, count: 8) + Data(h))
        var rng = Random(seed: seed)
        var count = 0
        for t in tensors {
            let n = t.shape.reduce(1, *)
            count += n
            var values = [Float](repeating: 1, count: n)
            if !t.name.hasSuffix("layer_norm.weight") {
                for i in 0..<n { values[i] = 0.04 * (rng.uniform() - 0.5) }
            }
            try values.withUnsafeBytes { try out.write(contentsOf: Data($0)) }
        }
        return count
    }

    /// FLOPs (2 per multiply-add) per predicted token once memories are full: the dense layers, attention over the
    /// keys each query sees, adaptive input (the projection of each token's cluster) and the adaptive softmax: the
    /// head for every token, a tail cluster's projection and logits for the tokens whose target lies in it
    /// (`tailShare[i]`: the fraction of targets in tail cluster i + 1).
    public static func flopsPerToken(
        _ c: HFConfig, memory: [Int], segment T: Int, sameLength: Bool, inputShare: [Double], tailShare: [Double]
    ) -> Double {
        let C = Double(c.dModel), A = Double(c.dAttn), F = Double(c.dInner), ends = c.clusterEnds
        var total = 0.0
        for M in memory {
            let keys =
                (0..<T).reduce(0.0) { $0 + Double(sameLength ? min(M, M + $1 + 1) : M + $1 + 1) } / Double(T)
            // q, k, v; (q+u)k, (q+v)R and P v over the visible keys; o; the feed-forward. r_net is a table made once.
            total += 2 * C * 3 * A + 3 * 2 * A * keys + 2 * A * C + 2 * 2 * C * F
        }
        // Adaptive input: cluster i's tokens are projected from d_i to d_model.
        for (i, share) in inputShare.enumerated() { total += share * 2 * C * Double(c.embeddingWidth(i)) }
        // Head: projection to d_0 (when the head has one) and logits over the shortlist and the tail clusters.
        let d0 = Double(c.embeddingWidth(0)), headWidth = Double(ends[1] + ends.count - 2)
        total += 2 * C * d0 + 2 * d0 * headWidth
        for (k, share) in tailShare.enumerated() {
            let i = k + 1, di = Double(c.embeddingWidth(i)), n = Double(ends[i + 1] - ends[i])
            total += share * (2 * C * di + 2 * di * n)
        }
        return total
    }

    /// Tokens/s of `Inference.step` on `tokens` (a stream drawn to the model's cluster sizes), after warm-up
    /// segments that fill every memory: one rate for each of `kernels` (the AVX2 kernels, or OpenBLAS alone), the
    /// runs taking turns segment by segment.
    public static func throughput(
        network: Network, tokens: [Int], options: RunOptions, segment T: Int, batch B: Int, seconds: Double,
        kernels: [Bool] = [Kernels.enabled], progress: ((String) -> Void)? = nil
    ) throws -> [Benchmark.Throughput] {
        let runs = try kernels.map {
            try Inference(network: network, batch: B, segment: T, options: options, kernels: $0)
        }
        var pos = 0
        func next() -> ([Int], [Int]) {
            var i: [Int] = [], t: [Int] = []
            for _ in 0..<(B * T) {
                i.append(tokens[pos % (tokens.count - 1)]); t.append(tokens[pos % (tokens.count - 1) + 1]); pos += 1
            }
            return (i, t)
        }
        let fill = ((options.memory.max() ?? 0) + T - 1) / T
        return Benchmark.alternating(
            runs, batch: B, segment: T, warmUp: fill, seconds: seconds, next: next, progress: progress)
    }

    /// A token stream with Zipf-like cluster shares: `shares[i]` of the tokens fall in cluster i, uniform inside.
    public static func tokens(_ c: HFConfig, count: Int, shares: [Double], seed: UInt64 = 9) -> [Int] {
        var rng = Random(seed: seed)
        let ends = c.clusterEnds
        return (0..<count).map { _ in
            var u = Double(rng.uniform()), i = 0
            while i < shares.count - 1 && u >= shares[i] { u -= shares[i]; i += 1 }
            return ends[i] + Int(rng.next() % UInt64(ends[i + 1] - ends[i]))
        }
    }
}
