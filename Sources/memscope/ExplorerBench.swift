// `memscope bench --explorer`: the explorer's three latencies on the real model and text, without a terminal:
// opening (model + text + first analysis + first frame), a heatmap update after a memory change, and one redraw.
import Analysis
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
        state.open()  // as the explorer opens: on a segment whose memory is full
        _ = try analyse(at: state.cursor, memory: state.memory)
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
        let c = engine.config
        print(
            "explorer  model \((path as NSString).lastPathComponent): \(c.nLayer) layers, d_model \(c.dModel), "
                + "segment \(c.tgtLen), memory \(MemorySpec.compact(engine.defaultMemory)); text \(bytes.count) bytes"
        )
        print(
            String(
                format:
                    "open      %.0f ms  (load model and text, analyse the opening segment (memory full), draw the "
                        + "first frame; target 1000 ms)",
                open * 1000))
        print(
            String(
                format:
                    "update    %.0f ms median, %.0f ms worst of %d  (memory change at byte %d: %d warm-up segments + "
                        + "the segment, all layers captured, drawn; target 250 ms)",
                median(updates) * 1000, updates.max()! * 1000, updates.count, offset,
                engine.warmupSegments(memory: engine.defaultMemory)))
        print(
            String(
                format:
                    "redraw    %.1f ms median, %.1f ms worst at 120x40; %.1f ms median at 80x24  (a key press: "
                        + "reduce + render; target 50 ms)",
                median(frames) * 1000, frames.max()! * 1000, median(small) * 1000))
        try abWindow(engine: engine, bytes: bytes, state: &state, size: size)
    }

    /// The A/B comparison over the 64 KiB evaluation window: one plain evaluation for reference, then the loss
    /// windows run by the Controller as in the explorer, while this thread presses keys and draws frames to show
    /// that the UI is not blocked: A, then B with the top layer's memory halved (B reruns only the top layer, from
    /// the inputs A recorded), then B' with the bottom layer's halved instead (every layer rerun: the worst case).
    static func abWindow(engine: TXLEngine, bytes: [UInt8], state: inout AppState, size: Size) throws {
        let n = min(bytes.count, 65_536), L = engine.layerCount
        let a = engine.defaultMemory
        var b = a, bottom = a
        b[L - 1] /= 2
        bottom[0] /= 2
        var t = now()
        let single = try engine.evaluate(
            text: bytes, start: 0, bytes: n, memory: a, progress: { _ in }, cancelled: { false })
        let evalSeconds = now() - t
        state.evalBytes = n
        _ = reduce(&state, .layers(.setAll(a)))
        let controller = Controller(engine: engine, text: bytes)
        var frames: [Double] = []
        var finished: [[Int]: (seconds: Double, bpc: Double, firstLayer: Int)] = [:]
        /// Drives the controller and draws frames until the window of `memory` is done.
        func waitFor(_ memory: [Int], _ first: Effect) throws {
            var e = first
            while finished[memory] == nil {
                if e.window == .start, let job = state.windowJob {
                    controller.startWindow(request: job.request, window: job.window)
                }
                e = .none
                for action in controller.drain() {
                    if case .worker(.windowFinished(_, let w, let r, let secs)) = action {
                        finished[w.memory] = (secs, AppState.bpc(r.bits), r.firstLayer)
                    }
                    if case .worker(.windowFailed(_, let m)) = action { throw ExplorerBenchError.failed(m) }
                    e = e.merged(reduce(&state, action))
                }
                let f = now()
                _ = reduce(&state, .layers(frames.count % 2 == 0 ? .next : .previous))
                _ = render(state, size: size)
                frames.append(now() - f)
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        t = now()
        try waitFor(a, reduce(&state, .compare(.pin)))
        try waitFor(b, reduce(&state, .layers(.setAll(b))))
        let abSeconds = now() - t
        guard state.abLosses != nil, let fa = finished[a], let fb = finished[b] else {
            throw ExplorerBenchError.failed("the comparison did not show both windows")
        }
        try waitFor(bottom, reduce(&state, .layers(.setAll(bottom))))
        let fw = finished[bottom]!
        func rerun(_ first: Int) -> String {
            first == 0 ? "every layer run" : "layers \(first)-\(L - 1) run, 0-\(first - 1) reused from A"
        }
        print(
            String(
                format:
                    "a/b       %.1f s for A and B over %@ (A %@, B %@): %.2fx one evaluation "
                    + "(%.1f s, bpc %.4f; target 2x); A %.1f s, B %.1f s (%@); window bpc A %.4f B %.4f; "
                    + "%d frames drawn meanwhile, worst %.1f ms",
                abSeconds, formatBytes(n), MemorySpec.compact(a), MemorySpec.compact(b), abSeconds / evalSeconds,
                evalSeconds, single.bpc, fa.seconds, fb.seconds, rerun(fb.firstLayer), fa.bpc, fb.bpc, frames.count,
                (frames.max() ?? 0) * 1000))
        print(
            String(
                format:
                    "a/b low   B' %@ (bottom layer halved, %@): %.1f s, so A and B' take %.2fx one evaluation; "
                    + "window bpc %.4f",
                MemorySpec.compact(bottom), rerun(fw.firstLayer), fw.seconds, (fa.seconds + fw.seconds) / evalSeconds,
                fw.bpc))
    }
}

extension ExplorerBench {
    /// The explorer on a word model (a Hugging Face folder): open (load, tokenize, first analysis and frame), the
    /// first heatmap of a segment deep in the text (every warm-up segment, every layer), then after a change of the
    /// top layer's memory and of the bottom layer's (partial recompute: the layers run are counted), and the peak
    /// resident size. `text` nil: a random text of the vocabulary's words (Zipf-like cluster shares), 16 per line.
    static func runWord(folder: String, text: [UInt8]?, shares: [Double]) throws {
        let t0 = now()
        let hf = try HFCheckpoint(directory: folder)
        let c = hf.config
        let bytes: [UInt8]
        if let text {
            bytes = text
        } else {
            var out = ""
            for (i, id) in WordBenchmark.tokens(c, count: 1 << 15, shares: shares).enumerated() {
                if id == hf.vocabulary.eos { continue }
                out += hf.vocabulary.word(id) + (i % 16 == 15 ? "\n" : " ")
            }
            bytes = Array(out.utf8)
        }
        let name = (folder as NSString).lastPathComponent
        let engine: TXLEngine
        do { engine = try TXLEngine(model: hf, name: name, text: bytes) } catch { throw Failure("\(error)") }
        let tokens = engine.tokenText!
        var state = AppState(
            model: ModelInfo(engine), text: tokens.placeholderBytes, textName: "bench", memory: nil, display: Display())
        let size = Size(width: 120, height: 40)
        _ = reduce(&state, .general(.resize(size)))
        func analyse(at offset: Int, memory: [Int]) throws -> (seconds: Double, layers: Int, steps: Int) {
            let t = now(), steps = engine.layerSteps
            let a = try engine.analyse(text: state.text, offset: offset, memory: memory, cancelled: { false })
            _ = reduce(&state, .layers(.setAll(memory)))
            _ = reduce(
                &state,
                .worker(.analysisReady(request: state.analysisRequest, a, DistanceProfile.all(a), memory: memory)))
            _ = render(state, size: size)
            return (now() - t, a.layersRun, engine.layerSteps - steps)
        }
        let full = engine.defaultMemory, L = engine.layerCount, T = engine.segmentLength
        let first = try analyse(at: 0, memory: full)
        let open = now() - t0
        // Deep in the text: every layer's memory full after the warm-up segments.
        let offset = min(tokens.count - 2, (engine.warmupSegments(memory: full) + 2) * T)
        let deep = try analyse(at: offset, memory: full)
        var top = full
        top[L - 1] = full[L - 1] / 2
        let topChange = try analyse(at: offset, memory: top)
        var bottom = top
        bottom[0] = full[0] / 2
        let bottomChange = try analyse(at: offset, memory: bottom)
        print(
            "explorer  model \(name): \(L) layers, d_model \(c.dModel), vocabulary \(c.vocabSize), segment \(T), "
                + "memory \(MemorySpec.compact(full)); text \(tokens.count) tokens from \(bytes.count) bytes")
        print(String(format: "open      %.2f s  (load, tokenize, analyse token 0's segment, draw)", open))
        func line(_ what: String, _ r: (seconds: Double, layers: Int, steps: Int)) {
            print(
                String(
                    format: "%@ %.2f s  (%d layer%@ rerun, %d layer steps)", what, r.seconds, r.layers,
                    r.layers == 1 ? "" : "s", r.steps))
        }
        line("first     ", (first.seconds, first.layers, first.steps))
        line(String(format: "heatmap   at token %d:", offset), deep)
        line(String(format: "top       L%d memory %d:", L - 1, top[L - 1]), topChange)
        line(String(format: "bottom    L0 memory %d:", bottom[0]), bottomChange)
        print(String(format: "peak RSS  %.2f GiB (VmHWM)", peakResidentBytes() / 1_073_741_824))
    }

    /// The process's peak resident size in bytes (/proc/self/status VmHWM), NaN where unknown.
    static func peakResidentBytes() -> Double {
        guard let t = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return .nan }
        for line in t.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return (Double(line.dropFirst(6).split(whereSeparator: \.isWhitespace).first ?? "") ?? .nan) * 1024
        }
        return .nan
    }
}

enum ExplorerBenchError: Error, CustomStringConvertible {
    case failed(String)
    var description: String { if case .failed(let m) = self { return "A/B window failed: \(m)" }; return "" }
}
