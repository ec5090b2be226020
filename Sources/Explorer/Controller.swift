// The session's model work off the UI thread: analysis of the visible segment (coalesced: a newer
// request cancels the running one) and evaluation (cancelled and restarted on change). Results are
// posted as Actions into a locked mailbox that the UI thread drains; curses never sees these threads.
import Analysis
import Foundation

private struct AnalysisJob { let request: Int, offset: Int, memory: [Int] }

/// A kind of job (evaluation, A/B window) that runs one request at a time on a queue of its own: starting a
/// request cancels the running one by changing `token`; `running` counts the jobs not yet returned. Guarded by the
/// controller's lock.
private final class Lane: @unchecked Sendable { var token = 0, running = 0 }

public final class Controller: @unchecked Sendable {
    private let engine: any ExplorerEngine
    /// B's models in A/B comparisons across models (--compare-model, `:compare model PATH`), by name: the windows
    /// named after one run on it. Guarded by lock.
    private var others: [String: any ExplorerEngine] = [:]
    /// Loads a model for `:compare model PATH`; nil: nothing can be loaded.
    private let loader: ModelLoader?
    private let loadLane = Lane()
    private let loadQueue = DispatchQueue(label: "memscope.load", qos: .userInitiated)
    private let text: [UInt8]
    private let lock = NSLock()
    // Guarded by lock.
    private var inbox: [Action] = []
    private var latestProgress: Action? = nil
    private var pendingAnalysis: AnalysisJob? = nil
    private var latestAnalysis = 0
    private var analysisBusy = false
    private let evalLane = Lane(), windowLane = Lane()
    private var latestWindowProgress: Action? = nil
    private var latestAnalysisProgress: Action? = nil
    private let analysisQueue = DispatchQueue(label: "memscope.analysis", qos: .userInitiated)
    private let evalQueue = DispatchQueue(label: "memscope.eval", qos: .utility)
    private let windowQueue = DispatchQueue(label: "memscope.window", qos: .utility)

    public init(
        engine: any ExplorerEngine, text: [UInt8], other: (any ExplorerEngine)? = nil, loader: ModelLoader? = nil
    ) {
        self.engine = engine; self.text = text; self.loader = loader
        if let other { others[other.modelName] = other }
    }

    /// Whether a worker is busy or results wait: the UI polls faster then.
    public var busy: Bool {
        lock.withLock {
            analysisBusy || evalLane.running > 0 || windowLane.running > 0 || loadLane.running > 0 || !inbox.isEmpty
                || latestProgress != nil
                || latestWindowProgress != nil || latestAnalysisProgress != nil
        }
    }

    /// Asks for the segment holding text[offset] under `memory`; supersedes any earlier request.
    public func requestAnalysis(request: Int, offset: Int, memory: [Int]) {
        let start: Bool = lock.withLock {
            pendingAnalysis = AnalysisJob(request: request, offset: offset, memory: memory)
            latestAnalysis = request
            if analysisBusy { return false }
            analysisBusy = true
            return true
        }
        if start { analysisQueue.async { self.analysisLoop() } }
    }

    private func analysisLoop() {
        while true {
            let next: AnalysisJob? = lock.withLock {
                let p = pendingAnalysis
                pendingAnalysis = nil
                if p == nil { analysisBusy = false }
                return p
            }
            guard let job = next else { return }
            let cancelled: @Sendable () -> Bool = { [self] in lock.withLock { latestAnalysis != job.request } }
            let progress: @Sendable (WindowProgress) -> Void = { [self] p in
                lock.withLock {
                    if latestAnalysis == job.request {
                        latestAnalysisProgress = .worker(.analysisProgress(request: job.request, p))
                    }
                }
            }
            do {
                let a = try engine.analyse(
                    text: text, offset: job.offset, memory: job.memory, progress: progress, cancelled: cancelled)
                if cancelled() { continue }
                let profiles = DistanceProfile.all(a)
                post(.worker(.analysisReady(request: job.request, a, profiles, memory: job.memory)))
            } catch is CancellationError {
                continue
            } catch {
                post(.worker(.analysisFailed(request: job.request, "\(error)")))
            }
        }
    }

    /// Runs `work` as job `request` of `lane` on `queue`, cancelling the lane's running job. What `work` returns is
    /// posted unless the job was cancelled by then; an error other than cancellation is posted as `failed`.
    private func run(
        _ lane: Lane, request: Int, on queue: DispatchQueue, failed: @escaping @Sendable (String) -> Action,
        _ work: @escaping @Sendable (_ cancelled: @escaping @Sendable () -> Bool) throws -> Action
    ) {
        lock.withLock {
            lane.token = request; lane.running += 1
        }
        queue.async { [self] in
            defer { lock.withLock { lane.running -= 1 } }
            let cancelled: @Sendable () -> Bool = { [self] in lock.withLock { lane.token != request } }
            if cancelled() { return }
            do {
                let result = try work(cancelled)
                if !cancelled() { post(result) }
            } catch is CancellationError {
            } catch {
                if !cancelled() { post(failed("\(error)")) }
            }
        }
    }

    /// Starts evaluation `request`; any earlier one is cancelled.
    public func startEvaluation(request: Int, start: Int, bytes: Int, memory: [Int]) {
        run(evalLane, request: request, on: evalQueue, failed: { .worker(.evalFailed(request: request, $0)) }) {
            [self] cancelled in
            let progress: @Sendable (EvalProgress) -> Void = { [self] p in
                lock.withLock { latestProgress = .worker(.evalProgress(request: request, p)) }
            }
            let r = try engine.evaluate(
                text: text, start: start, bytes: bytes, memory: memory, progress: progress, cancelled: cancelled)
            return .worker(.evalFinished(request: request, r))
        }
    }

    public func cancelEvaluation() { lock.withLock { evalLane.token = -1 } }

    /// Starts the per-byte losses of `window` (the A/B comparison); any earlier window job is cancelled.
    public func startWindow(request: Int, window: LossWindow) {
        run(windowLane, request: request, on: windowQueue, failed: { .worker(.windowFailed(request: request, $0)) }) {
            [self] cancelled in
            let t0 = DispatchTime.now().uptimeNanoseconds
            let progress: @Sendable (WindowProgress) -> Void = { [self] p in
                lock.withLock { latestWindowProgress = .worker(.windowProgress(request: request, p)) }
            }
            guard let model = window.model == engine.modelName ? engine : lock.withLock({ others[window.model] })
            else { throw CompareModelError.unknown(window.model) }
            let result = try model.losses(
                text: text, start: window.start, bytes: window.bytes, memory: window.memory, progress: progress,
                cancelled: cancelled)
            let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            return .worker(.windowFinished(request: request, window, result, seconds: secs))
        }
    }

    public func cancelWindow() { lock.withLock { windowLane.token = -1 } }

    /// Loads the model at `path` for `:compare model PATH` (load `request`; a newer one supersedes it), then posts
    /// `.modelLoaded` with the model's info once its windows can run here. Stages are posted as they start.
    public func loadModel(request: Int, path: String) {
        run(loadLane, request: request, on: loadQueue, failed: { .worker(.modelLoadFailed(request: request, $0)) }) {
            [self] cancelled in
            guard let loader else { throw CompareModelError.noLoader }
            let b = try loader(path) { [self] stage in
                if !cancelled() { post(.worker(.modelLoadProgress(request: request, stage))) }
            }
            if b.modelName == engine.modelName { throw CompareModelError.sameName(b.modelName) }
            lock.withLock { others[b.modelName] = b }
            return .worker(.modelLoaded(request: request, ModelInfo(b)))
        }
    }

    /// Cancels every job (analysis, evaluation, A/B window) and waits up to `seconds` for the workers to stop, so
    /// that the process does not end with a model step still running. Returns whether they all stopped.
    @discardableResult
    public func stop(waitingAtMost seconds: Double) -> Bool {
        lock.withLock {
            latestAnalysis = -1; pendingAnalysis = nil; evalLane.token = -1; windowLane.token = -1
            loadLane.token = -1
        }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let idle = lock.withLock {
                !analysisBusy && evalLane.running == 0 && windowLane.running == 0 && loadLane.running == 0
            }
            if idle { return true }
            if Date() >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    private func post(_ a: Action) { lock.withLock { inbox.append(a) } }

    enum CompareModelError: Error, CustomStringConvertible {
        case noLoader, sameName(String), unknown(String)
        var description: String {
            switch self {
            case .noLoader: return "this explorer cannot load models"
            case .sameName(let n): return "it is named \(n), as this model: A/B needs two names"
            case .unknown(let n): return "no model \(n) is loaded"
            }
        }
    }

    /// Everything posted since the last drain, oldest first (only the latest progress report).
    public func drain() -> [Action] {
        lock.withLock {
            var out: [Action] =
                (latestProgress.map { [$0] } ?? []) + (latestWindowProgress.map { [$0] } ?? [])
                + (latestAnalysisProgress.map { [$0] } ?? [])
            out += inbox
            inbox = []; latestProgress = nil; latestWindowProgress = nil; latestAnalysisProgress = nil
            return out
        }
    }
}
