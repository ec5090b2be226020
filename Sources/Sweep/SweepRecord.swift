// One finished cell of a sweep as results.json, results.csv and results.md hold it, and the seed statistics
// the replication's table quotes (mean and spread of test bpc over the seeds of one arrangement).
import Analysis
import Foundation
import TXL
import Training

public struct LearningPoint: Codable, Sendable, Equatable {
    public var step: Int
    /// Mean training bpc over the steps since the previous point.
    public var trainBPC: Double?
    /// Validation bpc at this step, when one ran.
    public var validBPC: Double?
    public init(step: Int, trainBPC: Double? = nil, validBPC: Double? = nil) {
        self.step = step; self.trainBPC = trainBPC; self.validBPC = validBPC
    }
}

public struct SweepRecord: Codable, Sendable, Equatable {
    public var name: String
    public var placement: String
    /// Long-range layers in the arrangement (0 for none, all for full).
    public var longLayers: Int
    public var lrm: Int
    public var srm: Int?
    public var seed: UInt64?
    /// Memory per layer, bottom first, as trained (or as evaluated in an evaluation sweep).
    public var memory: [Int]
    /// Floats of memory state per stream: sum of the lengths x d_model.
    public var memoryFloats: Int
    public var steps: Int?
    public var bytesSeen: Int?
    public var trainSeconds: Double?
    public var validBPC: Double?
    public var testBPC: Double
    /// Test bpc with the long-range layers at `longLRM` (an evaluation at a longer memory than trained).
    public var longLRM: Int?
    public var longMemory: [Int]?
    public var longMemoryFloats: Int?
    public var longTestBPC: Double?
    /// Bytes of the evaluation text, its offset in the split, and the SHA-256 of exactly those bytes.
    public var testBytes: Int
    public var testOffset: Int
    public var textSHA256: String
    public var splitSHA256: String?
    public var evalSeconds: Double
    public var model: String
    public var curve: [LearningPoint]?

    enum CodingKeys: String, CodingKey {
        case name, placement, longLayers = "long_layers", lrm, srm, seed, memory, memoryFloats = "memory_floats", steps
        case bytesSeen = "bytes_seen", trainSeconds = "train_seconds", validBPC = "valid_bpc", testBPC = "test_bpc"
        case longLRM = "long_lrm", longMemory = "long_memory", longMemoryFloats = "long_memory_floats"
        case longTestBPC = "long_test_bpc", testBytes = "test_bytes", testOffset = "test_offset"
        case textSHA256 = "text_sha256", splitSHA256 = "split_sha256", evalSeconds = "eval_seconds", model, curve
    }

    public init(
        name: String, placement: String, longLayers: Int, lrm: Int, srm: Int?, seed: UInt64?, memory: [Int],
        memoryFloats: Int, testBPC: Double, testBytes: Int, testOffset: Int, textSHA256: String,
        splitSHA256: String?, evalSeconds: Double, model: String
    ) {
        self.name = name; self.placement = placement; self.longLayers = longLayers; self.lrm = lrm; self.srm = srm
        self.seed = seed; self.memory = memory; self.memoryFloats = memoryFloats; self.testBPC = testBPC
        self.testBytes = testBytes; self.testOffset = testOffset; self.textSHA256 = textSHA256
        self.splitSHA256 = splitSHA256; self.evalSeconds = evalSeconds; self.model = model
    }

    /// The arrangement without its seed: cells that differ only by seed share it.
    public var arrangement: String {
        var parts = [placement]
        if placement != "none" { parts.append("lrm \(lrm)") }
        if let srm { parts.append("srm \(srm)") }
        return parts.joined(separator: ", ")
    }
}

/// Test bpc of one arrangement over its seeds.
public struct SeedStats: Sendable, Equatable {
    public let arrangement: String
    public let values: [Double]
    public var mean: Double { values.reduce(0, +) / Double(max(values.count, 1)) }
    /// max - min over the seeds (0 for one seed).
    public var spread: Double { (values.max() ?? 0) - (values.min() ?? 0) }

    /// One entry per arrangement, in the order the arrangements first appear.
    public static func group(_ records: [SweepRecord], long: Bool = false) -> [SeedStats] {
        var order: [String] = [], values: [String: [Double]] = [:]
        for r in records {
            guard let v = long ? r.longTestBPC : r.testBPC else { continue }
            if values[r.arrangement] == nil { order.append(r.arrangement) }
            values[r.arrangement, default: []].append(v)
        }
        return order.map { SeedStats(arrangement: $0, values: values[$0]!) }
    }
}

public enum SweepTables {
    /// `records` in the order of `names` (each cell's place in the sweep); names not there go last, by name.
    public static func ordered(_ records: [SweepRecord], by names: [String]) -> [SweepRecord] {
        let order = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return records.sorted { (order[$0.name] ?? Int.max, $0.name) < (order[$1.name] ?? Int.max, $1.name) }
    }

    static func f4(_ x: Double?) -> String { x.map { $0.isFinite ? String(format: "%.4f", $0) : "" } ?? "" }

    public static func json(_ records: [SweepRecord], header: [String: String]) throws -> [UInt8] {
        struct File: Encodable { let sweep: [String: String]; let cells: [SweepRecord] }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array(try enc.encode(File(sweep: header, cells: records))) + [10]
    }

    public static func decode(_ data: Data, path: String) throws -> [SweepRecord] {
        struct File: Decodable { let cells: [SweepRecord] }
        do { return try JSONDecoder().decode(File.self, from: data).cells } catch {
            throw SweepError.io(path: path, problem: "is not a results file this version can read (\(error))")
        }
    }

    public static func csv(_ records: [SweepRecord]) -> String {
        var out = "name,placement,long_layers,lrm,srm,seed,memory,memory_floats,steps,bytes_seen,train_seconds,"
        out += "valid_bpc,test_bpc,long_lrm,long_memory,long_memory_floats,long_test_bpc,test_bytes,test_offset,"
        out += "text_sha256,split_sha256,eval_seconds,model\n"
        for r in records {
            let fields: [String] = [
                r.name, r.placement, String(r.longLayers), String(r.lrm), r.srm.map(String.init) ?? "",
                r.seed.map(String.init) ?? "", r.memory.map(String.init).joined(separator: " "), String(r.memoryFloats),
                r.steps.map(String.init) ?? "", r.bytesSeen.map(String.init) ?? "",
                r.trainSeconds.map { String(format: "%.0f", $0) } ?? "", f4(r.validBPC), f4(r.testBPC),
                r.longLRM.map(String.init) ?? "", r.longMemory.map { $0.map(String.init).joined(separator: " ") } ?? "",
                r.longMemoryFloats.map(String.init) ?? "", f4(r.longTestBPC), String(r.testBytes), String(r.testOffset),
                r.textSHA256, r.splitSHA256 ?? "", String(format: "%.1f", r.evalSeconds), r.model,
            ]
            out +=
                fields.map {
                    $0.contains(",") || $0.contains("\"")
                        ? "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\"" : $0
                }
                .joined(separator: ",") + "\n"
        }
        return out
    }

    /// The Markdown table of every cell, then (where an arrangement has several seeds) its mean and spread.
    public static func markdown(_ records: [SweepRecord], title: String, notes: [String]) -> String {
        var out = "# \(title)\n\n"
        for n in notes { out += "\(n)\n" }
        if !notes.isEmpty { out += "\n" }
        let trained = records.contains { $0.steps != nil }
        let hasLong = records.contains { $0.longTestBPC != nil }
        var head = ["cell", "placement", "K", "srm", "seed", "memory by layer (L0 first)", "memory state (floats)"]
        if trained { head += ["steps", "train time", "valid bpc"] }
        head.append("test bpc")
        if hasLong { head.append("test bpc, long layers at lrm x\(longFactor(records))") }
        out += "| " + head.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: head.count) + "\n"
        for r in records {
            var row = [
                r.name, "`\(r.placement)`", String(r.longLayers), r.srm.map(String.init) ?? "-",
                r.seed.map(String.init) ?? "-", r.memory.map(String.init).joined(separator: " "),
                grouped(r.memoryFloats),
            ]
            if trained {
                row += [r.steps.map(String.init) ?? "", r.trainSeconds.map(formatDuration) ?? "", f4(r.validBPC)]
            }
            row.append(f4(r.testBPC))
            if hasLong { row.append(f4(r.longTestBPC)) }
            out += "| " + row.joined(separator: " | ") + " |\n"
        }
        let stats = SeedStats.group(records)
        if stats.contains(where: { $0.values.count > 1 }) {
            out += "\nSeeds: test bpc per arrangement (mean, and max - min over the seeds).\n\n"
            out += "| arrangement | seeds | mean test bpc | spread | values |\n|---|---|---|---|---|\n"
            for s in stats {
                out +=
                    "| \(s.arrangement) | \(s.values.count) | \(f4(s.mean)) | "
                        + "\(s.values.count > 1 ? f4(s.spread) : "-") | "
                out += s.values.map { f4($0) }.joined(separator: ", ") + " |\n"
            }
        }
        return out
    }

    static func longFactor(_ records: [SweepRecord]) -> String {
        let factors = Set(records.compactMap { r in r.longLRM.map { r.lrm > 0 ? $0 / r.lrm : 0 } })
        return factors.count == 1 ? String(factors.first!) : "k"
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return out
    }
}
