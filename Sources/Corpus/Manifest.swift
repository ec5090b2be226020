// manifest.json beside a corpus's splits: where the bytes came from, and the size and SHA-256 of each split.
import Foundation

public struct Manifest: Codable, Equatable, Sendable {
    public struct Package: Codable, Equatable, Sendable {
        public var name: String
        public var version: String
        public init(name: String, version: String) { self.name = name; self.version = version }
    }

    public struct SplitInfo: Codable, Equatable, Sendable {
        public var file: String
        public var offset: Int
        public var bytes: Int
        public var sha256: String
        public init(file: String, offset: Int, bytes: Int, sha256: String) {
            self.file = file; self.offset = offset; self.bytes = bytes; self.sha256 = sha256
        }
    }

    public struct Splits: Codable, Equatable, Sendable {
        public var train: SplitInfo
        public var valid: SplitInfo
        public var test: SplitInfo
        public init(train: SplitInfo, valid: SplitInfo, test: SplitInfo) {
            self.train = train; self.valid = valid; self.test = test
        }
        public subscript(split: Split) -> SplitInfo {
            switch split {
            case .train: return train
            case .valid: return valid
            case .test: return test
            }
        }
    }

    /// The format this version reads and writes.
    public static let currentFormat = 1
    /// Manifest format version, bumped if the layout changes.
    public var format: Int
    /// Corpus name (folder name in the data folder): "kernel-docs", "enwik8", or a text corpus's name.
    public var corpus: String
    /// "kernel-docs", "enwik8" or "text".
    public var source: String
    /// The Debian package (kernel-docs only).
    public var package: Package?
    /// The input file (enwik8 and text sources only).
    public var input: String?
    /// How the source files were ordered before concatenation (kernel-docs only).
    public var order: String?
    public var fileCount: Int
    public var totalBytes: Int
    public var splits: Splits

    public init(
        corpus: String, source: String, package: Package? = nil, input: String? = nil,
        order: String? = nil, fileCount: Int, totalBytes: Int, splits: Splits
    ) {
        self.format = Manifest.currentFormat
        self.corpus = corpus; self.source = source; self.package = package; self.input = input
        self.order = order; self.fileCount = fileCount; self.totalBytes = totalBytes; self.splits = splits
    }

    /// Pretty, key-sorted JSON with a final newline.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        var data = try! encoder.encode(self)
        data.append(0x0a)
        return data
    }

    /// One line per item for `memscope data info`.
    public var summary: [String] {
        var lines: [String] = []
        var origin = "source \(source)"
        if let package { origin += ", package \(package.name) \(package.version)" }
        if let input { origin += ", input \(input)" }
        lines.append("\(corpus): \(origin)")
        lines.append("  \(fileCount) file\(fileCount == 1 ? "" : "s"), \(totalBytes) bytes")
        for split in Split.allCases {
            let info = splits[split]
            let name = split.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
            lines.append("  \(name) \(String(info.bytes).leftPadded(to: 11)) bytes  sha256 \(info.sha256)")
        }
        return lines
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
