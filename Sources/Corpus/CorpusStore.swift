// Prepared corpora in the data folder: <folder>/<corpus>/{train,valid,test}.bin and manifest.json.
// Writing removes the old manifest first and writes it last, each file atomically (temp, fsync, rename),
// so an interrupted prepare leaves a corpus that reads as "not prepared", never a half one.
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
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .badManifest(path: url.path, reason: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw .badManifest(path: url.path, reason: "not a valid manifest (\(error))")
        }
    }

    /// The bytes of one split, checked against the manifest's size and SHA-256.
    public func load(_ split: Split, corpus: String = KernelDocs.corpusName) throws(CorpusError) -> [UInt8] {
        let info = try manifest(corpus: corpus).splits[split]
        let url = corpusFolder(corpus).appendingPathComponent(info.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw .missingSplit(corpus: corpus, split: split.rawValue, path: url.path)
        }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw .unreadable(path: url.path, reason: error.localizedDescription)
        }
        guard bytes.count == info.bytes else {
            throw .damagedSplit(corpus: corpus, path: url.path,
                                problem: "\(bytes.count) bytes, manifest says \(info.bytes)")
        }
        let sha = Digest.sha256Hex(bytes)
        guard sha == info.sha256 else {
            throw .damagedSplit(corpus: corpus, path: url.path,
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
                  isDirectory.boolValue else { continue }
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
    public func save(corpus: String, bytes: [UInt8], plan: SplitPlan,
                     describe: (Manifest.Splits) -> Manifest) throws(CorpusError) -> Manifest {
        precondition(plan.total == bytes.count, "split plan for \(plan.total) bytes, corpus has \(bytes.count)")
        let dir = corpusFolder(corpus)
        let manifestURL = dir.appendingPathComponent(Self.manifestName)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: dir.path, reason: error.localizedDescription)
        }
        // Unpublish the old corpus before touching its splits.
        if FileManager.default.fileExists(atPath: manifestURL.path) {
            do { try FileManager.default.removeItem(at: manifestURL) } catch {
                throw .writeFailed(path: manifestURL.path, reason: error.localizedDescription)
            }
        }
        var infos: [Split: Manifest.SplitInfo] = [:]
        for split in Split.allCases {
            let range = plan.range(split)
            let slice = bytes[range]
            try Self.writeAtomically(Data(slice), to: dir.appendingPathComponent(split.fileName))
            infos[split] = Manifest.SplitInfo(file: split.fileName, offset: range.lowerBound,
                                              bytes: range.count, sha256: Digest.sha256Hex(slice))
        }
        let manifest = describe(Manifest.Splits(train: infos[.train]!, valid: infos[.valid]!, test: infos[.test]!))
        try Self.writeAtomically(manifest.encoded(), to: manifestURL)
        return manifest
    }

    /// Prefix of the scratch folders a prepare works in, inside the data folder.
    static let workPrefix = ".work-"

    /// Temp file beside `url`, flushed to disk, then renamed over it.
    static func writeAtomically(_ data: Data, to url: URL) throws(CorpusError) {
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try data.write(to: temp)
            let handle = try FileHandle(forUpdating: temp)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw .writeFailed(path: url.path, reason: error.localizedDescription)
        }
        guard rename(temp.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw .writeFailed(path: url.path, reason: reason)
        }
    }
}
