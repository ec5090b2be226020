// `:compare model PATH` (issue 9): B is loaded off the UI thread by the executable's loader, with its stages
// reported; a model that cannot be compared is refused in one line; `:compare off` ends it or cancels the load.
import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// A loader as the executable's: fake models by path, each stage reported; anything else "no such file".
private let fakeLoader: ModelLoader = { path, progress in
    progress("reading the checkpoint")
    switch path {
    case "/models/b.safetensors": return fakeB
    case "/models/six layers.safetensors":
        return FakeEngine(modelName: "six", layerCount: 6, defaultMemory: Array(repeating: 8, count: 6))
    case "/models/same-name.safetensors": return FakeEngine()
    default: throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path])
    }
}

/// Runs `:line` as the UI loop would: the command, then the load on `c`, its results reduced as they come back.
private func runCommand(_ s: inout AppState, _ line: String, _ c: Controller) -> [String] {
    s.input = InputLine(kind: .command, text: line)
    let e = reduce(&s, .input(.submit))
    var messages: [String] = s.message.map { [$0] } ?? []
    guard e.loadModel, let job = s.modelLoad else { return messages }
    c.loadModel(request: job.request, path: job.path)
    let got = drainController(c) { all in
        all.contains {
            if case .worker(.modelLoaded) = $0 { return true }
            if case .worker(.modelLoadFailed) = $0 { return true }
            return false
        }
    }
    for a in got {
        settleModels(&s, reduce(&s, a))
        if let m = s.message { messages.append(m) }
    }
    return messages
}

@Suite struct CompareModelCommandTests {
    @Test func parsesThePathWithItsSpacesAndRefusesAMissingOne() {
        func parse(_ line: String) -> String {
            switch CommandParser.parse(line, layers: 4, heads: 2, maxMemory: 256, textCount: 1000, long: 128, short: 16)
            {
            case .success(let a): return a.map(show).joined(separator: ";")
            case .failure(let e): return "error: \(e)"
            }
        }
        #expect(parse("compare model /m/b.safetensors") == show(.compare(.loadModel("/m/b.safetensors"))))
        #expect(parse("ab MODEL /m/six layers") == show(.compare(.loadModel("/m/six layers"))))
        #expect(parse("compare model").hasPrefix("error: :compare model takes a path"))
        #expect(parse("compare off") == show(.compare(.unpin)))
        #expect(parse("compare bogus").contains("off, swap or model PATH"))
        #expect(CommandParser.commands.contains { $0.usage.contains("model PATH") })
        #expect(KeyMap.helpLines().contains { $0.keys.contains("compare") && $0.help.contains("model PATH") })
    }

    @Test func loadsBOffTheUIThreadWithItsStagesThenComparesAndOffEndsIt() {
        var s = makeState()
        let c = Controller(engine: FakeEngine(), text: s.text, loader: fakeLoader)
        let messages = runCommand(&s, "compare model /models/b.safetensors", c)
        #expect(messages.first == "B: loading /models/b.safetensors (:compare off cancels)")
        #expect(messages.contains { $0.hasPrefix("B: reading the checkpoint (/models/b.safetensors, ") })
        #expect(s.modelLoad == nil && !s.messageIsError)
        #expect(s.comparison?.other == OtherModel(name: "fake-B", memory: [16, 16, 16, 16]))
        #expect(s.message!.hasPrefix("A fake-4L, B fake-B at L0-3:16"))
        // B's window ran on fake-B through the controller too: the engine the load registered.
        c.startWindow(request: 7, window: s.windowB!)
        let finished = { (a: Action) in if case .worker(.windowFinished(7, _, _, _)) = a { true } else { false } }
        let got = drainController(c) { $0.contains(where: finished) }
        #expect(got.contains(where: finished))
        _ = runCommand(&s, "compare off", c)
        #expect(s.comparison == nil && s.message == "A unpinned")
        c.stop(waitingAtMost: 2)
    }

    @Test func aModelThatCannotBeComparedIsRefusedInOneLineAndTheComparisonKept() {
        var s = makeState()
        let c = Controller(engine: FakeEngine(), text: s.text, loader: fakeLoader)
        _ = runCommand(&s, "compare", c)  // A pinned: two settings of this model
        let pinned = s.comparison?.a
        _ = runCommand(&s, "compare model /models/six layers.safetensors", c)
        #expect(s.messageIsError && s.message == "six has 6 layers, fake-4L 4: A/B compares them layer by layer")
        #expect(s.comparison?.a == pinned && s.comparison?.other == nil && s.modelLoad == nil)
        _ = runCommand(&s, "compare model /models/same-name.safetensors", c)
        #expect(s.messageIsError && s.message!.hasPrefix("cannot compare with same-name.safetensors: it is"))
        _ = runCommand(&s, "compare model /nowhere", c)
        #expect(s.messageIsError && s.message!.hasPrefix("cannot compare with nowhere: "))
        #expect(!s.message!.contains("\n"))
        c.stop(waitingAtMost: 2)
    }

    @Test func compareOffCancelsALoadAndItsResultIsIgnored() {
        var s = makeState()
        let e = reduce(&s, .compare(.loadModel("/models/b.safetensors")))
        #expect(e.loadModel && s.modelLoad?.path == "/models/b.safetensors")
        let request = s.modelLoad!.request
        _ = reduce(&s, .compare(.unpin))
        #expect(s.modelLoad == nil && s.message == "B: loading /models/b.safetensors cancelled")
        _ = reduce(&s, .worker(.modelLoaded(request: request, ModelInfo(fakeB))))
        #expect(s.comparison == nil)
    }

    @Test func withoutALoaderTheCommandSaysSo() {
        var s = makeState()
        let c = Controller(engine: FakeEngine(), text: s.text)
        _ = runCommand(&s, "compare model /models/b.safetensors", c)
        #expect(s.messageIsError)
        #expect(s.message == "cannot compare with b.safetensors: this explorer cannot load models")
        c.stop(waitingAtMost: 2)
    }
}
