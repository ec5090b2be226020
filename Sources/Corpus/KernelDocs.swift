// The kernel-docs corpus: Debian's linux-doc-6.1 Documentation/**/*.rst.gz, ordered by SHA-256 of each
// file's key (its path under Documentation/ without .gz), gunzipped and concatenated with no separator.
import Foundation

public enum KernelDocs {
    public static let corpusName = "kernel-docs"
    public static let packageName = "linux-doc-6.1"
    /// Where the package installs the documentation, relative to the extracted root.
    public static let documentationPath = "usr/share/doc/linux-doc-6.1/Documentation"
    public static let order = "sha256(key), key = path under Documentation/ without .gz"

    public struct File: Equatable, Sendable {
        /// Path relative to Documentation/ without `.gz`, e.g. `PCI/pcieaer-howto.rst`.
        public let key: String
        /// Lowercase hex SHA-256 of the key's UTF-8 bytes: the sort key.
        public let keyHash: String
        public let url: URL
    }

    /// Every `*.rst.gz` under `documentation`, in corpus order.
    public static func files(documentation: URL) throws(CorpusError) -> [File] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: documentation.path, isDirectory: &isDirectory),
            isDirectory.boolValue,
            let walker = FileManager.default.enumerator(atPath: documentation.path)
        else {
            throw .noDocumentation(path: documentation.path)
        }
        var files: [File] = []
        while let relative = walker.nextObject() as? String {
            guard relative.hasSuffix(".rst.gz") else { continue }
            let key = String(relative.dropLast(3))
            files.append(
                File(
                    key: key, keyHash: Digest.sha256Hex(key),
                    url: documentation.appendingPathComponent(relative)))
        }
        guard !files.isEmpty else { throw .noDocumentation(path: documentation.path) }
        // Hashes of distinct keys differ, so the order is total; the key breaks ties all the same.
        return files.sorted { ($0.keyHash, $0.key) < ($1.keyHash, $1.key) }
    }

    /// The decompressed files concatenated in order. `progress` gets the fraction of files done.
    public static func concatenate(
        _ files: [File], progress: (Double) -> Void = { _ in }
    ) throws(CorpusError) -> [UInt8] {
        var bytes: [UInt8] = []
        for (i, file) in files.enumerated() {
            let compressed: [UInt8]
            do { compressed = [UInt8](try Data(contentsOf: file.url)) } catch {
                throw .unreadable(path: file.url.path, reason: CorpusError.reason(of: error))
            }
            bytes += try Gzip.decompress(compressed, source: file.url.path)
            progress(Double(i + 1) / Double(files.count))
        }
        return bytes
    }
}
