// The bpc evaluator against log-probs taken from Inference by hand; streams, cancellation, attention at an offset.
import Analysis
import Foundation
import TXL
import Testing

@Suite struct EvaluatorTests {
    let model = Benchmark.randomModel(
        Config(nLayer: 2, nHead: 2, dModel: 16, dHead: 6, dInner: 24, tgtLen: 8, memLens: [8, 4]), seed: 5)

    func text(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: ($0 * 37 + $0 / 7) % 97 + 20) } }

    /// -sum(log p)/ln 2 per predicted byte, the log-probs taken segment by segment from Inference directly.
    func handBPC(_ t: [UInt8], segment: Int, options: RunOptions) throws -> Double {
        let inf = try Inference(model: model, batch: 1, segment: segment, options: options)
        var nats = 0.0, pos = 0
        while pos < t.count - 1 {
            let hi = min(pos + segment, t.count - 1)
            for lp in inf.step(inputs: Array(t[pos..<hi]), targets: Array(t[(pos + 1)...hi])).logProbs {
                nats -= Double(lp)
            }
            pos = hi
        }
        return nats / Double(t.count - 1) / M_LN2
    }

    @Test func bpcMatchesHandComputation() throws {
        let t = text(53), o = RunOptions(config: model.config)
        let r = try Evaluator.evaluate(model: model, text: t, options: o, segment: 8)
        #expect(r.predicted == 52)
        let hand = try handBPC(t, segment: 8, options: o)
        #expect(abs(r.bpc - hand) <= 1e-9)
        #expect(r.memory == [8, 4])
        #expect(r.memoryFloats == 12 * 16)
        #expect(r.bpc > 0)
    }

    @Test func batchSplitsIntoContiguousStreams() throws {
        let t = text(43), o = RunOptions(config: model.config, memory: [5, 5])
        let r = try Evaluator.evaluate(model: model, text: t, options: o, segment: 8, batch: 3)
        // 43 bytes in 3 streams of 14 (the last byte unused), 13 predictions each.
        #expect(try Evaluator.streamLength(bytes: 43, batch: 3) == 14)
        #expect(r.predicted == 39)
        let bits = try (0..<3).map { b in try handBPC(Array(t[(b * 14)..<((b + 1) * 14)]), segment: 8, options: o) * 13
        }.reduce(0, +)
        #expect(abs(r.bits - bits) <= 1e-6)
    }

    @Test func badRequestsAndCancellation() throws {
        let o = RunOptions(config: model.config)
        #expect(throws: (any Error).self) { try Evaluator.evaluate(model: model, text: [], options: o, segment: 8) }
        #expect(throws: (any Error).self) { try Evaluator.evaluate(model: model, text: [1], options: o, segment: 8) }
        #expect(throws: (any Error).self) {
            try Evaluator.evaluate(model: model, text: text(5), options: o, segment: 8, batch: 3)
        }
        #expect(throws: (any Error).self) {
            try Evaluator.evaluate(model: model, text: text(5), options: o, segment: 8, batch: 0)
        }
        var calls = 0, total = 0
        #expect(throws: AnalysisError.cancelled) {
            try Evaluator.evaluate(model: model, text: text(100), options: o, segment: 8) { p in
                calls += 1
                total = p.total
                return p.done < 16
            }
        }
        #expect(total == 99)
        #expect(calls == 2)
    }

    @Test func attentionAtOffset() throws {
        let t = text(40), o = RunOptions(config: model.config)
        let a = try Evaluator.attention(model: model, text: t, offset: 19, options: o, segment: 8, layers: [1])
        #expect(a.start == 16)
        #expect(a.inputs == Array(t[16..<24]))
        #expect(a.memoryBefore == [8, 4])
        #expect(a.captures.map(\.layer) == [1])
        #expect(a.captures[0].keys == 4 + 8)
        // The same segment's log-probs as a straight run.
        let inf = try Inference(model: model, batch: 1, segment: 8, options: o)
        var last: [Float] = []
        for s in 0..<3 {
            last =
                inf.step(inputs: Array(t[(s * 8)..<(s * 8 + 8)]), targets: Array(t[(s * 8 + 1)...(s * 8 + 8)])).logProbs
        }
        #expect(a.logProbs == last)
        // The last segment is short; the last byte is only a target.
        let end = try Evaluator.attention(model: model, text: t, offset: 38, options: o, segment: 8)
        #expect(end.start == 32)
        #expect(end.inputs.count == 7)
        #expect(end.captures.count == 2)
        #expect(throws: (any Error).self) {
            try Evaluator.attention(model: model, text: t, offset: 39, options: o, segment: 8)
        }
        #expect(throws: (any Error).self) {
            try Evaluator.attention(model: model, text: t, offset: -1, options: o, segment: 8)
        }
        #expect(throws: (any Error).self) {
            try Evaluator.attention(model: model, text: t, offset: 3, options: o, segment: 8, layers: [2])
        }
    }

    @Test func flopModelByHand() {
        // One layer, C 4, A 2x3 = 6, F 8, V 256, T 2, M 3: query 0 sees 4 keys, query 1 sees 5 (mean 4.5).
        let c = Config(nLayer: 1, nHead: 2, dModel: 4, dHead: 3, dInner: 8, tgtLen: 2, memLens: [3])
        let qkv: Double = 2 * 4 * 18, attention: Double = 3 * 2 * 6 * 4.5, o: Double = 2 * 6 * 4, ff: Double = 4 * 4 * 8
        let output: Double = 2 * 4 * 256
        #expect(
            Benchmark.flopsPerByte(c, memory: [3], segment: 2, sameLength: false) == output + qkv + attention + o + ff)
        // Same length: every query sees exactly 3 keys.
        let window: Double = 3 * 2 * 6 * 3
        #expect(Benchmark.flopsPerByte(c, memory: [3], segment: 2, sameLength: true) == output + qkv + window + o + ff)
    }
}
