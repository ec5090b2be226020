// MemScope's own fuzzer (issue 8): seeded mutations of the shipped model and of a tiny training checkpoint, their
// headers, shapes, offsets, dtypes, metadata and training states, each through the reader, the model loader and the
// resume validator. None may trap; each refusal is a one-line error.
import Foundation
import Testing
import TXL
@testable import Training

struct Mutator {
    var rng: Random
    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
    mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }

    static var ints: [Any] {
        [
            0, 1, 2, 3, -1, -8, 7, 8, 255, 256, 65536, 65537, 1 << 31, 1 << 32, (1 << 32) + 1, 1 << 53,
            Int.max, Int.min, 1e30, -1e30, 2.5, "x", NSNull(), [Int](), [1, 2], true,
        ]
    }

    /// One mutation of `bytes`; `what` says which, for the failure message.
    mutating func mutate(_ bytes: [UInt8]) -> (bytes: [UInt8], what: String) {
        let n = TinyRun.headerLength(bytes)
        var header = try! JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let names = header.keys.filter { $0 != "__metadata__" }.sorted()
        var meta = header["__metadata__"] as? [String: String] ?? [:]
        func json(_ text: String?) -> [String: Any]? {
            text.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        func text(_ object: [String: Any]) -> String {
            String(
                decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(),
                as: UTF8.self)
        }
        switch below(11) {
        case 0:
            var b = bytes
            let i = 8 + below(n)
            b[i] ^= UInt8(1 << below(8))
            return (b, "header byte \(i) flipped")
        case 1:
            var b = bytes
            let v: UInt64 = pick([
                0, 1, 2, UInt64(n - 1), UInt64(n + 1), UInt64(bytes.count), UInt64.max, 1 << 40, 100 << 20,
            ])
            for i in 0..<8 { b[i] = UInt8((v >> (8 * UInt64(i))) & 0xff) }
            return (b, "header length \(v)")
        case 2:
            let cut = below(bytes.count)
            return (Array(bytes[..<cut]), "truncated at \(cut)")
        case let kind where (3...5).contains(kind):
            // One field of one tensor's entry set to a hostile value.
            let name = pick(names)
            var t = header[name] as! [String: Any]
            let shape = t["shape"] as? [Int] ?? []
            let o = t["data_offsets"] as? [Int] ?? [0, 0], size = bytes.count - 8 - n
            let field = ["shape", "data_offsets", "dtype"][kind - 3]
            let choices: [Any] =
                switch field {
                case "shape":
                    [
                        [], [0], [-1], [2147483648, 2147483648], [1 << 62], shape.map { $0 + 1 },
                        Array(shape.reversed()), shape + [1], Array(repeating: 2, count: 9), [1.5], ["a"], [Int.max, 2],
                        7,
                    ]
                case "data_offsets":
                    [
                        [0, 0], [-1, o[1]], [o[0], Int.max], [o[1], o[0]], [o[0], size + 1], [o[0] + 4, o[1] + 4],
                        [o[0], o[1] - 4], [0, 1e30], [o[0]], [Int.min, 0], "0",
                    ]
                default: ["F32", "F16", "BF16", "I32", "I64", "U8", "F64", "Q8", "", 7, NSNull()]
                }
            let new = pick(choices)
            t[field] = new; header[name] = t
            let label = field == "data_offsets" ? "offsets" : field
            return (TinyRun.rebuild(bytes, header: header), "\(name) \(label) \(new)")
        case 6:
            var c = json(meta["txl_config"]) ?? [:]
            let key = pick([
                "n_token", "n_layer", "n_head", "d_model", "d_head", "d_inner", "tgt_len", "mem_lens", "eval_mem_lens",
                "clamp_len", "same_length", "pre_lnorm", "tie_weight", "activation", "layer_norm_eps",
            ])
            let v: Any =
                key.hasSuffix("lens")
                ? pick([[Int](), [8], [8, -1], [8, 1 << 20], [Int.max, 0], "8"] as [Any]) : pick(Mutator.ints)
            c[key] = v
            meta["txl_config"] = below(10) == 0 ? "{" : text(c)
            header["__metadata__"] = meta
            return (TinyRun.rebuild(bytes, header: header), "txl_config \(key) = \(v)")
        case 7, 8:
            let field = below(2) == 0 ? "train_state" : "train_settings"
            var s = json(meta[field]) ?? [:]
            let key =
                field == "train_state"
                ? pick(["step", "epoch", "position", "bytesSeen", "seconds", "rng", "memoryLengths", "lastValidBPC"])
                : pick([
                    "batch", "segment", "memory", "clip", "dropout", "dropatt", "seed", "logEvery", "evalEvery",
                    "evalBytes", "saveEvery",
                ])
            let v: Any =
                key == "rng" || key == "memory" || key == "memoryLengths"
                ? pick(
                    [[Int](), [1, 2, 3], [0, 0, 0, 0], [8, 4], [8, 5], [-1, 0], [Int.max, 1, 2, 3], [8, 4, 2]] as [Any])
                : pick(Mutator.ints)
            if key == "seed" || key == "rng", v is Int, (v as! Int) < 0 { s[key] = 1 } else { s[key] = v }
            meta[field] = text(s)
            header["__metadata__"] = meta
            return (TinyRun.rebuild(bytes, header: header), "\(field) \(key) = \(v)")
        case 9:
            meta["adam_step"] = pick(["0", "-1", "9223372036854775807", "99999999999999999999", "x", "1e3"])
            header["__metadata__"] = meta
            return (TinyRun.rebuild(bytes, header: header), "adam_step \(meta["adam_step"]!)")
        default:
            let name = pick(names)
            if below(2) == 0 {
                header[name] = nil
                return (TinyRun.rebuild(bytes, header: header), "\(name) removed")
            }
            header[name + ".extra"] = header[name]
            return (TinyRun.rebuild(bytes, header: header), "\(name) duplicated")
        }
    }
}

@Suite(.serialized) struct FuzzTests {
    /// Reader, loader and resume validator on one file; nil when it was accepted all the way, else the error.
    func run(_ bytes: [UInt8], tiny: Bool) -> String? {
        do {
            let f = try SafetensorsFile(bytes: bytes, path: "fuzz.safetensors")
            let m = try TransformerXL(file: f)
            guard tiny, let ss = f.metadata["train_settings"] else { return nil }
            let saved = try TrainSettings.decode(metadata: ss, path: f.path)
            try saved.checkLimits()
            var r = ResumeRequest(); r.batch = 2; r.steps = 6
            _ = saved.resumeConflicts(with: r, config: m.config, data: f.metadata["train_data"])
            _ = try Trainer(
                model: m, settings: TinyRun.settings(), train: TinyRun.train, valid: TinyRun.valid, resume: f)
            return nil
        } catch let e as ModelError {
            return e.description
        } catch {
            return "unexpected error type \(type(of: error)): \(error)"
        }
    }

    func fuzz(_ base: [UInt8], cases: Int, seed: UInt64, tiny: Bool) {
        var mutator = Mutator(rng: Random(seed: seed))
        var refused = 0
        for i in 0..<cases {
            let (bytes, what) = mutator.mutate(base)
            guard let error = run(bytes, tiny: tiny) else { continue }
            refused += 1
            #expect(!error.hasPrefix("unexpected"), "case \(i) (\(what)): \(error)")
            #expect(
                !error.contains("\n") && error.utf8.count < 600,
                "case \(i) (\(what)): message of \(error.utf8.count) bytes")
        }
        #expect(refused > cases / 3, "only \(refused) of \(cases) mutations refused")
    }

    @Test func tinyCheckpoint() throws {
        let base = try TinyRun.checkpoint()
        #expect(run(base, tiny: true) == nil)
        fuzz(base, cases: 400, seed: 8, tiny: true)
    }

    @Test func shippedModel() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("Assets/models/default.safetensors").path
        let base = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(run(base, tiny: false) == nil)
        fuzz(base, cases: 120, seed: 80, tiny: false)
    }
}
