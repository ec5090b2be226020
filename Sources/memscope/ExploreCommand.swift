// `memscope explore`: the ncurses explorer (issue 4). Parses flags, loads the text, builds the engine
// and hands over to Terminal's ExplorerApp.
import ArgumentParser
import Explorer
import Foundation
import Terminal
import Corpus
import TXL

struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Change each layer's memory live, see attention and measure bpc (ncurses).",
        discussion: """
            Keys: ? lists them all. q quits. Needs a terminal of at least 80x24; for scripts use `memscope eval`.
            Defaults can go in $XDG_CONFIG_HOME/memscope/config (else ~/.config/memscope/config), one \
            `key = value` a line, with the keys \(ExplorerConfig.keys.joined(separator: ", ")); flags win.
            """
    )

    @Option(
        help: """
            Model checkpoint (.safetensors) or Hugging Face word-model folder (config.json, model.safetensors, \
            vocab.json); default: the shipped model.
            """
    )
    var model: String?

    @Option(help: "Text file to explore (bytes).")
    var text: String?

    @Option(help: "Corpus split to explore when --text is not given (default: test).")
    var split: String?

    @Option(
        help: """
            Initial memory: a preset (full, none, first:K, last:K, interleaved:K), one length, one per layer, \
            or L0-3:64,L4-11:512.
            """
    )
    var mem: String?

    @Option(help: "Colours (NO_COLOR is honoured; default: auto).")
    var color: ColorMode?

    @Flag(inversion: .prefixedNo, help: "ASCII glyphs only, for terminals without block elements (default: off).")
    var ascii: Bool?

    @Flag(inversion: .prefixedNo, help: "Capture the mouse: click selects, the wheel scrolls (default: on).")
    var mouse: Bool?

    @Option(help: "Directory the x key exports into (default: the current one).")
    var exportDir: String?

    @Option(
        help: """
            A second model (.safetensors) to compare with on the same text, at its own memory: the A/B views \
            then show where the two models differ (same vocabulary and layer count).
            """)
    var compareModel: String?

    @Flag(
        inversion: .prefixedNo,
        help: "Save the runs per model and text in the data folder and resume them next time (default: on).")
    var saveRuns: Bool = true

    func validate() throws {
        if text != nil && split != nil { throw ValidationError("give --text or --split, not both") }
    }

    func run() throws {
        guard isatty(STDOUT_FILENO) == 1 && isatty(STDIN_FILENO) == 1 else {
            throw Failure("explore needs a terminal; for bpc in scripts use `memscope eval`")
        }
        // The config file fills in what the command line leaves unsaid.
        let env = ProcessInfo.processInfo.environment
        let config: ExplorerConfig
        do {
            config = try ExplorerConfig.load(path: ExplorerConfig.path(environment: env), home: env["HOME"])
        } catch let e as ConfigError { throw Failure(e.description) }
        let colorName = config.color ?? "auto"
        guard let colorMode = color ?? ColorMode(rawValue: colorName) else {
            throw Failure("color = \(colorName) in the config file: use auto, 256, 8 or none")
        }
        let modelPath = try ModelOptions.locate(model ?? config.model)
        let (source, sourceName) = try loadText(split: split ?? config.split ?? "test")
        let engine = try makeEngine(path: modelPath, text: source, textName: sourceName)
        var other: (any ExplorerEngine)? = nil
        if let path = compareModel {
            do { other = try compareEngine(path: path, a: engine, text: source, textName: sourceName) } catch {
                throw Failure("--compare-model: \(error)")
            }
        }
        // `:compare model PATH` loads B the same way, on a worker thread.
        let loader: ModelLoader = { path, progress in
            try compareEngine(path: path, a: engine, text: source, textName: sourceName, progress: progress)
        }
        let (bytes, name) = explorerText(engine: engine, source: source, name: sourceName)
        // The runs of this model on this text, kept in the data folder ($MEMSCOPE_DATA, else the cache).
        let runStore =
            saveRuns
            ? RunStore(
                folder: DataFolder.resolve().path, model: RunOrigin.modelFile(modelPath),
                text: RunOrigin(name: name, fingerprint: Digest.sha256Hex(bytes))) : nil
        var memory = engine.defaultMemory
        if let mem = mem ?? config.mem {
            do {
                memory = try MemoryPlan.parse(
                    mem, layers: engine.layerCount, long: MemorySpec.defaultLong(engine.config),
                    short: engine.segmentLength, maxMemory: engine.maxMemory)
            } catch { throw Failure("\(self.mem != nil ? "--mem" : "mem in the config file"): \(error)") }
        }
        let options = TerminalOptions(
            color: colorMode, ascii: ascii ?? config.ascii ?? false, mouse: mouse ?? config.mouse ?? true,
            exportDirectory: exportDir ?? config.exportDir ?? ".")
        do {
            try ExplorerApp.run(
                engine: engine, text: bytes, textName: name, initialMemory: memory, options: options,
                runStore: runStore, compareEngine: other, modelLoader: loader)
        } catch let e as TerminalError {
            throw Failure(e.description)
        }
    }

    private func loadText(split: String) throws -> ([UInt8], String) {
        if let text {
            let name = (text as NSString).lastPathComponent
            // A pipe may have no writer yet: wait for one with q and Ctrl-C still working.
            if FIFOText.isFIFO(text) {
                let outcome: FIFOText.Outcome
                do { outcome = try FIFOText.read(text) } catch let e as TerminalError { throw Failure(e.description) }
                switch outcome {
                case .text(let bytes): return (bytes, name)
                case .quit: throw ExitCode.success
                case .interrupted: throw ExitCode(130)
                }
            }
            return (try readTextFile(text), name)
        }
        guard let which = Split(rawValue: split) else { throw Failure("--split \(split): use train, valid or test") }
        let store = CorpusStore()
        if !store.isPrepared() {
            // First run: prepare the held-out text, with progress, before the screen opens.
            let printer = ProgressPrinter()
            let folder = store.folder.path
            printer.line("preparing the kernel-docs corpus in \(folder) (first run; `memscope data prepare`)")
            try CorpusPreparer(store: store) { stage, fraction in printer.report(stage, fraction) }.prepare(.kernelDocs)
        }
        return (try store.load(which), "kernel-docs \(split)")
    }
}

/// The real engine for the checkpoint at `path` (ModelOptions.locate): a MemScope byte model (.safetensors), or a
/// Hugging Face word model folder, whose engine tokenizes `text` with the model's vocabulary. `progress` hears each
/// stage as it starts.
func makeEngine(
    path: String, text: [UInt8], textName: String, progress: (String) -> Void = { _ in }
) throws -> TXLEngine {
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    if HFCheckpoint.isFolder(path) {
        progress("reading the Hugging Face checkpoint")
        let hf = try HFCheckpoint(directory: path)
        progress("tokenizing \(textName) with its vocabulary")
        do { return try TXLEngine(model: hf, name: name, text: text) } catch { throw Failure("\(textName): \(error)") }
    }
    progress("reading the checkpoint")
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        throw Failure(
            "\((path as NSString).appendingPathComponent("config.json")): no such file (--model takes a "
                + ".safetensors file or a Hugging Face folder with config.json, model.safetensors and vocab.json)")
    }
    return TXLEngine(model: try TransformerXL(path: path), name: name)
}

/// B of an A/B comparison across models (--compare-model, `:compare model PATH`): the model at `path` on A's text,
/// named by its folder too when its name is A's (two checkpoints of one name, cells of two sweeps). Throws, in one
/// line, when the two cannot be compared position by position (Comparison.crossModelProblem).
func compareEngine(
    path: String, a: any ExplorerEngine, text: [UInt8], textName: String, progress: (String) -> Void = { _ in }
) throws -> TXLEngine {
    let located = (path as NSString).expandingTildeInPath
    guard FileManager.default.fileExists(atPath: located) else { throw Failure("\(located): no such file or folder") }
    var b = try makeEngine(path: located, text: text, textName: textName, progress: progress)
    if b.modelName == a.modelName {
        let folder = ((located as NSString).deletingLastPathComponent as NSString).lastPathComponent
        b = b.renamed("\(folder)/\(b.modelName)")
    }
    if let problem = Comparison.crossModelProblem(a: ModelInfo(a), b: ModelInfo(b)) { throw Failure(problem) }
    return b
}

/// What the explorer is given as its text: the bytes themselves for a byte model; for a word model one placeholder
/// byte per token (positions are tokens); the title then counts tokens (ModelInfo.textSize).
func explorerText(engine: any ExplorerEngine, source: [UInt8], name: String) -> ([UInt8], String) {
    guard let t = engine.tokenText else { return (source, name) }
    return (t.placeholderBytes, name)
}

extension ColorMode: ExpressibleByArgument {}
