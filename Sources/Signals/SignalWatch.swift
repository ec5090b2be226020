// Signals that must end a long run cleanly (SIGINT, SIGTERM, SIGHUP), for the trainer and the explorer.
// The handler only sets a bit with a lock-free atomic operation (async-signal-safe); the run polls `take()`.
import Foundation
import Synchronization

public final class SignalWatch: Sendable {
    /// Bit s: signal s arrived and has not been taken. Set by the handler, cleared by take().
    private static let pending = Atomic<UInt64>(0)
    /// Bit s: signal s arrived since a watch on it began.
    private static let arrived = Atomic<UInt64>(0)
    /// The first watched signal to arrive since the last watch began, or 0.
    private static let firstArrived = Atomic<Int32>(0)
    private let signals: [Int32]
    private let mask: UInt64

    /// Replaces the action of each signal (0 < signal < 64) with a record of its arrival.
    public init(_ signals: [Int32]) {
        precondition(signals.allSatisfy { $0 > 0 && $0 < 64 }, "signal numbers are 1...63")
        self.signals = signals
        mask = signals.reduce(UInt64(0)) { $0 | 1 << UInt64($1) }
        // Both bit sets are initialised here, not lazily inside a handler.
        SignalWatch.pending.bitwiseAnd(~mask, ordering: .sequentiallyConsistent)
        SignalWatch.arrived.bitwiseAnd(~mask, ordering: .sequentiallyConsistent)
        SignalWatch.firstArrived.store(0, ordering: .sequentiallyConsistent)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { sig in
            let bit = UInt64(1) << UInt64(sig)
            SignalWatch.pending.bitwiseOr(bit, ordering: .sequentiallyConsistent)
            SignalWatch.arrived.bitwiseOr(bit, ordering: .sequentiallyConsistent)
            _ = SignalWatch.firstArrived.compareExchange(expected: 0, desired: sig, ordering: .sequentiallyConsistent)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_RESTART)
        for sig in signals { sigaction(sig, &action, nil) }
    }

    /// Signals received since the last call, in the order the watch was given them.
    public func take() -> [Int32] {
        let got = SignalWatch.pending.bitwiseAnd(~mask, ordering: .sequentiallyConsistent).oldValue & mask
        return signals.filter { got & (1 << UInt64($0)) != 0 }
    }

    /// Whether any watched signal has arrived since the watch began (`take` does not reset it).
    public var anyReceived: Bool { SignalWatch.arrived.load(ordering: .sequentiallyConsistent) & mask != 0 }

    /// The first watched signal that arrived, if any; a run it stopped exits 128 + its number.
    public var first: Int32? {
        let sig = SignalWatch.firstArrived.load(ordering: .sequentiallyConsistent)
        return sig != 0 && mask & (1 << UInt64(sig)) != 0 ? sig : nil
    }

    /// Stops watching and gives each signal its default action back.
    public func cancel() {
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
        _exit(128 + sig)  // only if the signal could not be delivered
    }
}
