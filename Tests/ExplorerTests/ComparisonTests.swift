import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// Applies an effect as the UI loop would, running the fake engine's work synchronously: the analysis of the
/// cursor segment and the A/B windows (each on the engine `windowEngine` gives for its model), until nothing is
/// pending.
func settle(
    _ s: inout AppState, _ e0: Effect, windowEngine: (String) -> FakeEngine = { _ in FakeEngine() }
) {
    let engine = FakeEngine()
    var e = e0
    for _ in 0..<8 {
        var next = Effect.none
        if e.recompute {
            let a = try! engine.analyse(text: s.text, offset: s.cursor, memory: s.analysisTarget, cancelled: { false })
            next = next.merged(
                reduce(
                    &s,
                    .worker(
                        .analysisReady(
                            request: s.analysisRequest, a, DistanceProfile.all(a), memory: s.analysisTarget))))
        }
        if e.window == .start, let job = s.windowJob {
            let w = job.window
            let r = try! windowEngine(w.model).losses(
                text: s.text, start: w.start, bytes: w.bytes, memory: w.memory, progress: { _ in },
                cancelled: { false })
            next = next.merged(reduce(&s, .worker(.windowFinished(request: job.request, w, r, seconds: 0.5))))
        }
        if !next.recompute && next.window != .start { return }
        e = next
    }
}

func act(_ s: inout AppState, _ a: Action) { settle(&s, reduce(&s, a)) }
func press(_ s: inout AppState, _ k: Key) { if let a = action(for: k, in: s) { act(&s, a) } }

@Suite struct ComparisonTests {
    @Test func pinningMakesAAndChangesMakeB() {
        var s = makeState()
        act(&s, .compare(.pin))
        #expect(s.comparison?.a == [64, 64, 64, 64])
        #expect(s.windows[s.window(s.memory)] != nil)  // A's window computed
        #expect(s.comparison?.worst.isEmpty == true)  // A and B the same
        s.selectedLayer = 3
        act(&s, .layers(.clear))
        #expect(s.memory == [64, 64, 64, 0] && s.comparison?.a == [64, 64, 64, 64])
        let ab = s.abLosses
        #expect(ab != nil && ab!.a.count == 512)
        let worst = s.comparison!.worst
        #expect(!worst.isEmpty && worst.count <= 100)
        #expect(zip(worst, worst.dropFirst()).allSatisfy { $0.delta >= $1.delta })  // sorted, worst first
        #expect(worst[0].delta > 0)
        let g = render(s, size: Size(width: 80, height: 24))
        #expect(g.line(0).contains("A L0-3:64 · B L0-2:64 L3:0 · Δ +"))
    }

    @Test func swapExchangesAAndBWithoutRecomputingTheWindows() {
        var s = makeState()
        act(&s, .compare(.pin))
        act(&s, .layers(.setAll([64, 64, 32, 32])))
        let before = s.comparison!.worst[0]
        var e = reduce(&s, .compare(.swap))
        #expect(s.memory == [64, 64, 64, 64] && s.comparison?.a == [64, 64, 32, 32])
        #expect(e.window == nil || e.window == .cancel)  // both windows cached: nothing to run
        settle(&s, e)
        #expect(s.comparison!.worst[0].delta <= 0)  // B now has the longer memory everywhere
        e = reduce(&s, .compare(.swap))
        settle(&s, e)
        #expect(s.comparison!.worst[0] == before)
    }

    @Test func undoAndRedoWalkTheMemoryHistory() {
        var s = makeState()
        s.selectedLayer = 1
        act(&s, .layers(.halve))
        act(&s, .layers(.clear))
        act(&s, .layers(.applyPreset(.none)))
        #expect(s.memory == [0, 0, 0, 0])
        press(&s, .char("u"))
        #expect(s.memory == [64, 0, 64, 64])
        press(&s, .char("u"))
        #expect(s.memory == [64, 32, 64, 64])
        press(&s, .ctrl("r"))
        #expect(s.memory == [64, 0, 64, 64])
        press(&s, .char("u")); press(&s, .char("u"))
        #expect(s.memory == [64, 64, 64, 64])
        press(&s, .char("u"))
        #expect(s.messageIsError && s.message == "nothing to undo" && s.memory == [64, 64, 64, 64])
        act(&s, .layers(.double))  // a new change clears the redo history
        press(&s, .ctrl("r"))
        #expect(s.message == "nothing to redo")
    }

    @Test func compareCommandPinsUnpinsAndSwaps() {
        var s = makeState()
        for line in ["compare", "mem 0 0", "compare swap"] {
            act(&s, .input(.open(.command)))
            for c in line { act(&s, .input(.character(c))) }
            act(&s, .input(.submit))
        }
        #expect(s.comparison?.a == [0, 64, 64, 64] && s.memory == [64, 64, 64, 64])
        #expect(CommandParser.parse("compare off", in: s).map { $0.count } == .success(1))
        if case .failure(let e) = CommandParser.parse("compare maybe", in: s) {
            #expect(e.description.contains(":compare takes nothing, off, swap or model PATH"))
        } else {
            Issue.record("compare maybe parsed")
        }
        act(&s, .compare(.unpin))
        #expect(s.comparison == nil)
    }

    @Test func jumpingToTheWorstByteShowsAsAttentionWithKeysBeyondBMarked() {
        var s = makeState()
        act(&s, .compare(.pin))
        act(&s, .layers(.set(layer: 2, length: 8)))
        press(&s, .char("w"))
        let w = s.comparison!.worst[0]
        #expect(s.cursor == w.offset && s.comparison?.selectedWorst == 0)
        #expect(s.selectedLayer == 2)  // the layer B cut
        #expect(s.comparison?.heatmapA == true && s.analysisMemory == [64, 64, 64, 64])
        #expect(s.message!.hasPrefix("#1: byte \(w.offset)"))
        let g = render(s, size: Size(width: 80, height: 24))
        dump("ab-jump", g)
        #expect(g.line(2).contains("A's mean of 2 heads"))
        let axis = g.text.split(separator: "\n").first { $0.contains("××") }
        #expect(axis != nil && axis!.contains("B"))
        press(&s, .char("w"))
        #expect(s.cursor == s.comparison!.worst[1].offset)
        press(&s, .char("W")); press(&s, .char("W"))
        #expect(s.comparison?.selectedWorst == s.comparison!.worst.count - 1)
        press(&s, .char("b"))
        #expect(s.comparison?.heatmapA == false && s.analysisMemory == s.memory)
    }

    @Test func aNewChangeWhileBRunsSupersedesIt() {
        var s = makeState()
        var e = reduce(&s, .compare(.pin))
        #expect(e.window == .start && s.windowJob?.window.memory == s.memory)
        let jobA = s.windowJob!
        e = reduce(&s, .layers(.clear))  // A still missing: the job for A stays
        #expect(s.windowJob?.request == jobA.request)
        let r = try! FakeEngine().losses(
            text: s.text, start: 0, bytes: s.evalBytes, memory: jobA.window.memory, progress: { _ in },
            cancelled: { false })
        e = reduce(&s, .worker(.windowFinished(request: jobA.request, jobA.window, r, seconds: 1)))
        #expect(e.window == .start && s.windowJob?.window.memory == [0, 64, 64, 64])
        let jobB = s.windowJob!
        e = reduce(&s, .layers(.double))
        #expect(s.windowJob!.request > jobB.request && s.windowJob?.window.memory == [32, 64, 64, 64])
        // A late result of the superseded job is dropped.
        #expect(reduce(&s, .worker(.windowFinished(request: jobB.request, jobB.window, r, seconds: 1))) == .none)
        #expect(s.windows[jobB.window] == nil)
    }

    @Test func distancePaneComparesTheWindowProfilesOfAAndB() {
        var s = makeState()
        act(&s, .compare(.pin))
        act(&s, .layers(.set(layer: 3, length: 0)))
        let pa = s.windowProfiles[s.window(s.comparison!.a)]!, pb = s.windowProfiles[s.window(s.memory)]!
        #expect(pa[3].beyondSegment > 0 && pb[3].beyondSegment == 0)
        #expect(pa[0].beyondSegment == pb[0].beyondSegment)
        // The window's profile is the query-weighted mean over its segments, not only the cursor's segment.
        let a0 = try! FakeEngine().analyse(text: s.text, offset: 0, memory: s.comparison!.a, cancelled: { false })
        #expect(pa[3].beyondSegment != DistanceProfile(a0.attention[3]).beyondSegment)
        _ = reduce(&s, .general(.focus(.distance)))
        s.selectedLayer = 3
        let g = render(s, size: Size(width: 80, height: 24))
        dump("ab-distance", g)
        #expect(g.text.contains("A vs B over 512 B: mass by distance"))
        #expect(g.text.contains("L3 A"))
        let summary = String(format: "L3 beyond seg: A %.1f%% B 0.0%% (mem 64, 0)", pa[3].beyondSegment * 100)
        #expect(g.text.contains(summary))
    }

    /// The state of the A/B golden screens: A the checkpoint's memory, B with L3 cut to 8, both windows known.
    func abState(display: Display = Display(colors: false, ascii: false, label: "no colour")) -> AppState {
        var s = makeState(display: display)
        act(&s, .compare(.pin))
        act(&s, .layers(.set(layer: 3, length: 8)))
        act(&s, .general(.focus(.text)))
        s.message = nil
        return s
    }

    @Test func goldenABTextPaneAndWhereMemoryMattersList() {
        var s = abState()
        press(&s, .char("w"))
        s.message = nil
        let g = render(s, size: Size(width: 80, height: 24))
        dump("ab-text", g)
        #expect(g.text == goldenABText)
        // Δ shading: a diverging role per byte of the window; without colour the legend cells carry - 0 +.
        var levels: Set<Int8> = []
        for y in 3..<12 { for x in 31..<80 { if case .delta(let l) = g[x, y].role { levels.insert(l) } } }
        #expect(levels.contains { $0 > 0 } && levels.contains(0))
    }

    @Test func deltaLevelsAreDivergingAndSymmetric() {
        #expect(deltaLevel(0) == 0 && deltaLevel(0.2) == 0 && deltaLevel(-0.2) == 0)
        #expect(deltaLevel(0.3) == 1 && deltaLevel(-0.3) == -1)
        #expect(deltaLevel(1.5) == 3 && deltaLevel(-1.5) == -3)
        #expect(deltaLevel(10) == 7 && deltaLevel(-10) == -7 && deltaLevel(.nan) == 0)
    }

    @Test func worstBytesSkipNaNAndSortTiesByOffset() {
        let a: [Float] = [1, 1, 1, 1, .nan]
        let b: [Float] = [2, 1, 3, 2, .nan]
        let w = worstBytes(a: a, b: b, start: 10)
        #expect(w.map(\.offset) == [12, 10, 13, 11])
    }
}

let goldenABText = golden("goldenABText")
