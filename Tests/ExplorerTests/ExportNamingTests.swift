import Foundation
import Testing
@testable import Explorer
@testable import TXL

@Suite struct ExportNamingTests {
    @Test func namesSayModelTextWhatMemoryAndOffset() {
        let s = analysed(makeState())
        #expect(Export.files(for: .layers, state: s).map(\.0) == ["memscope-fake-4L-sample.txt-layers-L0-3=64.csv"])
        #expect(
            Export.files(for: .attention, state: s).map(\.0) == [
                "memscope-fake-4L-sample.txt-attention-L0-mean-L0-3=64-at0.csv",
                "memscope-fake-4L-sample.txt-attention-L0-mean-L0-3=64-at0.svg",
            ])
        #expect(Export.files(for: .text, state: s).map(\.0) == ["memscope-fake-4L-sample.txt-loss-L0-3=64-at0.csv"])
        let long = Array(repeating: 0, count: 12).enumerated().map { $0.offset * 7 + 1 }
        #expect(Export.memoryTag(long).hasPrefix("mem") && Export.memoryTag(long).count == 11)
    }

    @Test func theEvalPaneExportsRunsAndTheChartShown() {
        var s = placementState()
        var names = Export.files(for: .evaluation, state: s).map(\.0)
        #expect(
            names == [
                "memscope-fake-4L-sample.txt-runs-at0.csv", "memscope-fake-4L-sample.txt-runs-at0.json",
                "memscope-fake-4L-sample.txt-runs-at0-chart-state.svg",
            ])
        s.chartView = .layers
        let files = Export.files(for: .evaluation, state: s)
        names = files.map(\.0)
        #expect(names[2] == "memscope-fake-4L-sample.txt-runs-at0-chart-layers.svg")
        #expect(files[2].1.contains("long-range layers of 4"))
    }

    @Test func anExistingFileIsNeverOverwritten() throws {
        let dir = scratchFolder("export")
        let s = placementState()
        guard case .exported(let first) = Export.write(.evaluation, state: s, directory: dir) else {
            Issue.record("first export failed"); return
        }
        let mine = dir + "/memscope-fake-4L-sample.txt-runs-at0-2.json"
        try "mine".write(toFile: mine, atomically: true, encoding: .utf8)
        guard case .exported(let second) = Export.write(.evaluation, state: s, directory: dir) else {
            Issue.record("second export failed"); return
        }
        // The second export takes the first suffix free for all its files: -2 is taken by a user's file.
        #expect(first.map { ($0 as NSString).lastPathComponent }.first == "memscope-fake-4L-sample.txt-runs-at0.csv")
        #expect(second.map { ($0 as NSString).lastPathComponent }.first == "memscope-fake-4L-sample.txt-runs-at0-3.csv")
        #expect(try String(contentsOfFile: mine, encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 7)
        // The low-level writer refuses an existing file outright.
        let m = Export.writeFile(first[0], Array("x".utf8), replace: false)
        #expect(m != nil && m!.hasSuffix("exists already; not overwritten"))
        #expect(try String(contentsOfFile: first[0], encoding: .utf8).hasPrefix("run,memory"))
    }

    /// A 128x640 attention map of noise (the worst case for the cell runs) still gives an SVG under 1 MB.
    @Test func theAttentionSVGStaysUnderOneMegabyte() {
        var rng = SystemRandomNumberGenerator()
        let Q = 128, K = 640
        let p = (0..<(Q * K)).map { _ in Float.random(in: 0...1, using: &rng) / Float(K) }
        let att = AttentionCapture(layer: 0, heads: 1, queries: Q, keys: K, memoryKeys: K - Q, probabilities: p)
        var s = makeState()
        s.analysis = SegmentAnalysis(
            offset: 0, bytes: Array(repeating: 65, count: Q), memoryBytes: [[]],
            lossBits: Array(repeating: 1, count: Q),
            attention: [att])
        let files = Export.files(for: .attention, state: s)
        let svg = files.first { $0.0.hasSuffix(".svg") }!.1
        #expect(svg.utf8.count < Export.svgLimit && svg.hasSuffix("</svg>\n"))
        #expect(files[0].1.split(separator: "\n").count == Q + 1)  // the CSV keeps every query
        let chart = Charts.data(placementState()).svg()
        #expect(chart.utf8.count < 20_000)
    }
}

@Suite struct RunsMouseTests {
    /// Eight runs, two with memory settings that wrap, the first pinned as the baseline, the last selected: the
    /// table scrolls. A click on any row selects the run that row shows (a continuation line its run).
    @Test func aClickSelectsTheRunDrawnUnderThePointer() {
        var s0 = runsState()
        for (i, m) in [[64, 32, 64, 32], [1, 2, 3, 4], [8, 8, 8, 8], [128, 8, 256, 16], [2, 4, 2, 4]].enumerated() {
            _ = reduce(&s0, .layers(.setAll(m)))
            _ = reduce(&s0, .eval(.start))
            finishEvaluation(&s0, request: s0.evalRequest, bytes: 512, bpc: 1.5 + Double(i) / 10, seconds: 1, memory: m)
        }
        _ = reduce(&s0, .general(.focus(.evaluation)))
        s0.message = nil
        let size = Size(width: 80, height: 24)
        let lines = render(s0, size: size).text.split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        let r = Layout(s0).panes[.evaluation]!
        var owner: Int? = nil
        var checked = 0
        for y in (r.y + Layout.runTableTop)..<(r.y + Layout.runTableTop + runRows(r)) {
            let row = Array(lines[y].dropFirst(r.x))
            // A run's first line has its number in columns 2-4; a continuation line is blank there.
            if let id = Int(String(row[2..<5]).trimmingCharacters(in: .whitespaces)) { owner = id }
            guard let id = owner else { continue }
            var s = s0
            _ = reduce(&s, .mouse(MouseEvent(.click, x: r.x + 20, y: y)))
            #expect(s.runs[s.selectedRun!].id == id, "row \(y)")
            checked += 1
        }
        #expect(checked == runRows(r))
        // The baseline is drawn first, above the scrolled runs, and the earliest runs have scrolled away.
        #expect(lines[r.y + Layout.runTableTop].contains("◆  1"))
        #expect(!lines.contains { $0.contains("   2    512 B") })
    }
}
