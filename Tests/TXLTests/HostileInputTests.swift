// Issue 8's findings on the reader side, each kept fixed: sizes from a file are overflow-checked, integers are read
// exactly, what a message quotes is cut short, a tied output copy is accepted, fixtures and configs are checked.
import Foundation
import Testing
@testable import TXL

/// A safetensors file from a header dictionary and a data section.
func safetensors(_ header: [String: Any], data: [UInt8] = []) -> [UInt8] {
    var json = [UInt8](try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    while json.count % 8 != 0 { json.append(0x20) }
    var out = [UInt8]()
    for i in 0..<8 { out.append(UInt8((UInt64(json.count) >> (8 * UInt64(i))) & 0xff)) }
    return out + json + data
}

func message(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return "\(error)" }
    return nil
}

/// A tiny model written to bytes, with `extra` tensors (name, dtype, shape, raw bytes) and metadata.
func tinyFile(extra: [(String, DType, [Int], [UInt8])] = [], metadata: [String: String] = [:]) throws -> [UInt8] {
    let m = tinyModel()
    var w = SafetensorsWriter(metadata: metadata.merging(["txl_config": m.config.json()]) { a, _ in a })
    for s in m.params.specs { w.add(s.name, shape: s.shape, floats: UnsafeBufferPointer(m.params.buffer(s))) }
    for (name, dtype, shape, raw) in extra { w.add(name, dtype: dtype, shape: shape, raw: raw) }
    return w.encode()
}

@Suite struct HostileInputTests {
    // Finding 1: the product of a shape overflowed Int64 inside the error message's own arithmetic.
    @Test func overflowingShapeIsAnErrorNotATrap() {
        for shape in [[2147483648, 2147483648], [4294967296, 4294967296, 4294967296], [1 << 32, 1 << 31, 2]] {
            let bytes = safetensors(["t": ["dtype": "F32", "shape": shape, "data_offsets": [0, 0]]])
            let m = message { _ = try SafetensorsFile(bytes: bytes, path: "x.safetensors") }
            #expect(m?.contains("too large (its byte count overflows)") == true, "\(shape): \(m ?? "accepted")")
        }
        #expect(SafetensorsFile.byteCount(shape: [1 << 31, 1 << 31, 4], dtype: .f32) == nil)
        #expect(SafetensorsFile.byteCount(shape: [3, 5], dtype: .f16) == 30)
    }

    @Test func offsetsAndShapesMustBeExactIntegers() {
        for (shape, offsets) in [
            ([2], [0, 8.5]), ([2.5], [0, 8]), ([2], [0, 1e30]), ([1e30], [0, 8]), ([2], [-8, 0]),
        ] as [([Double], [Double])] {
            let bytes = safetensors(
                ["t": ["dtype": "F32", "shape": shape, "data_offsets": offsets]], data: [UInt8](repeating: 0, count: 8))
            #expect(
                message { _ = try SafetensorsFile(bytes: bytes) } != nil, "shape \(shape) offsets \(offsets) accepted")
        }
    }

    // Finding 2: fixture.input_bytes holding Int64.max went through Float and trapped converting back.
    @Test func integerTensorsAreReadExactly() throws {
        var raw = [UInt8]()
        for v in [Int64.max, -1, 255] { withUnsafeBytes(of: v.littleEndian) { raw += $0 } }
        let f = try SafetensorsFile(
            bytes: safetensors(["i": ["dtype": "I64", "shape": [3], "data_offsets": [0, 24]]], data: raw))
        #expect(try f.ints("i") == [Int(Int64.max), -1, 255])
    }

    @Test func fixtureFieldsAreChecked() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "memscope-fixture-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func load(_ extra: [(String, DType, [Int], [UInt8])]) throws -> String? {
            let path = dir.appendingPathComponent("f.safetensors").path
            try AtomicFile.write(try tinyFile(extra: extra), to: path)
            return message { _ = try Fixture(path: path) }
        }
        var huge = [UInt8]()
        for _ in 0..<9 { withUnsafeBytes(of: Int64.max.littleEndian) { huge += $0 } }
        let exp = [UInt8](repeating: 0, count: 8 * 4)
        #expect(
            try load([("fixture.input_bytes", .i64, [9, 1], huge), ("fixture.expected_logprob", .f32, [8, 1], exp)])?
                .contains("fixture.input_bytes holds values outside 0...255") == true)
        let ok = [UInt8](repeating: 65, count: 9)
        #expect(
            try load([
                ("fixture.input_bytes", .u8, [9, 1], ok), ("fixture.expected_logprob", .f32, [8, 1], exp),
                ("grad.loss", .f32, [0], []),
            ])?.contains("grad.loss has shape [0], expected one value") == true)
        #expect(
            try load([("fixture.input_bytes", .u8, [9, 0], []), ("fixture.expected_logprob", .f32, [8, 0], [])])?
                .contains("batch 0") == true)
        #expect(
            try load([
                ("fixture.input_bytes", .f32, [9, 1], [UInt8](repeating: 0, count: 36)),
                ("fixture.expected_logprob", .f32, [8, 1], exp),
            ])?.contains("expected an integer type") == true)
    }

    // Finding 12: a 1 MB tensor name was echoed in full.
    @Test func quotedNamesAreCutShort() {
        let name = String(repeating: "n", count: 1 << 20)
        let bytes = safetensors([name: ["dtype": "Q8", "shape": [1], "data_offsets": [0, 1]]], data: [0])
        let m = message { _ = try SafetensorsFile(bytes: bytes) } ?? ""
        #expect(m.contains("unsupported dtype"))
        #expect(m.utf8.count < 400)
        #expect(m.contains("(1048576 bytes)"))
        #expect(!ModelError.quote("a\nb").contains("\n"))
    }

    // Finding 14: the reference's state_dict holds crit.out_layers.0.weight, the embedding itself in a tied model.
    @Test func tiedOutputCopyIsAcceptedAndADifferentOneRefused() throws {
        let m = tinyModel()
        let emb = ParameterSpec(name: "word_emb.emb_layers.0.weight", shape: [256, m.config.dModel])
        let values = Array(m.params.buffer(m.params.specs.first { $0.name == emb.name }!))
        func raw(_ v: [Float]) -> [UInt8] {
            v.flatMap { x in withUnsafeBytes(of: x.bitPattern.littleEndian) { Array($0) } }
        }
        let same = try TransformerXL(
            file: SafetensorsFile(
                bytes: try tinyFile(extra: [("crit.out_layers.0.weight", .f32, emb.shape, raw(values))])))
        #expect(Array(same.params.storage) == Array(m.params.storage))
        var other = values; other[3] += 1
        let m2 = message {
            _ = try TransformerXL(
                file: SafetensorsFile(
                    bytes: try tinyFile(extra: [("crit.out_layers.0.weight", .f32, emb.shape, raw(other))])))
        }
        #expect(m2?.contains("untied output layer") == true)
    }

    // Findings 7 and 13: a clamp the readers refuse, and an odd d_model, are refused by the config itself.
    @Test func configRefusesWhatReadersRefuse() {
        var c = tinyModel().config
        c.clampLen = 70000
        #expect(message { try c.validate() }?.contains("clamp_len is 70000") == true)
        c.clampLen = -1
        c.dModel = 13
        #expect(message { try c.validate() }?.contains("d_model is 13; it must be even") == true)
    }

    // Finding 10: a checkpoint's temp file left by a killed process is removed by the next write.
    @Test func staleTempFilesOfDeadProcessesAreRemoved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-stale-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("run.safetensors").path
        let dead = out + ".tmp-999999999", live = out + ".tmp-1"  // no such PID; PID 1 always exists
        for p in [dead, live] { _ = FileManager.default.createFile(atPath: p, contents: Data([1, 2, 3])) }
        try AtomicFile.write([1, 2, 3], to: out)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data([1, 2, 3]))
    }
}
