// Corpus tests: data folder, SHA-256, gzip, split arithmetic, the kernel-docs pipeline on a synthetic tree,
// and the error messages users see. No network: apt-get and dpkg-deb are replaced by stubs on PATH.
import Foundation
import Testing
import Corpus

/// A fresh folder under the system temp directory, removed by `cleanUp()`.
struct Scratch {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("memscope-corpus-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func write(_ bytes: [UInt8], to relative: String) throws -> URL {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: file)
        return file
    }
    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Collects progress reports from the preparer.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(PrepareStage, Double)] = []
    func add(_ stage: PrepareStage, _ fraction: Double) {
        lock.lock(); entries.append((stage, fraction)); lock.unlock()
    }
    var stages: [PrepareStage] {
        lock.lock(); defer { lock.unlock() }
        var result: [PrepareStage] = []
        for (stage, _) in entries where result.last != stage { result.append(stage) }
        return result
    }
    var fractionsInRange: Bool {
        lock.lock(); defer { lock.unlock() }
        return entries.allSatisfy { $0.1 >= 0 && $0.1 <= 1 }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func splitSizes(_ manifest: Manifest) -> [Int] { Split.allCases.map { manifest.splits[$0].bytes } }

func thrown(_ body: () throws -> Void) -> CorpusError? {
    do { try body() } catch let error as CorpusError { return error } catch { return nil }
    return nil
}

@Suite struct DataFolderTests {
    @Test func memscopeDataWins() {
        let url = DataFolder.resolve(environment: [
            "MEMSCOPE_DATA": "/data/ms", "XDG_CACHE_HOME": "/xdg", "HOME": "/home/u",
        ])
        #expect(url.path == "/data/ms")
    }

    @Test func xdgCacheHomeNext() {
        let url = DataFolder.resolve(environment: ["XDG_CACHE_HOME": "/xdg", "HOME": "/home/u"])
        #expect(url.path == "/xdg/memscope")
    }

    @Test func homeCacheLast() {
        #expect(DataFolder.resolve(environment: ["HOME": "/home/u"]).path == "/home/u/.cache/memscope")
    }

    @Test func emptyVariablesCountAsUnset() {
        let url = DataFolder.resolve(environment: ["MEMSCOPE_DATA": "", "XDG_CACHE_HOME": "", "HOME": "/home/u"])
        #expect(url.path == "/home/u/.cache/memscope")
    }
}

@Suite struct DigestTests {
    @Test func knownVectors() {
        #expect(Digest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Digest.sha256Hex(bytes("xabcx")[1..<4]) == Digest.sha256Hex("abc"))
    }
}

@Suite struct GzipTests {
    @Test func roundTrip() throws {
        let text = bytes(String(repeating: "Transformer-XL memory. ", count: 5000))
        #expect(try Gzip.decompress(Gzip.compress(text), source: "t") == text)
        #expect(try Gzip.decompress(Gzip.compress([]), source: "empty member") == [])
    }

    @Test func multiMemberJoinsMembers() throws {
        let joined =
            Gzip.compress(bytes("first member\n")) + Gzip.compress(bytes("second\n"))
            + Gzip.compress(bytes("third"))
        #expect(try Gzip.decompress(joined, source: "m") == bytes("first member\nsecond\nthird"))
    }

    @Test func corruptDataIsAnError() {
        var data = Gzip.compress(bytes(String(repeating: "abcdefgh", count: 100)))
        for i in 12..<20 { data[i] ^= 0xff }
        let error = thrown { _ = try Gzip.decompress(data, source: "/x/bad.rst.gz") }
        #expect(error?.description.hasPrefix("cannot gunzip /x/bad.rst.gz: corrupt gzip data") == true)
    }

    @Test func notGzipIsAnError() {
        let error = thrown { _ = try Gzip.decompress(bytes("plain text, not gzip"), source: "p") }
        #expect(error?.description.contains("corrupt gzip data") == true)
    }

    @Test func truncatedIsAnError() {
        let data = Gzip.compress(bytes(String(repeating: "abcdefgh", count: 100)))
        let error = thrown { _ = try Gzip.decompress(Array(data.dropLast(6)), source: "t") }
        #expect(error == .badGzip(source: "t", reason: "truncated: the input ends inside a gzip member"))
    }

    @Test func trailingGarbageIsAnError() {
        let data = Gzip.compress(bytes("hello")) + bytes("junk")
        let error = thrown { _ = try Gzip.decompress(data, source: "g") }
        #expect(error?.description.contains("4 bytes of trailing garbage") == true)
    }

    @Test func emptyInputIsAnError() {
        #expect(thrown { _ = try Gzip.decompress([], source: "e") } == .badGzip(source: "e", reason: "empty file"))
    }
}

@Suite struct SplitPlanTests {
    @Test func floorArithmetic() {
        // The kernel-docs numbers: n = 24,157,891, test = 1,207,895.
        let plan = SplitPlan.ninetyFiveFive(total: 24_157_891)
        #expect(plan.range(.train) == 0..<21_742_101)
        #expect(plan.range(.valid) == 21_742_101..<22_949_996)
        #expect(plan.range(.test) == 22_949_996..<24_157_891)
        #expect(plan.range(.test).count == 1_207_895)
        // floor(0.9 * 29) = 26, floor(0.95 * 29) = 27.
        #expect(SplitPlan.ninetyFiveFive(total: 29).range(.valid) == 26..<27)
        #expect(SplitPlan.ninetyFiveFive(total: 1000).range(.test) == 950..<1000)
    }

    @Test func everySizeFromTheMinimumHasNonEmptySplits() {
        for n in SplitPlan.minimumNinetyFiveFive..<2000 {
            #expect(SplitPlan.ninetyFiveFive(total: n).allNonEmpty, "n = \(n)")
        }
        #expect(!SplitPlan.ninetyFiveFive(total: 10).allNonEmpty)
    }

    @Test func enwik8() {
        #expect(SplitPlan.enwik8.range(.train).count == 90_000_000)
        #expect(SplitPlan.enwik8.range(.valid) == 90_000_000..<95_000_000)
        #expect(SplitPlan.enwik8.range(.test).count == 5_000_000)
    }
}

@Suite struct KernelDocsTests {
    static let documentation = "usr/share/doc/linux-doc-6.1/Documentation/"

    /// A small package tree: .rst.gz files at several depths (one multi-member), plus files to ignore.
    func makeTree(_ scratch: Scratch) throws -> (root: URL, files: [String: String]) {
        let root = scratch.url.appendingPathComponent("root")
        let files = [
            "index.rst": "Linux kernel documentation\n",
            "PCI/pcieaer-howto.rst": "PCI Express Advanced Error Reporting\n",
            "admin-guide/mm/ksm.rst": "Kernel Samepage Merging\n",
            "process/howto.rst": "HOWTO do Linux kernel development\n",
            "a.rst": "A",
        ]
        for (key, text) in files where key != "process/howto.rst" {
            _ = try scratch.write(Gzip.compress(bytes(text)), to: "root/" + Self.documentation + key + ".gz")
        }
        // gzip -c a >> f; gzip -c b >> f: the file holds two members.
        let (head, tail) = ("HOWTO do Linux ", "kernel development\n")
        _ = try scratch.write(
            Gzip.compress(bytes(head)) + Gzip.compress(bytes(tail)),
            to: "root/" + Self.documentation + "process/howto.rst.gz")
        _ = try scratch.write(bytes("not a doc"), to: "root/" + Self.documentation + "plain.rst")
        _ = try scratch.write(Gzip.compress(bytes("ignored")), to: "root/" + Self.documentation + "notes.txt.gz")
        _ = try scratch.write(Gzip.compress(bytes("outside")), to: "root/usr/share/doc/linux-doc-6.1/README.rst.gz")
        return (root, files)
    }

    @Test func keysAndOrder() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let (root, files) = try makeTree(scratch)
        let found = try KernelDocs.files(documentation: root.appendingPathComponent(Self.documentation))
        let expectedKeys = files.keys.sorted { Digest.sha256Hex($0) < Digest.sha256Hex($1) }
        #expect(found.map(\.key) == expectedKeys)
        #expect(found.map(\.keyHash) == expectedKeys.map { Digest.sha256Hex($0) })
        #expect(found.contains { $0.key == "PCI/pcieaer-howto.rst" })
    }

    @Test func prepareFromExtractedTree() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let (root, files) = try makeTree(scratch)
        let expected = files.keys.sorted { Digest.sha256Hex($0) < Digest.sha256Hex($1) }
            .flatMap { bytes(files[$0]!) }
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        let log = ProgressLog()
        let preparer = CorpusPreparer(store: store) { log.add($0, $1) }
        let package = Manifest.Package(name: "linux-doc-6.1", version: "6.1.192-3")
        let manifest = try preparer.prepareKernelDocs(extractedRoot: root, package: package)

        let n = expected.count
        #expect(manifest.corpus == "kernel-docs")
        #expect(manifest.package == package)
        #expect(manifest.fileCount == 5)
        #expect(manifest.totalBytes == n)
        #expect(manifest.splits.valid.offset == n * 9 / 10)
        #expect(manifest.splits.test.offset == n * 95 / 100)
        #expect(manifest.splits.test.sha256 == Digest.sha256Hex(expected[(n * 95 / 100)...]))
        #expect(try store.manifest() == manifest)
        #expect(store.isPrepared())
        let parts = try Split.allCases.map { try store.load($0) }
        #expect(parts.flatMap { $0 } == expected)
        #expect(parts[0] == Array(expected[0..<(n * 9 / 10)]))
        #expect(log.stages == [.decompress, .write])
        #expect(log.fractionsInRange)
        let left = try FileManager.default.contentsOfDirectory(atPath: store.corpusFolder("kernel-docs").path)
        #expect(left.sorted() == ["manifest.json", "test.bin", "train.bin", "valid.bin"])
    }

    @Test func corruptMemberNamesTheFile() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let (root, _) = try makeTree(scratch)
        let bad = try scratch.write(bytes("\u{1f}garbage"), to: "root/" + Self.documentation + "x/bad.rst.gz")
        let preparer = CorpusPreparer(store: CorpusStore(folder: scratch.url.appendingPathComponent("data")))
        let error = thrown {
            _ = try preparer.prepareKernelDocs(extractedRoot: root, package: .init(name: "p", version: "v"))
        }
        #expect(error?.description.hasPrefix("cannot gunzip \(bad.path)") == true)
    }

    @Test func treeWithoutDocumentation() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let preparer = CorpusPreparer(store: CorpusStore(folder: scratch.url))
        let error = thrown {
            _ = try preparer.prepareKernelDocs(extractedRoot: scratch.url, package: .init(name: "p", version: "v"))
        }
        #expect(error?.description.hasPrefix("no Documentation/**/*.rst.gz files under") == true)
    }
}

@Suite struct OfflineTests {
    /// A PATH holding stub tools: `apt-get` fails as it does with no network; `dpkg-deb` is never reached.
    func stubPath(_ scratch: Scratch, aptGet: String) throws -> String {
        let bin = scratch.url.appendingPathComponent("bin")
        for (name, script) in [("apt-get", aptGet), ("dpkg-deb", "#!/bin/sh\nexit 2\n")] {
            let url = try scratch.write(bytes(script), to: "bin/\(name)")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        return bin.path
    }

    @Test func noAptNamesTextFile() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let empty = scratch.url.appendingPathComponent("empty-bin").path
        let preparer = CorpusPreparer(store: CorpusStore(folder: scratch.url), environment: ["PATH": empty])
        let error = thrown { _ = try preparer.prepare(.kernelDocs) }
        #expect(error == .toolMissing(tool: "apt-get", purpose: "download linux-doc-6.1"))
        #expect(error?.description.contains("--text FILE") == true)
    }

    @Test func downloadFailureNamesTextFileAndCleansUp() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let path = try stubPath(
            scratch,
            aptGet: """
                #!/bin/sh
                echo "Ign:1 http://deb.debian.org/debian bookworm/main amd64 linux-doc-6.1 all 6.1.192-3"
                echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/l/linux/linux-doc-6.1.deb" >&2
                exit 100

                """)
        let data = scratch.url.appendingPathComponent("data")
        let preparer = CorpusPreparer(store: CorpusStore(folder: data), environment: ["PATH": path])
        let error = thrown { _ = try preparer.prepare(.kernelDocs) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("`apt-get download linux-doc-6.1` failed with exit status 100: E: Failed to fetch"))
        #expect(message.contains("--text FILE"))
        #expect(!message.contains("\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path).isEmpty)
    }
}

@Suite struct StoreTests {
    @Test func missingCorpusNamesPrepareCommand() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = CorpusStore(folder: scratch.url)
        #expect(!store.isPrepared())
        let error = thrown { _ = try store.load(.test) }
        #expect(error == .notPrepared(corpus: "kernel-docs", folder: scratch.url.path))
        let message = error?.description ?? ""
        #expect(message.contains("`memscope data prepare`"))
        #expect(message.contains("--text FILE"))
        let enwik = thrown { _ = try store.manifest(corpus: "enwik8") }
        #expect(enwik?.description.contains("`memscope data prepare --source enwik8 FILE`") == true)
    }

    @Test func missingAndDamagedSplits() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let input = try scratch.write(bytes(String(repeating: "0123456789", count: 10)), to: "in.txt")
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        try CorpusPreparer(store: store).prepare(.text(path: input.path, name: "small"))
        let valid = store.corpusFolder("small").appendingPathComponent("valid.bin")
        try Data(bytes("9012x")).write(to: valid)
        let damaged = thrown { _ = try store.load(.valid, corpus: "small") }
        #expect(damaged?.description.contains("sha256") == true)
        #expect(damaged?.description.contains("memscope data prepare --source text FILE --name small") == true)
        try FileManager.default.removeItem(at: valid)
        let missing = thrown { _ = try store.load(.valid, corpus: "small") }
        #expect(missing == .missingSplit(corpus: "small", split: "valid", path: valid.path))
        #expect(missing?.description.contains("memscope data prepare") == true)
        #expect(try store.load(.test, corpus: "small") == bytes("56789"))
    }

    @Test func reprepareReplacesAndListsCorpora() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        let first = try scratch.write(bytes(String(repeating: "a", count: 40)), to: "one.txt")
        let second = try scratch.write(bytes(String(repeating: "b", count: 60)), to: "two.txt")
        try CorpusPreparer(store: store).prepare(.text(path: first.path, name: "t"))
        let manifest = try CorpusPreparer(store: store).prepare(.text(path: second.path, name: "t"))
        #expect(try store.manifest(corpus: "t") == manifest)
        #expect(try store.load(.train, corpus: "t") == Array(repeating: UInt8(ascii: "b"), count: 54))
        try FileManager.default.createDirectory(at: store.corpusFolder("half"), withIntermediateDirectories: true)
        let listing = store.corpora()
        #expect(listing.prepared == ["t"])
        #expect(listing.incomplete == ["half"])
        let files = try FileManager.default.contentsOfDirectory(atPath: store.corpusFolder("t").path)
        #expect(files.sorted() == ["manifest.json", "test.bin", "train.bin", "valid.bin"])
    }
}

@Suite struct SourceTests {
    @Test func textSplitSizes() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let text = (0..<1009).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let input = try scratch.write(text, to: "My Book (draft).TXT")
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        let manifest = try CorpusPreparer(store: store).prepare(.text(path: input.path, name: nil))
        #expect(manifest.corpus == "my-book-draft")
        #expect(manifest.source == "text")
        // floor(0.9 * 1009) = 908, floor(0.95 * 1009) = 958.
        #expect(splitSizes(manifest) == [908, 50, 51] as [Int])
        #expect(try store.load(.valid, corpus: "my-book-draft") == Array(text[908..<958]))
    }

    @Test func smallestTextFile() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        let ok = try scratch.write(Array(repeating: 65, count: 20), to: "ok.txt")
        let manifest = try CorpusPreparer(store: store).prepare(.text(path: ok.path, name: nil))
        #expect(splitSizes(manifest) == [18, 1, 1] as [Int])
        let small = try scratch.write(Array(repeating: 65, count: 19), to: "small.txt")
        let error = thrown { _ = try CorpusPreparer(store: store).prepare(.text(path: small.path, name: nil)) }
        #expect(error == .tooSmall(path: small.path, bytes: 19, minimum: 20))
    }

    @Test func badTextFiles() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let preparer = CorpusPreparer(store: CorpusStore(folder: scratch.url.appendingPathComponent("data")))
        let empty = try scratch.write([], to: "empty.txt")
        #expect(thrown { _ = try preparer.prepare(.text(path: empty.path, name: nil)) } == .emptyFile(path: empty.path))
        let nowhere = scratch.url.appendingPathComponent("nowhere.txt").path
        #expect(thrown { _ = try readTextFile(nowhere) } == .fileMissing(path: nowhere))
        #expect(thrown { _ = try readTextFile(scratch.url.path) } == .notAFile(path: scratch.url.path))
        #expect(try readTextFile(try scratch.write(bytes("hi"), to: "hi.txt").path) == bytes("hi"))
        // A device, read like a pipe.
        #expect(thrown { _ = try readTextFile("/dev/null") } == .emptyFile(path: "/dev/null"))
    }

    @Test func corpusNames() {
        #expect(CorpusPreparer.textCorpusName(for: "/x/War and Peace.txt") == "war-and-peace")
        #expect(CorpusPreparer.textCorpusName(for: "/x/.hidden") == "hidden")
        #expect(CorpusPreparer.textCorpusName(for: "/x/???.txt") == "text")
        #expect(thrown { try CorpusPreparer.validateName("../up") }?.description.contains("'../up'") == true)
        #expect(thrown { try CorpusPreparer.validateName("kernel-docs") } != nil)
        #expect(thrown { try CorpusPreparer.validateName("") } != nil)
        #expect(thrown { try CorpusPreparer.validateName("shakespeare_1.v2") } == nil)
    }

    @Test func enwik8WrongSizeRejected() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let input = try scratch.write(Array(repeating: 65, count: 1000), to: "enwik8")
        let preparer = CorpusPreparer(store: CorpusStore(folder: scratch.url.appendingPathComponent("data")))
        let error = thrown { _ = try preparer.prepare(.enwik8(path: input.path)) }
        #expect(error == .wrongSize(path: input.path, expected: 100_000_000, actual: 1000, what: "enwik8"))
        #expect(error?.description == "\(input.path) has 1000 bytes but enwik8 has exactly 100000000 bytes")
    }
}
