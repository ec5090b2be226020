// The A/B window's distance profiles, now summed by distance inside the step, against the same profiles built from
// full attention captures (DistanceProfile.Accumulator) on the same segments.
import Foundation
import Testing
import TXL
import Analysis
@testable import Explorer

@Suite struct WindowProfileTests {
    /// The window's profiles as `losses` built them before: every sampled segment captured in full.
    func capturedProfiles(_ e: TXLEngine, text: [UInt8], start: Int, bytes n: Int, memory: [Int]) throws
        -> [DistanceProfile]
    {
        let T = e.segmentLength, L = e.layerCount
        let run = try Evaluator.inference(
            network: e.network, batch: 1, segment: min(T, n - 1), options: RunOptions(config: e.config, memory: memory))
        var acc = [DistanceProfile.Accumulator](repeating: .init(), count: L)
        let segments = (n - 1 + T - 1) / T, stride = max(1, segments / WindowLosses.profiledSegments)
        var pos = 0, index = 0
        while pos < n - 1 {
            let t = min(T, n - 1 - pos)
            let out = run.step(
                inputs: Array(text[(start + pos)..<(start + pos + t)]),
                targets: Array(text[(start + pos + 1)...(start + pos + t)]),
                capture: index % stride == 0 ? Set(0..<L) : [])
            for c in out.attention { acc[c.layer].add(c) }
            index += 1
            pos += t
        }
        let bins = acc.map(\.binCount).max() ?? 1
        return acc.enumerated().map { $1.profile(layer: $0, bins: bins) }
    }

    @Test func profilesEqualThoseOfFullCaptures() throws {
        let c = Config(
            nLayer: 3, nHead: 2, dModel: 8, dHead: 4, dInner: 16, tgtLen: 8, memLens: [8, 8, 8],
            evalMemLens: [16, 4, 0])
        let e = TXLEngine(model: Benchmark.randomModel(c), name: "tiny")
        var rng = Random(seed: 9)
        let text = (0..<1300).map { _ in UInt8(truncatingIfNeeded: 32 + rng.next() % 95) }
        // 100 bytes: every segment profiled; 1,200: 150 segments, every second one profiled (a partial last one).
        for (start, n, memory) in [(3, 100, [16, 4, 0]), (0, 1200, [16, 4, 0]), (50, 1201, [5, 30, 8])] {
            let w = try e.losses(
                text: text, start: start, bytes: n, memory: memory, progress: { _ in }, cancelled: { false })
            let want = try capturedProfiles(e, text: text, start: start, bytes: n, memory: memory)
            #expect(w.profiles.count == want.count)
            for (got, ref) in zip(w.profiles, want) {
                #expect(got.layer == ref.layer && got.memoryKeys == ref.memoryKeys)
                #expect(got.bins.count == ref.bins.count)
                for (a, b) in zip(got.bins, ref.bins) { #expect(abs(a - b) <= 1e-9) }
                #expect(abs(got.meanDistance - ref.meanDistance) <= 1e-9 * max(1, ref.meanDistance))
                #expect(abs(got.beyondSegment - ref.beyondSegment) <= 1e-7)
            }
            // Memory 0 in the top layer: nothing beyond the segment.
            if memory[2] == 0 { #expect(w.profiles[2].beyondSegment == 0 && w.profiles[2].memoryKeys == 0) }
        }
    }
}
