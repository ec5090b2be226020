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
}
