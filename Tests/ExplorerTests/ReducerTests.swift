import Testing
@testable import Explorer

@Suite struct ReducerTests {
    @Test func doublingAndHalvingTheSelectedLayer() {
        var s = makeState()
        s.selectedLayer = 2
        let e = reduce(&s, .doubleMemory)
        #expect(s.memory == [64, 64, 128, 64])
        #expect(e.recompute && e.redraw)
        #expect(s.analysisRequest == 1)
        _ = reduce(&s, .halveMemory); _ = reduce(&s, .halveMemory)
        #expect(s.memory[2] == 32)
        _ = reduce(&s, .clearMemory)
        #expect(s.memory[2] == 0 && s.kind(ofLayer: 2) == "none")
        _ = reduce(&s, .doubleMemory)           // from 0: back to the short length (the segment length)
        #expect(s.memory[2] == 32)
    }

    @Test func growingPastTheModelLimitIsRefusedNotClamped() {
        var s = makeState()
        s.memory[0] = 256
        let e = reduce(&s, .doubleMemory)
        #expect(s.memory[0] == 256)
        #expect(!e.recompute)
        #expect(s.messageIsError && s.message!.contains("256"))
    }

    @Test func copyToAllAndExactValue() {
        var s = makeState()
        s.selectedLayer = 1
        _ = reduce(&s, .setMemory(layer: 1, length: 200))
        _ = reduce(&s, .copyMemoryToAll)
        #expect(s.memory == [200, 200, 200, 200])
        _ = reduce(&s, .enterMemoryValue)
        #expect(s.input?.kind == .memoryValue)
        for c in "17" { _ = reduce(&s, .inputCharacter(c)) }
        _ = reduce(&s, .inputSubmit)
        #expect(s.memory == [200, 17, 200, 200])
        #expect(s.input == nil)
    }

    @Test func presetsUseLongAndShortLengths() {
        var s = makeState()
        _ = reduce(&s, .applyPreset(.interleaved(2)))
        #expect(s.memory == [32, 64, 32, 64])      // lrm 64, srm 32 (the segment length) at first
        _ = reduce(&s, .setShort(8))                // reapplies the preset
        #expect(s.memory == [8, 64, 8, 64])
        _ = reduce(&s, .setLong(256))
        #expect(s.memory == [8, 256, 8, 256])
        _ = reduce(&s, .applyPreset(.last(1)))
        #expect(s.memory == [8, 8, 8, 256])
        _ = reduce(&s, .applyPreset(.first(3)))
        #expect(s.memory == [256, 256, 256, 8])
        _ = reduce(&s, .applyPreset(.none))
        #expect(s.memory == [0, 0, 0, 0])          // none: no memory at all
        _ = reduce(&s, .resetMemory)
        #expect(s.memory == [64, 64, 64, 64])
        _ = reduce(&s, .cyclePreset)
        #expect(s.preset == .full)
    }

    @Test func memoryChangeRestartsARunningEvaluation() {
        var s = makeState()
        var e = reduce(&s, .startEval)
        #expect(e.eval == .start && s.eval?.request == 1)
        e = reduce(&s, .doubleMemory)
        #expect(e.eval == .start && e.recompute)
        #expect(s.eval?.request == 2 && s.eval?.memory == [128, 64, 64, 64])
        // Progress and results of the cancelled run are ignored.
        e = reduce(&s, .evalFinished(request: 1, EvalResult(bytes: 10, bpc: 9, seconds: 1, memory: [64, 64, 64, 64])))
        #expect(s.runs.isEmpty && e == .none)
        _ = reduce(&s, .evalProgress(request: 2, EvalProgress(bytesDone: 5, bytesTotal: 10, bits: 6, seconds: 1)))
        #expect(s.eval?.progress?.bpc == 1.2)
        _ = reduce(&s, .evalFinished(request: 2, EvalResult(bytes: 10, bpc: 1.5, seconds: 2, memory: [128, 64, 64, 64])))
        #expect(s.runs.count == 1 && s.eval == nil && s.runs[0].stateFloats == 320 * 16)
        #expect(s.lastBPC == 1.5)
    }

    @Test func quitAsksOnlyWhileEvaluating() {
        var s = makeState()
        #expect(reduce(&s, .quit).quit)
        _ = reduce(&s, .startEval)
        #expect(!reduce(&s, .quit).quit)
        #expect(s.overlay == .confirmQuit)
        #expect(action(for: .char("n"), in: s).map { if case .confirm(false) = $0 { return true }; return false } == true)
        _ = reduce(&s, .confirm(false))
        #expect(s.overlay == nil)
        _ = reduce(&s, .quit)
        #expect(reduce(&s, .confirm(true)).quit)
    }

    @Test func ctrlCCancelsTheJobThenQuits() {
        var s = makeState()
        _ = reduce(&s, .startEval)
        let first = reduce(&s, .interrupt)
        #expect(first.eval == .cancel && !first.quit && s.eval == nil)
        #expect(reduce(&s, .interrupt).quit)
    }

    @Test func commandLineAppliesOrReports() {
        var s = makeState()
        _ = reduce(&s, .openCommandLine)
        for c in "mem 3 128" { _ = reduce(&s, .inputCharacter(c)) }
        let e = reduce(&s, .inputSubmit)
        #expect(s.memory == [64, 64, 64, 128] && e.recompute)
        _ = reduce(&s, .openCommandLine)
        for c in "mem 9 1" { _ = reduce(&s, .inputCharacter(c)) }
        _ = reduce(&s, .inputSubmit)
        #expect(s.messageIsError && s.message!.contains("layer 9"))
        _ = reduce(&s, .openCommandLine)
        for c in "q" { _ = reduce(&s, .inputCharacter(c)) }
        #expect(reduce(&s, .inputSubmit).quit)
    }

    @Test func staleAnalysisIsIgnored() {
        let e = FakeEngine()
        var s = makeState(e)
        _ = reduce(&s, .doubleMemory)            // request 1
        let old = try! e.analyse(text: s.text, offset: 0, memory: [64, 64, 64, 64], cancelled: { false })
        _ = reduce(&s, .doubleMemory)            // request 2
        #expect(reduce(&s, .analysisReady(request: 1, old, [], memory: [64, 64, 64, 64])) == .none)
        #expect(s.analysis == nil && s.analysing)
        let new = try! e.analyse(text: s.text, offset: 0, memory: s.memory, cancelled: { false })
        _ = reduce(&s, .analysisReady(request: 2, new, DistanceProfile.all(new), memory: s.memory))
        #expect(s.analysisIsCurrent && !s.analysing)
    }

    @Test func cursorRecomputesOnlyWhenTheSegmentChanges() {
        var s = analysed(makeState())
        s.focus = .text
        let r = s.analysisRequest
        #expect(!reduce(&s, .move(.right)).recompute)
        #expect(s.cursor == 1 && s.analysisRequest == r)
        #expect(reduce(&s, .jump(.pageDown)).recompute)
        #expect(s.cursor == 33 && s.segmentStart == 32 && s.analysisRequest == r + 1)
        _ = reduce(&s, .jump(.last))
        #expect(s.cursor == s.text.count - 1)
    }

    @Test func searchMovesTheCursorAndWraps() {
        var s = makeState()
        _ = reduce(&s, .openSearch)
        for c in "lazy" { _ = reduce(&s, .inputCharacter(c)) }
        _ = reduce(&s, .inputSubmit)
        #expect(s.cursor == 35 && s.search == "lazy")
        _ = reduce(&s, .searchNext)
        #expect(s.cursor > 35)
        _ = reduce(&s, .searchPrevious)
        #expect(s.cursor == 35)
        _ = reduce(&s, .openSearch)
        for c in "zebra" { _ = reduce(&s, .inputCharacter(c)) }
        _ = reduce(&s, .inputSubmit)
        #expect(s.messageIsError && s.cursor == 35)
    }

    @Test func panesHeadsAndLayers() {
        var s = makeState()
        _ = reduce(&s, .nextPane)
        #expect(s.focus == .attention && s.mainPane == .attention)
        _ = reduce(&s, .focus(.evaluation))
        _ = reduce(&s, .nextPane)
        #expect(s.focus == .layers && s.mainPane == .evaluation)
        _ = reduce(&s, .previousPane)
        #expect(s.focus == .evaluation)
        _ = reduce(&s, .nextHead)
        #expect(s.headView == .max)
        _ = reduce(&s, .nextHead); _ = reduce(&s, .nextHead)
        #expect(s.headView == .head(1))
        _ = reduce(&s, .nextHead)
        #expect(s.headView == .mean)
        _ = reduce(&s, .previousHead)
        #expect(s.headView == .head(1))
        _ = reduce(&s, .nextLayer); _ = reduce(&s, .nextLayer); _ = reduce(&s, .nextLayer); _ = reduce(&s, .nextLayer)
        #expect(s.selectedLayer == 3)
    }

    @Test func baselineAndEvalBytes() {
        var s = makeState()
        #expect(s.evalBytes == 512)
        _ = reduce(&s, .halveEvalBytes)
        #expect(s.evalBytes == 256)
        _ = reduce(&s, .doubleEvalBytes); _ = reduce(&s, .doubleEvalBytes)
        #expect(s.evalBytes == 512)
        for bpc in [1.5, 1.4] {
            _ = reduce(&s, .startEval)
            _ = reduce(&s, .evalFinished(request: s.evalRequest, EvalResult(bytes: 512, bpc: bpc, seconds: 1, memory: s.memory)))
        }
        _ = reduce(&s, .focus(.evaluation))
        _ = reduce(&s, .move(.up))
        _ = reduce(&s, .pinBaseline)
        #expect(s.baseline == 1)
        #expect(reduce(&s, .export).export == .evaluation)
    }

    @Test func mouseClickSelectsALayerAndWheelScrolls() {
        var s = makeState()
        _ = reduce(&s, .mouse(MouseEvent(.click, x: 3, y: 1 + Layout.layerTableTop + 2)))
        #expect(s.selectedLayer == 2 && s.focus == .layers)
        _ = reduce(&s, .mouse(MouseEvent(.click, x: 45, y: 1)))   // the tabs: "2 Attention  3 Distance" from x 32
        #expect(s.focus == .distance)
        _ = reduce(&s, .mouse(MouseEvent(.wheelDown, x: 50, y: 10)))
        #expect(s.selectedLayer == 3)
    }
}
