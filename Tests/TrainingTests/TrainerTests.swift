// The optimiser, the schedule, checkpoints and exact resume.
import Foundation
import Testing
import TXL
@testable import Training

@Suite struct TrainerTests {
    func text(_ n: Int) -> [UInt8] {
        let s = "Transformer-XL keeps a memory of past activations at every layer. Do all layers need it? "
        return Array((0..<n).map { Array(s.utf8)[$0 % s.utf8.count] })
    }

    func settings(steps: Int) -> TrainSettings {
        var s = TrainSettings(
            batch: 2, segment: 8, memory: [8, 4], schedule: Schedule(lr: 3e-3, warmup: 3, steps: steps))
        s.dropout = 0.1; s.dropatt = 0.1; s.evalBytes = 64; s.logEvery = 5; s.evalEvery = 1000; s.saveEvery = 1000
        return s
    }

    func newModel() -> TransformerXL {
        let c = Config(nLayer: 2, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [8, 4])
        let m = TransformerXL(config: c)
        m.initialise(seed: 1)
        return m
    }

    @Test func scheduleWarmsUpThenDecays() {
        let s = Schedule(lr: 1e-3, warmup: 10, steps: 110, minLR: 1e-4)
        #expect(abs(s.rate(at: 5) - 5e-4) < 1e-9)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-9)
        #expect(abs(s.rate(at: 60) - 5.5e-4) < 1e-7)
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-9)
    }

    @Test func clippingBoundsTheNorm() {
        let g = ParameterStore(config: newModel().config)
        for i in g.storage.indices { g.storage[i] = 1 }
        let before = Adam.clip(g, maxNorm: 0.5)
        #expect(abs(before - Float(g.storage.count).squareRoot()) < 1e-2)
        let after = g.storage.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
        #expect(abs(after - 0.5) < 1e-3)
    }

    @Test func lossGoesDown() throws {
        let m = newModel()
        let t = try Trainer(model: m, settings: settings(steps: 60), train: text(4000), valid: text(200))
        let first = t.step()
        var last: Float = 0
        for _ in 0..<59 { last = t.step() }
        #expect(last < first - 1)
    }

    /// Stop at step 7, save, load into a fresh trainer, finish: the same weights bit for bit as one uninterrupted run.
    @Test func resumeIsExact() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-resume-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.safetensors").path, b = dir.appendingPathComponent("b.safetensors").path
        let whole = newModel()
        #expect(
            try Trainer(model: whole, settings: settings(steps: 15), train: text(3000), valid: text(100))
                .run(checkpoint: a, log: { _ in }, shouldStop: { false }))
        var calls = 0
        let first = newModel()
        let stopped = try Trainer(model: first, settings: settings(steps: 15), train: text(3000), valid: text(100))
            .run(
                checkpoint: b, log: { _ in },
                shouldStop: {
                    calls += 1; return calls > 7
                })
        #expect(!stopped)
        let file = try SafetensorsFile(path: b)
        let resumed = try TransformerXL(file: file)
        let t = try Trainer(
            model: resumed, settings: settings(steps: 15), train: text(3000), valid: text(100), resume: file)
        #expect(t.state.step == 7)
        #expect(try t.run(checkpoint: b, log: { _ in }, shouldStop: { false }))
        #expect(Array(resumed.params.storage) == Array(whole.params.storage))
    }

    @Test func badSettingsAreRejectedBeforeWork() {
        let m = newModel()
        var s = settings(steps: 0)
        #expect(throws: ModelError.self) { try Trainer(model: m, settings: s, train: text(1000), valid: text(10)) }
        s = settings(steps: 5)
        #expect(throws: ModelError.self) { try Trainer(model: m, settings: s, train: text(12), valid: text(10)) }
        s.memory = [1, 2, 3]
        #expect(throws: ModelError.self) { try Trainer(model: m, settings: s, train: text(1000), valid: text(10)) }
    }

    @Test func resumeRefusesOtherSettings() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("memscope-refuse-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("c.safetensors").path
        let m = newModel()
        _ = try Trainer(model: m, settings: settings(steps: 4), train: text(1000), valid: text(50)).run(
            checkpoint: path, log: { _ in }, shouldStop: { false })
        var other = settings(steps: 4)
        other.batch = 3
        let file = try SafetensorsFile(path: path)
        #expect(throws: ModelError.self) {
            try Trainer(
                model: try TransformerXL(file: file), settings: other, train: text(1000), valid: text(50), resume: file)
        }
    }
}
