// The inference pass: segments with memory against one long causal pass, streams, threads, capture, parity fixtures.
import Foundation
import TXL
import XCTest

final class InferenceTests: XCTestCase {
    /// Log-probs of `text` (batch 1) run in segments of `segment` with `options`.
    func run(_ m: TransformerXL, _ text: [UInt8], segment: Int, options: RunOptions) throws -> [Float] {
        let inf = try Inference(model: m, batch: 1, segment: segment, options: options)
        var out: [Float] = []
        var pos = 0
        while pos < text.count - 1 {
            let hi = min(pos + segment, text.count - 1)
            out += inf.step(inputs: Array(text[pos..<hi]), targets: Array(text[(pos + 1)...hi])).logProbs
            pos = hi
        }
        return out
    }

    /// With memory at least as long as the text in every layer, segments with memory are one long causal pass.
    func testSegmentsWithMemoryEqualOneLongPass() throws {
        var r = Rand(10)
        let text = r.bytes(25)
        for (sameLength, clamp, pre) in [(false, -1, false), (false, 5, true), (true, -1, false)] {
            let m = tinyModel(layers: 3, segment: 8, sameLength: sameLength, clamp: clamp, preLnorm: pre)
            let long = try run(m, text, segment: 24, options: RunOptions(config: m.config, memory: [32, 32, 32]))
            let segs = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [32, 32, 32]))
            let odd = try run(m, text, segment: 5, options: RunOptions(config: m.config, memory: [32, 32, 32]))
            assertClose(segs, long, tol: 1e-5, "segments of 8, same-length \(sameLength) clamp \(clamp) pre-LN \(pre)")
            assertClose(odd, long, tol: 1e-5, "segments of 5, same-length \(sameLength) clamp \(clamp) pre-LN \(pre)")
        }
    }

    /// Without memory each segment starts afresh: segment 2 of a run equals that segment run alone.
    func testNoMemoryForgets() throws {
        var r = Rand(11)
        let text = r.bytes(17)
        let m = tinyModel(layers: 2, segment: 8)
        let o = RunOptions(config: m.config, memory: [0, 0])
        let all = try run(m, text, segment: 8, options: o)
        let second = try run(m, Array(text[8...]), segment: 8, options: o)
        assertClose(Array(all[8...]), second, tol: 1e-6, "memory 0")
        // And memory does matter when given.
        let withMem = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [8, 8]))
        XCTAssertGreaterThan(zip(withMem[8...], second).map { abs($0 - $1) }.max()!, 1e-4)
    }

    /// Layer i with memory M_i sees exactly its last M_i inputs: a layer's memory longer than needed changes nothing.
    func testPerLayerMemoryIsIndependent() throws {
        var r = Rand(12)
        let text = r.bytes(33)
        let m = tinyModel(layers: 3, segment: 8)
        let a = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [0, 4, 8]))
        let b = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [0, 4, 9]))
        let c = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [0, 5, 8]))
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.count, 32)
    }

    func testBatchStreamsAreIndependentAndThreadsAgree() throws {
        var r = Rand(13)
        let m = tinyModel(layers: 2, heads: 3, segment: 6)
        let o = RunOptions(config: m.config, memory: [6, 3])
        let s0 = r.bytes(19), s1 = r.bytes(19), s2 = r.bytes(19)
        let alone = try [s0, s1, s2].map { try run(m, $0, segment: 6, options: o) }
        for threads in [1, 2, 3] {
            let saved = Inference.threads
            Inference.threads = threads
            defer { Inference.threads = saved }
            let inf = try Inference(model: m, batch: 3, segment: 6, options: o)
            var got = [[Float]](repeating: [], count: 3)
            var pos = 0
            while pos < 18 {
                let hi = min(pos + 6, 18)
                let inp = [s0, s1, s2].flatMap { Array($0[pos..<hi]) }, tgt = [s0, s1, s2].flatMap { Array($0[(pos + 1)...hi]) }
                let lp = inf.step(inputs: inp, targets: tgt).logProbs
                let t = hi - pos
                for b in 0..<3 { got[b] += lp[(b * t)..<((b + 1) * t)] }
                pos = hi
            }
            for b in 0..<3 { assertClose(got[b], alone[b], tol: 1e-5, "stream \(b) with \(threads) threads") }
        }
    }

    func testAttentionCapture() throws {
        var r = Rand(14)
        let m = tinyModel(layers: 2, segment: 8)
        let inf = try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [8, 8]))
        let text = r.bytes(17)
        XCTAssertTrue(inf.step(inputs: Array(text[0..<8]), targets: Array(text[1...8])).attention.isEmpty, "no capture unless asked")
        let out = inf.step(inputs: Array(text[8..<16]), targets: Array(text[9...16]), capture: [1])
        XCTAssertEqual(out.attention.count, 1)
        let a = out.attention[0]
        XCTAssertEqual([a.layer, a.heads, a.queries, a.keys, a.memoryKeys], [1, 2, 8, 16, 8])
        for h in 0..<a.heads {
            for q in 0..<a.queries {
                let row = (0..<a.keys).map { a.probability(head: h, query: q, key: $0) }
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5)
                for k in 0..<a.keys where a.distance(query: q, key: k) < 0 { XCTAssertEqual(row[k], 0) }
            }
        }
        XCTAssertEqual(a.distance(query: 0, key: 0), 8)
    }

    func testMemorySnapshotIsAValue() throws {
        var r = Rand(15)
        let m = tinyModel(layers: 2, segment: 8)
        let o = RunOptions(config: m.config, memory: [8, 8])
        let inf = try Inference(model: m, batch: 1, segment: 8, options: o)
        let text = r.bytes(25)
        _ = inf.step(inputs: Array(text[0..<8]), targets: Array(text[1...8]))
        let snapshot = inf.memory
        let first = inf.step(inputs: Array(text[8..<16]), targets: Array(text[9...16])).logProbs
        inf.memory = snapshot
        let again = inf.step(inputs: Array(text[8..<16]), targets: Array(text[9...16])).logProbs
        XCTAssertEqual(first, again, "restoring a snapshot replays the same segment")
        XCTAssertEqual(inf.memory.lengths, [8, 8])
        inf.reset()
        XCTAssertEqual(inf.memory.lengths, [0, 0])
    }

    func testBadRunSettingsThrow() {
        let m = tinyModel(layers: 2, segment: 8)
        XCTAssertThrowsError(try Inference(model: m, batch: 0, segment: 8, options: RunOptions(config: m.config)))
        XCTAssertThrowsError(try Inference(model: m, batch: 1, segment: 0, options: RunOptions(config: m.config)))
        XCTAssertThrowsError(try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [1])))
        XCTAssertThrowsError(try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [-1, 2])))
        XCTAssertThrowsError(try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [0, 2], sameLength: true)))
        XCTAssertThrowsError(try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, clampLen: -5)))
    }

    /// The reference fixtures, from $MEMSCOPE_FIXTURES (default ../shared/fixtures); skipped where absent.
    func testFixtureParity() throws {
        let folder = ProcessInfo.processInfo.environment["MEMSCOPE_FIXTURES"] ?? "../shared/fixtures"
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else {
            throw XCTSkip("no parity fixtures in \(folder) (set MEMSCOPE_FIXTURES=DIR); skipping the reference comparison")
        }
        for f in files {
            let fx = try Fixture(path: folder + "/" + f)
            let delta = try fx.maxForwardDelta()
            XCTAssertLessThanOrEqual(delta, 1e-4, "\(f): max |delta log-prob| \(delta)")
        }
    }
}
