import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// Three runs: 1 the checkpoint's memory over 512 B (pinned as the baseline), 2 with L3 cut to 8 over 512 B,
/// 3 with a long mixed setting over 256 B (its Δ cannot be taken against the baseline).
func runsState() -> AppState {
    var s = makeState()
    let settings: [([Int], Int, Double)] = [
        ([64, 64, 64, 64], 512, 1.8125), ([64, 64, 64, 8], 512, 1.9), ([128, 8, 256, 32], 256, 1.75),
    ]
    for (m, bytes, bpc) in settings {
        _ = reduce(&s, .layers(.setAll(m)))
        _ = reduce(&s, .eval(.start))
        _ = finishEvaluation(&s, request: s.evalRequest, bytes: bytes, bpc: bpc, seconds: 1, memory: m)
    }
    _ = reduce(&s, .general(.focus(.evaluation)))
    _ = reduce(&s, .navigate(.jump(.first)))
    _ = reduce(&s, .eval(.pinBaseline))
    _ = reduce(&s, .navigate(.jump(.last)))
    s.message = nil
    s.analysing = false
    return s
}

@Suite struct RunsTableTests {
    @Test func goldenRunsTableWithMixedByteCounts() {
        let s = runsState()
        let g = render(s, size: Size(width: 80, height: 24))
        dump("runs", g)
        #expect(g.text == goldenRunsText)
        let wide = render(s, size: Size(width: 120, height: 30)).text
        #expect(wide.contains("state ratio") && wide.contains("L0:128 L1:8 L2:256 L3:32"))
    }

    @Test func deltaOnlyAgainstABaselineOverTheSameBytes() {
        let s = runsState()
        let t = render(s, size: Size(width: 80, height: 24)).text
        #expect(t.contains("+0.0875"))  // run 2 against run 1, both over 512 B
        let row3 = t.split(separator: "\n").first { $0.contains("  3    256 B") }
        #expect(row3 != nil && row3!.contains("—") && !row3!.contains("-0.0625"))
    }

    @Test func enterRestoresARunAndDDeletesIt() {
        var s = runsState()
        _ = reduce(&s, .layers(.reset))
        #expect(s.memory == [64, 64, 64, 64])
        _ = reduce(&s, .navigate(.move(.up)))  // run 2
        _ = reduce(&s, action(for: .enter, in: s)!)
        #expect(s.memory == [64, 64, 64, 8] && s.message!.contains("run 2 restored"))
        _ = reduce(&s, action(for: .char("u"), in: s)!)
        #expect(s.memory == [64, 64, 64, 64])
        _ = reduce(&s, action(for: .char("d"), in: s)!)
        #expect(s.runs.map(\.id) == [1, 3] && s.baseline == 1)
        _ = reduce(&s, .navigate(.jump(.first)))
        _ = reduce(&s, action(for: .delete, in: s)!)
        #expect(s.runs.map(\.id) == [3] && s.baseline == nil)
        _ = reduce(&s, .general(.focus(.text)))
        _ = reduce(&s, action(for: .char("d"), in: s)!)
        #expect(s.runs.count == 1 && s.messageIsError)
        _ = reduce(&s, action(for: .enter, in: s)!)  // outside the Eval pane Enter types a length, as m
        #expect(s.input?.kind == .memoryValue)
    }

    @Test func statusBarBPCBelongsToTheCurrentSettingOrSaysStale() {
        var s = runsState()
        s.message = nil
        #expect(render(s, size: Size(width: 80, height: 24)).line(23).contains("bpc 1.7500"))
        _ = reduce(&s, .layers(.setAll([64, 64, 64, 8])))
        s.message = nil
        #expect(render(s, size: Size(width: 80, height: 24)).line(23).contains("bpc 1.9000"))
        _ = reduce(&s, .layers(.setAll([1, 2, 3, 4])))
        s.message = nil
        #expect(render(s, size: Size(width: 80, height: 24)).line(23).contains("bpc stale"))
    }
}

let goldenRunsText = golden("goldenRunsText")
