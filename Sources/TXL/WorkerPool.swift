// The threads behind `Inference.parallel`. A step splits each layer into about eight phases, each a few hundred
// microseconds, with a barrier between them; waking a sleeping thread for each (as Dispatch does) costs tens of
// microseconds on a virtual machine, a tenth of a step. These helpers spin between phases and sleep only when no step
// has come for a while (about a millisecond).
import Foundation
import Synchronization

final class WorkerPool: @unchecked Sendable {
    /// Threads besides the caller.
    let helpers: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// The phase's body, set before `generation` moves on and read by the helpers after they see it move.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    private let sleep = NSCondition()
    private var sleepers = 0

    /// One pool for each width asked for, started on first use and kept for the process.
    static func shared(workers: Int) -> WorkerPool {
        poolsLock.lock()
        defer { poolsLock.unlock() }
        if let p = pools[workers] { return p }
        let p = WorkerPool(helpers: workers - 1)
        pools[workers] = p
        return p
    }
    nonisolated(unsafe) private static var pools: [Int: WorkerPool] = [:]
    private static let poolsLock = NSLock()

    private init(helpers: Int) {
        self.helpers = helpers
        for w in stride(from: 1, through: helpers, by: 1) {
            let t = Thread { [unowned self] in self.loop(worker: w) }
            t.name = "memscope-worker-\(w)"
            t.start()
        }
    }

    /// Runs body(w) for w in 0...helpers, body(0) on the calling thread, and returns when all have. A second caller
    /// while one runs (two engines at once) gets Dispatch's threads instead.
    func run(_ body: (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            withoutActuallyEscaping(body) { body in
                let task = UncheckedSendable(value: body)
                DispatchQueue.concurrentPerform(iterations: helpers + 1) { task.value($0) }
            }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            remaining.store(helpers, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            sleep.lock()
            if sleepers > 0 { sleep.broadcast() }
            sleep.unlock()
            body(0)
            while remaining.load(ordering: .acquiring) > 0 { Kernels.pause() }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    private func loop(worker w: Int) {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < 20_000 { Kernels.pause(); continue }
                sleep.lock()
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen { sleep.wait() }
                sleepers -= 1
                sleep.unlock()
            }
            // The caller waits for every helper before the next phase, so none is ever skipped.
            seen = generation.load(ordering: .acquiring)
            job?(w)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}
