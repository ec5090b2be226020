// Issue 8's findings on training: every field of a saved training state and of the settings is checked before use,
// with a message naming it; --resume refuses contradicting flags by name and applies the changeable ones.
import Foundation
import Testing
import TXL
@testable import Training

/// A tiny run saved after a few steps, shared by these tests and the fuzzer.
struct TinyRun {
    static let config = Config(nLayer: 2, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [8, 4])
    static func settings(steps: Int = 6) -> TrainSettings {
        var s = TrainSettings(
            batch: 2, segment: 8, memory: [8, 4], schedule: Schedule(lr: 3e-3, warmup: 2, steps: steps))
        s.evalBytes = 32; s.logEvery = 100; s.evalEvery = 1000; s.saveEvery = 1000
        return s
    }
    static func text(_ n: Int) -> [UInt8] {
        let s = Array("Transformer-XL keeps a memory of past activations at every layer. ".utf8)
        return (0..<n).map { s[$0 % s.count] }
    }
    static let train = text(1000), valid = text(64)

    /// The bytes of a checkpoint saved after 3 of 6 steps.
    static func checkpoint() throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "memscope-tiny-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.safetensors").path
        let m = TransformerXL(config: config)
        m.initialise(seed: 1)
        var n = 0
        _ = try Trainer(model: m, settings: settings(), train: train, valid: valid)
            .run(
                checkpoint: path, metadata: { ["train_data": "tiny"] }, log: { _ in },
                shouldStop: {
                    n += 1; return n > 3
                })
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// `bytes` with its metadata edited; the data section is kept.
    static func editMetadata(_ bytes: [UInt8], _ edit: (inout [String: String]) -> Void) throws -> [UInt8] {
        let f = try SafetensorsFile(bytes: bytes)
        var header =
            try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength(bytes))])) as! [String: Any]
        var meta = f.metadata
        edit(&meta)
        header["__metadata__"] = meta
        return rebuild(bytes, header: header)
    }

    static func headerLength(_ b: [UInt8]) -> Int { (0..<8).reduce(0) { $0 | Int(b[$1]) << (8 * $1) } }

    static func rebuild(_ bytes: [UInt8], header: [String: Any]) -> [UInt8] {
        guard let data = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]) else {
            Issue.record("a mutated header that JSONSerialization cannot write")
            return bytes
        }
        var json = [UInt8](data)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = (0..<8).map { UInt8((json.count >> (8 * $0)) & 0xff) }
        out += json
        out += bytes[(8 + headerLength(bytes))...]
        return out
    }

    /// Resumes from `bytes` with the tiny settings; the error's text, or nil when it resumed.
    static func resume(_ bytes: [UInt8], settings s: TrainSettings = settings()) -> String? {
        do {
            let f = try SafetensorsFile(bytes: bytes, path: "t.safetensors")
            _ = try Trainer(model: try TransformerXL(file: f), settings: s, train: train, valid: valid, resume: f)
            return nil
        } catch { return "\(error)" }
    }
}

@Suite struct ResumeValidationTests {
    func state(_ bytes: [UInt8]) throws -> [String: Any] {
        let f = try SafetensorsFile(bytes: bytes)
        return try JSONSerialization.jsonObject(with: Data(f.metadata["train_state"]!.utf8)) as! [String: Any]
    }

    /// The checkpoint with one train_state field replaced by `value` (JSON text).
    func withState(_ base: [UInt8], _ field: String, _ value: String) throws -> [UInt8] {
        try TinyRun.editMetadata(base) { meta in
            var s = try! JSONSerialization.jsonObject(with: Data(meta["train_state"]!.utf8)) as! [String: Any]
            s[field] = "@@"
            let text = String(
                decoding: try! JSONSerialization.data(withJSONObject: s, options: [.sortedKeys]), as: UTF8.self)
            meta["train_state"] = text.replacingOccurrences(of: "\"@@\"", with: value)
        }
    }

    // Finding 2: each of these trapped (or was accepted) before.
    @Test func everyStateFieldIsCheckedByName() throws {
        let base = try TinyRun.checkpoint()
        #expect(TinyRun.resume(base) == nil)
        let cases: [(String, String, String)] = [
            ("memoryLengths", "[4]", "train_state memoryLengths is 1 lengths"),
            ("memoryLengths", "[8, 99]", "train_state memoryLengths[1] is 99"),
            ("position", "9223372036854775807", "train_state position is 9223372036854775807"),
            ("position", "-1", "train_state position is -1"),
            ("bytesSeen", "9223372036854775807", "train_state bytesSeen"),
            ("seconds", "1e308", "train_state seconds"),
            ("rng", "[1, 2, 3]", "train_state rng is 3 numbers; expected 4"),
            ("rng", "[0, 0, 0, 0]", "train_state rng is all zero"),
            ("step", "-5", "train_state step is -5"),
            ("epoch", "9223372036854775807", "train_state epoch"),
            ("lastValidBPC", "-1", "train_state lastValidBPC"),
            ("position", "\"x\"", "train_state metadata is unreadable (wrong type at field position)"),
        ]
        for (field, value, expected) in cases {
            let m = TinyRun.resume(try withState(base, field, value))
            #expect(m?.contains(expected) == true, "\(field) = \(value): \(m ?? "accepted")")
            #expect(m?.contains("\n") != true)
        }
        for bad in ["9223372036854775807", "-1", "x"] {
            let m = TinyRun.resume(try TinyRun.editMetadata(base) { $0["adam_step"] = bad })
            #expect(m?.contains("adam_step is \"\(bad)\"") == true, "adam_step \(bad): \(m ?? "accepted")")
        }
    }

    // Finding 12: an unparsable train_settings said "has no training state".
    @Test func unreadableSettingsAreNamed() throws {
        let base = try TinyRun.checkpoint()
        let m = TinyRun.resume(try TinyRun.editMetadata(base) { $0["train_settings"] = "{\"batch\": 2" })
        #expect(m?.contains("train_settings metadata is unreadable") == true, "\(m ?? "accepted")")
        let s = try TinyRun.editMetadata(base) { $0["train_settings"] = "{\"batch\": \"two\"}" }
        #expect(
            message {
                _ = try TrainSettings.decode(
                    metadata: try SafetensorsFile(bytes: s).metadata["train_settings"]!, path: "p")
            }?
            .contains("field batch") == true)
    }

    // Finding 7: limits checked before the first step, the same as the readers'.
    @Test func settingsLimits() {
        func refused(_ edit: (inout TrainSettings) -> Void) -> String? {
            var s = TinyRun.settings(); edit(&s)
            return message { try s.validate(config: TinyRun.config, trainBytes: 1000) }
        }
        #expect(refused { $0.schedule.minLR = 5 }?.contains("--min-lr 5.0 must be between 0 and --lr") == true)
        #expect(refused { $0.schedule.steps = Int.max }?.contains("--steps") == true)
        #expect(refused { $0.clip = .infinity }?.contains("--clip") == true)
        #expect(refused { $0.schedule.lr = .nan }?.contains("--lr") == true)
        #expect(refused { $0.evalEvery = 0 }?.contains("--eval-every 0") == true)
        #expect(refused { $0.memory = [8, 70000] }?.contains("--mem") == true)
        #expect(refused { _ in } == nil)
        var c = TinyRun.config; c.clampLen = 70000
        #expect(message { try TinyRun.settings().validate(config: c, trainBytes: 1000) }?.contains("clamp_len") == true)
    }

    // Finding 4: the peak is estimated before allocating and refused with the estimate and the limit.
    @Test func memoryBudgetRefusesBeforeAllocating() {
        var s = TrainSettings(
            batch: 64, segment: 1024, memory: Array(repeating: 65536, count: 6),
            schedule: Schedule(lr: 1e-3, warmup: 0, steps: 10))
        s.evalBytes = 100
        let c = Config(nLayer: 6, nHead: 4, dModel: 256, dHead: 64, dInner: 1024, tgtLen: 1024, memLens: s.memory)
        let m = message { try s.validate(config: c, trainBytes: 1 << 20) } ?? ""
        #expect(m.contains("needs about") && m.contains("GB of working memory; the limit is"), "\(m)")
        #expect(s.estimatedPeakBytes(config: c, textBytes: 0) > 34.9e9)  // the allocation that aborted before
    }

    // Finding 8: flags given with --resume are compared with the checkpoint by name.
    @Test func resumeConflictsAreNamed() {
        let saved = TinyRun.settings()
        var r = ResumeRequest()
        r.layers = 3; r.batch = 4; r.data = "other.txt"; r.steps = 1000
        let conflicts = saved.resumeConflicts(with: r, config: TinyRun.config, data: "tiny")
        #expect(conflicts.count == 3)
        #expect(conflicts.contains("--layers 3 (the checkpoint has 2)"))
        #expect(conflicts.contains("--batch 4 (the checkpoint has 2)"))
        #expect(conflicts.contains { $0.hasPrefix("the training data: other.txt") })
        var same = ResumeRequest()
        same.layers = 2; same.batch = 2; same.memory = [8, 4]; same.data = "tiny"; same.steps = 1000; same.evalEvery = 7
        #expect(saved.resumeConflicts(with: same, config: TinyRun.config, data: "tiny").isEmpty)
        // An explicit --steps equal to the default is applied, not ignored.
        let applied = try? saved.resumed(with: same)
        #expect(applied?.schedule.steps == 1000)
        #expect(applied?.evalEvery == 7)
        var bad = ResumeRequest(); bad.saveEvery = 0
        #expect(message { _ = try saved.resumed(with: bad) }?.contains("--save-every 0") == true)
    }
}

func message(_ body: () throws -> Void) -> String? {
    do { try body() } catch { return "\(error)" }
    return nil
}
