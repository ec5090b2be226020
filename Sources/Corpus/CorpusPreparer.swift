// `memscope data prepare`: builds a corpus (kernel-docs from apt, enwik8 or any text file) into the data
// folder, reporting (stage, fraction) progress so that the CLI and the explorer can show it.
import Foundation

public enum PrepareStage: String, Sendable {
    case download, extract, decompress, write
}

/// Called with the current stage and the fraction of it done, 0...1.
public typealias PrepareProgress = @Sendable (PrepareStage, Double) -> Void

public enum CorpusSource: Equatable, Sendable {
    /// Debian's linux-doc-6.1, fetched with `apt-get download`.
    case kernelDocs
    /// The enwik8 file (exactly 100,000,000 bytes), standard 90M/5M/5M split.
    case enwik8(path: String)
    /// Any file, 90/5/5; `name` defaults to the file's sanitized base name.
    case text(path: String, name: String?)
}

public struct CorpusPreparer: Sendable {
    public let store: CorpusStore
    public let progress: PrepareProgress
    let environment: [String: String]

    public init(
        store: CorpusStore, environment: [String: String] = ProcessInfo.processInfo.environment,
        progress: @escaping PrepareProgress = { _, _ in }
    ) {
        self.store = store
        self.environment = environment
        self.progress = progress
    }

    @discardableResult
    public func prepare(_ source: CorpusSource) throws(CorpusError) -> Manifest {
        switch source {
        case .kernelDocs: return try prepareKernelDocs()
        case .enwik8(let path): return try prepareEnwik8(path: path)
        case .text(let path, let name): return try prepareText(path: path, name: name)
        }
    }

    // MARK: kernel-docs

    /// Downloads linux-doc-6.1 with apt-get into a scratch folder inside the data folder, unpacks it,
    /// builds the corpus, and removes the scratch folder whatever happens.
    public func prepareKernelDocs() throws(CorpusError) -> Manifest {
        let work = store.folder.appendingPathComponent(
            "\(CorpusStore.workPrefix)\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        StaleFiles.removeWorkFolders(in: store.folder)
        do {
            try? FileManager.default.removeItem(at: work)
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(
                path: work.path, reason: "cannot create the work folder (\(CorpusError.reason(of: error)))")
        }
        Interruption.shared.add(path: work.path)
        defer {
            try? FileManager.default.removeItem(at: work)
            Interruption.shared.remove(path: work.path)
        }

        let apt = ExternalTool(name: "apt-get", purpose: "download \(KernelDocs.packageName)")
        let dpkg = ExternalTool(name: "dpkg-deb", purpose: "unpack \(KernelDocs.packageName)")
        // Check both tools before the download, so a missing dpkg-deb does not waste it.
        let path = environment["PATH"] ?? "/usr/bin:/bin"
        for tool in [apt, dpkg] where ExternalTool.find(tool.name, path: path) == nil {
            throw .toolMissing(tool: tool.name, purpose: tool.purpose)
        }

        progress(.download, 0)
        _ = try apt.run(["download", KernelDocs.packageName], in: work, environment: environment)
        let debs = ((try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [])
            .filter { $0.hasPrefix(KernelDocs.packageName + "_") && $0.hasSuffix(".deb") }
        guard debs.count == 1, let debName = debs.first else {
            throw .toolFailed(
                command: "apt-get download \(KernelDocs.packageName)", status: 0,
                output: "expected one \(KernelDocs.packageName)_*.deb in \(work.path), found \(debs.count)")
        }
        let deb = work.appendingPathComponent(debName)
        progress(.download, 1)

        progress(.extract, 0)
        let package = Manifest.Package(
            name: try dpkg.run(["-f", deb.path, "Package"], in: work, environment: environment),
            version: try dpkg.run(["-f", deb.path, "Version"], in: work, environment: environment))
        let root = work.appendingPathComponent("root", isDirectory: true)
        _ = try dpkg.run(["-x", deb.path, root.path], in: work, environment: environment)
        try? FileManager.default.removeItem(at: deb)
        progress(.extract, 1)

        return try prepareKernelDocs(extractedRoot: root, package: package)
    }

    /// The corpus from an already extracted package tree (`root` holds `usr/share/doc/...`).
    public func prepareKernelDocs(extractedRoot root: URL, package: Manifest.Package) throws(CorpusError) -> Manifest {
        let documentation = root.appendingPathComponent(KernelDocs.documentationPath, isDirectory: true)
        let files = try KernelDocs.files(documentation: documentation)
        progress(.decompress, 0)
        let bytes = try KernelDocs.concatenate(files) { progress(.decompress, $0) }
        guard bytes.count >= SplitPlan.minimumNinetyFiveFive else {
            throw .tooSmall(path: documentation.path, bytes: bytes.count, minimum: SplitPlan.minimumNinetyFiveFive)
        }
        let plan = SplitPlan.ninetyFiveFive(total: bytes.count)
        return try save(corpus: KernelDocs.corpusName, bytes: bytes, plan: plan) { splits in
            Manifest(
                corpus: KernelDocs.corpusName, source: "kernel-docs", package: package,
                order: KernelDocs.order, fileCount: files.count, totalBytes: bytes.count, splits: splits)
        }
    }

    // MARK: enwik8 and text

    public func prepareEnwik8(path: String) throws(CorpusError) -> Manifest {
        let bytes = try readTextFile(path)
        guard bytes.count == SplitPlan.enwik8Total else {
            throw .wrongSize(path: path, expected: SplitPlan.enwik8Total, actual: bytes.count, what: "enwik8")
        }
        let input = URL(fileURLWithPath: path).standardizedFileURL.path
        return try save(corpus: "enwik8", bytes: bytes, plan: .enwik8) { splits in
            Manifest(
                corpus: "enwik8", source: "enwik8", input: input, fileCount: 1,
                totalBytes: bytes.count, splits: splits)
        }
    }

    public func prepareText(path: String, name: String?) throws(CorpusError) -> Manifest {
        let corpus = name ?? Self.textCorpusName(for: path)
        try Self.validateName(corpus)
        let bytes = try readTextFile(path)
        guard bytes.count >= SplitPlan.minimumNinetyFiveFive else {
            throw .tooSmall(path: path, bytes: bytes.count, minimum: SplitPlan.minimumNinetyFiveFive)
        }
        let plan = SplitPlan.ninetyFiveFive(total: bytes.count)
        let input = URL(fileURLWithPath: path).standardizedFileURL.path
        return try save(corpus: corpus, bytes: bytes, plan: plan) { splits in
            Manifest(
                corpus: corpus, source: "text", input: input, fileCount: 1,
                totalBytes: bytes.count, splits: splits)
        }
    }

    /// The default name of a text corpus: the file's base name without its extension, lowercased,
    /// with runs of characters outside [a-z0-9._-] turned into one '-'.
    public static func textCorpusName(for path: String) -> String {
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent.lowercased()
        var name = ""
        for scalar in base.unicodeScalars {
            let allowed =
                ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || "._-".unicodeScalars.contains(scalar)
            if allowed {
                name.unicodeScalars.append(scalar)
            } else if !name.hasSuffix("-") {
                name += "-"
            }
        }
        let trimmed = name.trimmingCharacters(in: CharacterSet(charactersIn: ".-"))
        return trimmed.isEmpty ? "text" : trimmed
    }

    public static let reservedNames: Set<String> = [KernelDocs.corpusName, "enwik8"]

    /// A corpus name is a folder name in the data folder: [A-Za-z0-9._-], not hidden, not reserved.
    public static func validateName(_ name: String) throws(CorpusError) {
        guard !name.isEmpty, name.count <= 64 else {
            throw .badName(name: name, reason: "use 1 to 64 characters")
        }
        let ok = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._-".unicodeScalars.contains($0)
        }
        guard ok, !name.hasPrefix(".") else {
            throw .badName(name: name, reason: "use letters, digits, '.', '_' and '-', not starting with '.'")
        }
        guard !reservedNames.contains(name) else {
            throw .badName(
                name: name, reason: "'\(name)' is reserved for `--source \(name)`; choose another with --name")
        }
    }

    private func save(
        corpus: String, bytes: [UInt8], plan: SplitPlan,
        describe: (Manifest.Splits) -> Manifest
    ) throws(CorpusError) -> Manifest {
        progress(.write, 0)
        let manifest = try store.save(corpus: corpus, bytes: bytes, plan: plan, describe: describe)
        progress(.write, 1)
        return manifest
    }
}
