// `memscope bench`'s measurements: eval throughput on a random model, a counted FLOP model, the machine's sgemm rate.
import Foundation
import TXL

public enum Benchmark {
    /// A model of `config` with the reference's random initialisation.
    public static func randomModel(_ config: Config, seed: UInt64 = 1) -> TransformerXL {
        let m = TransformerXL(config: config)
        m.initialise(seed: seed)
        return m
    }

    /// Multiply-adds x 2 per predicted byte that the computation needs, once memories are full: the projections,
    /// the three attention products over the keys each query may see (memory keys/values and position projections
    /// are reused, not recomputed), the feed-forward and the output layer.
    public static func flopsPerByte(_ c: Config, memory: [Int], segment T: Int, sameLength: Bool) -> Double {
        let C = Double(c.dModel), A = Double(c.dAttn), F = Double(c.dInner), V = Double(c.nToken)
        var total = 2 * C * V
        for M in memory {
            // Query i sees M + i + 1 keys (Transformer-XL) or a window of M keys (same-length), averaged.
            let keys = (0..<T).reduce(0.0) { $0 + Double(sameLength ? min(M, M + $1 + 1) : M + $1 + 1) } / Double(T)
            total += 2 * C * 3 * A  // q, k, v
            total += 3 * 2 * A * keys  // (q+u)k, (q+v)R, P v, over all heads
            total += 2 * A * C  // o
            total += 2 * 2 * C * F  // feed-forward
        }
        return total
    }

    /// GFLOP/s of an n x n x n sgemm through `BLAS.gemm` at the current threads: the best of repeats over ~`seconds`.
    public static func sgemmRate(n: Int = 1024, seconds: Double = 0.5) -> Double {
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        let start = now()
        var reps = 0
        repeat {
            let t0 = now()
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.gemm(
                            cp.baseAddress!, ldc: n, ap.baseAddress!, lda: n, bp.baseAddress!, ldb: n, m: n, n: n, k: n)
                    }
                }
            }
            let dt = now() - t0
            best = max(best, 2 * Double(n * n * n) / dt / 1e9)
            reps += 1
        } while now() - start < seconds || reps < 3
        return best
    }

    public struct Throughput: Sendable {
        public let batch: Int
        public let segments: Int
        public let seconds: Double
        /// Positions (bytes or tokens) per second.
        public let perSecond: Double
        /// Whether the run used the AVX2 kernels (else OpenBLAS alone).
        public let kernels: Bool
        /// GFLOP/s of the 1024^3 sgemms run between the timed segments, mean and count: the machine's rate at the
        /// same moments (on a shared machine the best rate of the run is not).
        public let sgemmAlongside: Double, sgemmRuns: Int
    }

    /// GFLOP/s of a 1024^3 sgemm run as the runtime runs its products: OpenBLAS single-threaded in each of the
    /// runtime's workers, a share of the columns each. (OpenBLAS's own threads spin for about 0.1 s after a product,
    /// which would slow the segments timed next.) One untimed, to bring the matrices back into cache, then the timed
    /// one.
    static func oneSgemm(_ a: [Float], _ b: [Float], _ c: inout [Float]) -> Double {
        let n = 1024, workers = max(1, min(Inference.threads, 64))
        let saved = BLAS.threads
        BLAS.threads = 1
        defer { BLAS.threads = saved }
        var t0 = 0.0
        for _ in 0..<2 {
            t0 = now()
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        let m = UncheckedPointers(a: ap.baseAddress!, b: bp.baseAddress!, c: cp.baseAddress!)
                        Inference.concurrent(workers: workers) { w in
                            let lo = n * w / workers, hi = n * (w + 1) / workers
                            BLAS.gemm(m.c + lo, ldc: n, m.a, lda: n, m.b + lo, ldb: n, m: n, n: hi - lo, k: n)
                        }
                    }
                }
            }
        }
        return 2 * Double(n * n * n) / (now() - t0) / 1e9
    }

    struct UncheckedPointers: @unchecked Sendable {
        let a, b: UnsafePointer<Float>
        let c: UnsafeMutablePointer<Float>
    }

    /// Bytes/s of `Inference.step` at `batch` streams of random bytes, after warm-up segments that fill every memory:
    /// one rate for each of `kernels` (the AVX2 kernels, or OpenBLAS alone).
    public static func throughput(
        model: TransformerXL, options: RunOptions, segment T: Int, batch B: Int, seconds: Double,
        kernels: [Bool] = [Kernels.enabled]
    ) throws -> [Throughput] {
        // Each Inference checks its memory budget as it is made.
        let runs = try kernels.map {
            try Inference(model: model, batch: B, segment: T, options: options, kernels: $0)
        }
        var rng = Random(seed: 7)
        func segmentBytes() -> ([Int], [Int]) {
            let x = (0..<(B * T)).map { _ in Int(32 + rng.next() % 95) }
            return (x, x.map { $0 ^ 1 })
        }
        let fill = ((options.memory.max() ?? 0) + T - 1) / T + 1
        return alternating(runs, batch: B, segment: T, warmUp: fill, seconds: seconds, next: segmentBytes)
    }

    /// Steps each run in turn, segment by segment on the same tokens (so that runs compared side by side see the
    /// same machine: these are noisy), `warmUp` segments untimed, then until each has `seconds` of timed segments;
    /// every fourth round also times a 1024^3 sgemm (`sgemmAlongside`).
    static func alternating(
        _ runs: [Inference], batch B: Int, segment T: Int, warmUp: Int, seconds: Double,
        next: () -> ([Int], [Int]), progress: ((String) -> Void)? = nil
    ) -> [Throughput] {
        for s in 0..<warmUp {
            let (i, t) = next()
            for run in runs { _ = run.step(tokens: i, targets: t) }
            progress?("warm-up segment \(s + 1) of \(warmUp)")
        }
        var n = 0
        var busy = [Double](repeating: 0, count: runs.count)
        let a = [Float](repeating: 0.5, count: 1 << 20), b = [Float](repeating: 0.25, count: 1 << 20)
        var c = [Float](repeating: 0, count: 1 << 20), sgemm: [Double] = []
        repeat {
            if n % 4 == 0 { sgemm.append(oneSgemm(a, b, &c)) }
            let (i, t) = next()
            for (k, run) in runs.enumerated() {
                let t0 = now()
                _ = run.step(tokens: i, targets: t)
                busy[k] += now() - t0
            }
            n += 1
            progress?("timed segment \(n)")
        } while busy.min()! < seconds || n < 2
        let alongside = sgemm.reduce(0, +) / Double(sgemm.count)
        return zip(runs, busy).map { run, s in
            Throughput(
                batch: B, segments: n, seconds: s, perSecond: Double(n * B * T) / s, kernels: run.usesKernels,
                sgemmAlongside: alongside, sgemmRuns: sgemm.count)
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
