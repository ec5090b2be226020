import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// B for the comparison across models: the fake model under another name, its checkpoint memory 16 in every layer.
/// (At its own memory it predicts as A at A's; A runs at 128 with layer 3 at 8: better on most bytes, worse on some.)
let fakeB = FakeEngine(modelName: "fake-B", defaultMemory: [16, 16, 16, 16])

/// Runs every pending job as the UI loop would, each window on the engine its model names.
func settleModels(_ s: inout AppState, _ e0: Effect) {
    settle(&s, e0, windowEngine: { $0 == fakeB.modelName ? fakeB : FakeEngine() })
}

func crossState() -> AppState {
    var s = makeState()
    settleModels(&s, reduce(&s, .layers(.setAll([128, 128, 128, 8]))))
    settleModels(&s, compareModels(&s, other: ModelInfo(fakeB)))
    return s
}

@Suite struct CrossModelTests {
    @Test func bIsTheOtherModelAtItsOwnMemoryAndTheWindowsAreKeyedByModel() {
        let s = crossState()
        let c = s.comparison!
        #expect(c.other == OtherModel(name: "fake-B", memory: [16, 16, 16, 16]))
        #expect(s.windowA == LossWindow(model: "fake-4L", memory: [128, 128, 128, 8], start: 0, bytes: 512))
        #expect(s.windowB == LossWindow(model: "fake-B", memory: [16, 16, 16, 16], start: 0, bytes: 512))
        // The same memory on the two models is two windows, not one.
        #expect(s.windowB != s.window([16, 16, 16, 16]))
        let ab = s.abLosses!
        let bDirect = try! fakeB.losses(
            text: s.text, start: 0, bytes: 512, memory: [16, 16, 16, 16], progress: { _ in }, cancelled: { false })
        #expect(ab.b.elementsEqual(bDirect.bits) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(!c.worst.isEmpty && c.worst[0].delta > 0)
        #expect(s.message!.hasPrefix("A fake-4L, B fake-B at L0-3:16"))
    }

    @Test func goldenCrossModelTextPane() {
        var s = crossState()
        act(&s, .general(.focus(.text)))
        s.message = nil
        let g = render(s, size: Size(width: 80, height: 24))
        dump("cross-model", g)
        #expect(g.text == goldenCrossModel)
        #expect(g.line(0).hasPrefix(" MemScope · A fake-4L · B fake-B L0-3:16 · Δ-0.0"))
        var w = s
        w.size = Size(width: 120, height: 30)
        let wide = render(w, size: w.size)
        #expect(wide.line(0).contains("A fake-4L L0-2:128 L3:8 · B fake-B L0-3:16 · Δ-0.0"))
    }

    @Test func changingAsMemoryKeepsBAndSwapAndPinAreRefused() {
        var s = crossState()
        let e = reduce(&s, .layers(.setAll([64, 64, 64, 32])))
        #expect(s.windowB?.memory == [16, 16, 16, 16] && s.windowA?.memory == [64, 64, 64, 32])
        settleModels(&s, e)
        #expect(s.abLosses != nil)
        _ = reduce(&s, .compare(.swap))
        #expect(s.messageIsError && s.message!.contains("B is another model (fake-B)"))
        _ = reduce(&s, .compare(.pin))
        #expect(s.messageIsError && s.comparison?.other != nil)
        // A jump stays on A's heatmap: B's attention is another model's.
        _ = reduce(&s, .compare(.nextWorst))
        #expect(s.comparison?.heatmapA == false && s.analysisTarget == s.memory)
        _ = reduce(&s, .compare(.unpin))
        #expect(s.comparison == nil)
    }

    @Test func modelsOfAnotherVocabularyOrShapeAreRefusedInOneLine() {
        let a = ModelInfo(FakeEngine())
        var words = ModelInfo(fakeB)
        words.config.nToken = 1000
        let m = Comparison.crossModelProblem(a: a, b: words)
        #expect(m == "fake-B has a vocabulary of 1000, fake-4L of 256: A/B across models needs the same vocabulary")
        let six = ModelInfo(FakeEngine(modelName: "six", layerCount: 6, defaultMemory: Array(repeating: 8, count: 6)))
        #expect(Comparison.crossModelProblem(a: a, b: six)!.contains("6 layers"))
        #expect(Comparison.crossModelProblem(a: a, b: a)!.contains("two names"))
        var s = makeState()
        _ = compareModels(&s, other: words)
        #expect(s.comparison == nil && s.messageIsError && !s.message!.contains("\n"))
    }

    @Test func theControllerRunsEachWindowOnItsModel() {
        let c = Controller(engine: FakeEngine(), text: sampleText(), other: fakeB)
        let w = LossWindow(model: "fake-B", memory: [16, 16, 16, 16], start: 0, bytes: 512)
        c.startWindow(request: 1, window: w)
        var got: WindowLosses? = nil
        let deadline = Date().addingTimeInterval(10)
        while got == nil && Date() < deadline {
            for a in c.drain() { if case .worker(.windowFinished(1, _, let r, _)) = a { got = r } }
            Thread.sleep(forTimeInterval: 0.005)
        }
        let onB = try! fakeB.losses(
            text: sampleText(), start: 0, bytes: 512, memory: [16, 16, 16, 16], progress: { _ in },
            cancelled: { false })
        let onA = try! FakeEngine().losses(
            text: sampleText(), start: 0, bytes: 512, memory: [16, 16, 16, 16], progress: { _ in },
            cancelled: { false })
        #expect(got != nil)
        #expect(got!.bits.elementsEqual(onB.bits) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(!got!.bits.elementsEqual(onA.bits) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        c.stop(waitingAtMost: 2)
    }
}

let goldenCrossModel = golden("goldenCrossModel")
