// The inference pass: segments with memory against one long causal pass, streams, threads, capture, parity fixtures.
import Foundation
import TXL
import Testing

@Suite struct InferenceTests {
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
    @Test func segmentsWithMemoryEqualOneLongPass() throws {
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
    @Test func noMemoryForgets() throws {
        var r = Rand(11)
        let text = r.bytes(17)
        let m = tinyModel(layers: 2, segment: 8)
        let o = RunOptions(config: m.config, memory: [0, 0])
        let all = try run(m, text, segment: 8, options: o)
        let second = try run(m, Array(text[8...]), segment: 8, options: o)
        assertClose(Array(all[8...]), second, tol: 1e-6, "memory 0")
        // And memory does matter when given.
        let withMem = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [8, 8]))
        #expect(zip(withMem[8...], second).map { abs($0 - $1) }.max()! > 1e-4)
    }

    /// Layer i keeps exactly its last M_i inputs: a length beyond what the layer has seen changes nothing, until
    /// there is more to keep; then only the segments after that point change.
    @Test func perLayerMemoryKeepsExactlyItsLength() throws {
        var r = Rand(12)
        let text = r.bytes(33)
        let m = tinyModel(layers: 3, segment: 8)
        let a = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [0, 4, 8]))
        let b = try run(m, text, segment: 8, options: RunOptions(config: m.config, memory: [0, 4, 9]))
        #expect(a.count == 32 && b.count == 32)
        // Segments 1 and 2: layer 2 has at most 8 inputs to keep, so 8 and 9 are the same memory.
        assertClose(Array(a[0..<16]), Array(b[0..<16]), tol: 1e-6, "memory 8 and 9 before the 9th input")
        // Segment 3: memory 9 keeps one more input, and the predictions move.
        #expect(zip(a[16...], b[16...]).map { abs($0 - $1) }.max()! > 1e-4)
    }

    @Test func batchStreamsAreIndependentAndThreadsAgree() throws {
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
                let inp = [s0, s1, s2].flatMap { Array($0[pos..<hi]) },
                    tgt = [s0, s1, s2].flatMap { Array($0[(pos + 1)...hi]) }
                let lp = inf.step(inputs: inp, targets: tgt).logProbs
                let t = hi - pos
                for b in 0..<3 { got[b] += lp[(b * t)..<((b + 1) * t)] }
                pos = hi
            }
            for b in 0..<3 { assertClose(got[b], alone[b], tol: 1e-5, "stream \(b) with \(threads) threads") }
        }
    }

    /// With fewer rows than output columns (batch 1) the workers split each product's columns; with more (batch 8)
    /// its rows. Both paths, post-LN and pre-LN, give the same log-probabilities for the same text.
    @Test func columnAndRowSplitsAgree() throws {
        var r = Rand(15)
        let text = r.bytes(19)
        let saved = Inference.threads
        Inference.threads = 2
        defer { Inference.threads = saved }
        for pre in [false, true] {
            let m = tinyModel(layers: 2, heads: 2, dModel: 24, dHead: 8, dInner: 40, segment: 6, preLnorm: pre)
            let o = RunOptions(config: m.config, memory: [6, 4])
            let one = try run(m, text, segment: 6, options: o)  // 6 rows < 24, 40, 48 columns: split by columns
            let eight = try Inference(model: m, batch: 8, segment: 6, options: o)  // 48 rows: split by rows
            var pos = 0
            while pos < 18 {
                let hi = min(pos + 6, 18), t = hi - pos
                let inp = Array(repeating: Array(text[pos..<hi]), count: 8).flatMap { $0 }
                let tgt = Array(repeating: Array(text[(pos + 1)...hi]), count: 8).flatMap { $0 }
                let lp = eight.step(inputs: inp, targets: tgt).logProbs
                for b in 0..<8 {
                    let stream = Array(lp[(b * t)..<((b + 1) * t)])
                    assertClose(stream, Array(one[pos..<hi]), tol: 1e-5, "stream \(b), pre-LN \(pre)")
                }
                pos = hi
            }
        }
    }

    @Test func attentionCapture() throws {
        var r = Rand(14)
        let m = tinyModel(layers: 2, segment: 8)
        let inf = try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [8, 8]))
        let text = r.bytes(17)
        #expect(
            inf.step(inputs: Array(text[0..<8]), targets: Array(text[1...8])).attention.isEmpty,
            "no capture unless asked")
        let out = inf.step(inputs: Array(text[8..<16]), targets: Array(text[9...16]), capture: [1])
        #expect(out.attention.count == 1)
        let a = out.attention[0]
        #expect([a.layer, a.heads, a.queries, a.keys, a.memoryKeys] as [Int] == [1, 2, 8, 16, 8])
        for h in 0..<a.heads {
            for q in 0..<a.queries {
                let row = (0..<a.keys).map { a.probability(head: h, query: q, key: $0) }
                #expect(abs(row.reduce(0, +) - 1) <= 1e-5)
                for k in 0..<a.keys where a.distance(query: q, key: k) < 0 { #expect(row[k] == 0) }
            }
        }
        #expect(a.distance(query: 0, key: 0) == 8)
    }

    /// A profiled step's attention by distance is its captured attention summed over heads and queries by distance,
    /// with and without a same-length window, with 2 workers (heads split between them) and 1.
    @Test func distanceMassIsTheCaptureSummedByDistance() throws {
        var r = Rand(21)
        let text = r.bytes(30)
        for (sameLength, threads) in [(false, 2), (true, 2), (false, 1)] {
            let saved = Inference.threads
            Inference.threads = threads
            defer { Inference.threads = saved }
            let m = tinyModel(layers: 2, segment: 8, sameLength: sameLength)
            let inf = try Inference(
                model: m, batch: 2, segment: 8, options: RunOptions(config: m.config, memory: [8, 5]))
            #expect(inf.step(inputs: r.bytes(16), targets: r.bytes(16)).distances.isEmpty, "none unless asked")
            for s in 0..<3 {
                let x = Array(text[(s * 8)..<(s * 8 + 8)]) + r.bytes(8), y = r.bytes(16)
                let out = inf.step(inputs: x, targets: y, capture: [0, 1], profile: [0, 1])
                #expect(out.distances.map { $0.layer } == [0, 1])
                for (a, d) in zip(out.attention, out.distances) {
                    #expect([d.memoryKeys, d.queries, d.heads] as [Int] == [a.memoryKeys, a.queries, a.heads])
                    var mass = [Double](repeating: 0, count: a.keys), memory = 0.0
                    for h in 0..<a.heads {
                        for q in 0..<a.queries {
                            for k in 0..<a.keys where a.distance(query: q, key: k) >= 0 {
                                let p = Double(a.probability(head: h, query: q, key: k))
                                mass[a.distance(query: q, key: k)] += p
                                if k < a.memoryKeys { memory += p }
                            }
                        }
                    }
                    #expect(d.mass.count == a.keys)
                    for i in 0..<a.keys { #expect(abs(d.mass[i] - mass[i]) <= 1e-9) }
                    #expect(abs(d.memory - memory) <= 1e-6)
                    #expect(abs(d.mass.reduce(0, +) - Double(a.heads * a.queries)) <= 1e-4)
                }
            }
        }
    }

    @Test func memorySnapshotIsAValue() throws {
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
        #expect(first == again, "restoring a snapshot replays the same segment")
        #expect(inf.memory.lengths == [8, 8])
        inf.reset()
        #expect(inf.memory.lengths == [0, 0])
    }

    @Test func badRunSettingsThrow() {
        let m = tinyModel(layers: 2, segment: 8)
        #expect(throws: (any Error).self) {
            try Inference(model: m, batch: 0, segment: 8, options: RunOptions(config: m.config))
        }
        #expect(throws: (any Error).self) {
            try Inference(model: m, batch: 1, segment: 0, options: RunOptions(config: m.config))
        }
        #expect(throws: (any Error).self) {
            try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [1]))
        }
        #expect(throws: (any Error).self) {
            try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [-1, 2]))
        }
        #expect(throws: (any Error).self) {
            try Inference(
                model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, memory: [0, 2], sameLength: true))
        }
        #expect(throws: (any Error).self) {
            try Inference(model: m, batch: 1, segment: 8, options: RunOptions(config: m.config, clampLen: -5))
        }
    }

    /// The reference fixtures, from $MEMSCOPE_FIXTURES (default ../shared/fixtures); skipped where absent.
    @Test(.enabled(if: Fixtures.present, "no parity fixtures (set MEMSCOPE_FIXTURES=DIR)"))
    func fixtureParity() throws {
        for f in Fixtures.files {
            let fx = try Fixture(path: Fixtures.folder + "/" + f)
            let delta = try fx.maxForwardDelta()
            #expect(delta <= 1e-4, "\(f): max |delta log-prob| \(delta)")
        }
    }
}
