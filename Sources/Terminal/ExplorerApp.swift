// The explorer's UI loop: read a key, reduce, apply the effect (ask the workers, export, quit),
// drain the workers' mailbox, redraw. The terminal is restored on every way out.
import Explorer
import Foundation
import Signals

public enum ExplorerApp {
    /// Runs the explorer until the user quits or a signal ends it. Throws only when the terminal
    /// cannot be set up; the terminal is restored before this returns or throws. SIGTERM and SIGHUP end
    /// the process by the same signal once the terminal is restored (exit status 143 and 129).
    public static func run(
        engine: any ExplorerEngine, text: [UInt8], textName: String, initialMemory: [Int],
        options: TerminalOptions, runStore: RunStore? = nil, compareEngine: (any ExplorerEngine)? = nil,
        modelLoader: ModelLoader? = nil
    ) throws {
        let signals = SignalWatch([SIGINT, SIGTERM, SIGHUP])
        defer { signals.cancel() }
        let screen = try CursesScreen(options: options)
        defer { screen.close() }

        var state = AppState(
            model: ModelInfo(engine), text: text, textName: textName, memory: initialMemory,
            display: screen.display)
        state.size = screen.size
        // Runs saved by an earlier session on this model and text; an unreadable file is left as it is.
        let saving = runStore.map { $0.restore(into: &state) } ?? false
        var saved = (state.runs, state.baseline)
        let controller = Controller(engine: engine, text: text, other: compareEngine, loader: modelLoader)
        var quit = false
        var endingSignal: Int32? = nil
        var dirty = true
        var lastDraw = Date.distantPast
        var pendingProgress = false

        func apply(_ e: Effect) {
            if e.redraw { dirty = true }
            if e.recompute {
                controller.requestAnalysis(
                    request: state.analysisRequest, offset: state.cursor, memory: state.analysisTarget)
            }
            switch e.eval {
            case .start?:
                if let ev = state.eval {
                    controller.startEvaluation(
                        request: ev.request, start: ev.start, bytes: ev.bytesTotal, memory: ev.memory)
                }
            case .cancel?: controller.cancelEvaluation()
            case nil: break
            }
            switch e.window {
            case .start?:
                if let job = state.windowJob { controller.startWindow(request: job.request, window: job.window) }
            case .cancel?: controller.cancelWindow()
            case nil: break
            }
            if e.loadModel, let job = state.modelLoad { controller.loadModel(request: job.request, path: job.path) }
            if let pane = e.export {
                let result = Export.write(pane, state: state, directory: options.exportDirectory)
                apply(reduce(&state, .worker(result)))
            }
            if e.quit { quit = true }
        }

        state.open()  // on a segment whose memory is full, with the newcomer hint
        state.analysisRequest = 1
        state.analysing = true
        apply(Effect(redraw: true, recompute: true))
        // A/B across models (--compare-model): B's window and A's start at once.
        if let other = compareEngine { apply(compareModels(&state, other: ModelInfo(other))) }

        while !quit {
            if dirty {
                // Progress alone redraws at most ~15 times a second; keys redraw at once.
                screen.blit(render(state, size: state.size))
                dirty = false
                lastDraw = Date()
            }
            let key = screen.readKey(timeoutMs: controller.busy ? 15 : 200)
            var keyed = false
            if let key {
                keyed = true
                if case .resize = key {
                    apply(reduce(&state, .general(.resize(screen.size))))
                } else if let a = action(for: key, in: state) {
                    apply(reduce(&state, a))
                }
            }
            for a in controller.drain() {
                let onlyProgress: Bool = {
                    switch a {
                    case .worker(.evalProgress), .worker(.windowProgress), .worker(.analysisProgress): return true
                    default: return false
                    }
                }()
                let e = reduce(&state, a)
                if onlyProgress && !keyed && Date().timeIntervalSince(lastDraw) < 0.066 {
                    var e2 = e; e2.redraw = false; apply(e2)
                    if e.redraw { pendingProgress = true }
                } else {
                    apply(e)
                }
            }
            if saving, let store = runStore, saved.0 != state.runs || saved.1 != state.baseline {
                saved = (state.runs, state.baseline)
                if let problem = store.save(state) {
                    state.message = problem; state.messageIsError = true; dirty = true
                }
            }
            if pendingProgress && Date().timeIntervalSince(lastDraw) >= 0.066 { dirty = true; pendingProgress = false }
            for sig in signals.take() {
                if sig == SIGINT {
                    apply(reduce(&state, .general(.interrupt)))
                } else {
                    endingSignal = sig
                    quit = true
                }
            }
        }
        // The terminal first, then the workers: a model step in flight is cancelled and awaited, so that the
        // process never ends with one running (an exit while OpenBLAS works in another thread can stall).
        screen.close()
        controller.stop(waitingAtMost: 5)
        if let sig = endingSignal {
            screen.close()
            signals.cancel()
            SignalWatch.exit(bySignal: sig)
        }
    }
}
