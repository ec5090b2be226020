// The explorer's engine on the real runtime: a Transformer-XL checkpoint run by TXL's Inference.
import Analysis
import Foundation
import TXL

public final class TXLEngine: ExplorerEngine, @unchecked Sendable {
    public let model: TransformerXL
    public let modelName: String

    public init(model: TransformerXL, name: String) {
        self.model = model
        self.modelName = name
    }

    public var config: Config { model.config }
    public var maxMemory: Int { 8192 }

    /// Segments run before the one shown: enough to fill every layer's memory once. The explorer trades
    /// exactness far back for latency; `memscope attention --at` carries memory from the start of the text.
    public func warmupSegments(memory: [Int]) -> Int {
        let T = segmentLength
        return ((memory.max() ?? 0) + T - 1) / T
    }

    public func analyse(
        text: [UInt8], offset: Int, memory: [Int], cancelled: @Sendable () -> Bool
    ) throws
        -> SegmentAnalysis
    {
        let options = RunOptions(config: model.config, memory: memory)
        let offset = min(max(0, offset), max(0, text.count - 2))
        let seg: SegmentAttention
        do {
            seg = try withoutActuallyEscaping(cancelled) { cancelled in
                try Evaluator.attention(
                    model: model, text: text, offset: offset, options: options,
                    segment: segmentLength, warmup: warmupSegments(memory: memory),
                    progress: { _ in !cancelled() })
            }
        } catch AnalysisError.cancelled {
            throw CancellationError()
        }
        if cancelled() { throw CancellationError() }
        let memoryBytes = seg.memoryBefore.map { m in Array(text[max(0, seg.start - m)..<seg.start]) }
        let lossBits = seg.logProbs.map { -$0 / Float(M_LN2) }
        return SegmentAnalysis(
            offset: seg.start, bytes: seg.inputs, memoryBytes: memoryBytes, lossBits: lossBits,
            attention: seg.captures.sorted { $0.layer < $1.layer })
    }

    public func evaluate(
        text: [UInt8], start: Int, bytes: Int, memory: [Int],
        progress: @Sendable (EvalProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> EvalResult {
        let lo = min(max(0, start), text.count), hi = min(text.count, lo + max(0, bytes))
        let options = RunOptions(config: model.config, memory: memory)
        do {
            return try withoutActuallyEscaping(cancelled) { cancelled in
                try withoutActuallyEscaping(progress) { progress in
                    try Evaluator.evaluate(
                        model: model, text: Array(text[lo..<hi]), options: options,
                        segment: segmentLength
                    ) { p in
                        progress(p)
                        return !cancelled()
                    }
                }
            }
        } catch AnalysisError.cancelled {
            throw CancellationError()
        }
    }

    public func losses(
        text: [UInt8], start: Int, bytes: Int, memory: [Int], progress: @Sendable (WindowProgress) -> Void,
        cancelled: @Sendable () -> Bool
    ) throws -> WindowLosses {
        let lo = min(max(0, start), text.count), hi = min(text.count, lo + max(0, bytes)), n = hi - lo
        guard n >= 2 else { throw AnalysisError.badRequest("a loss window needs at least 2 bytes, not \(n)") }
        let T = segmentLength
        // Batch 1 and segments as Evaluator.evaluate runs them, so that the window's mean is eval's bpc.
        let run = try Inference(
            model: model, batch: 1, segment: min(T, n - 1), options: RunOptions(config: model.config, memory: memory))
        let t0 = DispatchTime.now().uptimeNanoseconds
        var out = [Float](repeating: .nan, count: n)
        var pos = 0
        let L = model.config.nLayer
        var acc = [DistanceProfile.Accumulator](repeating: .init(), count: L)
        // Capturing attention costs about as much as the step: the profiles sample at most 64 segments, evenly.
        let segments = (n - 1 + T - 1) / T, stride = max(1, segments / WindowLosses.profiledSegments)
        var index = 0
        while pos < n - 1 {
            if cancelled() { throw CancellationError() }
            let t = min(T, n - 1 - pos)
            let step = run.step(
                inputs: Array(text[(lo + pos)..<(lo + pos + t)]), targets: Array(text[(lo + pos + 1)...(lo + pos + t)]),
                capture: index % stride == 0 ? Set(0..<L) : [])
            index += 1
            for c in step.attention { acc[c.layer].add(c) }
            for i in 0..<t {
                out[pos + i] = -step.logProbs[i] / Float(M_LN2)
            }
            pos += t
            let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            progress(WindowProgress(done: pos, total: n - 1, seconds: secs))
        }
        let bins = acc.map(\.binCount).max() ?? 1
        return WindowLosses(bits: out, profiles: acc.enumerated().map { $1.profile(layer: $0, bins: bins) })
    }
}
