// Hugging Face Transformer-XL checkpoints: parity of the reference forward with transformers 4.57.6 on the
// fixtures of scripts/make-hf-fixtures.py, the word tokenizer, and one-line errors for bad folders.
import Foundation
import Testing
import TXL

enum HFFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hf").path
    static let names = ["div4-same-length", "div2-untied", "div1-short-memory", "no-clusters"]
    static func path(_ name: String) -> String { root + "/" + name }

    struct Expected: Decodable {
        let segment: Int
        let last_segment: Int
        let texts: [String]
        let token_ids: [[Int]]
        let log_probs: [[Double]]
    }

    static func expected(_ name: String) throws -> Expected {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name) + "/expected.json"))
        return try JSONDecoder().decode(Expected.self, from: data)
    }

    /// A scratch copy of a fixture folder, removed by the caller.
    static func copy(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "memscope-hf-\(name)-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: path(name), toPath: dir)
        return dir
    }

    /// Rewrites a copied fixture's model.safetensors as float32, leaving out the tensors named in `dropping` and
    /// adding `extra` (name, shape, values) at the end.
    static func editTensors(
        _ dir: String, dropping: Set<String> = [], adding extra: [(String, [Int], [Float])] = []
    ) throws {
        let file = dir + "/model.safetensors"
        let f = try SafetensorsFile(path: file)
        var w = SafetensorsWriter()
        for (name, t) in f.tensors where !dropping.contains(name) {
            w.add(name, shape: t.shape, floats: try f.floats(name))
        }
        for (name, shape, x) in extra { w.add(name, shape: shape, floats: x) }
        try w.write(to: file)
    }

    /// Rewrites a copied fixture's config.json.
    static func editConfig(_ dir: String, _ change: (inout [String: Any]) -> Void) throws {
        let url = URL(fileURLWithPath: dir + "/config.json")
        var d = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        change(&d)
        try JSONSerialization.data(withJSONObject: d).write(to: url)
    }

    /// The worst |Δ log-prob| of the reference forward against the fixture, overall and in the last segment.
    static func parity(_ model: HFCheckpoint, _ e: Expected) throws -> (all: Double, last: Double, count: Int) {
        let run = try HFReference(model: model)
        var worst = 0.0, worstLast = 0.0, count = 0
        for (ids, want) in zip(e.token_ids, e.log_probs) {
            let got = try run.logProbs(stream: ids, segment: e.segment)
            #expect(got.count == want.count)
            for (i, (g, w)) in zip(got, want).enumerated() {
                let d = abs(Double(g) - w)
                let delta = d.isNaN ? .infinity : d
                worst = max(worst, delta)
                if i >= want.count - e.last_segment { worstLast = max(worstLast, delta) }
                count += 1
            }
        }
        return (worst, worstLast, count)
    }

    /// The worst |Δ log-prob| of `Inference` against the fixture: each stream alone (batch 1), then every stream
    /// at once (batch = streams, cut to the shortest; causal, so the kept positions are unchanged).
    static func optimisedParity(
        _ model: HFCheckpoint, _ e: Expected, workers: Int
    ) throws
        -> (all: Double, last: Double, count: Int)
    {
        let c = model.config, net = Network(model)
        let options = RunOptions(
            memory: Array(repeating: c.memLen, count: c.nLayer), sameLength: c.sameLength, clampLen: c.clampLen)
        var worst = 0.0, worstLast = 0.0, count = 0
        func compare(_ got: [Float], _ want: [Double], last: Int) {
            for (i, (g, w)) in zip(got, want).enumerated() {
                let d = abs(Double(g) - w)
                let delta = d.isNaN ? .infinity : d
                worst = max(worst, delta)
                if i >= want.count - last { worstLast = max(worstLast, delta) }
                count += 1
            }
        }
        for (ids, want) in zip(e.token_ids, e.log_probs) {
            let run = try Inference(network: net, batch: 1, segment: e.segment, options: options)
            var got: [Float] = [], s = 0
            while s + 1 < ids.count {
                let end = min(s + e.segment, ids.count - 1)
                got += run.step(tokens: Array(ids[s..<end]), targets: Array(ids[(s + 1)...end])).logProbs
                s = end
            }
            #expect(got.count == want.count)
            compare(got, want, last: e.last_segment)
        }
        let B = e.token_ids.count, L = e.token_ids.map(\.count).min()!
        let saved = Inference.threads
        Inference.threads = workers
        let run = try Inference(network: net, batch: B, segment: e.segment, options: options)
        Inference.threads = saved
        var got = Array(repeating: [Float](), count: B), s = 0
        while s + 1 < L {
            let end = min(s + e.segment, L - 1), t = end - s
            let inp = e.token_ids.flatMap { Array($0[s..<end]) }, tgt = e.token_ids.flatMap { Array($0[(s + 1)...end]) }
            let out = run.step(tokens: inp, targets: tgt).logProbs
            for b in 0..<B { got[b] += out[(b * t)..<((b + 1) * t)] }
            s = end
        }
        let lastLength = (L - 1) % e.segment == 0 ? e.segment : (L - 1) % e.segment
        for b in 0..<B { compare(got[b], Array(e.log_probs[b].prefix(L - 1)), last: lastLength) }
        return (worst, worstLast, count)
    }
}

@Suite struct HFParityTests {
    @Test(arguments: HFFixtures.names)
    func parityWithHuggingFace(name: String) throws {
        let model = try HFCheckpoint(directory: HFFixtures.path(name))
        let e = try HFFixtures.expected(name)
        // The tokenizer gives the fixture's ids from its text (an unknown word included).
        for (text, ids) in zip(e.texts, e.token_ids) {
            let got = try model.vocabulary.encode(text)
            #expect(Array(got.prefix(ids.count)) == ids, "\(name): tokenizer")
        }
        let p = try HFFixtures.parity(model, e)
        print(
            "hf parity \(name): max |Δ log-prob| \(String(format: "%.2e", p.all)) nats over \(p.count) tokens, "
                + "last partial segment \(String(format: "%.2e", p.last))")
        #expect(p.all <= 1e-4, "\(name): max |Δ log-prob| \(p.all)")
        #expect(p.last <= 1e-4, "\(name): last segment max |Δ log-prob| \(p.last)")
    }

    /// The optimised runtime (`Inference` over `Network`) against Hugging Face: one stream at a time and all streams
    /// batched, with 1 and 2 workers, every segment including the last partial one.
    @Test(arguments: HFFixtures.names)
    func optimisedParityWithHuggingFace(name: String) throws {
        let model = try HFCheckpoint(directory: HFFixtures.path(name))
        let e = try HFFixtures.expected(name)
        let p = try HFFixtures.optimisedParity(model, e, workers: 2)
        print(
            "hf optimised parity \(name): max |Δ log-prob| \(String(format: "%.2e", p.all)) nats over \(p.count) "
                + "tokens, last partial segment \(String(format: "%.2e", p.last))")
        #expect(p.count == e.log_probs.reduce(0) { $0 + $1.count } * 2)
        #expect(p.all <= 1e-4, "\(name): max |Δ log-prob| \(p.all)")
        #expect(p.last <= 1e-4, "\(name): last segment max |Δ log-prob| \(p.last)")
    }

    /// The fixtures can catch a wrong mapping: reversing the head's cluster columns (the reference PyTorch code's
    /// order) moves the log-probabilities by far more than the tolerance.
    @Test func fixturesCatchReversedClusterColumns() throws {
        let good = try HFCheckpoint(directory: HFFixtures.path("div4-same-length"))
        let s = good.softmax, w = s.width(0), tails = s.clusters.count - 1
        var cw = s.clusterWeight.array, cb = s.clusterBias.array
        for i in 0..<tails {
            cb[i] = s.clusterBias[tails - 1 - i]
            for k in 0..<w { cw[i * w + k] = s.clusterWeight[(tails - 1 - i) * w + k] }
        }
        let wrong = AdaptiveSoftmax(
            dModel: s.dModel, ends: s.ends, clusters: s.clusters,
            clusterWeight: FloatView(cw), clusterBias: FloatView(cb))
        let hidden = (0..<(3 * s.dModel)).map { Float(sin(Double($0))) }
        let targets = [s.ends[1], s.ends[2], s.ends[3]]  // the first word of each tail cluster
        let a = s.logProbs(hidden, targets: targets), b = wrong.logProbs(hidden, targets: targets)
        let d = zip(a, b).map { abs($0 - $1) }.max()!
        #expect(d > 1e-2, "reversed cluster columns change log-probs by only \(d)")
    }

    /// float16 and bfloat16 files load (converted to float32) and stay close to the float32 results.
    /// float32 tables and output weights are read in place from the mapped file, not copied at load.
    @Test func float32TablesAreUsedInPlace() throws {
        let model = try HFCheckpoint(directory: HFFixtures.path("div4-same-length"))
        #expect(model.file.isMapped)
        for i in model.embedding.tables.indices {
            let name = "transformer.word_emb.emb_layers.\(i).weight"
            #expect(model.embedding.tables[i].base == model.file.mappedFloats(name))
            #expect(model.softmax.clusters[i].weight.base == model.embedding.tables[i].base)  // tied
        }
        #expect(model.softmax.clusterWeight.base == model.file.mappedFloats("crit.cluster_weight"))
    }

    @Test(arguments: [DType.f16, DType.bf16])
    func halfPrecisionWeights(dtype: DType) throws {
        let dir = try HFFixtures.copy("div4-same-length")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/model.safetensors"
        let f = try SafetensorsFile(path: file)
        var w = SafetensorsWriter()
        for (name, t) in f.tensors {
            let x = try f.floats(name)
            let raw: [UInt8] = x.flatMap { v -> [UInt8] in
                let bits: UInt16 = dtype == .f16 ? Float16(v).bitPattern : UInt16(v.bitPattern >> 16)
                return [UInt8(bits & 0xff), UInt8(bits >> 8)]
            }
            w.add(name, dtype: dtype, shape: t.shape, raw: raw)
        }
        try w.write(to: file)
        let model = try HFCheckpoint(directory: dir)
        let emb = model.embedding.tables[0].array[0...3]
        let full = try f.floats("transformer.word_emb.emb_layers.0.weight")[0...3]
        for (a, b) in zip(emb, full) {
            #expect(a == (dtype == .f16 ? Float(Float16(b)) : Float(bitPattern: b.bitPattern & 0xffff_0000)))
        }
        let p = try HFFixtures.parity(model, try HFFixtures.expected("div4-same-length"))
        #expect(p.all > 0 && p.all < 0.5, "\(dtype): max |Δ log-prob| \(p.all)")
    }
}

@Suite struct HFErrorTests {
    /// The error, as the executable would print it.
    func message(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    func expectOneLine(_ m: String, _ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!m.contains("\n"), "one line: \(m)", sourceLocation: sourceLocation)
        for f in fragments { #expect(m.contains(f), "\"\(m)\" lacks \"\(f)\"", sourceLocation: sourceLocation) }
    }

    @Test func missingTensor() throws {
        let dir = try HFFixtures.copy("div4-same-length")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HFFixtures.editTensors(dir, dropping: ["transformer.layers.1.dec_attn.r_r_bias"])
        expectOneLine(
            message { _ = try HFCheckpoint(directory: dir) },
            "model.safetensors", "missing tensor \"transformer.layers.1.dec_attn.r_r_bias\"")
    }

    @Test func tiedTensorsAreLeftOutButUntiedAreRequired() throws {
        let dir = try HFFixtures.copy("div4-same-length")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Saying the output weights are not tied makes the (absent) crit.out_layers.0.weight required.
        try HFFixtures.editConfig(dir) { $0["tie_word_embeddings"] = false }
        expectOneLine(
            message { _ = try HFCheckpoint(directory: dir) },
            "model.safetensors", "crit.out_layers.0.weight", "tie_word_embeddings false")
    }

    @Test(
        arguments: [
            ("attn_type", "1", "only 0"),
            ("pre_lnorm", "true", "post-LN"),
            ("d_model", "\"wide\"", "not an integer"),
            ("n_layer", "0", "outside 1..."),
            ("cutoffs", "[300, 100]", "each must be above"),
            ("tie_projs", "[false, true]", "one per cluster"),
            ("div_val", "1000", "width"),
            ("same_length", "1", "not true or false"),
        ] as [(field: String, json: String, fragment: String)])
    func badConfigField(_ c: (field: String, json: String, fragment: String)) throws {
        let (field, json, fragment) = c
        let dir = try HFFixtures.copy("div4-same-length")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let value = try JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        try HFFixtures.editConfig(dir) { $0[field] = value }
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "config.json", "\"\(field)\"", fragment)
    }

    @Test func missingConfigField() throws {
        let dir = try HFFixtures.copy("div2-untied")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HFFixtures.editConfig(dir) { $0["n_head"] = nil }
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "config.json", "\"n_head\" is missing")
    }

    @Test(arguments: [
        (#"{"unk_idx": 0}"#, "\"idx2sym\" is missing"),
        (#"{"idx2sym": "the"}"#, "\"idx2sym\" is not a non-empty list"),
        (#"{"idx2sym": ["<eos>", "a", "a"]}"#, "\"idx2sym\" has \"a\" twice"),
        (#"{"idx2sym": ["<eos>", "a"], "unk_idx": 7}"#, "\"unk_idx\" is 7"),
        (#"{"idx2sym": ["a", "b"]}"#, "\"eos\" names \"<eos>\""),
        (#"{"idx2sym": ["<eos>"], "delimiter": ","}"#, "\"delimiter\""),
        ("[1, 2]", "not a JSON object"),
    ])
    func badVocabulary(json: String, fragment: String) throws {
        let dir = try HFFixtures.copy("div4-same-length")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try json.write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "vocab.json", fragment)
    }

    @Test func vocabularySizeMustMatchConfig() throws {
        let dir = try HFFixtures.copy("no-clusters")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try #"{"idx2sym": ["<eos>", "<unk>", "x"]}"#
            .write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "vocab.json", "idx2sym", "vocab_size is 300")
    }

    @Test func missingFiles() throws {
        let dir = try HFFixtures.copy("no-clusters")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.removeItem(atPath: dir + "/vocab.json")
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "vocab.json", "convert-hf.py")
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        expectOneLine(message { _ = try HFCheckpoint(directory: dir) }, "model.safetensors", "no such file")
        expectOneLine(message { _ = try HFCheckpoint(directory: dir + "/nope") }, "nope", "not a directory")
    }

    @Test func unexpectedTensorIsReported() throws {
        let dir = try HFFixtures.copy("no-clusters")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try HFFixtures.editTensors(dir, adding: [("transformer.layers.9.extra", [1], [1])])
        expectOneLine(
            message { _ = try HFCheckpoint(directory: dir) },
            "model.safetensors", "transformer.layers.9.extra")
    }
}

@Suite struct WordVocabularyTests {
    let v = try! WordVocabulary(json: Data(#"{"idx2sym": ["<eos>", "the", "<unk>", "cat", "@-@"]}"#.utf8))

    @Test func linesAndEos() throws {
        #expect(try v.encode("") == [])
        #expect(try v.encode("the cat\n") == [1, 3, 0])
        #expect(try v.encode("the  cat") == [1, 3, 0])  // a last line without a break
        #expect(try v.encode("the\n\ncat\n") == [1, 0, 0, 3, 0])  // an empty line is one <eos>
        #expect(try v.encode("the\r\ncat\rthe\n") == [1, 0, 3, 0, 1, 0])  // \r\n and \r end lines too
        #expect(try v.encode(" the\tcat @-@ dog \n") == [1, 3, 4, 2, 0])  // unknown -> <unk>
    }

    @Test func noUnknownWordWithoutUnk() throws {
        let strict = try WordVocabulary(json: Data(#"{"idx2sym": ["<eos>", "a"]}"#.utf8), path: "v.json")
        #expect(strict.unk == nil)
        #expect(throws: ModelError.badInput("word \"b\" is not in the vocabulary (v.json), which has no <unk>")) {
            try strict.encode("a b")
        }
    }

    @Test func lowerCase() throws {
        let lc = try WordVocabulary(json: Data(#"{"idx2sym": ["<eos>", "a", "<unk>"], "lower_case": true}"#.utf8))
        #expect(try lc.encode("A a") == [1, 1, 0])
    }
}
