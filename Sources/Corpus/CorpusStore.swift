// Prepared corpora in the data folder: <folder>/<corpus>/{train,valid,test}.bin and manifest.json.
// Writing puts every new file beside the old ones first (temp, fsync); only when all are complete does it unpublish the
// old manifest, rename the new files into place, manifest last, and fsync the folder. A failed or interrupted prepare
// (a full disk) leaves the old corpus working; its temp files are removed then or at the next start.
import Foundation

public struct CorpusStore: Sendable {
    public let folder: URL

    public static let manifestName = "manifest.json"

    public init(folder: URL) {
        self.folder = folder
    }

    /// The store in the default data folder (see `DataFolder.resolve`).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(folder: DataFolder.resolve(environment: environment))
    }

    public func corpusFolder(_ corpus: String) -> URL {
        folder.appendingPathComponent(corpus, isDirectory: true)
    }

    /// Whether the corpus has a manifest (a prepare finished); the explorer prepares kernel-docs when not.
    public func isPrepared(_ corpus: String = KernelDocs.corpusName) -> Bool {
        FileManager.default.fileExists(atPath: corpusFolder(corpus).appendingPathComponent(Self.manifestName).path)
    }

    public func manifest(corpus: String = KernelDocs.corpusName) throws(CorpusError) -> Manifest {
        let url = corpusFolder(corpus).appendingPathComponent(Self.manifestName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .notPrepared(corpus: corpus, folder: folder.path)
        }
        if let kind = irregularKind(url.path) { throw .badManifest(path: url.path, reason: "is \(kind), not a file") }
        let data: Data
        do { data = Data(try readBytes(url.path, limit: 1 << 20)) } catch {
            throw .badManifest(path: url.path, reason: "\(error)")
        }
        let manifest: Manifest
        do { manifest = try JSONDecoder().decode(Manifest.self, from: data) } catch {
            throw .badManifest(path: url.path, reason: "not a valid manifest (\(Self.describe(error)))")
        }
        guard manifest.format == Manifest.currentFormat else {
            throw .badManifest(
                path: url.path,
                reason: "format \(manifest.format) is not supported (expected \(Manifest.currentFormat))")
        }
        for split in Split.allCases {
            let info = manifest.splits[split]
            // A split is a file of this corpus's folder: no path may lead outside it.
            guard !info.file.isEmpty, !info.file.contains("/"), info.file != ".", info.file != "..",
                !info.file.contains("\0")
            else {
                throw .badManifest(
                    path: url.path,
                    reason:
                        "split \(split.rawValue) names the file \"\(info.file.prefix(80))\", not a file in "
                            + "\(corpusFolder(corpus).path)"
                )
            }
            guard info.bytes >= 0 && info.bytes <= maxTextBytes else {
                throw .badManifest(path: url.path, reason: "split \(split.rawValue) has \(info.bytes) bytes")
            }
        }
        return manifest
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key \(key.stringValue)"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx),
            DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object" : "bad value at \(path)"
        default: return "not JSON"
        }
    }

    /// The bytes of one split, checked against the manifest's size and SHA-256.
    public func load(_ split: Split, corpus: String = KernelDocs.corpusName) throws(CorpusError) -> [UInt8] {
        let info = try manifest(corpus: corpus).splits[split]
        let url = corpusFolder(corpus).appendingPathComponent(info.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .missingSplit(corpus: corpus, split: split.rawValue, path: url.path)
        }
        if let kind = irregularKind(url.path) {
            throw .unreadable(
                path: url.path,
                reason: "is \(kind), not a regular file; run `\(CorpusError.prepareCommand(for: corpus))` again")
        }
        let bytes = try readBytes(url.path, limit: info.bytes + 1)
        guard bytes.count == info.bytes else {
            throw .damagedSplit(
                corpus: corpus, path: url.path,
                problem: "\(bytes.count) bytes, manifest says \(info.bytes)")
        }
        let sha = Digest.sha256Hex(bytes)
        guard sha == info.sha256 else {
            throw .damagedSplit(
                corpus: corpus, path: url.path,
                problem: "sha256 \(sha.prefix(16))..., manifest says \(info.sha256.prefix(16))...")
        }
        return bytes
    }

    /// Names of the corpora with a manifest, sorted; and folders that hold files but no manifest
    /// (an interrupted prepare).
    public func corpora() -> (prepared: [String], incomplete: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var prepared: [String] = [], incomplete: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") && !name.hasPrefix(Self.workPrefix) {
            var isDirectory: ObjCBool = false
            let dir = corpusFolder(name)
            guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory),
                isDirectory.boolValue
            else { continue }
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent(Self.manifestName).path) {
                prepared.append(name)
            } else {
                incomplete.append(name)
            }
        }
        return (prepared, incomplete)
    }

    /// Splits `bytes` by `plan` and writes the corpus, manifest last. `describe` fills in the manifest
    /// around the computed split table.
    public func save(
        corpus: String, bytes: [UInt8], plan: SplitPlan,
        describe: (Manifest.Splits) -> Manifest
    ) throws(CorpusError) -> Manifest {
        precondition(plan.total == bytes.count, "split plan for \(plan.total) bytes, corpus has \(bytes.count)")
        let dir = corpusFolder(corpus)
        let manifestURL = dir.appendingPathComponent(Self.manifestName)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: dir.path, reason: CorpusError.reason(of: error))
        }
        StaleFiles.removeTemporaries(in: dir)
        // Everything new is complete on disk before the old corpus is touched.
        var infos: [Split: Manifest.SplitInfo] = [:]
        var temps: [(URL, URL)] = []
        do throws(CorpusError) {
            for split in Split.allCases {
                let range = plan.range(split)
                let slice = bytes[range]
                let url = dir.appendingPathComponent(split.fileName)
                temps.append((try Self.writeTemporary(Data(slice), for: url), url))
                infos[split] = Manifest.SplitInfo(
                    file: split.fileName, offset: range.lowerBound,
                    bytes: range.count, sha256: Digest.sha256Hex(slice))
            }
            let manifest = describe(Manifest.Splits(train: infos[.train]!, valid: infos[.valid]!, test: infos[.test]!))
            temps.append((try Self.writeTemporary(manifest.encoded(), for: manifestURL), manifestURL))
            // Publish: unpublish the old manifest, move the splits in, then the new manifest; fsync the folder.
            if unlink(manifestURL.path) != 0 && errno != ENOENT {
                throw .writeFailed(path: manifestURL.path, reason: String(cString: strerror(errno)))
            }
            for (temp, url) in temps where rename(temp.path, url.path) != 0 {
                throw .writeFailed(path: url.path, reason: String(cString: strerror(errno)))
            }
            StaleFiles.syncDirectory(dir)
            return manifest
        } catch {
            for (temp, _) in temps { unlink(temp.path) }
            throw error
        }
    }

    /// Prefix of the scratch folders a prepare works in, inside the data folder.
    static let workPrefix = ".work-"

    /// Temp file beside `url`, flushed to disk, then renamed over it; the folder is synced after the rename.
    static func writeAtomically(_ data: Data, to url: URL) throws(CorpusError) {
        let temp = try writeTemporary(data, for: url)
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temp.path)
            throw .writeFailed(path: url.path, reason: reason)
        }
        StaleFiles.syncDirectory(url.deletingLastPathComponent())
    }

    /// `data` in a complete, fsynced temp file beside `url` (`.NAME.tmp-PID`); removed again if anything fails.
    static func writeTemporary(_ data: Data, for url: URL) throws(CorpusError) -> URL {
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent)\(StaleFiles.tempMarker)\(getpid())")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .writeFailed(path: url.path, reason: String(cString: strerror(errno))) }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : ENOSPC; return }
                done += n
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        guard failure == 0 else {
            unlink(temp.path)
            throw .writeFailed(path: url.path, reason: String(cString: strerror(failure)))
        }
        return temp
    }
}
