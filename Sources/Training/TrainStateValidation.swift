// One validation layer for what training reads: the settings (from flags or a checkpoint), the saved training state,
// and the flags given with --resume. Every field is checked before use, with a message naming it.
import Foundation
import TXL

extension TrainSettings {
    /// Upper limits shared by `train` and the checkpoint readers.
    public static let maxBatch = 1024, maxSegment = 8192, maxSteps = 100_000_000, maxEvery = 100_000_000
    public static let maxEvalBytes = 1 << 30

    /// Every setting against its limits, without the model or the data. `flag` names them as the command line does.
    public func checkLimits() throws {
        func bad(_ s: String) -> ModelError { .badInput(s) }
        guard (1...Self.maxBatch).contains(batch) else {
            throw bad("--batch \(batch) is out of range 1...\(Self.maxBatch)")
        }
        guard (1...Self.maxSegment).contains(segment) else {
            throw bad("--segment \(segment) is out of range 1...\(Self.maxSegment)")
        }
        let s = schedule
        guard (1...Self.maxSteps).contains(s.steps) else {
            throw bad("--steps \(s.steps) is out of range 1...\(Self.maxSteps)")
        }
        guard s.lr.isFinite && s.lr > 0 && s.lr < 1 else { throw bad("--lr \(s.lr) is out of range (0, 1)") }
        guard s.minLR.isFinite && s.minLR >= 0 && s.minLR <= s.lr else {
            throw bad("--min-lr \(s.minLR) must be between 0 and --lr \(s.lr)")
        }
        guard (0...s.steps).contains(s.warmup) else {
            throw bad("--warmup \(s.warmup) must be within 0...\(s.steps) steps")
        }
        guard clip.isFinite && clip >= 0 else { throw bad("--clip \(clip) must be a finite number >= 0 (0 = off)") }
        guard (0..<1).contains(dropout) else { throw bad("--dropout \(dropout) must be in [0, 1)") }
        guard (0..<1).contains(dropatt) else { throw bad("--dropatt \(dropatt) must be in [0, 1)") }
        for (name, v) in [("--log-every", logEvery), ("--eval-every", evalEvery), ("--save-every", saveEvery)]
        where !(1...Self.maxEvery).contains(v) {
            throw bad("\(name) \(v) is out of range 1...\(Self.maxEvery)")
        }
        guard (2...Self.maxEvalBytes).contains(evalBytes) else {
            throw bad("--eval-bytes \(evalBytes) is out of range 2...\(Self.maxEvalBytes)")
        }
        guard memory.allSatisfy({ (0...Config.maxLength).contains($0) }) else {
            throw bad("--mem \(MemorySpec.compact(memory)): lengths must be within 0...\(Config.maxLength)")
        }
    }

    /// Peak bytes of a training run: parameters, gradients and Adam's two moments, the saved activations of every
    /// layer (TrainingPass), the carried memory, the validation run and the text.
    public func estimatedPeakBytes(config c: Config, textBytes: Int) -> Double {
        let B = Double(batch), T = Double(segment), C = Double(c.dModel), A = Double(c.dAttn), F = Double(c.dInner)
        let H = Double(c.nHead), V = Double(c.nToken), D = Double(c.dHead)
        let ks = memory.map { Double($0) + T }, maxK = ks.max() ?? T
        let dropAtt = dropatt > 0 ? 2.0 : 1.0, drop = dropout > 0 ? 1.0 : 0.0, pre = c.preLnorm ? 1.0 : 0.0
        var floats = 0.0
        for K in ks {  // per layer, as TrainingPass allocates its saved activations
            floats +=
                (1 + pre) * B * K * C + 2 * B * K + B * T * A + B * K * 2 * A + K * A + dropAtt * B * H * T * K
                + B * T * A + (5 + drop + pre) * B * T * C + 2 * B * T + (1 + 2 * drop) * B * T * F
        }
        floats +=
            2 * maxK * C + 8 * B * T * C + B * T * V + B * T + 2 * B * T * A + B * maxK * 2 * A + maxK * A
            + 2 * B * maxK * C + B * T * F + 2 * T * maxK + 2 * T * D
        floats += B * Double(memory.reduce(0, +)) * C
        let validation = MemoryBudget.inferenceBytes(config: c, batch: 1, segment: segment, memory: memory, workers: 1)
        return floats * 4 + 4 * MemoryBudget.parameterBytes(c) + validation + Double(textBytes)
    }
}

extension TrainState {
    /// The saved state of a run with `settings` on `trainBytes` of text, field by field.
    public func validate(settings: TrainSettings, config: Config, trainBytes: Int) throws {
        func bad(_ field: String, _ value: Any, _ rule: String) -> ModelError {
            .badInput("train_state \(field) is \(value); \(rule)")
        }
        let streamLength = trainBytes / max(settings.batch, 1)
        guard (0...TrainSettings.maxSteps).contains(step) else {
            throw bad("step", step, "expected 0...\(TrainSettings.maxSteps)")
        }
        guard (0...TrainSettings.maxSteps).contains(epoch) else {
            throw bad("epoch", epoch, "expected 0...\(TrainSettings.maxSteps)")
        }
        guard (0...streamLength).contains(position) else {
            throw bad(
                "position", position,
                "expected 0...\(streamLength) (the length of each of the \(settings.batch) streams)")
        }
        let maxBytes = step.multipliedReportingOverflow(by: settings.batch * settings.segment)
        guard !maxBytes.overflow, (0...maxBytes.partialValue).contains(bytesSeen) else {
            throw bad("bytesSeen", bytesSeen, "expected 0...step x batch x segment")
        }
        guard seconds.isFinite && seconds >= 0 && seconds < 1e10 else {
            throw bad("seconds", seconds, "expected a finite time >= 0")
        }
        guard rng.count == 4 else { throw bad("rng", "\(rng.count) numbers", "expected 4") }
        guard rng.contains(where: { $0 != 0 }) else { throw bad("rng", "all zero", "expected a generator state") }
        guard memoryLengths.count == config.nLayer else {
            throw bad("memoryLengths", "\(memoryLengths.count) lengths", "expected one per layer (\(config.nLayer))")
        }
        for (l, m) in memoryLengths.enumerated() where !(0...settings.memory[l]).contains(m) {
            throw bad("memoryLengths[\(l)]", m, "expected 0...\(settings.memory[l]) (layer \(l)'s memory)")
        }
        if let b = lastValidBPC, !(b.isFinite && b >= 0) { throw bad("lastValidBPC", b, "expected a finite bpc >= 0") }
    }

    /// `adam_step` metadata: the optimizer's step count, 0...maxSteps.
    public static func adamStep(_ text: String?, default fallback: Int) throws -> Int {
        guard let text else { return fallback }
        guard let n = Int(text), (0...TrainSettings.maxSteps).contains(n) else {
            throw ModelError.badInput(
                "adam_step is \(ModelError.quote(text, limit: 40)); expected 0...\(TrainSettings.maxSteps)")
        }
        return n
    }
}

/// Training flags given on a `--resume` command line (nil: not given). Those that define the run must match the
/// checkpoint; those in `TrainSettings.changeableOnResume` replace the saved values.
public struct ResumeRequest: Sendable, Equatable {
    public var layers: Int?, dModel: Int?, heads: Int?, dHead: Int?, dInner: Int?, clamp: Int?
    public var preLnorm: Bool?, sameLength: Bool?
    public var segment: Int?, memory: [Int]?, evalMemory: [Int]?
    public var batch: Int?, lr: Float?, warmup: Int?, minLR: Float?, clip: Float?, dropout: Float?, dropatt: Float?
    public var seed: UInt64?
    /// The training data as `train` describes it (file or corpus with split hashes).
    public var data: String?
    // May change on resume.
    public var steps: Int?, logEvery: Int?, evalEvery: Int?, evalBytes: Int?, saveEvery: Int?
    public init() {}
}

extension TrainSettings {
    /// Flags that may differ from the checkpoint on `--resume`; they are applied.
    public static let changeableOnResume = [
        "--steps", "--log-every", "--eval-every", "--eval-bytes", "--save-every",
        "--threads", "--export",
    ]

    /// Each given flag that contradicts the checkpoint (its settings, model config and training data), by name.
    public func resumeConflicts(with r: ResumeRequest, config c: Config, data: String?) -> [String] {
        var out: [String] = []
        func check<T: Equatable>(_ flag: String, _ given: T?, _ saved: T, _ show: (T) -> String = { "\($0)" }) {
            if let given, given != saved { out.append("\(flag) \(show(given)) (the checkpoint has \(show(saved)))") }
        }
        check("--layers", r.layers, c.nLayer)
        check("--d-model", r.dModel, c.dModel)
        check("--heads", r.heads, c.nHead)
        check("--d-head", r.dHead, c.dHead)
        check("--d-inner", r.dInner, c.dInner)
        check("--clamp", r.clamp, c.clampLen)
        check("--pre-lnorm", r.preLnorm, c.preLnorm)
        check("--same-length", r.sameLength, c.sameLength)
        check("--segment", r.segment, segment)
        check("--mem", r.memory, memory, MemorySpec.compact)
        check("--eval-mem", r.evalMemory, c.defaultMemory, MemorySpec.compact)
        check("--batch", r.batch, batch)
        check("--lr", r.lr, schedule.lr)
        check("--warmup", r.warmup, schedule.warmup)
        check("--min-lr", r.minLR, schedule.minLR)
        check("--clip", r.clip, clip)
        check("--dropout", r.dropout, dropout)
        check("--dropatt", r.dropatt, dropatt)
        check("--seed", r.seed, seed)
        if let data, let given = r.data, given != data {
            out.append("the training data: \(given) (the checkpoint was trained on \(data))")
        }
        return out
    }

    /// The settings with the changeable flags of `r` applied, checked again.
    public func resumed(with r: ResumeRequest) throws -> TrainSettings {
        var s = self
        if let v = r.steps { s.schedule.steps = v }
        if let v = r.logEvery { s.logEvery = v }
        if let v = r.evalEvery { s.evalEvery = v }
        if let v = r.evalBytes { s.evalBytes = v }
        if let v = r.saveEvery { s.saveEvery = v }
        try s.checkLimits()
        return s
    }

    /// Decodes `train_settings` metadata, naming the field that is wrong.
    public static func decode(metadata text: String, path: String) throws -> TrainSettings {
        do { return try JSONDecoder().decode(TrainSettings.self, from: Data(text.utf8)) } catch {
            throw ModelError.checkpoint(
                path: path, problem: "train_settings metadata is unreadable (\(TrainState.describe(error)))")
        }
    }
}

extension TrainState {
    public static func decode(metadata text: String, path: String) throws -> TrainState {
        do { return try JSONDecoder().decode(TrainState.self, from: Data(text.utf8)) } catch {
            throw ModelError.checkpoint(path: path, problem: "train_state metadata is unreadable (\(describe(error)))")
        }
    }

    static func describe(_ error: Error) -> String {
        func at(_ ctx: DecodingError.Context) -> String {
            let p = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return p.isEmpty ? "not a JSON object" : "field \(p)"
        }
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing field \(key.stringValue)"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type at \(at(ctx))"
        case DecodingError.dataCorrupted(let ctx): return "bad value at \(at(ctx))"
        default: return "not JSON"
        }
    }
}
