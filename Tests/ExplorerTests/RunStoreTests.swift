import Foundation
import Testing
@testable import Explorer

/// A fresh folder under the temporary directory.
func scratchFolder(_ name: String) -> String {
    let dir = NSTemporaryDirectory() + "memscope-\(name)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func sampleStore(_ folder: String, modelFingerprint: String = "size100-mtime5") -> RunStore {
    RunStore(
        folder: folder, model: RunOrigin(name: "fake-4L.safetensors", fingerprint: modelFingerprint),
        text: RunOrigin(name: "sample.txt", fingerprint: "abc123"))
}

@Suite struct RunStoreTests {
    @Test func runsAreSavedAndResumedWithEveryField() throws {
        let dir = scratchFolder("runs")
        let store = sampleStore(dir)
        let s = runsState()
        #expect(store.save(s) == nil)
        #expect(store.path.hasPrefix(dir + "/runs/fake-4L.safetensors-") && store.path.hasSuffix(".json"))
        #expect(store.path.contains("--sample.txt-"))
        // No temporary file is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: dir + "/runs")
        #expect(left.count == 1)

        var fresh = makeState()
        #expect(store.restore(into: &fresh))
        #expect(fresh.runs == s.runs && fresh.baseline == 1 && fresh.nextRunID == 4)
        #expect(fresh.message == "resumed 3 runs of fake-4L.safetensors on sample.txt")
        let r = fresh.runs[2]
        #expect(r.memory == [128, 8, 256, 32] && r.bytes == 256 && r.bpc == 1.75 && r.offset == 0)
        #expect(r.model == "fake-4L" && r.text == "sample.txt" && r.time.hasSuffix("Z") && r.seconds == 1)
        // The next evaluation continues the numbering.
        _ = reduce(&fresh, .eval(.start))
        finishEvaluation(&fresh, request: fresh.evalRequest, bytes: 512, bpc: 1.5, seconds: 1, memory: fresh.memory)
        #expect(fresh.runs.last?.id == 4)
    }

    @Test func anotherModelOrTextHasItsOwnFile() {
        let dir = scratchFolder("runs")
        let a = sampleStore(dir), b = sampleStore(dir, modelFingerprint: "size100-mtime6")
        #expect(a.path != b.path)
        #expect(a.save(runsState()) == nil)
        var s = makeState()
        #expect(b.restore(into: &s) && s.runs.isEmpty && s.message == nil)
    }

    @Test func aCorruptFileIsReportedOnOneLineAndLeftIntact() throws {
        let dir = scratchFolder("runs")
        let store = sampleStore(dir)
        try FileManager.default.createDirectory(atPath: dir + "/runs", withIntermediateDirectories: true)
        let junk = Data("{\"version\": 1, \"runs\": [trunc".utf8)
        try junk.write(to: URL(fileURLWithPath: store.path))
        guard case .unreadable = store.load() else { Issue.record("a corrupt file loaded"); return }
        var s = makeState()
        #expect(!store.restore(into: &s))  // the session must not save over it
        #expect(s.runs.isEmpty && s.messageIsError)
        #expect(s.message!.hasPrefix("runs not loaded and not saved: ") && !s.message!.contains("\n"))
        #expect(FileManager.default.contents(atPath: store.path) == junk)
    }

    @Test func aFileOfAnotherModelIsNotTakenForThisOne() throws {
        let dir = scratchFolder("runs")
        let store = sampleStore(dir)
        #expect(store.save(runsState()) == nil)
        // Same file name, other contents: what a renamed or hand-copied file would look like.
        let other = RunStore(
            folder: dir, model: RunOrigin(name: "x", fingerprint: "y"), text: store.text)
        let data = FileManager.default.contents(atPath: store.path)!
        let moved = other.path
        try data.write(to: URL(fileURLWithPath: moved))
        var s = makeState()
        #expect(!other.restore(into: &s) && s.message!.contains("holds the runs of fake-4L.safetensors"))
    }

    @Test func anUnwritableFolderIsAOneLineError() {
        let store = sampleStore("/proc/memscope-no")
        let m = store.save(runsState())
        #expect(m != nil && !m!.contains("\n"))
    }
}
