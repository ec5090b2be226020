// Layer inputs recorded by earlier loss windows, so that the A/B comparison's B reruns only the layers at and above
// the first one whose memory differs from A's. Layer l's input at a position depends on the window's tokens and on
// the memory of layers 0..<l only, so a window started at layer l from a recorded input is bit-identical to one that
// runs every layer (ExplorerTests/WindowCacheTests checks it). Entries are dropped least recently used first, within
// a byte budget.
import Foundation
import TXL

final class WindowCache: @unchecked Sendable {
    /// Layer `layer`'s input at every predicted position of a window, recorded under `memory` (of layers 0..<layer),
    /// with the distance-profile sums of those layers, which depend on nothing else either.
    struct Entry {
        let layer: Int
        let memory: ArraySlice<Int>
        let tokens: [Int]
        /// [positions, d_model]: the input of position i at i * d_model.
        let inputs: [Float]
        let profiles: [DistanceProfile.Accumulator]
        var bytes: Int { inputs.count * MemoryLayout<Float>.stride }
    }

    let budget: Int
    private let lock = NSLock()
    private var entries: [(entry: Entry, used: UInt64)] = []
    private var clock: UInt64 = 0

    /// The default budget: a quarter of the memory this process may use, at most 1 GiB (the default model's 64 KiB
    /// window records 5 layers x 65,536 positions x 192 floats, 252 MB).
    static var defaultBudget: Int { Int(min(Double(1 << 30), MemoryBudget.limit().bytes / 4)) }

    init(budget: Int = WindowCache.defaultBudget) { self.budget = max(0, budget) }

    var storedBytes: Int { lock.withLock { entries.reduce(0) { $0 + $1.entry.bytes } } }

    /// The entry that starts a window over `tokens` at `memory` highest: the highest layer recorded under the same
    /// memory below it. Nil when none applies (the window runs every layer).
    func best(tokens: [Int], memory: [Int]) -> Entry? {
        lock.withLock {
            var found: Int?
            for (i, e) in entries.enumerated()
            where e.entry.layer < memory.count && e.entry.layer > (found.map { entries[$0].entry.layer } ?? 0)
                && e.entry.memory == memory[0..<e.entry.layer] && e.entry.tokens == tokens
            {
                found = i
            }
            guard let found else { return nil }
            clock += 1
            entries[found].used = clock
            return entries[found].entry
        }
    }

    /// Which of layers first+1 ..< layers a window should record, each costing `bytesPerLayer`: all of them when the
    /// budget holds them, else as many as it holds, spread evenly (a change at layer l reruns from the highest
    /// recorded layer at or below l).
    func layersToRecord(above first: Int, layers: Int, bytesPerLayer: Int) -> [Int] {
        let candidates = Array((first + 1)..<max(first + 1, layers))
        let fit = bytesPerLayer > 0 ? min(candidates.count, budget / bytesPerLayer) : candidates.count
        if fit >= candidates.count { return candidates }
        if fit == 0 { return [] }
        return (0..<fit).map { candidates[($0 * candidates.count) / fit] }
    }

    /// Adds entries, dropping the least recently used ones beyond the budget (an entry larger than the budget is
    /// not kept).
    func insert(_ new: [Entry]) {
        lock.withLock {
            for e in new where e.bytes <= budget {
                entries.removeAll {
                    $0.entry.layer == e.layer && $0.entry.memory == e.memory && $0.entry.tokens == e.tokens
                }
                clock += 1
                entries.append((e, clock))
            }
            var total = entries.reduce(0) { $0 + $1.entry.bytes }
            while total > budget, let i = entries.indices.min(by: { entries[$0].used < entries[$1].used }) {
                total -= entries[i].entry.bytes
                entries.remove(at: i)
            }
        }
    }
}
