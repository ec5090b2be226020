// Sweeps end to end at toy sizes: a two-cell training sweep, exact resume after a stop in the middle of a cell,
// the same bytes for every evaluation cell, and the errors (a placement that does not fit, a folder holding another
// sweep, a full disk).
import Analysis
import Foundation
import Testing
import TXL
@testable import Sweep

@Suite struct SweepTests {
    static func text(_ n: Int) -> [UInt8] {
        let s = "Transformer-XL keeps a memory of past activations at every layer. Do all layers need it? No, 4 of 24. "
        return (0..<n).map { Array(s.utf8)[($0 * 7 + $0 / 13) % s.utf8.count] }
    }

    static func data() -> SweepData {
        SweepData(train: text(3000), valid: text(200), test: text(300), testSplitSHA256: nil)
    }

    static func settings(steps: Int = 6) -> SweepTrainSettings {
        var s = SweepTrainSettings()
        s.layers = 2; s.dModel = 8; s.heads = 2; s.dHead = 4; s.dInner = 16; s.segment = 8; s.lrm = 16
        s.batch = 2; s.steps = steps; s.warmup = 2; s.lr = 3e-3
        s.logEvery = 2; s.evalEvery = 3; s.evalBytes = 64; s.saveEvery = 2
        s.data = "test text"; s.testBytes = 300
        return s
    }

    static let twoCells = [
        SweepCell(placement: "full", lrm: 16, srm: 4, seed: 1),
        SweepCell(placement: "last:1", lrm: 16, srm: 4, seed: 1),
    ]

    func tempDir(_ tag: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "memscope-sweep-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    func trainer(
        _ dir: String, settings: SweepTrainSettings = settings(), cells: [SweepCell] = twoCells,
        writer: FileWriter? = nil, log: @escaping (String) -> Void = { _ in },
        stop: @escaping () -> Bool = { false }
    ) throws -> SweepTrainer {
        try SweepTrainer(
            settings: settings, cells: cells, folder: SweepFolder(path: dir, writer: writer), data: SweepTests.data(),
            command: "memscope sweep train (test)", log: log, shouldStop: stop)
    }

    @Test func twoCellTrainingSweepEndToEnd() throws {
        let dir = try tempDir("e2e")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try trainer(dir).run() == .finished)
        let folder = SweepFolder(path: dir)
        let records = try folder.records()
        #expect(records.map(\.name) == ["full-s1", "last1-srm4-s1"])
        #expect(records[0].memory == [16, 16] && records[1].memory == [4, 16])
        #expect(records[0].longMemory == [64, 64] && records[1].longMemory == [4, 64])
        #expect(records[1].memoryFloats == 20 * 8)
        for r in records {
            #expect(r.steps == 6 && r.bytesSeen == 6 * 2 * 8)
            #expect(r.testBPC.isFinite && r.testBPC > 0 && r.testBPC < 9)
            #expect(r.longTestBPC?.isFinite == true)
            #expect(r.validBPC?.isFinite == true)
            #expect(r.curve?.map(\.step) == [2, 3, 4, 6])
            #expect(r.testBytes == 300 && r.textSHA256 == records[0].textSHA256)
            let m = try TransformerXL(path: (dir as NSString).appendingPathComponent(r.model))
            #expect(m.config.memLens == r.memory)
        }
        for f in [
            "sweep.json", "results.csv", "results.md", "chart-placements.svg", "chart-memory-state.svg",
            "chart-learning-curves.svg", "cells/full-s1.json", "cells/last1-srm4-s1.log",
        ] {
            #expect(FileManager.default.fileExists(atPath: folder.file(f)), "\(f) missing")
        }
        let csv = try String(contentsOfFile: folder.file("results.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 3)
        let svg = try String(contentsOfFile: folder.file("chart-placements.svg"), encoding: .utf8)
        #expect(svg.contains("long-range layers (of 2)") && svg.contains("last") && svg.contains("full (all 2 long)"))

        // A rerun trains nothing and changes nothing.
        var lines: [String] = []
        #expect(try trainer(dir, log: { lines.append($0) }).run() == .finished)
        #expect(lines.first?.contains("2 finished, 0 to run") == true)
        #expect(!lines.contains { $0.contains("step") })
        #expect(try folder.records() == records)
    }

    /// A sweep stopped in the middle of its second cell continues it from the checkpoint and ends with the same
    /// weights, bit for bit, as a sweep that was never stopped.
    @Test func resumeAfterAStopInTheMiddleOfACell() throws {
        let a = try tempDir("whole"), b = try tempDir("stopped")
        defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
        let s = SweepTests.settings(steps: 8)
        #expect(try trainer(a, settings: s).run() == .finished)

        // The stop comes after the second cell logs step 4 (evaluation also polls the stop flag, so count log lines).
        var stop = false
        #expect(
            try trainer(
                b, settings: s, log: { if $0.contains("cell 2/2") && $0.contains("| step 4/") { stop = true } },
                stop: { stop }
            ).run() == .stopped)
        #expect(try SweepFolder(path: b).records().map(\.name) == ["full-s1"])
        let ckpt = SweepFolder(path: b).cellFile("last1-srm4-s1.train.safetensors")
        #expect(FileManager.default.fileExists(atPath: ckpt))
        #expect(!FileManager.default.fileExists(atPath: SweepFolder(path: b).cellFile("last1-srm4-s1.safetensors")))

        var lines: [String] = []
        #expect(try trainer(b, settings: s, log: { lines.append($0) }).run() == .finished)
        #expect(lines.contains { $0.contains("resuming at step 4 of 8") })
        #expect(!lines.contains { $0.contains("cell 1/2") && $0.contains("step") })
        for name in ["full-s1", "last1-srm4-s1"] {
            let x = try TransformerXL(path: SweepFolder(path: a).cellFile(name + ".safetensors"))
            let y = try TransformerXL(path: SweepFolder(path: b).cellFile(name + ".safetensors"))
            #expect(Array(x.params.storage) == Array(y.params.storage), "\(name) differs after resume")
        }
        let ra = try SweepFolder(path: a).records(), rb = try SweepFolder(path: b).records()
        #expect(ra.map(\.testBPC) == rb.map(\.testBPC))
        #expect(ra.map { $0.curve ?? [] } == rb.map { $0.curve ?? [] })
    }

    @Test func everyEvaluationCellSeesTheSameBytes() throws {
        let dir = try tempDir("eval")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = Config(nLayer: 2, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [16, 16])
        let model = TransformerXL(config: c)
        model.initialise(seed: 3)
        let cells = SweepEvaluator.grid(
            placements: ["none", "full", "first:1", "last:1"], lrms: [16, 32], srms: [0, 8])
        #expect(cells.count == 2 + 2 + 4 + 4)
        var seen: [[UInt8]] = []
        let text = SweepTests.text(500)
        let ev = try SweepEvaluator(
            model: model, modelPath: "m", cells: cells, text: text, textDescription: "t", offset: 0,
            splitSHA256: nil, folder: SweepFolder(path: dir), command: "test", log: { _ in },
            shouldStop: { false },
            evaluate: { t, memory, progress in
                seen.append(t)
                return try Evaluator.evaluate(
                    model: model, text: t, options: RunOptions(config: c, memory: memory), segment: 8,
                    progress: progress)
            })
        #expect(try ev.run() == .finished)
        #expect(seen.count == cells.count && seen.allSatisfy { $0 == text })
        let records = try SweepFolder(path: dir).records()
        #expect(records.count == cells.count)
        #expect(Set(records.map(\.textSHA256)).count == 1)
        #expect(records.first { $0.name == "none-srm0" }?.memory == [0, 0])
        #expect(records.first { $0.name == "last1-lrm32-srm8" }?.memory == [8, 32])
        // Different memories give different bpc on the same bytes; identical memories give identical bpc.
        let none0 = records.first { $0.name == "none-srm0" }!.testBPC,
            full16 = records.first { $0.name == "full-lrm16" }!.testBPC
        #expect(none0 != full16)
        #expect(FileManager.default.fileExists(atPath: SweepFolder(path: dir).file("chart-srm.svg")))
    }

    @Test func anArrangementThatDoesNotFitIsRefused() throws {
        #expect(
            throws: SweepError.bad("placement \"last:3\" does not fit the model: K is 3 but the model has 2 layers")
        ) {
            _ = try SweepCell.parsePlacements("full,last:3", layers: 2)
        }
        #expect(throws: SweepError.self) { _ = try SweepCell.parsePlacements("middle:1", layers: 2) }
        #expect(throws: SweepError.self) {
            _ = try SweepCell.parseCells("last:1/x3", layers: 2, lrm: 8, defaultSRM: 4, defaultSeed: 1)
        }
        let dir = try tempDir("fit")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do {
            _ = try trainer(dir, cells: [SweepCell(placement: "interleaved:3", lrm: 16, srm: 4, seed: 1)])
            Issue.record("expected an error")
        } catch let e as SweepError {
            #expect(e.description.contains("does not fit the model"))
        }
        // A batch x segment the training text cannot hold is refused before any training, naming the cell.
        var s = SweepTests.settings()
        s.batch = 1000
        do { _ = try trainer(dir, settings: s); Issue.record("expected an error") } catch let e as SweepError {
            #expect(e.description.hasPrefix("cell full-s1:") && e.description.contains("too short"))
        }
    }

    @Test func aFolderHoldingAnotherSweepIsRefused() throws {
        let dir = try tempDir("other")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try trainer(dir, cells: [SweepTests.twoCells[0]]).run() == .finished)
        do {
            _ = try trainer(dir, settings: SweepTests.settings(steps: 7)).run()
            Issue.record("expected an error")
        } catch let e as SweepError {
            #expect(e.description.contains("holds another sweep: steps 6 there, 7 now"))
        }
        // Adding cells with the same settings is allowed: the finished one is kept, the new one runs.
        #expect(try trainer(dir).run() == .finished)
        #expect(try SweepFolder(path: dir).records().count == 2)

        let stray = try tempDir("stray")
        defer { try? FileManager.default.removeItem(atPath: stray) }
        try "[]".write(
            toFile: (stray as NSString).appendingPathComponent("results.json"), atomically: true, encoding: .utf8)
        #expect(throws: SweepError.self) { _ = try trainer(stray).run() }
    }

    @Test func aFullDiskIsAOneLineErrorAndLeavesNoHalfFile() throws {
        let dir = try tempDir("full")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer: FileWriter = { bytes, path in
            if path.hasSuffix("results.json") { throw POSIXError(.ENOSPC) }
            try AtomicFile.write(bytes, to: path)
        }
        do {
            _ = try trainer(dir, cells: [SweepTests.twoCells[0]], writer: writer).run()
            Issue.record("expected an error")
        } catch let e as SweepError {
            #expect(
                e.description.hasSuffix(
                    "results.json: cannot write (The operation couldn’t be completed. No space left on device)")
                    || e.description.contains("results.json: cannot write"))
            #expect(!e.description.contains("\n"))
        }
        #expect(!FileManager.default.fileExists(atPath: SweepFolder(path: dir).file("results.json")))
        // The trained cell survives: a rerun with room to write only evaluates it again.
        var lines: [String] = []
        #expect(try trainer(dir, cells: [SweepTests.twoCells[0]], log: { lines.append($0) }).run() == .finished)
        #expect(!lines.contains { $0.contains("| step") })
        #expect(try SweepFolder(path: dir).records().count == 1)
    }

    @Test func ticksAreRoundNumbers() {
        let t = Chart.ticks(0.03, 1.01, count: 5)
        #expect(t.count == 5)
        #expect(zip(t, [0.2, 0.4, 0.6, 0.8, 1.0]).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(Chart.ticks(0, 6, count: 6, integer: true) == [0, 1, 2, 3, 4, 5, 6])
        #expect(Chart.ticks(-0.3, 2.4, count: 3, integer: true) == [0, 1, 2])
    }
}
