import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// Drains `c` until `done` holds of what came back (10 s at most).
func drainController(_ c: Controller, until done: ([Action]) -> Bool) -> [Action] {
    var all: [Action] = []
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
        all += c.drain()
        if done(all) { break }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return all
}

@Suite struct ControllerTests {
    func wait(_ c: Controller, until done: ([Action]) -> Bool) -> [Action] { drainController(c, until: done) }

    @Test func analysisResultsComeBackTaggedAndCoalesced() {
        let e = FakeEngine()
        let c = Controller(engine: e, text: sampleText())
        for r in 1...20 { c.requestAnalysis(request: r, offset: 100, memory: [r, r, r, r]) }
        let got = wait(c) {
            $0.contains {
                if case .worker(.analysisReady(20, _, _, _)) = $0 { return true }; return false
            }
        }
        var s = makeState(e)
        s.analysisRequest = 20
        for a in got { _ = reduce(&s, a) }
        #expect(s.analysis?.offset == 96)
        #expect(s.analysisMemory == [20, 20, 20, 20] && s.profiles.count == 4)
        #expect(got.count < 20)  // superseded requests were dropped or cancelled
    }

    @Test func stopCancelsEveryJobAndWaitsForTheWorkers() {
        var slow = FakeEngine()
        slow.delay = 0.01
        let c = Controller(engine: slow, text: sampleText())
        c.requestAnalysis(request: 1, offset: 100, memory: slow.defaultMemory)
        c.startEvaluation(request: 1, start: 0, bytes: 4096, memory: slow.defaultMemory)
        Thread.sleep(forTimeInterval: 0.03)
        // The evaluation alone takes 128 segments x 10 ms: stop must cancel it, not wait for its end.
        let t0 = Date()
        #expect(c.stop(waitingAtMost: 5))
        #expect(Date().timeIntervalSince(t0) < 0.5)
        Thread.sleep(forTimeInterval: 0.05)
        let after = c.drain()
        #expect(!c.busy)
        #expect(!after.contains { if case .worker(.evalFinished) = $0 { true } else { false } })
    }

    @Test func evaluationReportsOnlyTheLatestRunAndCancels() {
        var slow = FakeEngine()
        slow.delay = 0.01
        let c = Controller(engine: slow, text: sampleText())
        c.startEvaluation(request: 1, start: 0, bytes: 512, memory: slow.defaultMemory)
        Thread.sleep(forTimeInterval: 0.03)
        c.startEvaluation(request: 2, start: 0, bytes: 256, memory: [0, 0, 0, 0])  // cancels run 1
        let got = wait(c) {
            $0.contains {
                if case .worker(.evalFinished(2, _)) = $0 { return true }; return false
            }
        }
        #expect(
            !got.contains {
                if case .worker(.evalFinished(1, _)) = $0 { return true }; return false
            })
        let result = got.compactMap { a -> EvalResult? in
            if case .worker(.evalFinished(2, let r)) = a { return r }; return nil
        }.first
        #expect(result?.predicted == 256 && result?.memory == [0, 0, 0, 0])
        c.startEvaluation(request: 3, start: 0, bytes: 512, memory: slow.defaultMemory)
        c.cancelEvaluation()
        Thread.sleep(forTimeInterval: 0.25)
        #expect(
            !c.drain().contains {
                if case .worker(.evalFinished(3, _)) = $0 { return true }; return false
            })
    }
}
