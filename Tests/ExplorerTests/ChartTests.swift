import Foundation
import Testing
@testable import Analysis
@testable import Explorer

/// Runs of the paper's arrangements on the fake 4-layer model (lrm 64, srm 32): full, none, last:1 (which is also
/// interleaved:1 on 4 layers), first:1, interleaved:2, last:2, and one setting that is no placement.
func placementState(display: Display = Display()) -> AppState {
    var s = makeState(display: display)
    let runs: [([Int], Double, String?)] = [
        ([64, 64, 64, 64], 1.80, "full"), ([0, 0, 0, 0], 2.40, "none"), ([32, 32, 32, 64], 1.95, nil),
        ([64, 32, 32, 32], 2.10, nil), ([32, 64, 32, 64], 1.90, nil), ([32, 32, 64, 64], 1.86, nil),
        ([128, 8, 256, 32], 1.75, nil),
    ]
    for (m, bpc, preset) in runs {
        _ = reduce(&s, .layers(.setAll(m)))
        _ = reduce(&s, .eval(.start))
        finishEvaluation(&s, request: s.evalRequest, bytes: 512, bpc: bpc, seconds: 1, memory: m)
        s.runs[s.runs.count - 1].preset = preset
    }
    _ = reduce(&s, .general(.focus(.evaluation)))
    _ = reduce(&s, .navigate(.jump(.first)))
    _ = reduce(&s, .eval(.pinBaseline))
    s.message = nil
    s.analysing = false
    return s
}

@Suite struct ChartTests {
    @Test func arrangementsAreReadFromThePerLayerMemory() {
        #expect(Arrangement.of([0, 0, 0, 0]) == .none)
        #expect(Arrangement.of([64, 64, 64, 64]) == .full(64))
        #expect(Arrangement.of([32, 32, 32, 64]) == .placed(families: ["last", "interleaved"], k: 1))
        #expect(Arrangement.of([64, 32, 32, 32]) == .placed(families: ["first"], k: 1))
        #expect(Arrangement.of([32, 64, 32, 64]) == .placed(families: ["interleaved"], k: 2))
        #expect(Arrangement.of([0, 0, 64, 64]) == .placed(families: ["last"], k: 2))
        #expect(Arrangement.of([64, 32, 64, 32]) == .other)  // long layers 0 and 2: no placement
        #expect(Arrangement.of([128, 8, 256, 32]) == .other)
    }

    @Test func thePapersViewHasASeriesPerPlacementAndTwoReferenceLines() {
        let d = Charts.layers(placementState())
        #expect(d.series.map(\.name) == ["first", "last", "interleaved"])
        #expect(d.series[0].points.map(\.x) == [1] && d.series[0].points.map(\.y) == [2.10])
        #expect(d.series[1].points.map(\.x) == [1, 2] && d.series[1].points.map(\.y) == [1.95, 1.86])
        #expect(d.series[2].points.map(\.x) == [1, 2] && d.series[2].points.map(\.y) == [1.95, 1.90])
        #expect(d.references == [.init(name: "full", y: 1.80), .init(name: "none", y: 2.40)])
        #expect(d.note == "1 not a placement" && d.xMin == 0 && d.xMax == 4)
    }

    @Test func theStateViewPutsNoneAtZeroOnALinearAxis() {
        let d = Charts.state(placementState())
        #expect(d.xMin == 0 && d.series[0].points[1].x == 0 && d.series[0].points[1].label == "none")
        #expect(d.series[0].points[2].label == "3")
        #expect(d.references == [.init(name: "baseline #1", y: 1.80)])
    }

    @Test func goldenStateChart() {
        let s = placementState()
        let g = render(s, size: Size(width: 80, height: 24))
        dump("chart-state", g)
        #expect(g.text == goldenStateChartText)
    }

    @Test func goldenLayersChart() {
        var s = placementState()
        _ = reduce(&s, action(for: .char("t"), in: s)!)
        #expect(s.chartView == .layers && s.message!.hasPrefix("chart: bpc against long-range layers"))
        s.message = nil
        let g = render(s, size: Size(width: 80, height: 24))
        dump("chart-layers", g)
        #expect(g.text == goldenLayersChartText)
        _ = reduce(&s, action(for: .char("t"), in: s)!)
        #expect(s.chartView == .state)
    }

    /// Without colour, and in ASCII, each series keeps a glyph of its own and the legend names it.
    @Test func bothViewsReadWithoutColour() {
        for (ascii, glyphs) in [(false, ["●", "▲", "■", "━", "┄"]), (true, ["o", "^", "#", "=", "~"])] {
            var s = placementState(display: Display(colors: false, ascii: ascii, label: "no colour"))
            _ = reduce(&s, .eval(.toggleChart))
            s.message = nil
            let t = render(s, size: Size(width: 80, height: 24)).text
            let chartRows = t.split(separator: "\n").suffix(10).joined(separator: "\n")
            for gl in glyphs { #expect(chartRows.contains(gl), "\(gl) missing (ascii \(ascii))") }
            #expect(chartRows.contains("first") && chartRows.contains("full 1.800") && chartRows.contains("none 2.400"))
        }
    }

    @Test func withoutAnyPlacementTheLayersViewSaysSo() {
        var s = runsState()
        _ = reduce(&s, .eval(.toggleChart))
        s.message = nil
        let t = render(s, size: Size(width: 80, height: 24)).text
        #expect(t.contains("full") && !t.contains("no run is full"))  // run 1 is uniform: the full line
        var t2 = makeState()
        _ = reduce(&t2, .eval(.start))
        finishEvaluation(&t2, request: t2.evalRequest, bytes: 512, bpc: 1.9, seconds: 1, memory: [128, 8, 256, 32])
        _ = reduce(&t2, .eval(.toggleChart))
        _ = reduce(&t2, .general(.focus(.evaluation)))
        t2.message = nil
        #expect(render(t2, size: Size(width: 80, height: 24)).text.contains("no run is full, none or a placement"))
    }

    @Test func chartSVGHasAxesLabelsAShapePerSeriesAndTheReferenceLines() {
        var s = placementState()
        s.chartView = .layers
        let svg = Charts.data(s).svg()
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("long-range layers of 4") && svg.contains(">bpc</text>"))
        #expect(svg.contains("full 1.8000") && svg.contains("none 2.4000") && svg.contains("stroke-dasharray"))
        // first: 1 circle + legend; last and interleaved: triangles (2 + 2 + legends); markers for every point
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2)
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 3)
        for k in 0...4 { #expect(svg.contains("text-anchor=\"middle\">\(k)</text>")) }
        s.chartView = .state
        let st = Charts.data(s).svg()
        #expect(st.contains(">none</text>") && st.contains(">full</text>") && st.contains("baseline #1"))
    }
}

let goldenStateChartText = golden("goldenStateChartText")

let goldenLayersChartText = golden("goldenLayersChartText")

@Suite struct ChartAxisTests {
    /// A 24-layer model: the layer counts on the x axis are labelled every few layers, never run together.
    @Test func manyLayersGetSpacedTickLabels() {
        var e = FakeEngine()
        e.layerCount = 24
        e.defaultMemory = Array(repeating: 64, count: 24)
        var s = makeState(e)
        let last4 = Array(repeating: 32, count: 20) + Array(repeating: 64, count: 4)
        _ = reduce(&s, .layers(.setAll(last4)))
        _ = reduce(&s, .eval(.start))
        finishEvaluation(&s, request: s.evalRequest, bytes: 512, bpc: 1.9, seconds: 1, memory: last4)
        _ = reduce(&s, .eval(.toggleChart))
        _ = reduce(&s, .general(.focus(.evaluation)))
        s.message = nil
        let t = render(s, size: Size(width: 80, height: 30)).text.split(separator: "\n")
        let ticks = t.first { $0.contains("long-range layers of 24") }!.split(separator: "│").last!
        let numbers = ticks.split(separator: " ").compactMap { Int($0.filter(\.isNumber)) }
        #expect(numbers.first == 0 && numbers.last == 24 && numbers.count >= 4 && numbers.count < 25)
        #expect(!ticks.contains("1011") && !ticks.contains("2324"))
    }
}
