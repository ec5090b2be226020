// `memscope train`: trains a Transformer-XL with any per-layer memory arrangement, on CPU, resumable.
import Analysis
import ArgumentParser
import Corpus
import Foundation
import Signals
import TXL
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a Transformer-XL on bytes; checkpoints are atomic, Ctrl-C saves, --resume continues exactly.")

    @Option(help: "Checkpoint to write (and to continue from with --resume).")
    var out: String

    @Flag(
        help: """
            Continue the run saved in --out: same settings, same data order, same random numbers. Only --steps, \
            --log-every, --eval-every, --eval-bytes, --save-every, --threads and --export may change; other flags \
            must match the checkpoint.
            """
    )
    var resume = false

    @Option(help: "When the run finishes, also write the model alone (no optimizer state) to this file.")
    var export: String?

    @Option(help: "Train on this text file (its last 5% is the validation text) instead of the prepared corpus.")
    var text: String?

    @Option(help: "Prepared corpus in the data folder (see `memscope data prepare`).")
    var corpus = "kernel-docs"

    @OptionGroup var shape: ShapeOptions

    // Memory.
    @Option(
        help: ArgumentHelp(
            """
            Training memory per layer: N | N1,N2,... | L0-3:64,... | full | none | first:K | \
            last:K | interleaved:K (default: the segment length in every layer).
            """, valueName: "spec"))
    var mem: String?
    @Option(
        help: ArgumentHelp(
            """
            Long-range memory length for `full` and placements (default: the default evaluation \
            memory, 4 x segment).
            """, valueName: "n"))
    var lrm: Int?
    @Option(
        help: ArgumentHelp("Short-range memory length for placements (default: the segment length).", valueName: "n"))
    var srm: Int?
    @Option(
        name: .customLong("eval-mem"),
        help: ArgumentHelp(
            "Default evaluation memory stored in the checkpoint (same "
                + "grammar; default: 4 x segment in every layer).",
            valueName: "spec"))
    var evalMem: String?

    @Option(help: "Random seed (initialisation, dropout).") var seed: UInt64 = 1
    @OptionGroup var optim: OptimisationOptions

    func loadData() throws -> (train: [UInt8], valid: [UInt8], source: String) {
        if let text {
            let bytes = try readTextFile(text)
            let cut = bytes.count * 95 / 100
            guard cut >= 2 && bytes.count - cut >= 2 else {
                throw Failure("--text \(text): \(bytes.count) bytes is too small to train on")
            }
            return (Array(bytes[..<cut]), Array(bytes[cut...]), "text \(text) (first 95% train, last 5% valid)")
        }
        let store = CorpusStore()
        let manifest = try store.manifest(corpus: corpus)
        return (
            try store.load(.train, corpus: corpus), try store.load(.valid, corpus: corpus),
            "\(corpus) train \(manifest.splits.train.sha256.prefix(16)) valid "
                + "\(manifest.splits.valid.sha256.prefix(16))"
        )
    }

    func validate() throws {
        for (name, v) in [("--lrm", lrm), ("--srm", srm)] {
            if let v, !(0...Config.maxLength).contains(v) {
                throw ValidationError("\(name) \(v) is out of range 0...\(Config.maxLength)")
            }
        }
    }

    func run() throws {
        BLAS.threads = optim.threads
        let outDir = (out as NSString).deletingLastPathComponent
        guard FileManager.default.isWritableFile(atPath: outDir.isEmpty ? "." : outDir) else {
            throw Failure("--out \(out): the folder \(outDir.isEmpty ? "." : outDir) does not exist or is not writable")
        }
        if let export,
            !FileManager.default.isWritableFile(
                atPath: { $0.isEmpty ? "." : $0 }((export as NSString).deletingLastPathComponent))
        {
            throw Failure("--export \(export): its folder does not exist or is not writable")
        }
        let data = try loadData()
        let model: TransformerXL
        var settings: TrainSettings
        var resumeFile: SafetensorsFile?
        if resume {
            guard FileManager.default.fileExists(atPath: out) else {
                throw Failure("--resume: no checkpoint at \(out) to continue")
            }
            let file = try SafetensorsFile(path: out)
            model = try TransformerXL(file: file)
            settings = try resumedSettings(file: file, model: model, data: data.source)  // ResumeFlags.swift
            resumeFile = file
        } else {
            if FileManager.default.fileExists(atPath: out) {
                throw Failure("--out \(out) already exists; pass --resume to continue it or choose another path")
            }
            let T = shape.segment, layers = shape.layers
            let long = lrm ?? MemorySpec.defaultEvalLength(segment: T), short = srm ?? T
            let memory = try MemorySpec.parse(mem ?? String(T), layers: layers, lrm: long, srm: short)
            let evalMemory = try MemorySpec.parse(
                evalMem ?? "full", layers: layers,
                lrm: MemorySpec.defaultEvalLength(segment: T), srm: short)
            model = TransformerXL(config: try shape.config(memory: memory, evalMemory: evalMemory))
            model.initialise(seed: seed)
            settings = optim.settings(segment: T, memory: memory, seed: seed)
        }
        let trainer = try Trainer(
            model: model, settings: settings, train: data.train, valid: data.valid, resume: resumeFile)
        let c = model.config
        print(
            "model: \(c.nLayer) layers, d_model \(c.dModel), \(c.nHead) heads x \(c.dHead), d_inner \(c.dInner), "
                + "\(model.parameterCount) parameters"
        )
        print(
            "memory: train \(MemorySpec.compact(settings.memory)), eval default "
                + "\(MemorySpec.compact(c.defaultMemory)); segment \(settings.segment), batch \(settings.batch)"
        )
        print("data: \(data.source); \(data.train.count) train bytes, \(data.valid.count) valid bytes")
        if resume { print("resuming at step \(trainer.state.step) of \(settings.schedule.steps)") }
        fflush(nil)

        let signals = SignalWatch([SIGINT, SIGTERM, SIGHUP])
        defer { signals.cancel() }
        let command = CommandLine.arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let finished = try trainer.run(
            checkpoint: out, metadata: { ["train_command": command, "train_data": data.source] },
            log: {
                print($0); fflush(nil)
            }, shouldStop: { signals.anyReceived })
        if !finished { throw ExitCode(128 + (signals.first ?? SIGINT)) }
        if let export {
            let st = trainer.state
            model.metadata = [:]  // the training state stays in the checkpoint
            try model.save(
                to: export,
                metadata: [
                    "train_command": command, "train_data": data.source, "train_steps": String(st.step),
                    "train_bytes_seen": String(st.bytesSeen), "train_seconds": String(format: "%.0f", st.seconds),
                    "train_valid_bpc": st.lastValidBPC.map { String(format: "%.4f", $0) } ?? "",
                ])
            print("exported the model to \(export)")
        }
        print(
            "done: \(trainer.state.step) steps, \(trainer.state.bytesSeen) bytes seen, "
                + "\(formatDuration(trainer.state.seconds)) training time; saved \(out)"
        )
    }
}
