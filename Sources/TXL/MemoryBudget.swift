// How much memory a command may use, and what a run will need: every command estimates its peak before it
// allocates and refuses with the estimate and the limit, rather than dying in the allocator.
import Foundation

public enum MemoryBudget {
    /// Bytes this process may still allocate: the least of the memory available now (/proc/meminfo MemAvailable),
    /// `ulimit -v` and `ulimit -d` (less what the process already maps), and a cgroup limit; physical memory otherwise.
    public static func limit() -> (bytes: Double, source: String) {
        var best = (bytes: Double(ProcessInfo.processInfo.physicalMemory), source: "physical memory")
        func consider(_ bytes: Double?, _ source: String) {
            if let bytes, bytes > 0, bytes < best.bytes { best = (bytes, source) }
        }
        consider(meminfo("MemAvailable"), "memory available")
        let mapped = selfStatus("VmSize") ?? 0
        for (resource, name) in [
            (__rlimit_resource_t(RLIMIT_AS.rawValue), "ulimit -v"),
            (__rlimit_resource_t(RLIMIT_DATA.rawValue), "ulimit -d"),
        ] {
            var r = rlimit()
            if getrlimit(resource, &r) == 0, r.rlim_cur != rlim_t.max {
                consider(max(Double(r.rlim_cur) - mapped, 1), name)
            }
        }
        if let max = readNumber("/sys/fs/cgroup/memory.max") {
            consider(max - (readNumber("/sys/fs/cgroup/memory.current") ?? 0), "cgroup memory.max")
        }
        return best
    }

    /// Throws when `bytes` exceed the limit, naming what needs them, the estimate and the limit.
    public static func check(_ bytes: Double, for what: String) throws {
        let (limit, source) = limit()
        guard bytes <= limit else {
            throw ModelError.badInput(
                String(
                    format: "%@ needs about %.2f GB of working memory; the limit is %.2f GB (%@)",
                    what, bytes / 1e9, limit / 1e9, source))
        }
    }

    /// Peak bytes of an `Inference` (the same terms as its own allocation): activations, per-worker scores,
    /// position tables and the key/value memory.
    public static func inferenceBytes(
        config c: Config, batch B: Int, segment T: Int, memory: [Int], workers: Int
    ) -> Double {
        let C = Double(c.dModel), A = Double(c.dAttn), F = Double(c.dInner), V = Double(c.nToken), D = Double(c.dHead)
        let caps = memory.map { Double($0 + T) }, maxK = caps.max() ?? Double(T), bt = Double(B) * Double(T)
        let total = caps.reduce(0, +), rows = Double(memory.reduce(0, +) + memory.count * Memory.slack * T)
        let floats =
            bt * (3 * C + 2 * A + F + V + 1) + Double(workers) * Double(T) * (2 * maxK + 2 * D)
            + total * (2 * A + C) + 2 * Double(B) * rows * A
        // The packed weights (Network.packedLayers, packedOutput).
        let layer = 4 * A * C + 2 * C * F
        let layers = 4 * layer <= Double(Inference.packLimit) ? Double(c.nLayer) * layer : 0
        let packed = Kernels.enabled ? layers + V * C : 0
        return (floats + packed) * 4 + parameterBytes(c)
    }

    /// Peak bytes of an `Inference` of an already loaded `network` (the weights are not counted again): the same
    /// terms as above, with the output's logits only for a tied softmax (the adaptive one scores one cluster a row).
    public static func inferenceBytes(
        network n: Network, batch B: Int, segment T: Int, memory: [Int], workers: Int
    ) -> Double {
        let C = Double(n.dModel), A = Double(n.dAttn), F = Double(n.dInner), V = Double(n.outputRowFloats)
        let D = Double(n.dHead)
        let caps = memory.map { Double($0 + T) }, maxK = caps.max() ?? Double(T), bt = Double(B) * Double(T)
        let total = caps.reduce(0, +), rows = Double(memory.reduce(0, +) + memory.count * Memory.slack * T)
        var head = 0.0
        if case .adaptive(let s) = n.output { head = Double(s.ends.count > 1 ? s.ends[1] + s.ends.count - 2 : 0) }
        let floats =
            bt * (3 * C + 2 * A + F + V + 1 + 2 * head + 2 * C) + Double(workers) * Double(T) * (2 * maxK + 2 * D)
            + total * (2 * A + C) + 2 * Double(B) * rows * A
        // The packed weights, made once per network (counted here, as a first Inference makes them); the adaptive
        // softmax's are not counted (about an eighth of the WikiText-103 model).
        let layers = n.layerBytes <= Inference.packLimit ? Double(n.nLayer * n.layerBytes) / 4 : 0
        let packed = Kernels.enabled ? layers + V * C : 0
        return (floats + packed) * 4
    }

    /// Bytes of one copy of the parameters.
    public static func parameterBytes(_ c: Config) -> Double {
        let C = Double(c.dModel), A = Double(c.dAttn), F = Double(c.dInner)
        return 4 * (Double(c.nLayer) * (C * 4 * A + 2 * C * F + 5 * C + F) + Double(c.nToken) * (C + 1) + 2 * A)
    }

    static func meminfo(_ key: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        return field(text, key).map { $0 * 1024 }
    }

    static func selfStatus(_ key: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        return field(text, key).map { $0 * 1024 }
    }

    /// "Key:   1234 kB" -> 1234.
    static func field(_ text: String, _ key: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Double(line.dropFirst(key.count + 1).split(separator: " ").first ?? "")
        }
        return nil
    }

    static func readNumber(_ path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
