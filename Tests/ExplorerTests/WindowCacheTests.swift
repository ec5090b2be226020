// The A/B window's B reruns only the layers at and above the first whose memory differs from A's, from the inputs A
// recorded (WindowCache): its losses and profiles must be bit-identical to a window that runs every layer.
import Foundation
import Testing
import TXL
import Analysis
@testable import Explorer

@Suite struct WindowCacheTests {
    static let config = Config(
        nLayer: 4, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [8, 8, 8, 8],
        evalMemLens: [16, 16, 16, 16])

    static func text(_ n: Int) -> [UInt8] {
        var rng = Random(seed: 11)
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: 32 + rng.next() % 95) }
    }

    func window(_ e: TXLEngine, _ text: [UInt8], start: Int = 5, bytes: Int = 900, memory: [Int]) throws -> WindowLosses {
        try e.losses(text: text, start: start, bytes: bytes, memory: memory, progress: { _ in }, cancelled: { false })
    }

    func expectIdentical(_ a: WindowLosses, _ b: WindowLosses) {
        #expect(a.bits.count == b.bits.count)
        #expect(zip(a.bits, b.bits).allSatisfy { $0.bitPattern == $1.bitPattern })
        #expect(a.profiles == b.profiles)
    }

    @Test func bStartsAtTheFirstChangedLayerAndMatchesAFullRun() throws {
        let model = Benchmark.randomModel(WindowCacheTests.config)
        let text = WindowCacheTests.text(1200)
        let a = [16, 16, 16, 16]
        let cachedEngine = TXLEngine(model: model, name: "m")
        let wa = try window(cachedEngine, text, memory: a)
        #expect(wa.firstLayer == 0)
        // Layers 1-3 recorded: 3 x 899 positions x 8 floats.
        #expect(cachedEngine.windowCache.storedBytes == 3 * 899 * 8 * 4)
        for (b, first) in [([16, 16, 16, 4], 3), ([16, 5, 16, 16], 1), ([16, 5, 16, 0], 3), ([2, 16, 16, 16], 0)] {
            let wb = try window(cachedEngine, text, memory: b)
            #expect(wb.firstLayer == first, "memory \(b)")
            let plain = try window(TXLEngine(model: model, name: "m"), text, memory: b)
            #expect(plain.firstLayer == 0)
            expectIdentical(wb, plain)
            // Cutting memory changes the losses: the comparison is not of a window with itself.
            #expect(wb.bits.dropLast() != wa.bits.dropLast())
        }
        // A again: its own recorded layers, from the top one.
        let again = try window(cachedEngine, text, memory: a)
        #expect(again.firstLayer == 3)
        expectIdentical(again, wa)
    }

    @Test func anotherWindowOrTextRunsEveryLayer() throws {
        let model = Benchmark.randomModel(WindowCacheTests.config)
        let text = WindowCacheTests.text(1200)
        let e = TXLEngine(model: model, name: "m")
        _ = try window(e, text, memory: [16, 16, 16, 16])
        #expect(try window(e, text, start: 6, memory: [16, 16, 16, 4]).firstLayer == 0)
        #expect(try window(e, text, bytes: 800, memory: [16, 16, 16, 4]).firstLayer == 0)
        var other = text
        other[500] ^= 1
        let w = try window(e, other, memory: [16, 16, 16, 4])
        #expect(w.firstLayer == 0)
        expectIdentical(w, try window(TXLEngine(model: model, name: "m"), other, memory: [16, 16, 16, 4]))
    }

    @Test func theStatusLineSaysWhichLayersAWindowReused() {
        var s = makeState()
        _ = reduce(&s, .compare(.pin))
        let jobA = s.windowJob!
        var r = try! FakeEngine().losses(
            text: s.text, start: 0, bytes: s.evalBytes, memory: jobA.window.memory, progress: { _ in },
            cancelled: { false })
        _ = reduce(&s, .worker(.windowFinished(request: jobA.request, jobA.window, r, seconds: 1)))
        #expect(s.message?.contains("reused") != true)  // A ran every layer: nothing to say
        _ = reduce(&s, .layers(.set(layer: 3, length: 0)))
        let jobB = s.windowJob!
        r.firstLayer = 3
        _ = reduce(&s, .worker(.windowFinished(request: jobB.request, jobB.window, r, seconds: 0.25)))
        #expect(s.message == "window of L0-2:64 L3:0 in 0.2 s: layers 3-3 run, 0-2 reused from an earlier window")
        #expect(!s.messageIsError)
    }

    @Test func budgetSpreadsRecordedLayersAndEvictsTheOldest() {
        let c = WindowCache(budget: 100)
        #expect(c.layersToRecord(above: 0, layers: 6, bytesPerLayer: 20) == [1, 2, 3, 4, 5])
        #expect(c.layersToRecord(above: 0, layers: 6, bytesPerLayer: 40) == [1, 3])
        #expect(c.layersToRecord(above: 3, layers: 6, bytesPerLayer: 40) == [4, 5])
        #expect(c.layersToRecord(above: 0, layers: 6, bytesPerLayer: 101).isEmpty)
        #expect(c.layersToRecord(above: 5, layers: 6, bytesPerLayer: 1).isEmpty)
        func entry(_ layer: Int, _ memory: [Int]) -> WindowCache.Entry {
            .init(
                layer: layer, memory: memory[0..<layer], tokens: [1, 2, 3],
                inputs: [Float](repeating: 0, count: 10), profiles: [])
        }
        c.insert([entry(1, [4, 4]), entry(1, [5, 4])])  // 40 bytes each
        #expect(c.best(tokens: [1, 2, 3], memory: [4, 9])?.layer == 1)  // [4] used last
        c.insert([entry(1, [6, 4])])  // over 100 bytes: the least recently used ([5]) goes
        #expect(c.storedBytes == 80)
        #expect(c.best(tokens: [1, 2, 3], memory: [5, 9]) == nil)
        #expect(c.best(tokens: [1, 2, 3], memory: [4, 9]) != nil && c.best(tokens: [1, 2, 3], memory: [6, 9]) != nil)
        #expect(c.best(tokens: [1, 2], memory: [4, 9]) == nil)
    }
}
