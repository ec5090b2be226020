// `memscope sweep train`: trains one model per cell (`memscope train` semantics via `Trainer`), one after another,
// then evaluates each on the test text at its trained arrangement and with its long-range layers at a longer length.
// Rae & Razavi (2020) §4-5 train every arrangement from scratch; this is that experiment, resumable cell by cell.
import Analysis
import Corpus
import Foundation
import TXL
import Training

/// Everything the cells of a training sweep share; sweep.json records it and a rerun must match it.
public struct SweepTrainSettings: Codable, Sendable, Equatable {
    public var layers = 6, dModel = 128, heads = 2, dHead = 64, dInner = 512
    public var segment = 64, lrm = 256
    public var preLnorm = false, sameLength = false, clamp = -1
    public var batch = 16, steps = 1000, warmup = 100
    public var lr: Float = 1e-3, minLR: Float = 0, clip: Float = 0.25, dropout: Float = 0, dropatt: Float = 0
    public var logEvery = 50, evalEvery = 500, evalBytes = 65536, saveEvery = 200
    /// The second test evaluation gives the long-range layers `longFactor` x lrm.
    public var longFactor = 4
    /// Describes the data (corpus and split hashes, or the text file and its hash).
    public var data = ""
    public var testOffset = 0
    public var testBytes = 0

    public init() {}

    public func config(memory: [Int]) -> Config {
        Config(
            nLayer: layers, nHead: heads, dModel: dModel, dHead: dHead, dInner: dInner, tgtLen: segment,
            memLens: memory, sameLength: sameLength, clampLen: clamp, preLnorm: preLnorm, evalMemLens: memory)
    }

    public func trainSettings(memory: [Int], seed: UInt64) -> TrainSettings {
        var s = TrainSettings(
            batch: batch, segment: segment, memory: memory,
            schedule: Schedule(lr: lr, warmup: warmup, steps: steps, minLR: minLR))
        s.clip = clip; s.dropout = dropout; s.dropatt = dropatt; s.seed = seed
        s.logEvery = logEvery; s.evalEvery = evalEvery; s.evalBytes = evalBytes; s.saveEvery = saveEvery
        return s
    }

    /// Flat key/value form for sweep.json, so that a mismatch can be named key by key.
    public func dictionary(cells: [SweepCell]) -> [String: String] {
        func f(_ x: Float) -> String { String(describing: x) }
        // Masking and norm placement are recorded only when they differ from the defaults, so that sweeps
        // started before they were settings still resume.
        var shape: [String: String] = [:]
        if preLnorm { shape["pre_lnorm"] = "true" }
        if sameLength { shape["same_length"] = "true" }
        if clamp != -1 { shape["clamp"] = "\(clamp)" }
        return shape.merging([
            "kind": "train", "layers": "\(layers)", "d_model": "\(dModel)", "heads": "\(heads)", "d_head": "\(dHead)",
            "d_inner": "\(dInner)", "segment": "\(segment)", "lrm": "\(lrm)", "batch": "\(batch)", "steps": "\(steps)",
            "warmup": "\(warmup)", "lr": f(lr), "min_lr": f(minLR), "clip": f(clip), "dropout": f(dropout),
            "dropatt": f(dropatt), "log_every": "\(logEvery)", "eval_every": "\(evalEvery)",
            "eval_bytes": "\(evalBytes)",
            "save_every": "\(saveEvery)", "long_factor": "\(longFactor)", "data": data, "test_offset": "\(testOffset)",
            "test_bytes": "\(testBytes)", "cells": cells.map { $0.name(withLRM: false) }.joined(separator: ","),
        ]) { a, _ in a }
    }
}

/// The bytes a training sweep reads.
public struct SweepData: Sendable {
    public let train: [UInt8], valid: [UInt8], test: [UInt8]
    public let testSplitSHA256: String?
    public init(train: [UInt8], valid: [UInt8], test: [UInt8], testSplitSHA256: String?) {
        self.train = train; self.valid = valid; self.test = test; self.testSplitSHA256 = testSplitSHA256
    }
}

public enum SweepOutcome: Equatable, Sendable { case finished, stopped }

public final class SweepTrainer {
    public let settings: SweepTrainSettings
    public let cells: [SweepCell]
    public let folder: SweepFolder
    let data: SweepData
    let command: String
    let log: (String) -> Void
    let shouldStop: () -> Bool
    /// Seconds per step measured in this process, for the sweep's ETA.
    var secondsPerStep: Double?
    var evalSecondsPerCell: Double?

    public init(
        settings: SweepTrainSettings, cells: [SweepCell], folder: SweepFolder, data: SweepData, command: String,
        log: @escaping (String) -> Void, shouldStop: @escaping () -> Bool
    ) throws {
        guard !cells.isEmpty else { throw SweepError.bad("the sweep has no cells") }
        guard settings.longFactor >= 1 else {
            throw SweepError.bad("--long-factor \(settings.longFactor) must be >= 1")
        }
        self.settings = settings; self.cells = cells; self.folder = folder; self.data = data
        self.command = command; self.log = log; self.shouldStop = shouldStop
        // Every cell is checked before any work: a bad placement or setting fails now, not hours in.
        for c in cells {
            let memory = try c.memory(layers: settings.layers)
            let config = settings.config(memory: memory)
            do {
                try config.validate()
                try settings.trainSettings(memory: memory, seed: c.seed ?? 1).validate(
                    config: config, trainBytes: data.train.count)
            } catch let e as ModelError { throw SweepError.bad("cell \(c.name(withLRM: false)): \(e.description)") }
        }
        guard data.test.count >= 2 else {
            throw SweepError.bad("the test text has \(data.test.count) bytes; bpc needs at least 2")
        }
        guard data.valid.count >= 2 else {
            throw SweepError.bad("the validation text has \(data.valid.count) bytes; it needs at least 2")
        }
    }

    var header: [String: String] { settings.dictionary(cells: cells).merging(["command": command]) { a, _ in a } }

    /// Runs every unfinished cell in order; `.stopped` when `shouldStop` became true (the running cell is saved).
    public func run() throws -> SweepOutcome {
        try folder.claim(settings: settings.dictionary(cells: cells), kind: "train")
        var records = try folder.records()
        let done = Set(records.map(\.name))
        let todo = cells.filter { !done.contains($0.name(withLRM: false)) }
        log(
            "sweep: \(cells.count) cells, \(cells.count - todo.count) finished, \(todo.count) to "
                + "run; results in \(folder.path)"
        )
        log(
            "data: \(settings.data); \(data.train.count) train, \(data.valid.count) valid, "
                + "\(data.test.count) test bytes"
        )
        for (i, cell) in cells.enumerated() where !done.contains(cell.name(withLRM: false)) {
            let position = i + 1
            let after = todo.drop { $0 != cell }.dropFirst().count
            guard let record = try runCell(cell, position: position, cellsAfter: after) else { return .stopped }
            records.removeAll { $0.name == record.name }
            records.append(record)
            records = SweepTables.ordered(records, by: cells.map { $0.name(withLRM: false) })
            try publish(records)
            log(
                "cell \(position)/\(cells.count) \(record.name): test bpc \(SweepTables.f4(record.testBPC))"
                    + (record.longTestBPC.map { " (at lrm \(record.longLRM ?? 0): \(SweepTables.f4($0)))" } ?? ""))
        }
        try publish(records)
        return .finished
    }

    func publish(_ records: [SweepRecord]) throws {
        let notes = [
            "Written by `\(command)`.", "",
            "Data: \(settings.data). Test text: \(settings.testBytes) bytes from offset \(settings.testOffset).",
        ]
        try folder.publish(records, header: header, title: "Training sweep", notes: notes, layers: settings.layers)
    }

    func cellLog(_ name: String) -> (String) -> Void {
        let path = folder.cellFile(name + ".log")
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        let handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
        return { [log] line in
            log(line)
            handle?.write(Data((line + "\n").utf8))
        }
    }

    /// Trains (or resumes) one cell, exports it and evaluates it. Nil when stopped.
    func runCell(_ cell: SweepCell, position: Int, cellsAfter: Int) throws -> SweepRecord? {
        let name = cell.name(withLRM: false)
        let ckpt = folder.cellFile(name + ".train.safetensors"), exported = folder.cellFile(name + ".safetensors")
        let memory = try cell.memory(layers: settings.layers)
        let say = cellLog(name)
        let tag = "cell \(position)/\(cells.count) \(name)"
        let fm = FileManager.default

        if !fm.fileExists(atPath: exported) {
            let model: TransformerXL, trainer: Trainer
            var curve: [LearningPoint] = [], seconds = 0.0
            let ts = settings.trainSettings(memory: memory, seed: cell.seed ?? 1)
            if fm.fileExists(atPath: ckpt) {
                let file = try SafetensorsFile(path: ckpt)
                model = try TransformerXL(file: file)
                guard model.config == settings.config(memory: memory) else {
                    throw SweepError.bad("\(ckpt) holds a model of another shape; move it away or choose another --out")
                }
                trainer = try Trainer(model: model, settings: ts, train: data.train, valid: data.valid, resume: file)
                if let c = file.metadata["sweep_curve"],
                    let d = try? JSONDecoder().decode([LearningPoint].self, from: Data(c.utf8))
                {
                    curve = d
                }
                seconds = Double(file.metadata["sweep_seconds"] ?? "") ?? 0
                say("\(tag): resuming at step \(trainer.state.step) of \(settings.steps)")
            } else {
                let config = settings.config(memory: memory)
                model = TransformerXL(config: config)
                model.initialise(seed: cell.seed ?? 1)
                trainer = try Trainer(model: model, settings: ts, train: data.train, valid: data.valid)
                say(
                    "\(tag): training \(MemorySpec.compact(memory)), seed \(cell.seed ?? 1), \(model.parameterCount) "
                        + "parameters, \(settings.steps) steps"
                )
            }
            guard
                try train(
                    trainer, cell: cell, tag: tag, checkpoint: ckpt, curve: &curve, seconds: &seconds,
                    cellsAfter: cellsAfter, say: say)
            else { return nil }
            let st = trainer.state
            model.metadata = [:]
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            try model.save(
                to: exported,
                metadata: [
                    "train_command": command, "train_data": settings.data, "train_steps": String(st.step),
                    "train_bytes_seen": String(st.bytesSeen), "train_seconds": String(format: "%.0f", seconds),
                    "train_valid_bpc": curve.last { $0.validBPC != nil }?.validBPC.map { String(format: "%.4f", $0) }
                        ?? "",
                    "sweep_cell": name, "sweep_curve": String(decoding: try enc.encode(curve), as: UTF8.self),
                ])
            say("\(tag): exported \(exported)")
        }
        return try evaluate(cell, name: name, model: exported, tag: tag, say: say)
    }

    /// The loop of `Trainer.run`, with a learning curve and the sweep's progress line. False when stopped (saved).
    func train(
        _ trainer: Trainer, cell: SweepCell, tag: String, checkpoint: String, curve: inout [LearningPoint],
        seconds: inout Double, cellsAfter: Int, say: (String) -> Void
    ) throws -> Bool {
        let total = settings.steps
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
        func save() throws {
            let meta = [
                "train_command": command, "train_data": settings.data, "sweep_cell": cell.name(withLRM: false),
                "sweep_curve": String(decoding: try enc.encode(curve), as: UTF8.self),
                "sweep_seconds": String(format: "%.1f", seconds),
            ]
            do { try trainer.save(to: checkpoint, extraMetadata: meta) } catch let e as ModelError {
                throw SweepError.bad(e.description)
            }
        }
        var windowStart = Date(), windowSteps = 0, lossSum = 0.0, lossCount = 0
        while trainer.state.step < total {
            if shouldStop() {
                try save()
                say(
                    "\(tag): stopped at step \(trainer.state.step); saved \(checkpoint); rerun "
                        + "the same command to continue"
                )
                return false
            }
            let t0 = Date()
            let loss = trainer.step()
            guard loss.isFinite else {
                throw SweepError.bad(
                    "\(tag): training diverged at step \(trainer.state.step) (loss \(loss)); "
                        + "lower --lr or raise --warmup"
                )
            }
            seconds += Date().timeIntervalSince(t0)
            windowSteps += 1
            lossSum += Double(loss); lossCount += 1
            let step = trainer.state.step
            if step % settings.logEvery == 0 || step == total {
                let dt = Date().timeIntervalSince(windowStart)
                let perStep = dt / Double(max(windowSteps, 1))
                secondsPerStep = secondsPerStep.map { 0.7 * $0 + 0.3 * perStep } ?? perStep
                let bpc = lossSum / Double(lossCount) / M_LN2
                curve.append(LearningPoint(step: step, trainBPC: bpc))
                let cellLeft = Double(total - step) * (secondsPerStep ?? 0)
                let evalLeft = (evalSecondsPerCell ?? 0) * Double(cellsAfter + 1)
                let sweepLeft = cellLeft + Double(cellsAfter * total) * (secondsPerStep ?? 0) + evalLeft
                let rate = Double(settings.batch * settings.segment) / max(perStep, 1e-9)
                say(
                    "\(tag) | step \(step)/\(total) | bpc \(String(format: "%.4f", bpc)) | \(Int(rate)) B/s | "
                        + "cell ETA \(formatDuration(cellLeft)) | sweep ETA \(formatDuration(sweepLeft))")
                windowStart = Date(); windowSteps = 0; lossSum = 0; lossCount = 0
            }
            if step % settings.evalEvery == 0 || step == total {
                let t1 = Date()
                let v: Double
                do { v = try trainer.validate() } catch let e as ModelError { throw SweepError.bad(e.description) }
                if let last = curve.last, last.step == step {
                    curve[curve.count - 1].validBPC = v
                } else {
                    curve.append(LearningPoint(step: step, validBPC: v))
                }
                say(
                    "\(tag) | step \(step) | valid bpc \(String(format: "%.4f", v)) over "
                        + "\(min(settings.evalBytes, data.valid.count)) bytes "
                        + "(\(String(format: "%.1f", Date().timeIntervalSince(t1))) s)"
                )
                windowStart = Date()
            }
            if step % settings.saveEvery == 0 || step == total {
                try save()
                windowStart = Date()
            }
        }
        return true
    }

    /// Test bpc of the exported model at its trained arrangement and with the long-range layers longer.
    func evaluate(
        _ cell: SweepCell, name: String, model path: String, tag: String, say: (String) -> Void
    ) throws -> SweepRecord? {
        let file = try SafetensorsFile(path: path)
        let model = try TransformerXL(file: file)
        let memory = try cell.memory(layers: settings.layers)
        let t0 = Date()
        say("\(tag): evaluating on \(data.test.count) test bytes at \(MemorySpec.compact(memory))")
        guard let short = try evalOnce(model, memory: memory) else {
            say("\(tag): stopped during the evaluation; rerun the same command to evaluate it again")
            return nil
        }
        var r = SweepRecord(
            name: name, placement: cell.placement, longLayers: cell.longLayers(layers: settings.layers),
            lrm: cell.lrm, srm: cell.srm, seed: cell.seed, memory: memory, memoryFloats: short.memoryFloats,
            testBPC: short.bpc, testBytes: data.test.count, testOffset: settings.testOffset,
            textSHA256: Digest.sha256Hex(data.test), splitSHA256: data.testSplitSHA256, evalSeconds: 0,
            model: "cells/\(name).safetensors")
        let longLRM = cell.lrm * settings.longFactor
        let longMemory = try cell.memory(layers: settings.layers, lrm: longLRM)
        if longMemory == memory {
            r.longLRM = longLRM; r.longMemory = memory; r.longMemoryFloats = short.memoryFloats;
            r.longTestBPC = short.bpc
        } else {
            say("\(tag): evaluating at \(MemorySpec.compact(longMemory))")
            guard let long = try evalOnce(model, memory: longMemory) else {
                say("\(tag): stopped during the evaluation; rerun the same command to evaluate it again")
                return nil
            }
            r.longLRM = longLRM; r.longMemory = longMemory; r.longMemoryFloats = long.memoryFloats;
            r.longTestBPC = long.bpc
        }
        r.evalSeconds = Date().timeIntervalSince(t0)
        evalSecondsPerCell = r.evalSeconds
        r.steps = Int(model.metadata["train_steps"] ?? "")
        r.bytesSeen = Int(model.metadata["train_bytes_seen"] ?? "")
        r.trainSeconds = Double(model.metadata["train_seconds"] ?? "")
        r.validBPC = Double(model.metadata["train_valid_bpc"] ?? "")
        if let c = model.metadata["sweep_curve"] {
            r.curve = try? JSONDecoder().decode([LearningPoint].self, from: Data(c.utf8))
        }
        let card = try SweepTables.json(
            [r], header: ["config": model.config.json(), "command": command, "data": settings.data])
        try folder.write(card, toPath: folder.cellFile(name + ".json"))
        return r
    }

    func evalOnce(_ model: TransformerXL, memory: [Int]) throws -> EvalResult? {
        do {
            return try Evaluator.evaluate(
                model: model, text: data.test, options: RunOptions(config: model.config, memory: memory),
                segment: settings.segment, batch: 1
            ) { [shouldStop] _ in !shouldStop() }
        } catch AnalysisError.cancelled {
            return nil
        }
    }
}
