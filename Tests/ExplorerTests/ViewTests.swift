import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// The explorer as it opens (issue 9, "First run and conventions"): on a segment whose memory is full, with
/// the newcomer hint, analysed.
func openingState(display: Display = Display(), size: Size = Size(width: 80, height: 24)) -> AppState {
    var s = makeState(display: display)
    s.size = size
    s.open()
    return analysed(s)
}

private let mono = Display(colors: false, ascii: false, label: "no colour")

/// Columns `range` of a grid, as a grid of their own.
func columns(_ g: Grid, _ range: Range<Int>) -> Grid {
    var out = Grid(width: range.count, height: g.height)
    for y in 0..<g.height { for x in range { out[x - range.lowerBound, y] = g[x, y] } }
    return out
}

@Suite struct OpeningScreenTests {
    @Test func opensOnTheFirstSegmentWhoseMemoryIsFull() {
        var s = makeState()  // memory 64 on every layer, segments of 32
        s.open()
        #expect(s.cursor == 64 && s.segmentStart == 64 && s.hint)
        var short = makeState(text: sampleText(40))  // shorter than the memory: the last segment
        short.open()
        #expect(short.cursor == 32)
        var none = makeState()
        _ = reduce(&none, .layers(.setAll([0, 0, 0, 0])))
        none.open()
        #expect(none.cursor == 0)
        var mixed = makeState()
        _ = reduce(&mixed, .layers(.setAll([8, 100, 0, 3])))
        mixed.open()
        #expect(mixed.cursor == 128)  // the first segment start at or after 100
    }

    @Test func theHintGoesAwayAfterTheFirstKeyButNotForResults() {
        var s = openingState()
        #expect(render(s, size: s.size).line(23).contains("? help · :goto N · e evaluate · c compare"))
        _ = reduce(&s, .worker(.analysisFailed(request: -1, "stale")))  // a result, not a key
        _ = reduce(&s, .general(.resize(Size(width: 80, height: 24))))
        #expect(s.hint)
        _ = reduce(&s, .navigate(.move(.down)))
        #expect(!s.hint)
        #expect(!render(s, size: s.size).line(23).contains(":goto N"))
    }

    @Test func headerSaysTheMemoryPresentOfTheMemorySet() {
        let full = openingState()
        #expect(render(full, size: full.size).line(2).contains("mem 64 of 64"))
        var start = makeState()
        start = analysed(start)  // byte 0: nothing before it
        #expect(render(start, size: start.size).line(2).contains("mem 0 of 64"))
        #expect(render(start, size: start.size).line(2).contains("L0       64 long"))
    }

    @Test func golden80x24OpeningScreen() {
        let g = render(openingState(display: mono), size: Size(width: 80, height: 24))
        dump("opening80x24", g)
        #expect(g.text == goldenOpening80x24)
    }

    @Test func golden140x45OpeningScreen() {
        let s = openingState(display: mono, size: Size(width: 140, height: 45))
        let g = render(s, size: s.size)
        dump("opening140x45-left", columns(g, 0..<70))
        dump("opening140x45-right", columns(g, 70..<140))
        // In two halves of 70 columns, so that the golden lines stay within 120 columns.
        #expect(columns(g, 0..<70).text == goldenOpening140x45Left)
        #expect(columns(g, 70..<140).text == goldenOpening140x45Right)
    }

    @Test func longTitlesAreCutAtAWordNeverMidWord() {
        #expect(cutAtWord("mem 512 of 512 · bytes 4096-4223", 20) == "mem 512 of 512 …")
        #expect(cutAtWord("short", 20) == "short")
        #expect(cutAtWord("L0-4:128 L5:512 │ bpc 1.2345", 16) == "L0-4:128 …")
        #expect(fitting(["a long form here", "short"], 10) == "short")
        // A comparison whose header is too long for 80 columns loses words, not digits.
        var s = openingState()
        _ = reduce(&s, .compare(.pin))
        _ = reduce(&s, .layers(.setAll([1, 3, 5, 7])))
        let title = render(s, size: s.size).line(0)
        #expect(title.contains("A L0-3:64 · B L0:1 L1:3 L2:5 L3:7"))
    }
}
