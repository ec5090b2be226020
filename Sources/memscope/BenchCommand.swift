// `memscope bench`: eval throughput on a random model of a stated size, against this machine's own sgemm rate.
import Analysis
import ArgumentParser
import Foundation
import TXL
import Training

/// `bench --kernels`: which inference paths to time.
enum KernelChoice: String, ExpressibleByArgument, CaseIterable {
    case both, avx2, openblas

    /// The `kernels:` arguments of the runs to time (only OpenBLAS where the processor lacks AVX2).
    var runs: [Bool] {
        guard Kernels.available else { return [false] }
        switch self {
        case .both: return [true, false]
        case .avx2: return [true]
        case .openblas: return [false]
        }
    }
}

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Eval bytes/s and GFLOP/s for a model size, beside the machine's sgemm GFLOP/s. A benchmark, not a test.")

    @OptionGroup var shape: ShapeOptions
    @Option(help: ArgumentHelp("Memory per layer (the --mem grammar; lrm = this N for placements).", valueName: "spec"))
    var mem = "512"
    @Option(help: ArgumentHelp("Long-range length for a --mem placement.", valueName: "n")) var lrm = 512
    @Option(help: ArgumentHelp("Batch sizes to measure, comma-separated.", valueName: "list")) var batch = "1,8"
    @Option(help: "Seconds of timed segments per batch size.") var seconds = 3.0
    @Option(help: "Threads (OpenBLAS and the runtime's own).") var threads = ProcessInfo.processInfo
        .activeProcessorCount
    @Option(
        name: .customLong("train-batch"),
        help: ArgumentHelp(
            "Also time training steps (forward, backward, Adam) at these batch sizes, training memory = --mem.",
            valueName: "list"))
    var trainBatch: String?
    @Option(
        help: ArgumentHelp(
            "Which inference to time: the AVX2 kernels, OpenBLAS alone, or both, taking turns segment by segment.",
            valueName: "which"))
    var kernels: KernelChoice = .both
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Instead: the explorer's latencies (open, heatmap update, redraw) on a real model and text.")
    var explorer = false
    @Option(help: "With --explorer: the model, .safetensors or Hugging Face folder (default: the shipped one).")
    var model: String?
    @OptionGroup var text: TextOptions
    @Flag(
        help: """
            Instead: the WikiText-103 Transformer-XL's shape (285M parameters) with random weights, tokens/s; with \
            --explorer, the explorer's latencies on it.
            """
    )
    var wt103 = false
    @Option(
        name: .customLong("wt103-dir"),
        help: ArgumentHelp("With --wt103: where the random model is written once (about 1.1 GB).", valueName: "dir"))
    var wt103Dir = NSTemporaryDirectory() + "memscope-wt103-random"
    @Option(name: .customLong("word-layers"), help: "With --wt103: layers (the real model has 18).") var wordLayers = 18
    @Option(name: .customLong("word-mem"), help: "With --wt103: memory per layer (the real model's is 1600).")
    var wordMem = 1600
    @Option(
        name: .customLong("cluster-shares"),
        help: ArgumentHelp("With --wt103: the share of tokens in each cluster (head first).", valueName: "list"))
    var clusterShares = "0.9,0.05,0.04,0.01"

    /// Training bytes/s: full optimiser steps on random bytes, after one untimed step.
    static func trainingThroughput(
        config: Config, memory: [Int], batch B: Int, seconds: Double
    ) throws -> (steps: Int, seconds: Double, bytesPerSecond: Double) {
        let model = Benchmark.randomModel(config)
        var rng = Random(seed: 3)
        let text = (0..<(B * (config.tgtLen + 1) * 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        var settings = TrainSettings(
            batch: B, segment: config.tgtLen, memory: memory, schedule: Schedule(lr: 1e-4, warmup: 0, steps: 1_000_000))
        settings.evalBytes = 2
        let trainer = try Trainer(model: model, settings: settings, train: text, valid: Array(text.prefix(16)))
        _ = trainer.step()
        let start = Date()
        var steps = 0
        while Date().timeIntervalSince(start) < seconds || steps < 2 { _ = trainer.step(); steps += 1 }
        let dt = Date().timeIntervalSince(start)
        return (steps, dt, Double(steps * B * config.tgtLen) / dt)
    }

    func run() throws {
        if explorer {
            Inference.threads = threads
            BLAS.threads = threads
            if wt103 || model.map(HFCheckpoint.isFolder) == true {
                let given = text.text != nil || text.split != nil
                return try ExplorerBench.runWord(
                    folder: wt103 ? try wt103Folder() : model!,
                    text: given ? try text.load(command: "bench").bytes : nil, shares: try shares())
            }
            return try ExplorerBench.run(modelPath: model, text: text)
        }
        let batches = try batch.split(separator: ",").map { s -> Int in
            guard let b = Int(s.trimmingCharacters(in: .whitespaces)), b >= 1, b <= 512 else {
                throw Failure("--batch \"\(batch)\": each size must be 1...512")
            }
            return b
        }
        guard !batches.isEmpty else { throw Failure("--batch is empty") }
        guard seconds > 0 && seconds <= 3600 else { throw Failure("--seconds \(seconds) is out of range (0, 3600]") }
        guard threads >= 1 && threads <= 256 else { throw Failure("--threads \(threads) is out of range 1...256") }
        if wt103 {
            guard (1...64).contains(wordLayers) else {
                throw Failure("--word-layers \(wordLayers) is out of range 1...64")
            }
            Inference.threads = threads
            BLAS.threads = threads
            return try runWord(batches: batches)
        }
        let layers = shape.layers, segment = shape.segment, sameLength = shape.sameLength
        let config = try shape.config(memory: Array(repeating: 0, count: max(layers, 1)))
        let params =
            Double(config.nLayer) * Double(config.dModel) * Double(4 * config.dAttn + 2 * config.dInner)
            + Double(256 * config.dModel)
        guard params * 4 <= Double(ProcessInfo.processInfo.physicalMemory) / 2 else {
            throw Failure(String(format: "a model of %.2g parameters does not fit in this machine's memory", params))
        }
        let memory = try MemorySpec.parse(mem, layers: layers, lrm: lrm, srm: segment)
        let options = RunOptions(config: config, memory: memory, sameLength: sameLength, clampLen: -1)
        try options.validate(layers: layers)
        Inference.threads = threads
        BLAS.threads = threads

        let model = Benchmark.randomModel(config)
        let flops = Benchmark.flopsPerByte(config, memory: memory, segment: segment, sameLength: sameLength)
        var sgemm = Benchmark.sgemmRate()
        var rows: [Benchmark.Throughput] = []
        for b in batches {
            rows += try Benchmark.throughput(
                model: model, options: options, segment: segment, batch: b, seconds: seconds, kernels: kernels.runs)
            sgemm = max(sgemm, Benchmark.sgemmRate())  // the best rate seen: the ratio errs low, never high
        }
        let trainBatches = try (trainBatch ?? "").split(separator: ",").map { s -> Int in
            guard let b = Int(s.trimmingCharacters(in: .whitespaces)), b >= 1, b <= 512 else {
                throw Failure("--train-batch \"\(trainBatch ?? "")\": each size must be 1...512")
            }
            return b
        }
        var trainRows: [(batch: Int, steps: Int, seconds: Double, bytesPerSecond: Double)] = []
        for b in trainBatches {
            let r = try BenchCommand.trainingThroughput(config: config, memory: memory, batch: b, seconds: seconds)
            trainRows.append((b, r.steps, r.seconds, r.bytesPerSecond))
        }
        let rates = RateTable(unit: "bytes", decimals: 0, flops: flops, sgemm: sgemm, rows: rows)
        if json {
            let obj: [String: Any] = [
                "train": trainRows.map {
                    [
                        "batch": $0.batch, "steps": $0.steps, "seconds": $0.seconds,
                        "bytes_per_second": $0.bytesPerSecond,
                    ]
                },
                "config": [
                    "layers": layers, "d_model": config.dModel, "heads": config.nHead, "d_head": config.dHead,
                    "d_inner": config.dInner,
                    "segment": segment, "memory": memory, "same_length": sameLength,
                ],
                "parameters": model.parameterCount, "threads": threads, "blas": BLAS.description,
                "flops_per_byte": flops, "sgemm_gflops": sgemm,
                "results": rates.json,
            ]
            try StandardOutput.printJSON(obj)
            return
        }
        print(
            "model    \(layers) layers, d_model \(config.dModel), \(config.nHead) heads of \(config.dHead), d_inner "
                + "\(config.dInner), random weights (\(model.parameterCount) parameters)"
        )
        print(
            "run      segment \(segment), memory \(MemorySpec.compact(memory))\(sameLength ? ", same-length" : ""), "
                + "\(threads) thread\(threads == 1 ? "" : "s"), \(BLAS.description)"
        )
        print(
            String(
                format:
                    "flops    %.0f per byte (%.2f MFLOP: qkv, attention over the visible keys, o, feed-forward, "
                        + "output; 2 per multiply-add)",
                flops, flops / 1e6))
        print(String(format: "sgemm    %.1f GFLOP/s (1024^3, best seen in this run)", sgemm))
        rates.lines.forEach { print($0) }
        for r in trainRows {
            print(
                String(
                    format:
                        "train %-3d %8.0f bytes/s  (forward, backward and Adam; training "
                            + "memory %@; %d steps in %.1f s)",
                    r.batch, r.bytesPerSecond, MemorySpec.compact(memory), r.steps, r.seconds))
        }
    }
}

extension BenchCommand {
    /// `--wt103`: the WikiText-103 model's shape with random weights, from a Hugging Face folder written once.
    /// The random wt103-shaped folder (--wt103-dir), written once for this config.
    func wt103Folder() throws -> String {
        guard (1...64).contains(wordLayers) else { throw Failure("--word-layers \(wordLayers) is out of range 1...64") }
        let dir = wt103Dir
        let configJSON = WordBenchmark.wt103Config(layers: wordLayers)
        let want = try JSONSerialization.data(withJSONObject: configJSON, options: [.sortedKeys])
        let existing = FileManager.default.contents(atPath: dir + "/config.json")
        if existing != want || !FileManager.default.fileExists(atPath: dir + "/model.safetensors") {
            FileHandle.standardError.write(Data("writing a random wt103-shaped model to \(dir)...\n".utf8))
            try WordBenchmark.writeRandomFolder(dir, config: configJSON)
        }
        return dir
    }

    /// --cluster-shares as numbers (their count and sum are checked against the model where it is known).
    func shares() throws -> [Double] {
        try clusterShares.split(separator: ",").map { s -> Double in
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v >= 0, v <= 1 else {
                throw Failure("--cluster-shares \"\(clusterShares)\": each share must be a number in 0...1")
            }
            return v
        }
    }

    func runWord(batches: [Int]) throws {
        let dir = try wt103Folder()
        let shares = try shares()
        let t0 = Date()
        let hf = try HFCheckpoint(directory: dir)
        let loadSeconds = Date().timeIntervalSince(t0)
        let c = hf.config
        guard shares.count == c.cutoffs.count + 1, abs(shares.reduce(0, +) - 1) < 1e-6 else {
            throw Failure(
                "--cluster-shares \"\(clusterShares)\": give \(c.cutoffs.count + 1) shares "
                    + "(one per cluster) summing to 1"
            )
        }
        guard wordMem >= 1 && wordMem <= Config.maxLength else {
            throw Failure("--word-mem \(wordMem) is out of range 1...\(Config.maxLength)")
        }
        let network = Network(hf), T = c.tgtLen
        let memory = Array(repeating: wordMem, count: c.nLayer)
        let options = RunOptions(memory: memory, sameLength: c.sameLength, clampLen: c.clampLen)
        let flops = WordBenchmark.flopsPerToken(
            c, memory: memory, segment: T, sameLength: c.sameLength, inputShare: shares,
            tailShare: Array(shares.dropFirst()))
        let tokens = WordBenchmark.tokens(c, count: 1 << 16, shares: shares)
        var sgemm = Benchmark.sgemmRate()
        var rows: [Benchmark.Throughput] = []
        for b in batches {
            rows += try WordBenchmark.throughput(
                network: network, tokens: tokens, options: options, segment: T, batch: b, seconds: seconds,
                kernels: kernels.runs,
                progress: { FileHandle.standardError.write(Data("\r\u{1B}[K  batch \(b): \($0)".utf8)) })
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            sgemm = max(sgemm, Benchmark.sgemmRate())
        }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let peakBytes = Double(usage.ru_maxrss) * 1024
        let rates = RateTable(unit: "tokens", decimals: 1, flops: flops, sgemm: sgemm, rows: rows)
        if json {
            let obj: [String: Any] = [
                "model": dir, "parameters": hf.parameterCount, "layers": c.nLayer, "memory": memory, "segment": T,
                "load_seconds": loadSeconds, "flops_per_token": flops, "sgemm_gflops": sgemm,
                "cluster_shares": shares, "peak_rss_bytes": peakBytes, "threads": threads,
                "results": rates.json,
            ]
            try StandardOutput.printJSON(obj)
            return
        }
        print(
            "model    wt103 shape, random weights: \(c.nLayer) layers, d_model \(c.dModel), \(c.nHead) heads of "
                + "\(c.dHead), d_inner \(c.dInner), vocabulary \(c.vocabSize), cutoffs "
                + "\(c.cutoffs), div_val \(c.divVal) "
                + "(\(hf.parameterCount) parameters, \(dir))")
        print(
            String(
                format: "load     %.2f s (model.safetensors mapped, float32 weights used in place)", loadSeconds))
        print(
            "run      segment \(T), memory \(MemorySpec.compact(memory)), same-length, clamp \(c.clampLen), "
                + "\(threads) thread\(threads == 1 ? "" : "s"), \(BLAS.description)")
        print(
            "tokens   clusters drawn with shares \(shares.map { String(format: "%.3g", $0) }.joined(separator: ", ")) "
                + "(--cluster-shares; an assumption, not WikiText-103's measured shares)")
        print(
            String(
                format:
                    "flops    %.0f per token (%.1f MFLOP: layers, attention over the visible keys, adaptive input, "
                    + "head and the target's tail cluster; 2 per multiply-add)", flops, flops / 1e6))
        print(String(format: "sgemm    %.1f GFLOP/s (1024^3, best seen in this run)", sgemm))
        rates.lines.forEach { print($0) }
        print(String(format: "peak RSS %.2f GB (getrusage ru_maxrss)", peakBytes / 1e9))
    }
}

/// A bench run's inference rates, one row per batch size, against the same run's sgemm rate: the lines it prints
/// and the rows of its `--json` results. `unit` is what a rate counts (bytes or tokens); `flops` is per unit.
private struct RateTable {
    typealias Row = Benchmark.Throughput
    let unit: String, decimals: Int
    let flops: Double, sgemm: Double
    let rows: [Row]

    func gflops(_ r: Row) -> Double { r.perSecond * flops / 1e9 }

    var json: [[String: Any]] {
        rows.map {
            [
                "batch": $0.batch, "\(unit)_per_second": $0.perSecond, "gflops": gflops($0),
                "ratio": gflops($0) / sgemm, "segments": $0.segments, "seconds": $0.seconds,
                "sgemm_alongside_gflops": $0.sgemmAlongside, "ratio_alongside": gflops($0) / $0.sgemmAlongside,
                "kernels": $0.kernels ? "avx2" : "openblas",
            ]
        }
    }

    var lines: [String] {
        rows.map {
            String(
                format: "batch %-3d %8.\(decimals)f \(unit)/s  %6.1f GFLOP/s  %5.1f%% of sgemm  "
                    + "(%d segments in %.1f s)  %@; %.1f%% of the %d sgemms between its segments (%.1f GFLOP/s, "
                    + "a column share in each worker)",
                $0.batch, $0.perSecond, gflops($0), 100 * gflops($0) / sgemm, $0.segments, $0.seconds,
                $0.kernels ? "AVX2 kernels" : "OpenBLAS", 100 * gflops($0) / $0.sgemmAlongside, $0.sgemmRuns,
                $0.sgemmAlongside)
        }
    }
}
