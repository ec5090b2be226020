// `memscope sweep train|eval`: a grid of memory arrangements, trained from scratch or evaluated on one model,
// with results.json/csv/md and SVG charts in --out. The work lives in the Sweep target.
import Analysis
import ArgumentParser
import Corpus
import Foundation
import Signals
import Sweep
import TXL

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Train or evaluate a grid of memory arrangements (placements x srm x seeds) and chart the results.",
        subcommands: [SweepTrainCommand.self, SweepEvalCommand.self])
}

/// The command as typed, with the executable called `memscope` wherever it was run from.
func commandLine() -> String {
    (["memscope"] + CommandLine.arguments.dropFirst()).map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }
        .joined(separator: " ")
}

/// Library errors become one-line failures.
func oneLine<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as SweepError { throw Failure(e.description) } catch let e as ModelError {
        throw Failure(e.description)
    } catch let e as AnalysisError { throw Failure(e.description) } catch let e as CorpusError {
        throw Failure(e.description)
    }
}

struct SweepTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract:
            "Train one model per cell (memscope train semantics), evaluate each on the test split; rerun to resume.")

    @Option(help: "Output folder: sweep.json, results.json/csv/md, charts, cells/ (checkpoints, models, logs, cards).")
    var out: String

    @Option(help: "Placements: full, none (every layer at srm), first:K, last:K, interleaved:K, comma-separated.")
    var placements = "full,none,first:1,last:1,interleaved:1,first:2,last:2,interleaved:2"
    @Option(help: "Long-range memory length of the long layers.") var lrm: Int
    @Option(help: "Short-range memory lengths of the other layers, comma-separated (each makes a cell).") var srm:
        String
    @Option(help: "Seeds, comma-separated (each makes a cell).") var seeds = "1"
    @Option(
        help: """
            Explicit ordered cells instead of the grid: PLACEMENT[/srmN][/sN],... e.g. full/s1,last:1/srm16/s2 \
            (missing: the first --srm and --seeds).
            """
    )
    var cells: String?

    @Option(
        help: "Train on this text file (first 90% train, next 5% valid, last 5% test) instead of the prepared corpus.")
    var text: String?
    @Option(help: "Prepared corpus in the data folder (see `memscope data prepare`).") var corpus = "kernel-docs"
    @Option(name: .customLong("test-offset"), help: "First byte of the test text to evaluate.") var testOffset = 0
    @Option(name: .customLong("test-bytes"), help: "Test bytes to evaluate (default: to the end).") var testBytes: Int?
    @Option(name: .customLong("long-factor"), help: "The second test evaluation gives the long layers this x lrm.")
    var longFactor = 4

    // Model shape, optimisation and reporting: memscope train's flags and defaults.
    @OptionGroup var shape: ShapeOptions
    @OptionGroup var optim: OptimisationOptions

    func loadData() throws -> (SweepData, String, Int) {
        let test: [UInt8], train: [UInt8], valid: [UInt8], sha: String?, source: String
        if let text {
            let bytes = try readTextFile(text)
            let a = bytes.count * 90 / 100, b = bytes.count * 95 / 100
            guard a >= 2, b - a >= 2, bytes.count - b >= 2 else {
                throw Failure("--text \(text): \(bytes.count) bytes is too small to train on")
            }
            train = Array(bytes[..<a]); valid = Array(bytes[a..<b]); test = Array(bytes[b...]); sha = nil
            source = "text \(text) sha256 \(Digest.sha256Hex(bytes).prefix(16)) (90% train, 5% valid, 5% test)"
        } else {
            let store = CorpusStore()
            let m = try store.manifest(corpus: corpus)
            train = try store.load(.train, corpus: corpus); valid = try store.load(.valid, corpus: corpus)
            test = try store.load(.test, corpus: corpus); sha = m.splits.test.sha256
            source =
                "\(corpus) train \(m.splits.train.sha256.prefix(16)) valid \(m.splits.valid.sha256.prefix(16)) test "
                    + "\(m.splits.test.sha256.prefix(16))"
        }
        let slice = try cut(test, offset: testOffset, bytes: testBytes)
        return (SweepData(train: train, valid: valid, test: slice, testSplitSHA256: sha), source, slice.count)
    }

    func run() throws {
        guard (0...Config.maxLength).contains(lrm) else {
            throw Failure("--lrm \(lrm) is out of range 0...\(Config.maxLength)")
        }
        let layers = shape.layers
        BLAS.threads = optim.threads
        Inference.threads = optim.threads
        let outcome: SweepOutcome = try oneLine {
            let srms = try SweepCell.parseInts(srm, flag: "--srm", range: 0...Config.maxLength)
            let seedList = try SweepCell.parseInts(seeds, flag: "--seeds", range: 0...Int(Int32.max)).map(UInt64.init)
            let list: [SweepCell]
            if let cells {
                list = try SweepCell.parseCells(
                    cells, layers: layers, lrm: lrm, defaultSRM: srms[0], defaultSeed: seedList[0])
            } else {
                list = SweepCell.grid(
                    placements: try SweepCell.parsePlacements(placements, layers: layers), lrm: lrm,
                    srms: srms, seeds: seedList)
            }
            let (data, source, testCount) = try loadData()
            var s = SweepTrainSettings()
            s.layers = layers; s.dModel = shape.dModel; s.heads = shape.heads; s.dHead = shape.dHead
            s.dInner = shape.dInner; s.segment = shape.segment; s.lrm = lrm
            s.preLnorm = shape.preLnorm; s.sameLength = shape.sameLength; s.clamp = shape.clamp
            s.batch = optim.batch; s.steps = optim.steps ?? 1000; s.warmup = optim.warmup; s.lr = optim.lr
            s.minLR = optim.minLR; s.clip = optim.clip; s.dropout = optim.dropout; s.dropatt = optim.dropatt
            s.logEvery = optim.logEvery; s.evalEvery = optim.evalEvery; s.evalBytes = optim.evalBytes
            s.saveEvery = optim.saveEvery
            s.longFactor = longFactor; s.data = source; s.testOffset = testOffset; s.testBytes = testCount
            let signals = SignalWatch([SIGINT, SIGTERM, SIGHUP])
            defer { signals.cancel() }
            let trainer = try SweepTrainer(
                settings: s, cells: list, folder: SweepFolder(path: out), data: data,
                command: commandLine(),
                log: {
                    print($0); fflush(nil)
                },
                shouldStop: { signals.anyReceived })
            let outcome = try trainer.run()
            if outcome == .stopped { throw ExitCode(128 + (signals.first ?? SIGINT)) }
            return outcome
        }
        if outcome == .finished { print("sweep finished: \(out)/results.md") }
    }
}

struct SweepEvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate one model at every arrangement of a grid, all on exactly the same bytes; rerun to resume.")

    @Option(
        help: ArgumentHelp(
            "Model checkpoint (.safetensors); default Assets/models/default.safetensors.", valueName: "path"))
    var model: String?
    @Option(help: "Output folder: sweep.json, results.json/csv/md, charts.") var out: String
    @Option(help: "Placements: full, none (every layer at srm), first:K, last:K, interleaved:K, comma-separated.")
    var placements = "none,full,first:1,last:1,interleaved:1,first:2,last:2,interleaved:2"
    @Option(help: "Long-range lengths, comma-separated (default: the model's default evaluation memory).") var lrm:
        String?
    @Option(help: "Short-range lengths, comma-separated (default: the segment length).") var srm: String?
    @OptionGroup var source: TextOptions
    @Option(help: "First byte of the text to use.") var offset = 0
    @Option(help: "Bytes to use from --offset (default: to the end).") var bytes: Int?
    @Option(help: "Threads for the model (default: every core).") var threads = ProcessInfo.processInfo
        .activeProcessorCount

    func run() throws {
        guard (1...256).contains(threads) else { throw Failure("--threads \(threads) is out of range 1...256") }
        BLAS.threads = threads
        Inference.threads = threads
        let (all, description, splitSHA) = try source.load(command: "sweep eval")
        let text = try cut(all, offset: offset, bytes: bytes)
        let path = try ModelOptions.locate(model)
        let outcome: SweepOutcome = try oneLine {
            let m = try TransformerXL(path: path)
            let c = m.config
            let lrms =
                try lrm.map { try SweepCell.parseInts($0, flag: "--lrm", range: 0...Config.maxLength) } ?? [
                    MemorySpec.defaultLong(c)
                ]
            let srms =
                try srm.map { try SweepCell.parseInts($0, flag: "--srm", range: 0...Config.maxLength) } ?? [c.tgtLen]
            let cells = SweepEvaluator.grid(
                placements: try SweepCell.parsePlacements(placements, layers: c.nLayer), lrms: lrms, srms: srms)
            let signals = SignalWatch([SIGINT, SIGTERM, SIGHUP])
            defer { signals.cancel() }
            let ev = try SweepEvaluator(
                model: m, modelPath: path, cells: cells, text: text,
                textDescription: "\(description), \(text.count) bytes from offset \(offset)",
                offset: offset, splitSHA256: splitSHA, folder: SweepFolder(path: out), command: commandLine(),
                log: {
                    print($0); fflush(nil)
                }, shouldStop: { signals.anyReceived })
            let outcome = try ev.run()
            if outcome == .stopped { throw ExitCode(128 + (signals.first ?? SIGINT)) }
            return outcome
        }
        if outcome == .finished { print("sweep finished: \(out)/results.md") }
    }
}
