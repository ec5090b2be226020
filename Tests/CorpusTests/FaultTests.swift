// Issue 8 on the corpus side: a failed re-prepare keeps the working corpus, manifests are checked, splits that are not
// files are named, endless inputs are bounded, stale work files of dead processes go, and tools' own reasons are kept.
import Foundation
import Testing
@testable import Corpus

@Suite struct FaultTests {
    func prepared(_ scratch: Scratch, text: String = String(repeating: "0123456789", count: 10)) throws -> CorpusStore {
        let input = try scratch.write(bytes(text), to: "in-\(text.count).txt")
        let store = CorpusStore(folder: scratch.url.appendingPathComponent("data"))
        try CorpusPreparer(store: store).prepare(.text(path: input.path, name: "small"))
        return store
    }

    // Finding 11: a failed re-prepare deleted manifest.json first, so a working corpus became "not prepared".
    @Test func failedReprepareKeepsTheOldCorpus() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = try prepared(scratch)
        let before = try store.load(.test, corpus: "small")
        // The third temp file cannot be created (a folder sits at its name): the write fails midway, as on a full disk.
        let dir = store.corpusFolder("small")
        let blocker = dir.appendingPathComponent(".test.bin.tmp-\(getpid())")
        try FileManager.default.createDirectory(at: blocker, withIntermediateDirectories: true)
        let input = try scratch.write(bytes(String(repeating: "abcdefghij", count: 20)), to: "new.txt")
        let error = thrown { try CorpusPreparer(store: store).prepare(.text(path: input.path, name: "small")) }
        #expect(error?.description.contains("cannot write") == true, "\(String(describing: error))")
        #expect(try store.load(.test, corpus: "small") == before)
        #expect(try store.load(.train, corpus: "small").count == 90)
        try FileManager.default.removeItem(at: blocker)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "temp files left: \(left)")
        // And a re-prepare that succeeds replaces it.
        try CorpusPreparer(store: store).prepare(.text(path: input.path, name: "small"))
        #expect(try store.load(.train, corpus: "small").count == 180)
    }

    // Finding 13: the manifest's format was not checked and its file could point outside the corpus folder.
    @Test func manifestFormatAndFilesAreChecked() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = try prepared(scratch)
        let url = store.corpusFolder("small").appendingPathComponent("manifest.json")
        let good = try String(contentsOf: url, encoding: .utf8)
        try good.replacingOccurrences(of: "\"format\" : 1", with: "\"format\" : 2").write(
            to: url, atomically: true, encoding: .utf8)
        #expect(
            thrown { _ = try store.manifest(corpus: "small") }?.description.contains("format 2 is not supported")
                == true)
        try good.replacingOccurrences(of: "\"test.bin\"", with: "\"../../in-100.txt\"").write(
            to: url, atomically: true, encoding: .utf8)
        #expect(thrown { _ = try store.load(.test, corpus: "small") }?.description.contains("not a file in") == true)
        try good.replacingOccurrences(of: "\"format\" : 1", with: "\"format\" : \"one\"").write(
            to: url, atomically: true, encoding: .utf8)
        #expect(thrown { _ = try store.manifest(corpus: "small") }?.description.contains("bad value at format") == true)
    }

    // Finding 12: a FIFO or a device as a split said "You don't have permission"; a directory gave a Cocoa error code.
    @Test func splitsThatAreNotFilesAreNamed() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let store = try prepared(scratch)
        let test = store.corpusFolder("small").appendingPathComponent("test.bin")
        try FileManager.default.removeItem(at: test)
        #expect(mkfifo(test.path, 0o644) == 0)
        let fifo = thrown { _ = try store.load(.test, corpus: "small") }?.description ?? ""
        #expect(fifo.contains("is a FIFO, not a regular file"), "\(fifo)")
        try FileManager.default.removeItem(at: test)
        try FileManager.default.createDirectory(at: test, withIntermediateDirectories: false)
        let dir = thrown { _ = try store.load(.test, corpus: "small") }?.description ?? ""
        #expect(dir.contains("is a directory"), "\(dir)")
        #expect(!dir.contains("NSCocoaErrorDomain"))
        let manifest = store.corpusFolder("small").appendingPathComponent("manifest.json")
        try FileManager.default.removeItem(at: manifest)
        try FileManager.default.createDirectory(at: manifest, withIntermediateDirectories: false)
        #expect(
            thrown { _ = try store.manifest(corpus: "small") }?.description.contains("is a directory, not a file")
                == true)
    }

    // Finding 6: `--text /dev/zero --bytes 300` read until memory ran out.
    @Test func endlessInputsAreBounded() throws {
        #expect(try readTextFile("/dev/zero", limit: 300).count == 300)
        let error = thrown { _ = try readTextFile("/dev/zero", limit: nil) }
        #expect(error?.description.contains("longer than") == true)
        #expect(thrown { _ = try readTextFile("/") }?.description.contains("is a directory") == true)
    }

    // Finding 10: an interrupted prepare left a `.work-PID` folder and temp files that were never removed.
    @Test func staleWorkFilesOfDeadProcessesAreRemoved() throws {
        let scratch = try Scratch(); defer { scratch.cleanUp() }
        let data = scratch.url.appendingPathComponent("data")
        let dead = data.appendingPathComponent(".work-999999999"), live = data.appendingPathComponent(".work-1")
        for d in [dead, live] {
            try FileManager.default.createDirectory(
                at: d.appendingPathComponent("root"), withIntermediateDirectories: true)
        }
        #expect(StaleFiles.removeWorkFolders(in: data) == [".work-999999999"])
        #expect(FileManager.default.fileExists(atPath: live.path))
        let corpus = data.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(
            atPath: corpus.appendingPathComponent(".train.bin.tmp-999999999").path, contents: Data([1]))
        #expect(StaleFiles.removeTemporaries(in: corpus) == [".train.bin.tmp-999999999"])
    }

    // Finding 11: a failed extraction hid its reason and suggested a network problem.
    @Test func toolFailuresKeepTheirOwnReason() {
        let out = """
            tar: ./usr/share/doc/linux-doc-6.1/Documentation/a.rst.gz: Cannot write: No space left on device
            dpkg-deb: error: tar subprocess returned error exit status 2
            """
        let reason = ExternalTool.reason(out)
        #expect(reason.contains("No space left on device"), "\(reason)")
        let e = CorpusError.toolFailed(command: "dpkg-deb -x a.deb root", status: 2, output: reason)
        #expect(!e.description.contains("network") && !e.description.contains("--text FILE"), "\(e)")
        #expect(
            CorpusError.toolFailed(command: "apt-get download x", status: 100, output: "").description.contains(
                "--text FILE"))
    }
}
