// Flags shared by every command that runs a model: which model, and how much memory each layer gets.
import ArgumentParser
import Corpus
import Foundation
import TXL
import Training

struct ModelOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            """
            Model checkpoint (.safetensors) or a Hugging Face Transformer-XL folder (config.json, \
            model.safetensors, vocab.json); default Assets/models/default.safetensors.
            """, valueName: "path"))
    var model: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Memory per layer: N, N1,N2,... (bottom first), full, none, first:K, last:K or interleaved:K.",
            valueName: "spec"))
    var mem: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            """
            Long-range memory length for placements and `full` (default: the model's default \
            evaluation memory).
            """, valueName: "n"))
    var lrm: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Short-range memory length for placements (default: the segment length).", valueName: "n"))
    var srm: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Segment length (default: the model's training segment).", valueName: "n"))
    var segment: Int?

    @Flag(inversion: .prefixedNo, help: "Each query sees exactly its last M keys (default: as the model was trained).")
    var sameLength: Bool?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Clamp relative distances at N (-1 = off; default: the model's).", valueName: "n"))
    var clamp: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Threads for the model (default: every core).", valueName: "n"))
    var threads: Int?

    /// The checkpoint path: --model, else the repository's default model above the executable or the current folder.
    func modelPath() throws -> String { try ModelOptions.locate(model) }

    /// `path`, else the repository's default model found above the current folder or the executable.
    static func locate(_ path: String?) throws -> String {
        if let path { return path }
        let rel = "Assets/models/default.safetensors"
        var starts = [FileManager.default.currentDirectoryPath]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .path
        starts.append(exe)
        for s in starts {
            var dir = URL(fileURLWithPath: s)
            while true {
                let candidate = dir.appendingPathComponent(rel).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                let up = dir.deletingLastPathComponent()
                if up.path == dir.path { break }
                dir = up
            }
        }
        throw Failure(
            "no default model (\(rel) not found above the current folder or the executable); pass --model PATH, e.g. "
                + "--model ../shared/fixtures/txl-uniform-mem.safetensors"
        )
    }

    func applyThreads() throws {
        if let threads {
            guard (1...256).contains(threads) else { throw Failure("--threads \(threads) is out of range 1...256") }
            Inference.threads = threads
            BLAS.threads = threads
        }
    }

    /// A MemScope byte model (commands that run only those).
    func loadModel() throws -> (TransformerXL, path: String) {
        try applyThreads()
        let path = try modelPath()
        if HFCheckpoint.isFolder(path) {
            throw Failure(
                "\(path): a Hugging Face word model; this command runs MemScope byte models only "
                    + "(eval, info, attention and verify take a Hugging Face folder)")
        }
        return (try TransformerXL(path: path), path)
    }

    /// A byte model (.safetensors) or a Hugging Face word model (a folder).
    func loadAnyModel() throws -> (LoadedModel, path: String) {
        try applyThreads()
        let path = try modelPath()
        if HFCheckpoint.isFolder(path) { return (.word(try HFCheckpoint(directory: path)), path) }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw Failure(
                "\((path as NSString).appendingPathComponent("config.json")): no such file (--model takes a "
                    + ".safetensors file or a Hugging Face folder with config.json, model.safetensors and vocab.json)")
        }
        return (.byte(try TransformerXL(path: path)), path)
    }

    /// Segment length and run options for any model from the flags, every value checked.
    func run(for model: LoadedModel) throws -> (options: RunOptions, segment: Int) {
        switch model {
        case .byte(let m): return try run(for: m)
        case .word(let m):
            let c = m.config
            let T = segment ?? c.tgtLen
            guard T >= 1 && T <= Config.maxLength else {
                throw Failure("--segment \(T) is out of range 1...\(Config.maxLength)")
            }
            try checkLengths()
            var memory = Array(repeating: c.memLen, count: c.nLayer)
            if let mem {
                memory = try MemorySpec.parse(mem, layers: c.nLayer, lrm: lrm ?? c.memLen, srm: srm ?? T)
            } else if lrm != nil || srm != nil {
                throw Failure("--lrm and --srm set the lengths of a --mem placement; give --mem too")
            }
            let options = RunOptions(
                memory: memory, sameLength: sameLength ?? c.sameLength, clampLen: clamp ?? c.clampLen)
            try options.validate(layers: c.nLayer)
            return (options, T)
        }
    }

    func checkLengths() throws {
        for (name, v) in [("--lrm", lrm), ("--srm", srm)] {
            if let v, v < 0 || v > Config.maxLength {
                throw Failure("\(name) \(v) is out of range 0...\(Config.maxLength)")
            }
        }
        if let clamp, clamp < -1 || clamp > Config.maxLength {
            throw Failure("--clamp \(clamp) is out of range -1...\(Config.maxLength)")
        }
    }

    /// Segment length and run options for `model` from the flags, every value checked.
    func run(for model: TransformerXL) throws -> (options: RunOptions, segment: Int) {
        let c = model.config
        let T = segment ?? c.tgtLen
        guard T >= 1 && T <= Config.maxLength else {
            throw Failure("--segment \(T) is out of range 1...\(Config.maxLength)")
        }
        for (name, v) in [("--lrm", lrm), ("--srm", srm)] {
            if let v, v < 0 || v > Config.maxLength {
                throw Failure("\(name) \(v) is out of range 0...\(Config.maxLength)")
            }
        }
        if let clamp, clamp < -1 || clamp > Config.maxLength {
            throw Failure("--clamp \(clamp) is out of range -1...\(Config.maxLength)")
        }
        var memory: [Int]? = nil
        if let mem {
            memory = try MemorySpec.parse(mem, config: c, segment: T, lrm: lrm, srm: srm)
        } else if lrm != nil || srm != nil {
            throw Failure(
                "--lrm and --srm set the lengths of a --mem placement (first:K, last:K, "
                    + "interleaved:K or full); give --mem too"
            )
        }
        let options = RunOptions(config: c, memory: memory, sameLength: sameLength, clampLen: clamp)
        try options.validate(layers: c.nLayer)
        return (options, T)
    }
}

/// A model a command runs: a MemScope byte model or a Hugging Face word model.
enum LoadedModel {
    case byte(TransformerXL)
    case word(HFCheckpoint)

    var network: Network {
        switch self {
        case .byte(let m): return Network(m)
        case .word(let m): return Network(m)
        }
    }

    var nLayer: Int { network.nLayer }
    var nHead: Int { network.nHead }

    /// The token ids of a text: its bytes, or (a word model) its words through the vocabulary, each line ended by
    /// <eos>, as WikiText-103's pipeline (the text is expected pre-tokenized like WikiText-103).
    func tokens(_ bytes: [UInt8], source: String) throws -> [Int] {
        switch self {
        case .byte: return bytes.map { Int($0) }
        case .word(let m):
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw Failure(
                    "\(source): not UTF-8 text; a word model reads UTF-8 text (pre-tokenized like WikiText-103)")
            }
            do { return try m.vocabulary.encode(text) } catch { throw Failure("\(source): \(error)") }
        }
    }
}

/// `--text FILE` or `--split test|valid` of a prepared corpus: the bytes a command reads.
struct TextOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Text file to read (any bytes).", valueName: "file"))
    var text: String?

    @Option(help: ArgumentHelp("A split of a prepared corpus (see `memscope data`).", valueName: "split"))
    var split: HeldOutSplit?

    @Option(help: ArgumentHelp("Corpus of --split.", valueName: "name"))
    var corpus: String = KernelDocs.corpusName

    /// The bytes, a description of where they came from, and the split's SHA-256 when it is a corpus split.
    /// `limit`: read at most that many bytes of a --text file (a pipe or a device such as /dev/zero never ends).
    func load(command: String, limit: Int? = nil) throws -> (bytes: [UInt8], source: String, splitSHA: String?) {
        switch (text, split) {
        case (let file?, nil):
            return (try readTextFile(file, limit: limit), file, nil)
        case (nil, let name?):
            let store = CorpusStore()
            let bytes = try store.load(name.split, corpus: corpus)
            return (
                bytes, "\(corpus) \(name.rawValue) split", try store.manifest(corpus: corpus).splits[name.split].sha256
            )
        case (nil, nil): throw Failure("\(command): give --text FILE or --split test|valid")
        case (_?, _?): throw Failure("\(command): give --text or --split, not both")
        }
    }
}

/// The model's shape, for commands that make a new model (`train`, `bench`).
struct ShapeOptions: ParsableArguments {
    @Option(help: "Layers.") var layers = 6
    @Option(name: .customLong("d-model"), help: "Model width.") var dModel = 256
    @Option(help: "Attention heads.") var heads = 4
    @Option(name: .customLong("d-head"), help: "Width of each head.") var dHead = 64
    @Option(name: .customLong("d-inner"), help: "Feed-forward width.") var dInner = 1024
    @Option(help: "Segment length.") var segment = 128
    @Flag(name: .customLong("pre-lnorm"), help: "Layer norm before each block instead of after.") var preLnorm = false
    @Flag(name: .customLong("same-length"), help: "Every query sees exactly its layer's memory length of keys.")
    var sameLength = false
    @Option(parsing: .unconditional, help: "Clamp relative distances at N (-1 = off).") var clamp = -1

    func validate() throws {
        guard (1...Config.maxLength).contains(segment) else {
            throw ValidationError("--segment \(segment) is out of range 1...\(Config.maxLength)")
        }
    }

    /// The config with these shapes, training memory `memory` and default evaluation memory `evalMemory`.
    func config(memory: [Int], evalMemory: [Int]? = nil) throws -> Config {
        let c = Config(
            nLayer: layers, nHead: heads, dModel: dModel, dHead: dHead, dInner: dInner, tgtLen: segment,
            memLens: memory, sameLength: sameLength, clampLen: clamp, preLnorm: preLnorm,
            evalMemLens: evalMemory)
        do { try c.validate() } catch { throw Failure("\(error)") }
        return c
    }
}

/// A held-out split of a prepared corpus.
enum HeldOutSplit: String, ExpressibleByArgument, CaseIterable {
    case test, valid
    var split: Split { self == .test ? .test : .valid }
}

/// Optimisation and reporting flags of a training run, shared by `train` and `sweep train`.
struct OptimisationOptions: ParsableArguments {
    @Option(help: "Parallel streams per step.") var batch = 16
    @Option(help: ArgumentHelp("Optimiser steps (default: 1000; may change on --resume).", valueName: "n"))
    var steps: Int?
    @Option(help: "Peak learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Linear warm-up steps.") var warmup = 100
    @Option(name: .customLong("min-lr"), help: "Learning rate at the end of the cosine decay.") var minLR: Float = 0
    @Option(help: "Gradient-norm clipping (0 = off).") var clip: Float = 0.25
    @Option(help: "Dropout on hidden states.") var dropout: Float = 0
    @Option(help: "Dropout on attention probabilities.") var dropatt: Float = 0
    @Option(help: "Threads (OpenBLAS and the runtime's own).") var threads = ProcessInfo.processInfo
        .activeProcessorCount
    @Option(name: .customLong("log-every"), help: "Steps between progress lines.") var logEvery = 50
    @Option(name: .customLong("eval-every"), help: "Steps between validation runs.") var evalEvery = 500
    @Option(name: .customLong("eval-bytes"), help: "Validation bytes per run.") var evalBytes = 65536
    @Option(name: .customLong("save-every"), help: "Steps between checkpoints.") var saveEvery = 200

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) is out of range 1...256") }
        if let steps, steps < 1 { throw ValidationError("--steps \(steps): nothing to train; give at least 1") }
    }

    /// Training settings for a run of `segment` bytes a stream with training memory `memory`.
    func settings(segment: Int, memory: [Int], seed: UInt64) -> TrainSettings {
        var s = TrainSettings(
            batch: batch, segment: segment, memory: memory,
            schedule: Schedule(lr: lr, warmup: warmup, steps: steps ?? 1000, minLR: minLR))
        s.clip = clip; s.dropout = dropout; s.dropatt = dropatt; s.seed = seed
        s.logEvery = logEvery; s.evalEvery = evalEvery; s.evalBytes = evalBytes; s.saveEvery = saveEvery
        return s
    }
}

extension RunOptions {
    /// "segment 128, same-length, clamp 1000": the run's shape as the commands print it.
    func segmentDescription(_ segment: Int) -> String {
        "segment \(segment)" + (sameLength ? ", same-length" : "") + (clampLen > 0 ? ", clamp \(clampLen)" : "")
    }
}
