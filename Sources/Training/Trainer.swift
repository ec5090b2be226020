// The training loop: B contiguous streams with carried memory, Adam, validation, atomic checkpoints, exact resume
// (reference: train.py with LMOrderedIterator; checkpoints hold the optimizer, memory, data position and RNG).
import Foundation
import Analysis
import TXL

public struct TrainSettings: Codable, Sendable, Equatable {
    public var batch: Int
    public var segment: Int
    public var memory: [Int]
    public var schedule: Schedule
    public var clip: Float = 0.25
    public var dropout: Float = 0
    public var dropatt: Float = 0
    public var seed: UInt64 = 1
    public var logEvery = 50
    public var evalEvery = 500
    public var evalBytes = 65536
    public var saveEvery = 200

    public init(batch: Int, segment: Int, memory: [Int], schedule: Schedule) {
        self.batch = batch; self.segment = segment; self.memory = memory; self.schedule = schedule
    }

    /// Every setting against its limits (TrainStateValidation.swift), then against the model, the text and the memory
    /// this process may use: all before the first allocation and the first step.
    public func validate(config: Config, trainBytes: Int) throws {
        try checkLimits()
        try config.validate()
        try MemorySpec.check(memory, layers: config.nLayer, what: "--mem")
        if config.sameLength, let i = memory.firstIndex(of: 0) {
            throw ModelError.badInput("--same-length needs memory in every layer; layer \(i) has 0")
        }
        let perStream = trainBytes / batch
        guard perStream >= segment + 1 else {
            throw ModelError.badInput(
                "the training text (\(trainBytes) bytes) is too short for --batch \(batch) x --segment \(segment): "
                    + "each stream needs at least \(segment + 1) bytes"
            )
        }
        try MemoryBudget.check(
            estimatedPeakBytes(config: config, textBytes: trainBytes),
            for: "training with --batch \(batch) x --segment \(segment), memory up to \(memory.max() ?? 0)")
    }
}

/// Where a run is; saved in every checkpoint so that --resume continues exactly.
public struct TrainState: Codable, Sendable, Equatable {
    public var step = 0
    public var epoch = 0
    /// Position in each stream of the next segment.
    public var position = 0
    public var bytesSeen = 0
    public var seconds = 0.0
    public var rng: [UInt64] = []
    public var memoryLengths: [Int] = []
    public var lastValidBPC: Double?
}

public struct LogLine: Sendable {
    public let step: Int, steps: Int
    public let loss: Float
    public let lr: Float
    public let bytesPerSecond: Double
    public let elapsed: Double
    public let eta: Double
    public var bpc: Float { loss / Float(M_LN2) }
    public var text: String {
        "step \(step)/\(steps) | loss \(String(format: "%.4f", loss)) | bpc \(String(format: "%.4f", bpc)) | "
            + "lr \(String(format: "%.2e", lr)) | \(Int(bytesPerSecond)) B/s | \(formatDuration(elapsed)) elapsed | "
            + "ETA \(formatDuration(eta))"
    }
}

public final class Trainer: @unchecked Sendable {
    public let model: TransformerXL
    public let settings: TrainSettings
    public private(set) var state: TrainState
    let grads: ParameterStore
    let adam: Adam
    let pass: TrainingPass
    let train: [UInt8]
    let valid: [UInt8]
    let streamLength: Int

    public init(
        model: TransformerXL, settings: TrainSettings, train: [UInt8], valid: [UInt8], resume: SafetensorsFile? = nil
    ) throws {
        try settings.validate(config: model.config, trainBytes: train.count)
        self.model = model; self.settings = settings; self.train = train; self.valid = valid
        streamLength = train.count / settings.batch
        grads = ParameterStore(config: model.config)
        adam = Adam(config: model.config)
        pass = try TrainingPass(
            model: model, grads: grads, batch: settings.batch, segment: settings.segment, memory: settings.memory,
            dropout: settings.dropout, dropatt: settings.dropatt, seed: settings.seed)
        state = TrainState()
        state.rng = pass.rng.stateArray
        if let file = resume { try restore(from: file) }
    }

    // MARK: checkpoints

    public func save(to path: String, extraMetadata: [String: String] = [:]) throws {
        state.rng = pass.rng.stateArray
        state.memoryLengths = pass.memory.lengths
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        var meta = extraMetadata
        meta["train_settings"] = String(decoding: try enc.encode(settings), as: UTF8.self)
        meta["train_state"] = String(decoding: try enc.encode(state), as: UTF8.self)
        meta["adam_step"] = String(adam.step)
        var extra: [(name: String, shape: [Int], values: UnsafeBufferPointer<Float>)] = []
        for s in model.params.specs {
            extra.append(("optim.m." + s.name, s.shape, UnsafeBufferPointer(adam.m.buffer(s))))
            extra.append(("optim.v." + s.name, s.shape, UnsafeBufferPointer(adam.v.buffer(s))))
        }
        // Memory states are kept alive in `mems` while the writer copies them.
        let mems = (0..<model.config.nLayer).map { pass.memory.packed(layer: $0) }
        try mems.enumerated().map { ($0.offset, $0.element) }.withUnsafeMemory { views in
            for (l, view) in views {
                extra.append(("optim.memory.\(l)", [settings.batch, settings.memory[l], model.config.dModel], view))
            }
            try model.save(to: path, metadata: meta, extra: extra)
        }
    }

    func restore(from file: SafetensorsFile) throws {
        func fail(_ s: String) -> ModelError { .checkpoint(path: file.path, problem: s) }
        guard let st = file.metadata["train_state"], let ss = file.metadata["train_settings"] else {
            throw fail("has no training state to resume from (was it written by `memscope train`?)")
        }
        let old = try TrainSettings.decode(metadata: ss, path: file.path)
        let saved = try TrainState.decode(metadata: st, path: file.path)
        guard old.batch == settings.batch, old.segment == settings.segment, old.memory == settings.memory else {
            throw fail(
                "was trained with batch \(old.batch), segment \(old.segment), memory "
                    + "\(MemorySpec.compact(old.memory)); resume with the same settings"
            )
        }
        do { try saved.validate(settings: settings, config: model.config, trainBytes: train.count) } catch let e
            as ModelError
        { throw fail(e.description) }
        let adamStep: Int
        do { adamStep = try TrainState.adamStep(file.metadata["adam_step"], default: saved.step) } catch let e
            as ModelError
        { throw fail(e.description) }
        for s in model.params.specs {
            _ = adam.m.buffer(s).update(fromContentsOf: try file.floats("optim.m." + s.name, shape: s.shape))
            _ = adam.v.buffer(s).update(fromContentsOf: try file.floats("optim.v." + s.name, shape: s.shape))
        }
        adam.step = adamStep
        var states: [[Float]] = []
        for l in 0..<model.config.nLayer {
            states.append(
                try file.floats("optim.memory.\(l)", shape: [settings.batch, settings.memory[l], model.config.dModel]))
        }
        pass.memory.restore(lengths: saved.memoryLengths, states: states)
        pass.rng = Random(state: saved.rng)
        state = saved
    }

    // MARK: the loop

    /// Segment at the current position: stream b covers train[b*L ..< (b+1)*L].
    func nextBatch() -> (inputs: [UInt8], targets: [UInt8]) {
        let B = settings.batch, T = settings.segment
        if state.position + T + 1 > streamLength {
            state.position = 0
            state.epoch += 1
            pass.memory.reset()
        }
        var inp = [UInt8](repeating: 0, count: B * T), tgt = inp
        for b in 0..<B {
            let base = b * streamLength + state.position
            for i in 0..<T { inp[b * T + i] = train[base + i]; tgt[b * T + i] = train[base + i + 1] }
        }
        state.position += T
        return (inp, tgt)
    }

    /// One optimisation step; returns the mean loss in nats.
    public func step() -> Float {
        let (inp, tgt) = nextBatch()
        grads.zero()
        let loss = pass.forward(inputs: inp, targets: tgt, training: true)
        pass.backward()
        Adam.clip(grads, maxNorm: settings.clip)
        state.step += 1
        adam.update(model.params, grads: grads, lr: settings.schedule.rate(at: state.step))
        state.bytesSeen += inp.count
        return loss
    }

    /// bpc on the first `evalBytes` of the validation text with the training memory, batch 1, no dropout.
    public func validate() throws -> Double {
        let n = min(settings.evalBytes, valid.count)
        guard n >= 2 else { return .nan }
        return try Evaluator.evaluate(
            model: model, text: Array(valid.prefix(n)),
            options: RunOptions(config: model.config, memory: settings.memory),
            segment: settings.segment
        ).bpc
    }

    /// Trains to `schedule.steps` (or until `shouldStop`), saving to `checkpoint` every saveEvery steps and at the end.
    /// Returns true when it reached the last step, false when stopped early (the checkpoint is saved either way).
    public func run(
        checkpoint: String, metadata: @escaping () -> [String: String] = { [:] },
        log: (String) -> Void, shouldStop: () -> Bool
    ) throws -> Bool {
        let total = settings.schedule.steps
        var windowStart = Date(), windowBytes = 0, lossSum: Float = 0, lossCount = 0
        var lastSaveStep = state.step
        while state.step < total {
            if shouldStop() {
                try save(to: checkpoint, extraMetadata: metadata())
                log("stopped at step \(state.step); checkpoint saved to \(checkpoint); continue with --resume")
                return false
            }
            let t0 = Date()
            let loss = step()
            guard loss.isFinite else {
                throw ModelError.badInput(
                    "training diverged at step \(state.step) (loss \(loss)); lower --lr (now \(settings.schedule.lr)) "
                        + "or raise --warmup; the last good checkpoint is \(checkpoint)"
                )
            }
            state.seconds += Date().timeIntervalSince(t0)
            windowBytes += settings.batch * settings.segment
            lossSum += loss; lossCount += 1
            if state.step % settings.logEvery == 0 || state.step == total {
                let dt = Date().timeIntervalSince(windowStart)
                let rate = Double(windowBytes) / max(dt, 1e-9)
                let eta = Double((total - state.step) * settings.batch * settings.segment) / max(rate, 1e-9)
                log(
                    LogLine(
                        step: state.step, steps: total, loss: lossSum / Float(lossCount),
                        lr: settings.schedule.rate(at: state.step),
                        bytesPerSecond: rate, elapsed: state.seconds, eta: eta
                    ).text)
                windowStart = Date(); windowBytes = 0; lossSum = 0; lossCount = 0
            }
            if state.step % settings.evalEvery == 0 || state.step == total {
                let t1 = Date()
                let bpc = try validate()
                state.lastValidBPC = bpc
                log(
                    "step \(state.step) | valid bpc \(String(format: "%.4f", bpc)) over "
                        + "\(min(settings.evalBytes, valid.count)) bytes "
                        + "(\(String(format: "%.1f", Date().timeIntervalSince(t1))) s)"
                )
                windowStart = Date()
            }
            if state.step % settings.saveEvery == 0 || state.step == total {
                try save(to: checkpoint, extraMetadata: metadata())
                lastSaveStep = state.step
                windowStart = Date()
            }
        }
        if lastSaveStep != state.step { try save(to: checkpoint, extraMetadata: metadata()) }
        return true
    }
}

extension Array where Element == (Int, [Float]) {
    /// Gives stable buffer views of each array for the duration of `body`.
    func withUnsafeMemory<R>(_ body: ([(Int, UnsafeBufferPointer<Float>)]) throws -> R) throws -> R {
        func go(_ i: Int, _ acc: [(Int, UnsafeBufferPointer<Float>)]) throws -> R {
            if i == count { return try body(acc) }
            return try self[i].1.withUnsafeBufferPointer { try go(i + 1, acc + [(self[i].0, $0)]) }
        }
        return try go(0, [])
    }
}
