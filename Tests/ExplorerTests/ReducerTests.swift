import Testing
@testable import Analysis
@testable import Explorer

@Suite struct ReducerTests {
    @Test func doublingAndHalvingTheSelectedLayer() {
        var s = makeState()
        s.selectedLayer = 2
        let e = reduce(&s, .layers(.double))
        #expect(s.memory == [64, 64, 128, 64])
        #expect(e.recompute && e.redraw)
        #expect(s.analysisRequest == 1)
        _ = reduce(&s, .layers(.halve)); _ = reduce(&s, .layers(.halve))
        #expect(s.memory[2] == 32)
        _ = reduce(&s, .layers(.clear))
        #expect(s.memory[2] == 0 && s.kind(ofLayer: 2) == "none")
        _ = reduce(&s, .layers(.double))  // from 0: back to the short length (the segment length)
        #expect(s.memory[2] == 32)
    }

    @Test func growingPastTheModelLimitIsRefusedNotClamped() {
        var s = makeState()
        s.memory[0] = 256
        let e = reduce(&s, .layers(.double))
        #expect(s.memory[0] == 256)
        #expect(!e.recompute)
        #expect(s.messageIsError && s.message!.contains("256"))
    }

    @Test func copyToAllLayersAndTypingAnExactLength() {
        var s = makeState()
        s.selectedLayer = 1
        _ = reduce(&s, .layers(.set(layer: 1, length: 200)))
        _ = reduce(&s, .layers(.copyToAll))
        #expect(s.memory == [200, 200, 200, 200])
        _ = reduce(&s, .input(.open(.memoryValue)))
        #expect(s.input?.kind == .memoryValue)
        for c in "17" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.memory == [200, 17, 200, 200])
        #expect(s.input == nil)
    }

    @Test func presetsUseLongAndShortLengths() {
        var s = makeState()
        _ = reduce(&s, .layers(.applyPreset(.interleaved(2))))
        #expect(s.memory == [32, 64, 32, 64])  // lrm 64, srm 32 (the segment length) at first
        _ = reduce(&s, .layers(.setShort(8)))  // reapplies the preset
        #expect(s.memory == [8, 64, 8, 64])
        _ = reduce(&s, .layers(.setLong(256)))
        #expect(s.memory == [8, 256, 8, 256])
        _ = reduce(&s, .layers(.applyPreset(.last(1))))
        #expect(s.memory == [8, 8, 8, 256])
        _ = reduce(&s, .layers(.applyPreset(.first(3))))
        #expect(s.memory == [256, 256, 256, 8])
        _ = reduce(&s, .layers(.applyPreset(.none)))
        #expect(s.memory == [0, 0, 0, 0])  // none: no memory at all
        _ = reduce(&s, .layers(.reset))
        #expect(s.memory == [64, 64, 64, 64])
        _ = reduce(&s, .layers(.cyclePreset))
        #expect(s.preset == .full)
    }

    @Test func memoryChangeRestartsARunningEvaluation() {
        var s = makeState()
        var e = reduce(&s, .eval(.start))
        #expect(e.eval == .start && s.eval?.request == 1)
        e = reduce(&s, .layers(.double))
        #expect(e.eval == .start && e.recompute)
        #expect(s.eval?.request == 2 && s.eval?.memory == [128, 64, 64, 64])
        // Progress and results of the cancelled run are ignored.
        e = finishEvaluation(&s, request: 1, bytes: 10, bpc: 9, seconds: 1, memory: [64, 64, 64, 64])
        #expect(s.runs.isEmpty && e == .none)
        _ = reduce(&s, .worker(.evalProgress(request: 2, EvalProgress(done: 5, total: 10, seconds: 1, bits: 6))))
        #expect(s.eval?.progress?.bpc == 1.2)
        _ = finishEvaluation(&s, request: 2, bytes: 10, bpc: 1.5, seconds: 2, memory: [128, 64, 64, 64])
        #expect(s.runs.count == 1 && s.eval == nil && s.runs[0].stateFloats == 320 * 16)
        #expect(s.lastBPC == 1.5)
    }

    @Test func quitAsksOnlyWhileEvaluating() {
        var s = makeState()
        #expect(reduce(&s, .general(.quit)).quit)
        _ = reduce(&s, .eval(.start))
        #expect(!reduce(&s, .general(.quit)).quit)
        #expect(s.overlay == .confirmQuit)
        #expect(action(for: .char("n"), in: s).map(show) == show(.general(.confirmQuit(false))))
        _ = reduce(&s, .general(.confirmQuit(false)))
        #expect(s.overlay == nil)
        _ = reduce(&s, .general(.quit))
        #expect(reduce(&s, .general(.confirmQuit(true))).quit)
    }

    @Test func ctrlCCancelsTheJobThenQuits() {
        var s = makeState()
        _ = reduce(&s, .eval(.start))
        let first = reduce(&s, .general(.interrupt))
        #expect(first.eval == .cancel && !first.quit && s.eval == nil)
        #expect(reduce(&s, .general(.interrupt)).quit)
    }

    @Test func commandLineAppliesACommandOrReportsItsError() {
        var s = makeState()
        _ = reduce(&s, .input(.open(.command)))
        for c in "mem 3 128" { _ = reduce(&s, .input(.character(c))) }
        let e = reduce(&s, .input(.submit))
        #expect(s.memory == [64, 64, 64, 128] && e.recompute)
        _ = reduce(&s, .input(.open(.command)))
        for c in "mem 9 1" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.messageIsError && s.message!.contains("layer 9"))
        _ = reduce(&s, .input(.open(.command)))
        for c in "q" { _ = reduce(&s, .input(.character(c))) }
        #expect(reduce(&s, .input(.submit)).quit)
    }

    @Test func staleAnalysisIsIgnored() {
        let e = FakeEngine()
        var s = makeState(e)
        _ = reduce(&s, .layers(.double))  // request 1
        let old = try! e.analyse(text: s.text, offset: 0, memory: [64, 64, 64, 64], cancelled: { false })
        _ = reduce(&s, .layers(.double))  // request 2
        #expect(reduce(&s, .worker(.analysisReady(request: 1, old, [], memory: [64, 64, 64, 64]))) == .none)
        #expect(s.analysis == nil && s.analysing)
        let new = try! e.analyse(text: s.text, offset: 0, memory: s.memory, cancelled: { false })
        _ = reduce(&s, .worker(.analysisReady(request: 2, new, DistanceProfile.all(new), memory: s.memory)))
        #expect(s.analysisIsCurrent && !s.analysing)
    }

    @Test func cursorRecomputesOnlyWhenTheSegmentChanges() {
        var s = analysed(makeState())
        s.focus = .attention  // where a page is a segment (in the text pane it is the rows shown)
        let r = s.analysisRequest
        #expect(!reduce(&s, .navigate(.move(.right))).recompute)
        #expect(s.cursor == 1 && s.analysisRequest == r)
        #expect(reduce(&s, .navigate(.jump(.pageDown))).recompute)
        #expect(s.cursor == 33 && s.segmentStart == 32 && s.analysisRequest == r + 1)
        _ = reduce(&s, .navigate(.jump(.last)))
        #expect(s.cursor == s.text.count - 1)
    }

    @Test func searchMovesTheCursorAndWraps() {
        var s = makeState()
        _ = reduce(&s, .input(.open(.search)))
        for c in "lazy" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.cursor == 35 && s.search == "lazy")
        _ = reduce(&s, .text(.searchNext))
        #expect(s.cursor > 35)
        _ = reduce(&s, .text(.searchPrevious))
        #expect(s.cursor == 35)
        _ = reduce(&s, .input(.open(.search)))
        for c in "zebra" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.messageIsError && s.cursor == 35)
    }

    @Test func tabCyclesPanesAndBracesCycleHeadsThroughMeanMaxAndEachHead() {
        var s = makeState()
        _ = reduce(&s, .general(.nextPane))
        #expect(s.focus == .attention && s.mainPane == .attention)
        _ = reduce(&s, .general(.focus(.evaluation)))
        _ = reduce(&s, .general(.nextPane))
        #expect(s.focus == .layers && s.mainPane == .evaluation)
        _ = reduce(&s, .general(.previousPane))
        #expect(s.focus == .evaluation)
        _ = reduce(&s, .heatmap(.nextHead))
        #expect(s.headView == .max)
        _ = reduce(&s, .heatmap(.nextHead)); _ = reduce(&s, .heatmap(.nextHead))
        #expect(s.headView == .head(1))
        _ = reduce(&s, .heatmap(.nextHead))
        #expect(s.headView == .mean)
        _ = reduce(&s, .heatmap(.previousHead))
        #expect(s.headView == .head(1))
        for _ in 0..<3 { _ = reduce(&s, .layers(.next)) }
        #expect(s.selectedLayer == 3)
        _ = reduce(&s, .layers(.next))  // ] wraps round, as } does
        #expect(s.selectedLayer == 0)
    }

    @Test func evalBytesHalveAndDoubleAndTheSelectedRunIsPinned() {
        var s = makeState()
        #expect(s.evalBytes == 512)
        _ = reduce(&s, .eval(.halveBytes))
        #expect(s.evalBytes == 256)
        _ = reduce(&s, .eval(.doubleBytes)); _ = reduce(&s, .eval(.doubleBytes))
        #expect(s.evalBytes == 512)
        for bpc in [1.5, 1.4] {
            _ = reduce(&s, .eval(.start))
            _ = finishEvaluation(&s, request: s.evalRequest, bytes: 512, bpc: bpc, seconds: 1, memory: s.memory)
        }
        _ = reduce(&s, .general(.focus(.evaluation)))
        _ = reduce(&s, .navigate(.move(.up)))
        _ = reduce(&s, .eval(.pinBaseline))
        #expect(s.baseline == 1)
        #expect(reduce(&s, .general(.export)).export == .evaluation)
    }

    @Test func mouseClickSelectsALayerAndWheelScrolls() {
        var s = makeState()
        _ = reduce(&s, .mouse(MouseEvent(.click, x: 3, y: 1 + Layout.layerTableTop + 2)))
        #expect(s.selectedLayer == 2 && s.focus == .layers)
        _ = reduce(&s, .mouse(MouseEvent(.click, x: 45, y: 1)))  // the tabs: "2 Attention  3 Distance" from x 32
        #expect(s.focus == .distance)
        _ = reduce(&s, .mouse(MouseEvent(.wheelDown, x: 50, y: 10)))
        #expect(s.selectedLayer == 3)
    }

    @Test func presetsOutsideTheModelAreRefusedAndZeroLongLayersAccepted() {
        var s = makeState()
        _ = reduce(&s, .input(.open(.command)))
        for c in "preset interleaved:0" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.memory == [32, 32, 32, 32] && s.preset == .interleaved(0) && !s.messageIsError)
        _ = reduce(&s, .input(.open(.command)))
        for c in "preset interleaved:999" { _ = reduce(&s, .input(.character(c))) }
        _ = reduce(&s, .input(.submit))
        #expect(s.messageIsError && s.message == "\"interleaved:999\": K is 999 but the model has 4 layers")
        #expect(s.memory == [32, 32, 32, 32])
    }

    @Test func helpScrollsWithItsOwnKeysAndMouseIsIgnoredThere() {
        var s = makeState()
        _ = reduce(&s, action(for: .char("?"), in: s)!)
        #expect(s.overlay == .help)
        _ = reduce(&s, action(for: .pageDown, in: s)!)
        _ = reduce(&s, action(for: .char("k"), in: s)!)
        #expect(s.helpTop == KeyMap.helpRows(s.size) - 1 && s.selectedLayer == 0 && s.cursor == 0)
        #expect(action(for: .mouse(MouseEvent(.wheelDown, x: 50, y: 10)), in: s) == nil)
        _ = reduce(&s, action(for: .char("q"), in: s)!)
        #expect(s.overlay == nil)
    }
}
