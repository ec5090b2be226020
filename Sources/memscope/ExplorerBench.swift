// `memscope bench --explorer`: the explorer's three latencies on the real model and text, without a terminal:
// opening (model + text + first analysis + first frame), a heatmap update after a memory change, and one redraw.
import Corpus
import Explorer
import Foundation
import TXL

enum ExplorerBench {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

    static func run(modelPath: String?, text: TextOptions) throws {
        let t0 = now()
        let path = try ModelOptions.locate(modelPath)
        let engine = TXLEngine(
            model: try TransformerXL(path: path),
            name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension)
        let bytes: [UInt8] =
            text.text == nil && text.split == nil
            ? try CorpusStore().load(.test) : try text.load(command: "bench").bytes
        var state = AppState(model: ModelInfo(engine), text: bytes, textName: "bench", memory: nil, display: Display())
        let size = Size(width: 120, height: 40)
        _ = reduce(&state, .general(.resize(size)))
        func analyse(at offset: Int, memory: [Int]) throws -> Double {
            let t = now()
            let a = try engine.analyse(text: bytes, offset: offset, memory: memory, cancelled: { false })
            _ = reduce(
                &state,
                .worker(
                    .analysisReady(
                        request: state.analysisRequest, a, DistanceProfile.all(a),
                        memory: memory)))
            _ = render(state, size: size)
            return now() - t
        }
        _ = try analyse(at: 0, memory: state.memory)
        let open = now() - t0

        // A memory change deep in the text (every layer's memory full): recompute the segment and draw it.
        let offset = min(bytes.count - 2, 65_536)
        var updates: [Double] = []
        for i in 0..<7 {
            var memory = engine.defaultMemory
            memory[i % memory.count] /= 2
            _ = reduce(&state, .layers(.setAll(memory)))
            updates.append(try analyse(at: offset, memory: memory))
        }
        // A key press: reduce and render a frame, at 120x40 and 80x24.
        var frames: [Double] = [], small: [Double] = []
        for i in 0..<40 {
            let t = now()
            _ = reduce(&state, .layers(i % 2 == 0 ? .next : .previous))
            _ = render(state, size: size)
            frames.append(now() - t)
            let t2 = now()
            _ = render(state, size: Size(width: 80, height: 24))
            small.append(now() - t2)
        }
        let c = engine.model.config
        print(
            "explorer  model \((path as NSString).lastPathComponent): \(c.nLayer) layers, d_model \(c.dModel), segment \(c.tgtLen), memory \(MemorySpec.compact(engine.defaultMemory)); text \(bytes.count) bytes"
        )
        print(
            String(
                format:
                    "open      %.0f ms  (load model and text, analyse the first segment, draw the first frame; target 1000 ms)",
                open * 1000))
        print(
            String(
                format:
                    "update    %.0f ms median, %.0f ms worst of %d  (memory change at byte %d: %d warm-up segments + the segment, all layers captured, drawn; target 250 ms)",
                median(updates) * 1000, updates.max()! * 1000, updates.count, offset,
                engine.warmupSegments(memory: engine.defaultMemory)))
        print(
            String(
                format:
                    "redraw    %.1f ms median, %.1f ms worst at 120x40; %.1f ms median at 80x24  (a key press: reduce + render; target 50 ms)",
                median(frames) * 1000, frames.max()! * 1000, median(small) * 1000))
    }
}
