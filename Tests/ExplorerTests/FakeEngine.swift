// A deterministic synthetic engine for the explorer's tests: attention decays with distance at a
// per-layer, per-head rate, so memory lengths visibly change the heatmap, profiles and loss.
import Foundation
@testable import Analysis
@testable import Explorer
@testable import TXL

struct FakeEngine: ExplorerEngine {
    var modelName = "fake-4L"
    var layerCount = 4
    var headCount = 2
    var dModel = 16
    var segmentLength = 32
    var defaultMemory = [64, 64, 64, 64]
    var maxMemory = 256
    var config: Config {
        Config(
            nLayer: layerCount, nHead: headCount, dModel: dModel, dHead: dModel / headCount, dInner: 4 * dModel,
            tgtLen: segmentLength, memLens: defaultMemory)
    }
    /// Seconds to sleep per segment in evaluate (to test cancellation and progress).
    var delay: Double = 0

    func segmentStart(_ offset: Int) -> Int { offset / segmentLength * segmentLength }

    func analyse(text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool) throws -> SegmentAnalysis {
        let start = segmentStart(offset)
        let bytes = Array(text[start..<min(start + segmentLength, text.count)])
        let Q = bytes.count
        var layers: [AttentionCapture] = []
        var memBytes: [[UInt8]] = []
        for l in 0..<layerCount {
            if cancelled() { throw CancellationError() }
            let M = min(memory[l], start)
            let K = M + Q
            var p = [Float](repeating: 0, count: headCount * Q * K)
            for h in 0..<headCount {
                let tau = Float(1 << (l + h + 1))
                for q in 0..<Q {
                    var sum: Float = 0
                    for k in 0...(M + q) {
                        let d = Float(M + q - k)
                        let w = exp(-d / tau) + 0.01
                        p[(h * Q + q) * K + k] = w
                        sum += w
                    }
                    for k in 0...(M + q) { p[(h * Q + q) * K + k] /= sum }
                }
            }
            layers.append(
                AttentionCapture(
                    layer: l, heads: headCount, queries: Q, keys: K, memoryKeys: M,
                    probabilities: p))
            memBytes.append(Array(text[(start - M)..<start]))
        }
        let loss = (0..<Q).map { q -> Float in
            start + q + 1 < text.count ? lossBits(text[start + q + 1], memory: memory) : .nan
        }
        return SegmentAnalysis(offset: start, bytes: bytes, memoryBytes: memBytes, lossBits: loss, attention: layers)
    }

    func lossBits(_ next: UInt8, memory: [Int]) -> Float {
        let m = Float(memory.reduce(0, +)) / Float(max(1, defaultMemory.reduce(0, +)))
        return (1 + Float(next % 7) * 0.75) * (1.2 - 0.2 * min(m, 2))
    }

    func evaluate(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (EvalProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> EvalResult {
        var bits = 0.0, done = 0
        let t0 = Date()
        while done < bytes {
            if cancelled() { throw CancellationError() }
            let n = min(segmentLength, bytes - done)
            for i in 0..<n {
                let j = start + done + i + 1
                bits += Double(lossBits(j < text.count ? text[j] : 0, memory: memory))
            }
            done += n
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            progress(EvalProgress(done: done, total: bytes, seconds: Date().timeIntervalSince(t0), bits: bits))
        }
        return evalResult(bytes: bytes, bpc: bits / Double(bytes), seconds: 2.5, memory: memory, dModel: dModel)
    }
}

extension FakeEngine {
    /// Per-byte losses: evaluate's, plus a term that grows as the memory of layer (i mod layers) shrinks,
    /// so that cutting one layer hurts some bytes more than others.
    func losses(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> WindowLosses {
        let n = min(bytes, text.count - start)
        var out = [Float](repeating: .nan, count: n)
        let t0 = Date()
        for i in 0..<(n - 1) {
            if i % segmentLength == 0 {
                if cancelled() { throw CancellationError() }
                if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            }
            let l = i % layerCount
            let cut = 1 - Float(min(memory[l], defaultMemory[l])) / Float(max(1, defaultMemory[l]))
            out[i] = lossBits(text[start + i + 1], memory: memory) + cut * Float(text[start + i + 1] % 5)
            if (i + 1) % segmentLength == 0 || i == n - 2 {
                progress(WindowProgress(done: i + 1, total: n - 1, seconds: Date().timeIntervalSince(t0)))
            }
        }
        // Profiles: those of the segments of the window, accumulated as the real engine does.
        var acc = [DistanceProfile.Accumulator](repeating: .init(), count: layerCount)
        var seg = start
        while seg < start + n - 1 {
            let a = try analyse(text: text, offset: seg, memory: memory, cancelled: cancelled)
            for c in a.attention { acc[c.layer].add(c) }
            seg += segmentLength
        }
        let bins = acc.map(\.binCount).max() ?? 1
        return WindowLosses(bits: out, profiles: acc.enumerated().map { $1.profile(layer: $0, bins: bins) })
    }
}

/// A fixed text of `n` bytes with newlines, tabs and a non-ASCII byte.
func sampleText(_ n: Int = 512) -> [UInt8] {
    let base = Array(
        ("The quick brown fox jumps over the lazy dog.\n"
            + "\tMemory is \u{e9}verything; attention looks back.\n").utf8)
    return (0..<n).map { base[$0 % base.count] }
}

func makeState(_ e: FakeEngine = FakeEngine(), text: [UInt8] = sampleText(), display: Display = Display()) -> AppState {
    AppState(model: ModelInfo(e), text: text, textName: "sample.txt", memory: nil, display: display)
}

/// The state with the analysis of its cursor's segment applied, as the controller would deliver it.
func analysed(_ s0: AppState, _ e: FakeEngine = FakeEngine()) -> AppState {
    var s = s0
    s.analysisRequest += 1
    let a = try! e.analyse(text: s.text, offset: s.cursor, memory: s.memory, cancelled: { false })
    _ = reduce(&s, .worker(.analysisReady(request: s.analysisRequest, a, DistanceProfile.all(a), memory: s.memory)))
    return s
}

/// An evaluation result as Analysis's Evaluator reports it: `bytes` predicted at `bpc`.
func evalResult(bytes: Int, bpc: Double, seconds: Double, memory: [Int], dModel: Int = 16) -> EvalResult {
    EvalResult(
        bits: bpc * Double(bytes), predicted: bytes, seconds: seconds, memory: memory, segment: 32, batch: 1,
        memoryFloats: memory.reduce(0, +) * dModel)
}

/// The reducer told that evaluation `request` finished: `bytes` predicted at `bpc` under `memory`.
@discardableResult
func finishEvaluation(
    _ s: inout AppState, request: Int, bytes: Int, bpc: Double, seconds: Double, memory: [Int]
) -> Effect {
    reduce(
        &s,
        .worker(
            .evalFinished(
                request: request, evalResult(bytes: bytes, bpc: bpc, seconds: seconds, memory: memory))))
}
