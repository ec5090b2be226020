// `memscope data prepare|info`: builds byte corpora into the data folder and shows what is there.
import ArgumentParser
import Corpus
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Prepare and list the byte corpora in the data folder.",
        discussion: """
            The data folder is $MEMSCOPE_DATA, else $XDG_CACHE_HOME/memscope, else ~/.cache/memscope.
            Without network or apt, eval and explore read any raw text file with --text FILE.
            """,
        subcommands: [Prepare.self, Info.self]
    )

    enum Source: String, ExpressibleByArgument, CaseIterable {
        case kernelDocs = "kernel-docs", enwik8, text
    }

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a corpus: train/valid/test splits and a manifest.",
            discussion: """
                kernel-docs (the default) downloads Debian's linux-doc-6.1 with `apt-get download` (no root \
                needed), orders its Documentation/**/*.rst.gz by SHA-256 of their paths, and splits the \
                concatenated text 90/5/5 by bytes. enwik8 FILE takes the standard 90M/5M/5M split; \
                text FILE splits any file 90/5/5.
                """
        )

        @Option(help: "Corpus source: \(Source.allCases.map(\.rawValue).joined(separator: ", ")).")
        var source: Source = .kernelDocs

        @Argument(help: "The input file for --source enwik8 or text.")
        var file: String?

        @Option(help: "Corpus name for --source text (default: the file's base name).")
        var name: String?

        func validate() throws {
            switch source {
            case .kernelDocs:
                if let file { throw ValidationError("--source kernel-docs takes no FILE (got '\(file)')") }
            case .enwik8, .text:
                if file == nil { throw ValidationError("--source \(source.rawValue) needs a FILE") }
            }
            if let name, source != .text {
                throw ValidationError("--name applies to --source text only (got --name '\(name)')")
            }
        }

        func run() throws {
            let store = CorpusStore()
            let corpusSource: CorpusSource
            switch source {
            case .kernelDocs: corpusSource = .kernelDocs
            case .enwik8: corpusSource = .enwik8(path: file!)
            case .text: corpusSource = .text(path: file!, name: name)
            }
            let printer = ProgressPrinter()
            let preparer = CorpusPreparer(store: store) { stage, fraction in printer.report(stage, fraction) }
            printer.line("data folder \(store.folder.path)")
            // Ctrl-C or SIGTERM stops apt-get/dpkg-deb too and removes the work folder.
            Interruption.shared.forwardSignals()
            let manifest = try preparer.prepare(corpusSource)
            for line in manifest.summary { print(line) }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the data folder and its prepared corpora.")

        func run() throws {
            let store = CorpusStore()
            print("data folder: \(store.folder.path)")
            let (prepared, incomplete) = store.corpora()
            for corpus in prepared {
                do {
                    for line in try store.manifest(corpus: corpus).summary { print(line) }
                } catch {
                    print("\(corpus): \(error)")
                }
            }
            for corpus in incomplete {
                print("\(corpus): incomplete (no manifest.json); run `\(CorpusError.prepareCommand(for: corpus))`")
            }
            if prepared.isEmpty {
                print("no prepared corpus: run `memscope data prepare`, or pass a raw text file with --text FILE")
            }
        }
    }
}

/// Progress lines on stderr: each stage's start, and decompression every 25% (`data prepare`, and the explorer's
/// first run).
final class ProgressPrinter: @unchecked Sendable {
    private let lock = NSLock()
    private var lastStage: PrepareStage?
    private var lastQuarter = 0

    func report(_ stage: PrepareStage, _ fraction: Double) {
        lock.lock()
        defer { lock.unlock() }
        if stage != lastStage {
            lastStage = stage
            lastQuarter = 0
            line(Self.start[stage] ?? stage.rawValue)
        }
        let quarter = Int(fraction * 4)
        if stage == .decompress, quarter > lastQuarter {
            lastQuarter = quarter
            line("decompress: \(quarter * 25)%")
        }
    }

    private static let start: [PrepareStage: String] = [
        .download: "download: apt-get download \(KernelDocs.packageName)",
        .extract: "extract: dpkg-deb -x",
        .decompress: "decompress: gunzip and concatenate in SHA-256 order of the keys",
        .write: "write: splits, then manifest.json",
    ]

    func line(_ text: String) {
        FileHandle.standardError.write(Data("memscope: \(text)\n".utf8))
    }
}
