// Errors of the Corpus module: each names the file, corpus or command involved and says what to do.
import Foundation

public enum CorpusError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No `manifest.json` for this corpus in the data folder.
    case notPrepared(corpus: String, folder: String)
    /// A split file listed by the manifest is missing.
    case missingSplit(corpus: String, split: String, path: String)
    /// A split file does not match its manifest (size or SHA-256).
    case damagedSplit(corpus: String, path: String, problem: String)
    case badManifest(path: String, reason: String)
    /// A gzip stream that zlib rejects (corrupt, truncated, trailing garbage).
    case badGzip(source: String, reason: String)
    /// An external tool (apt-get, dpkg-deb) is not on PATH.
    case toolMissing(tool: String, purpose: String)
    /// An external tool ran and failed.
    case toolFailed(command: String, status: Int32, output: String)
    case noDocumentation(path: String)
    case wrongSize(path: String, expected: Int, actual: Int, what: String)
    case tooSmall(path: String, bytes: Int, minimum: Int)
    case fileMissing(path: String)
    case notAFile(path: String)
    case unreadable(path: String, reason: String)
    case emptyFile(path: String)
    case badName(name: String, reason: String)
    case writeFailed(path: String, reason: String)

    /// The command that prepares `corpus` (kernel-docs is the default; the others were made from a file).
    public static func prepareCommand(for corpus: String) -> String {
        switch corpus {
        case KernelDocs.corpusName: return "memscope data prepare"
        case "enwik8": return "memscope data prepare --source enwik8 FILE"
        default: return "memscope data prepare --source text FILE --name \(corpus)"
        }
    }

    static let textHint = "or pass a raw text file with --text FILE"
    static let offlineHint =
        "without network or apt, pass a raw text file with --text FILE (eval and explore read it directly), "
        + "or prepare one with `memscope data prepare --source text FILE`"

    public var description: String {
        switch self {
        case .notPrepared(let corpus, let folder):
            return "corpus '\(corpus)' is not prepared in \(folder) (no manifest.json): "
                + "run `\(Self.prepareCommand(for: corpus))`, \(Self.textHint)"
        case .missingSplit(let corpus, let split, let path):
            return "split '\(split)' of corpus '\(corpus)' is missing (\(path)): "
                + "run `\(Self.prepareCommand(for: corpus))` again, \(Self.textHint)"
        case .damagedSplit(let corpus, let path, let problem):
            return "\(path) does not match the manifest of corpus '\(corpus)' (\(problem)): "
                + "run `\(Self.prepareCommand(for: corpus))` again"
        case .badManifest(let path, let reason):
            return "cannot read corpus manifest \(path): \(reason); run `memscope data prepare` again"
        case .badGzip(let source, let reason):
            return "cannot gunzip \(source): \(reason)"
        case .toolMissing(let tool, let purpose):
            return "\(tool) not found on PATH (needed to \(purpose)); \(Self.offlineHint)"
        case .toolFailed(let command, let status, let output):
            let detail = output.isEmpty ? "" : ": \(output)"
            // Only a download can fail for want of a network; other tools' own message says why.
            let hint = command.hasPrefix("apt-get") ? "; \(Self.offlineHint)" : ""
            return "`\(command)` failed with exit status \(status)\(detail)\(hint)"
        case .noDocumentation(let path):
            return "no Documentation/**/*.rst.gz files under \(path): is this the linux-doc-6.1 package?"
        case .wrongSize(let path, let expected, let actual, let what):
            return "\(path) has \(actual) bytes but \(what) has exactly \(expected) bytes"
        case .tooSmall(let path, let bytes, let minimum):
            return "\(path) has \(bytes) bytes, too small to split 90/5/5 with every split non-empty "
                + "(need at least \(minimum) bytes)"
        case .fileMissing(let path):
            return "no such file: \(path)"
        case .notAFile(let path):
            return "\(path) is a directory, not a text file"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .emptyFile(let path):
            return "\(path) is empty: a corpus needs at least one byte of text"
        case .badName(let name, let reason):
            return "invalid corpus name '\(name)': \(reason)"
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}

extension CorpusError {
    /// A Foundation error in words: the POSIX reason under it ("No space left on device") rather than
    /// "The operation could not be completed" or an NSCocoaErrorDomain code.
    public static func reason(of error: Error) -> String {
        let ns = error as NSError
        if let under = ns.userInfo[NSUnderlyingErrorKey] as? NSError, under.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(under.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
        case NSFileWriteOutOfSpaceError: return "no space left on device"
        case NSFileWriteFileExistsError: return "a file of that name exists"
        default: return ns.localizedDescription
        }
    }
}
