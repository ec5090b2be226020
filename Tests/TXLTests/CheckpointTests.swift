// The safetensors reader on truncated and hostile files, the writer, checkpoints, config validation, the --mem grammar.
import Foundation
import TXL
import Testing

@Suite struct SafetensorsTests {
    /// A file from a raw header string and data bytes.
    func file(header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
        let h = [UInt8](header.utf8)
        let n = length ?? UInt64(h.count)
        return (0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xff) } + h + data
    }

    func assertRejected(_ bytes: [UInt8], _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let e = #expect(throws: ModelError.self, sourceLocation: sourceLocation) {
            try SafetensorsFile(bytes: bytes, path: "x.safetensors")
        }
        guard case .checkpoint(let path, let problem)? = e else {
            Issue.record("not a checkpoint error: \(String(describing: e))", sourceLocation: sourceLocation)
            return
        }
        #expect(path == "x.safetensors", sourceLocation: sourceLocation)
        #expect(problem.contains(fragment), "\"\(problem)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
        #expect(!problem.contains("\n"), "one line", sourceLocation: sourceLocation)
    }

    @Test func hostileAndTruncatedHeaders() {
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(throws: Never.self) {
            try SafetensorsFile(bytes: file(header: ok, data: [UInt8](repeating: 0, count: 8)))
        }
        assertRejected([1, 2, 3], "too short")
        assertRejected(file(header: ok, length: UInt64.max), "implausible")
        assertRejected(file(header: ok, length: 1 << 40), "implausible")
        assertRejected(file(header: ok, length: 4000), "truncated")
        assertRejected(file(header: "not json at all"), "not a JSON object")
        assertRejected(file(header: "[1, 2, 3]"), "not a JSON object")
        assertRejected(file(header: ok), "outside the file")  // data missing
        assertRejected(file(header: ok, data: [0, 0, 0]), "outside the file")  // data truncated
        // One tensor "a" over 8 data bytes, with one field wrong each time: (the tensor's entry, what the error says).
        let badEntries = [
            (#"{"dtype":"F64","shape":[1],"data_offsets":[0,8]}"#, "unsupported dtype \"F64\""),
            (#"{"dtype":"F32","shape":[3],"data_offsets":[0,8]}"#, "needs 12 bytes"),
            (#"{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}"#, "bad shape"),
            (#"{"dtype":"F32","shape":[2],"data_offsets":[8,0]}"#, "outside"),
            (#"{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}"#, "outside"),
            (#"{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}"#, "its byte count overflows"),
        ]
        for (entry, fragment) in badEntries {
            assertRejected(file(header: #"{"a":"# + entry + "}", data: [UInt8](repeating: 0, count: 8)), fragment)
        }
        assertRejected(file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#), "lacks shape or data_offsets")
        assertRejected(file(header: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#), "no dtype")
        let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        assertRejected(file(header: overlapping, data: [UInt8](repeating: 0, count: 12)), "overlap")
        assertRejected(file(header: #"{"__metadata__":{"k":3}}"#), "not a string")
        assertRejected(file(header: #"{"a":7}"#), "not an object")
    }

    @Test func writerRoundTripAndDtypes() throws {
        var w = SafetensorsWriter(metadata: ["note": "hello"])
        w.add("x", shape: [2, 3], floats: [1, -2, 3.5, 0, 1e-8, -7])
        // 1.5 and -2 as float16 (0x3E00, 0xC000) and bfloat16 (0x3FC0, 0xC000), little-endian.
        w.add("h", dtype: .f16, shape: [2], raw: [0x00, 0x3E, 0x00, 0xC0])
        w.add("b", dtype: .bf16, shape: [2], raw: [0xC0, 0x3F, 0x00, 0xC0])
        w.add("i", dtype: .i32, shape: [1], raw: [5, 0, 0, 0])
        let bytes = w.encode()
        #expect(bytes.count % 4 == 0)
        let f = try SafetensorsFile(bytes: bytes)
        #expect(f.metadata == ["note": "hello"])
        #expect(try f.floats("x", shape: [2, 3]) == [1, -2, 3.5, 0, 1e-8, -7])
        #expect(try f.floats("h") == [1.5, -2])
        #expect(try f.floats("b") == [1.5, -2])
        #expect(try f.ints("i") == [5])
        #expect(throws: (any Error).self) { try f.floats("x", shape: [3, 2]) }
        #expect(throws: (any Error).self) { try f.floats("missing") }
        #expect(throws: (any Error).self) { try f.ints("x") }
    }

    @Test func checkpointRoundTripAndStrictLoading() throws {
        let m = tinyModel(layers: 2, segment: 8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-tests-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.safetensors").path
        try m.save(to: path, metadata: ["step": "3"])
        let back = try TransformerXL(path: path)
        #expect(back.config == m.config)
        #expect(back.metadata["step"] == "3")
        #expect(Array(back.params.storage) == Array(m.params.storage))
        #expect(back.parameterCount == ParameterTable.count(for: m.config))

        // A missing tensor, an extra one, a wrong shape, a bad config: each named.
        let f = try SafetensorsFile(path: path)
        func rewrite(_ edit: (inout [(String, [Int], [Float])], inout [String: String]) -> Void) throws -> String {
            var entries = try f.tensors.keys.sorted().map { ($0, f.tensors[$0]!.shape, try f.floats($0)) }
            var meta = f.metadata
            edit(&entries, &meta)
            var w = SafetensorsWriter(metadata: meta)
            for (n, s, v) in entries { w.add(n, shape: s, floats: v) }
            let p = dir.appendingPathComponent("edit.safetensors").path
            try w.write(to: p)
            return p
        }
        func expect(_ p: String, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let e = #expect(throws: (any Error).self, sourceLocation: sourceLocation) { try TransformerXL(path: p) }
            #expect(
                "\(e.map { "\($0)" } ?? "")".contains(fragment), "\"\(String(describing: e))\" lacks \"\(fragment)\"",
                sourceLocation: sourceLocation)
        }
        expect(try rewrite { e, _ in e.removeAll { $0.0 == "r_w_bias" } }, "missing tensors r_w_bias")
        expect(
            try rewrite { e, _ in e.append(("crit.out_layers.0.weight", [1], [0])) },
            "unexpected tensors \"crit.out_layers.0.weight\"")
        expect(
            try rewrite { e, _ in
                let i = e.firstIndex { $0.0 == "r_r_bias" }!
                e[i] = ("r_r_bias", [e[i].2.count], e[i].2)
            }, "r_r_bias\" has shape")
        expect(try rewrite { _, m in m["txl_config"] = "{" }, "txl_config")
        expect(
            try rewrite { _, m in
                m["txl_config"] = m["txl_config"]!.replacingOccurrences(of: "\"n_layer\":2", with: "\"n_layer\":3")
            }, "mem_lens has 2 lengths for 3 layers")
        expect(try rewrite { _, m in m.removeValue(forKey: "txl_config") }, "no txl_config")
        expect(try rewrite { e, _ in e[0].2[0] = .nan }, "non-finite")
        expect(dir.appendingPathComponent("nope.safetensors").path, "no such file")
        expect(dir.path, "is a directory")
    }
}

@Suite struct ConfigTests {
    @Test func validation() throws {
        let good = tinyModel().config
        #expect(throws: Never.self) { try good.validate() }
        var c = good; c.nLayer = 0
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.nToken = 300
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.memLens = [1]
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.memLens = [-1, 2]
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.activation = "gelu"
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.tieWeight = false
        #expect(throws: (any Error).self) { try c.validate() }
        c = good; c.evalMemLens = [1, 2, 3]
        #expect(throws: (any Error).self) { try c.validate() }
        #expect(try Config.fromJSON(good.json()) == good)
        let e = #expect(throws: (any Error).self) { try Config.fromJSON(#"{"n_layer": 2}"#) }
        #expect("\(String(describing: e))".contains("missing key"))
        #expect(throws: (any Error).self) { try Config.fromJSON(#"{"n_layer": "two"}"#) }
        c = good; c.evalMemLens = [3, 4]
        #expect(c.defaultMemory == [3, 4])
    }

    @Test func memorySpecGrammar() throws {
        func p(_ s: String, layers: Int = 8, lrm: Int = 512, srm: Int = 128) throws -> [Int] {
            try MemorySpec.parse(s, layers: layers, lrm: lrm, srm: srm)
        }
        #expect(try p("64") == Array(repeating: 64, count: 8))
        #expect(try p("0,1,2,3,4,5,6,7") == Array(0..<8))
        #expect(try p(" 1, 2 ,3", layers: 3) == [1, 2, 3])
        #expect(try p("full") == Array(repeating: 512, count: 8))
        #expect(try p("none") == Array(repeating: 0, count: 8))
        #expect(try p("first:2") == [512, 512] + Array(repeating: 128, count: 6))
        #expect(try p("last:1") == Array(repeating: 128, count: 7) + [512])
        #expect(try p("interleaved:2") == [128, 128, 128, 512, 128, 128, 128, 512])
        #expect(try p("interleaved:4", lrm: 9, srm: 1) == [1, 9, 1, 9, 1, 9, 1, 9])
        #expect(try p("first:0") == Array(repeating: 128, count: 8))
        #expect(try p("LAST:8") == Array(repeating: 512, count: 8))
        for (bad, fragment) in [
            ("", "empty"), ("1,2", "gives 2 lengths"), ("-3", "out of range"), ("99999999", "out of range"),
            ("abc", "not a length"), ("1,,2", "not a length"), ("first:x", "must be a number"),
            ("first:9", "K is 9"), ("first:-1", "K is -1"), ("middle:2", "unknown placement"),
        ] {
            let e = #expect(throws: (any Error).self, "\"\(bad)\"") { try p(bad) }
            #expect(
                "\(String(describing: e))".contains(fragment),
                "\"\(bad)\": \"\(String(describing: e))\" lacks \"\(fragment)\"")
        }
        #expect(MemorySpec.compact([64, 64, 64, 512]) == "L0-2:64 L3:512")
    }
}
