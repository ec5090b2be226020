// Signals that must end a long run cleanly (SIGINT, SIGTERM, SIGHUP), for the trainer and the explorer:
// dispatch sources, since a C signal handler can neither capture state nor allocate.
import Foundation

public final class SignalWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [Int32] = []
    private var any = false
    private var firstReceived: Int32?
    private var sources: [DispatchSourceSignal] = []
    private let signals: [Int32]

    /// Replaces the default action of each signal (ending the process) with a record of its arrival.
    public init(_ signals: [Int32]) {
        self.signals = signals
        for sig in signals {
            signal(sig, SIG_IGN)
            let src = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            src.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.withLock {
                    self.received.append(sig); self.any = true
                    if self.firstReceived == nil { self.firstReceived = sig }
                }
            }
            src.resume()
            sources.append(src)
        }
    }

    /// Signals received since the last call, oldest first.
    public func take() -> [Int32] { lock.withLock { let r = received; received = []; return r } }

    /// The first signal that arrived, if any (`take` does not reset it); a run stopped by it exits 128 + its number.
    public var first: Int32? { lock.withLock { firstReceived } }

    /// Whether any signal has arrived since the watch began (`take` does not reset it).
    public var anyReceived: Bool { lock.withLock { any } }

    /// Stops watching and gives each signal its default action back.
    public func cancel() {
        for s in sources { s.cancel() }
        sources = []
        for sig in signals { signal(sig, SIG_DFL) }
    }

    /// Ends the process by `sig` with its default action, so that the parent sees it (a shell reports
    /// 128 + sig: 143 for SIGTERM, 129 for SIGHUP). Call after cleaning up.
    public static func exit(bySignal sig: Int32) -> Never {
        signal(sig, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
        _exit(128 + sig)   // only if the signal could not be delivered
    }

    deinit { for s in sources { s.cancel() } }
}
