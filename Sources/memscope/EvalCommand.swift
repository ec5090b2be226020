// `memscope eval`: bits per byte of a text with any per-layer memory, memories carried segment to segment.
import Analysis
import ArgumentParser
import Corpus
import Foundation
import TXL

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract:
            "Bits per byte (byte model) or bits per token and perplexity (word model) of a text, with any per-layer "
            + "memory.")

    @OptionGroup var model: ModelOptions

    @OptionGroup var source: TextOptions

    @Option(parsing: .unconditional, help: ArgumentHelp("First byte of the text to use.", valueName: "n"))
    var offset: Int = 0

    @Option(
        parsing: .unconditional, help: ArgumentHelp("Bytes to use from --offset (default: to the end).", valueName: "n")
    )
    var bytes: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Independent streams: the text is cut into this many contiguous parts.", valueName: "n"))
    var batch: Int = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let limit = bytes.flatMap { offset >= 0 && $0 >= 0 ? offset.addingReportingOverflow($0) : nil }
        let (all, source, splitSHA) = try self.source.load(
            command: "eval", limit: limit.flatMap { $0.overflow ? nil : $0.partialValue })
        let slice = try cut(all, offset: offset, bytes: bytes)
        let (loaded, path) = try model.loadAnyModel()
        guard case .byte(let m) = loaded else {
            return try runWord(loaded, path: path, text: slice, source: source, splitSHA: splitSHA)
        }
        let (options, T) = try model.run(for: m)
        guard batch >= 1 && batch <= 4096 else { throw Failure("--batch \(batch) is out of range 1...4096") }
        _ = try Evaluator.streamLength(bytes: slice.count, batch: batch)
        let bar = ProgressBar(enabled: isatty(2) != 0)
        let r = try Evaluator.evaluate(model: m, text: slice, options: options, segment: T, batch: batch) { p in
            bar.update(p); return true
        }
        bar.finish()
        if json {
            var obj: [String: Any] = [
                "bpc": r.bpc, "bits": r.bits, "bytes": r.predicted, "seconds": r.seconds,
                "bytes_per_second": r.bytesPerSecond,
                "memory": r.memory, "memory_floats": r.memoryFloats, "segment": r.segment, "batch": r.batch,
                "model": path,
                "same_length": options.sameLength, "clamp": options.clampLen, "offset": offset, "text": source,
            ]
            if let splitSHA {
                obj["split"] = self.source.split?.rawValue; obj["corpus"] = self.source.corpus;
                obj["split_sha256"] = splitSHA
            }
            obj["text_bytes"] = slice.count
            try StandardOutput.printJSON(obj)
        } else {
            print("model     \(path)")
            print(
                "text      \(source): \(slice.count) bytes from offset \(offset), \(batch) "
                    + "stream\(batch == 1 ? "" : "s")"
            )
            print(
                "memory    \(MemorySpec.compact(r.memory)) (\(r.memoryFloats) floats per stream), "
                    + options.segmentDescription(T)
            )
            print(String(format: "bpc       %.4f over %d predicted bytes", r.bpc, r.predicted))
            print(String(format: "speed     %.2f s, %.0f bytes/s", r.seconds, r.bytesPerSecond))
        }
    }
}

extension EvalCommand {
    /// A word model: the text (cut by --offset/--bytes first) tokenized with the model's vocabulary.
    func runWord(_ loaded: LoadedModel, path: String, text: [UInt8], source: String, splitSHA: String?) throws {
        let (options, T) = try model.run(for: loaded)
        guard batch >= 1 && batch <= 4096 else { throw Failure("--batch \(batch) is out of range 1...4096") }
        let tokens = try loaded.tokens(text, source: source)
        guard case .word(let hf) = loaded else { return }
        let unknown = hf.vocabulary.unk.map { u in tokens.filter { $0 == u }.count } ?? 0
        guard tokens.count >= 2 else {
            throw Failure("\(source): \(tokens.count) token(s); bits per token needs at least 2")
        }
        _ = try Evaluator.streamLength(bytes: tokens.count, batch: batch)
        let bar = ProgressBar(enabled: isatty(2) != 0)
        let r = try Evaluator.evaluate(
            network: loaded.network, tokens: tokens, options: options, segment: T, batch: batch
        ) { p in
            bar.update(p); return true
        }
        bar.finish()
        let bitsPerToken = r.bpc, perplexity = pow(2, bitsPerToken)
        if json {
            var obj: [String: Any] = [
                "bits_per_token": bitsPerToken, "perplexity": perplexity, "bits": r.bits, "tokens": r.predicted,
                "text_tokens": tokens.count, "unknown_tokens": unknown, "seconds": r.seconds,
                "tokens_per_second": r.bytesPerSecond, "memory": r.memory, "memory_floats": r.memoryFloats,
                "segment": r.segment, "batch": r.batch, "model": path, "vocabulary": hf.config.vocabSize,
                "same_length": options.sameLength, "clamp": options.clampLen, "offset": offset, "text": source,
                "text_bytes": text.count,
            ]
            if let splitSHA {
                obj["split"] = self.source.split?.rawValue; obj["corpus"] = self.source.corpus
                obj["split_sha256"] = splitSHA
            }
            try StandardOutput.printJSON(obj)
            return
        }
        print("model      \(path) (word level, vocabulary \(hf.config.vocabSize))")
        print(
            "text       \(source): \(text.count) bytes from offset \(offset), \(tokens.count) tokens "
                + "(\(unknown) <unk>), \(batch) stream\(batch == 1 ? "" : "s")")
        print("tokenizer  whitespace split, <eos> per line: WikiText-103-style pre-tokenized text is expected")
        print(
            "memory     \(MemorySpec.compact(r.memory)) (\(r.memoryFloats) floats per stream), "
                + options.segmentDescription(T)
        )
        print(
            String(
                format: "bits/token %.4f, perplexity %.2f over %d predicted tokens", bitsPerToken, perplexity,
                r.predicted))
        print(String(format: "speed      %.2f s, %.0f tokens/s", r.seconds, r.bytesPerSecond))
    }
}

/// bytes[offset ..< offset + count], checked.
func cut(_ all: [UInt8], offset: Int, bytes: Int?) throws -> [UInt8] {
    guard offset >= 0 && offset < all.count else {
        throw Failure("--offset \(offset) is outside the text's \(all.count) bytes")
    }
    guard let n = bytes else {
        guard all.count - offset >= 2 else {
            throw Failure("\(all.count - offset) byte(s) from offset \(offset): bpc needs at least 2")
        }
        return Array(all[offset...])
    }
    guard n >= 2 else { throw Failure("--bytes \(n): bpc needs at least 2 bytes") }
    guard n <= all.count - offset else {
        throw Failure("--bytes \(n) from offset \(offset) runs past the text's \(all.count) bytes")
    }
    return Array(all[offset..<(offset + n)])
}

/// A one-line progress bar with ETA on stderr, drawn only when stderr is a terminal, at most ~10 times a second.
final class ProgressBar {
    let enabled: Bool
    var last = 0.0
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ p: EvalProgress) {
        guard enabled, p.seconds - last >= 0.1 || p.done == p.total else { return }
        last = p.seconds
        let width = 30, filled = Int(p.fraction * Double(width))
        let rate = p.seconds > 0 ? Double(p.done) / p.seconds : 0
        let eta = rate > 0 ? Double(p.total - p.done) / rate : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(
            format: "\r[%@] %3.0f%% %.0f B/s ETA %@ bpc %.3f ", bar, p.fraction * 100, rate, formatDuration(eta), p.bpc)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
