// The Eval pane's two charts of the runs: bpc against memory state (floats, a linear axis from 0, so that `none`
// sits at 0), and the paper's view (Rae & Razavi 2020, Fig. 2): bpc against the number of long-range layers, one
// series per placement, with `full` and `none` as reference lines. Each series has its own glyph, so both read
// without colour; `Charts.series` is what the SVG export draws too.
import Foundation
import TXL

/// Which chart the Eval pane shows (the `f` key toggles).
public enum ChartView: String, Sendable, Equatable {
    case state, layers
}

/// A run's memory as one of the paper's arrangements, read from its per-layer lengths.
public enum Arrangement: Sendable, Equatable {
    /// No memory in any layer.
    case none
    /// Every layer the same positive length.
    case full(Int)
    /// `k` layers at the longer length, the others at the shorter: the placements (first, last, interleaved)
    /// whose long-range layers these are (one arrangement can be two, e.g. last:1 and interleaved:1).
    case placed(families: [String], k: Int)
    case other

    public static let families = ["first", "last", "interleaved"]

    public static func of(_ memory: [Int]) -> Arrangement {
        guard let hi = memory.max(), let lo = memory.min() else { return .other }
        if hi == 0 { return .none }
        if hi == lo { return .full(hi) }
        guard Set(memory).count == 2 else { return .other }
        let long = Set(memory.indices.filter { memory[$0] == hi })
        let fams = families.filter { MemorySpec.placement($0, k: long.count, layers: memory.count) == long }
        return fams.isEmpty ? .other : .placed(families: fams, k: long.count)
    }
}

/// A chart as data: points per series and horizontal reference lines, in the units of its axes.
public struct ChartData: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var x: Double, y: Double
        public var label: String
        public var runIndex: Int
    }
    public struct Series: Sendable, Equatable {
        public var name: String
        public var points: [Point]
    }
    public struct Reference: Sendable, Equatable {
        public var name: String
        public var y: Double
    }
    public var title: String
    public var xLabel: String
    public var series: [Series]
    public var references: [Reference]
    /// x range to show (at least); the layers view spans 0...N.
    public var xMin: Double, xMax: Double
    /// Runs the chart leaves out, in words ("2 not a placement"), or nil.
    public var note: String?
    /// Ticks at every whole x (layer counts).
    public var integerX = false
    /// The y axis: "bpc", or "bits/token" for a word model.
    public var yLabel = "bpc"
}

public enum Charts {
    /// bpc against memory-state floats: one point per run, labelled by its preset or number; the pinned
    /// baseline as a reference line.
    public static func state(_ s: AppState) -> ChartData {
        let pts = s.runs.enumerated().map { i, r in
            ChartData.Point(x: Double(r.stateFloats), y: r.bpc, label: r.preset ?? "\(r.id)", runIndex: i)
        }
        var refs: [ChartData.Reference] = []
        if let b = s.runs.first(where: { $0.id == s.baseline }) {
            refs.append(.init(name: "baseline #\(b.id)", y: b.bpc))
        }
        return ChartData(
            title: "\(s.model.lossUnit) against memory state (\(s.model.name), \(s.textName))",
            xLabel: "memory state (floats)", series: [.init(name: "runs", points: pts)], references: refs, xMin: 0,
            xMax: Double(pts.map(\.x).max() ?? 1), note: nil, yLabel: s.model.lossUnit)
    }

    /// The paper's view: bpc against the number of long-range layers, a series per placement; `full` (the
    /// longest uniform setting run) and `none` as reference lines.
    public static func layers(_ s: AppState) -> ChartData {
        var series = Arrangement.families.map { ChartData.Series(name: $0, points: []) }
        var fullRun: (len: Int, run: Run)? = nil
        var noneRun: Run? = nil
        var left = 0
        for (i, r) in s.runs.enumerated() {
            switch Arrangement.of(r.memory) {
            case .none: noneRun = r
            case .full(let len): if fullRun == nil || len >= fullRun!.len { fullRun = (len, r) }
            case .placed(let fams, let k):
                for f in fams {
                    let j = Arrangement.families.firstIndex(of: f)!
                    series[j].points.append(.init(x: Double(k), y: r.bpc, label: "\(r.id)", runIndex: i))
                }
            case .other: left += 1
            }
        }
        var refs: [ChartData.Reference] = []
        if let f = fullRun { refs.append(.init(name: "full", y: f.run.bpc)) }
        if let n = noneRun { refs.append(.init(name: "none", y: n.bpc)) }
        return ChartData(
            title: "\(s.model.lossUnit) against long-range layers (\(s.model.name), \(s.textName))",
            xLabel: "long-range layers of \(s.model.layers)", series: series, references: refs, xMin: 0,
            xMax: Double(s.model.layers), note: left == 0 ? nil : "\(left) not a placement", integerX: true,
            yLabel: s.model.lossUnit)
    }

    public static func data(_ s: AppState) -> ChartData {
        s.chartView == .state ? state(s) : layers(s)
    }
}

extension Renderer {
    /// Glyph of series `i`: a filled circle, a triangle, a square (ASCII: o, ^, #).
    func seriesGlyph(_ i: Int) -> Unicode.Scalar {
        let g: [Unicode.Scalar] = glyphs.ascii ? ["o", "^", "#"] : ["●", "▲", "■"]
        return g[i % g.count]
    }
    func seriesRole(_ i: Int) -> Role { [Role.accent, .warning, .title][i % 3] }
    /// Reference line `i`: heavy, then dotted (ASCII: =, ~).
    func referenceGlyph(_ i: Int) -> Unicode.Scalar {
        let g: [Unicode.Scalar] = glyphs.ascii ? ["=", "~"] : ["━", "┄"]
        return g[i % g.count]
    }

    /// The chart the state asks for, in `r`: plot, x axis, tick labels, legend.
    func chart(_ g: inout Grid, _ r: Rect) {
        guard r.height >= 5, r.width >= 30 else { return }
        let d = Charts.data(s)
        let all = d.series.flatMap(\.points)
        let ys = all.map(\.y) + d.references.map(\.y)
        let plotX = r.x + 8, plotW = r.width - 9, plotH = r.height - 3
        for y in 0..<plotH { g.set(plotX - 1, r.y + y, glyphs.vertical, .border) }
        for x in 0..<plotW { g.set(plotX + x, r.y + plotH, glyphs.horizontal, .border) }
        guard var y0 = ys.filter(\.isFinite).min(), var y1 = ys.filter(\.isFinite).max() else {
            let why =
                s.chartView == .layers
                ? "no run is full, none or a placement (P cycles the presets)" : "no runs"
            g.put(plotX + 1, r.y + plotH / 2, why, .dim, maxWidth: plotW - 1)
            legend(&g, r, d, plotX: plotX, plotW: plotW, y: r.y + plotH + 2)
            return
        }
        if y1 - y0 < 1e-9 { y0 -= 0.01; y1 += 0.01 }
        let x0 = d.xMin, x1 = Swift.max(d.xMax, d.xMin + 1)
        func px(_ x: Double) -> Int { plotX + Int(((x - x0) / (x1 - x0) * Double(plotW - 1)).rounded()) }
        func py(_ y: Double) -> Int { r.y + plotH - 1 - Int(((y - y0) / (y1 - y0) * Double(plotH - 1)).rounded()) }
        g.put(r.x, r.y, String(format: "%7.3f", y1), .dim)
        g.put(r.x, r.y + plotH - 1, String(format: "%7.3f", y0), .dim)
        // Reference lines first, so that points lie on top of them; each named at the right end of its line, or
        // the left end when a point is there (in the legend when both are taken).
        var pointCells = Set<Int>()
        for (si, series) in d.series.enumerated() {
            for p in series.points {
                let dx = s.chartView == .layers ? si - 1 : 0
                pointCells.insert(py(p.y) * g.width + px(p.x) + dx)
            }
        }
        var unnamed: [Int] = []
        for (i, ref) in d.references.enumerated() {
            let y = py(ref.y)
            for x in plotX..<(plotX + plotW) { g.set(x, y, referenceGlyph(i), .dim) }
            let name = String(format: " %@ %.3f ", ref.name, ref.y)
            let at = [plotX + plotW - name.count, plotX + 1].first { x0 in
                !(x0..<(x0 + name.count)).contains { pointCells.contains(y * g.width + $0) }
            }
            if let at, name.count < plotW - 2 { g.put(at, y, name, .dim) } else { unnamed.append(i) }
        }
        // x ticks: layer counts 0...N, or 0 and the largest state.
        let ty = r.y + plotH + 1
        if s.chartView == .layers {
            // Every layer count while the labels have room (3 cells each), else every n-th and the last.
            let n = Int(x1), step = Swift.max(1, (3 * n + plotW - 1) / Swift.max(1, plotW))
            for k in Set(Array(stride(from: 0, through: n, by: step)) + [n]).sorted() {
                if k != n && k + step > n && px(Double(n)) - px(Double(k)) < 4 { continue }
                g.put(px(Double(k)) - (k >= 10 ? 1 : 0), ty, "\(k)", .dim)
            }
        } else {
            g.put(plotX, ty, "0", .dim)
            let top = formatCount(Int(x1))
            g.put(plotX + plotW - top.count, ty, top, .dim)
        }
        let xl = d.xLabel
        if plotW > xl.count + 12 { g.put(plotX + (plotW - xl.count) / 2, ty, xl, .dim) }
        // The state view labels its points (right of the point where free, else left); the layers view sets its
        // series a column apart (first, last, interleaved), so that two placements at one K both show.
        let sel = s.selectedRun ?? s.runs.count - 1
        let lines = Set((0..<d.references.count).map { referenceGlyph($0) })
        for (si, series) in d.series.enumerated() {
            for p in series.points {
                let y = py(p.y)
                let run = s.runs[p.runIndex]
                let isBase = run.id == s.baseline
                if s.chartView == .layers {
                    let role: Role = p.runIndex == sel ? .selected : seriesRole(si)
                    g.set(px(p.x) + si - 1, y, seriesGlyph(si), role)
                    continue
                }
                let x = px(p.x)
                g.set(x, y, isBase ? glyphs.baselinePoint : glyphs.point, p.runIndex == sel ? .selected : .accent)
                let lx = x + 1 + p.label.count <= plotX + plotW ? x + 1 : x - p.label.count
                let free = (lx..<(lx + p.label.count)).allSatisfy {
                    $0 >= plotX && (g[$0, y].char == " " || lines.contains(g[$0, y].char))
                }
                if free { g.put(lx, y, p.label, .dim) }
            }
        }
        legend(&g, r, d, plotX: plotX, plotW: plotW, y: r.y + plotH + 2, references: unnamed)
    }

    /// One line under the x axis: each series' glyph and name (the reference lines carry theirs on the line).
    func legend(_ g: inout Grid, _ r: Rect, _ d: ChartData, plotX: Int, plotW: Int, y: Int, references: [Int] = []) {
        var parts: [(Unicode.Scalar, Role, String)] = []
        if s.chartView == .state {
            parts.append((glyphs.point, .accent, "run (# or preset)"))
            if s.baseline != nil { parts.append((glyphs.baselinePoint, .accent, "baseline")) }
        } else {
            for (i, ser) in d.series.enumerated() { parts.append((seriesGlyph(i), seriesRole(i), ser.name)) }
        }
        for i in references {
            parts.append((referenceGlyph(i), .dim, String(format: "%@ %.3f", d.references[i].name, d.references[i].y)))
        }
        var x = r.x + 1
        for (glyph, role, text) in parts where x + text.count + 2 <= r.maxX {
            g.set(x, y, glyph, role)
            x += 2 + g.put(x + 2, y, text, .dim, maxWidth: r.maxX - x - 2) + 2
        }
        let key = "t: " + (s.chartView == .state ? "layers" : "state")
        let hint = d.note.map { "\($0) \(glyphs.dot) \(key)" } ?? key
        if x + hint.count <= r.maxX {
            g.put(r.maxX - hint.count, y, hint, .dim)
        } else if x + key.count <= r.maxX {
            g.put(r.maxX - key.count, y, key, .dim)
        }
    }
}

extension ChartData {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c"]
    static let referenceColors = ["#444444", "#9467bd"]

    /// 1, 2 or 5 times a power of ten, so that about `count` ticks cover lo...hi.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let p = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        var out: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    /// The chart as an SVG image: axes with ticks and labels, the points with their labels (a shape per
    /// series), the reference lines dashed and named, a legend. A few kilobytes per hundred runs.
    public func svg() -> String {
        let W = 760.0, H = 440.0, left = 70.0, right = 170.0, top = 40.0, bottom = 56.0
        let pw = W - left - right, ph = H - top - bottom
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" "
        out += "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"\(Int(W))\" height=\"\(Int(H))\" "
        out += "fill=\"white\"/>\n"
        out += "<text x=\"\(Int(W / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">"
        out += Export.xml(title) + "</text>\n"
        let ys = series.flatMap(\.points).map(\.y) + references.map(\.y)
        guard var y0 = ys.filter(\.isFinite).min(), var y1 = ys.filter(\.isFinite).max() else {
            return out + "<text x=\"\(Int(W / 2))\" y=\"\(Int(H / 2))\" text-anchor=\"middle\">no runs to show</text>\n"
                + "</svg>\n"
        }
        let pad = y1 > y0 ? (y1 - y0) * 0.08 : 0.01
        y0 -= pad; y1 += pad
        let x0 = xMin, x1 = Swift.max(xMax, xMin + 1)
        let xpad = (x1 - x0) * 0.04
        func px(_ x: Double) -> Double { left + (x - x0 + xpad) / (x1 - x0 + 2 * xpad) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - y0) / (y1 - y0)) * ph }
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" fill=\"none\" "
        out += "stroke=\"#333\"/>\n"
        let yt = ChartData.ticks(y0, y1, count: 6)
        let ydec = yt.count > 1 ? Swift.max(0, Int(-floor(log10(yt[1] - yt[0])))) : 3
        for t in yt {
            out += "<line x1=\"\(n(left - 5))\" y1=\"\(n(py(t)))\" x2=\"\(n(left + pw))\" y2=\"\(n(py(t)))\" "
            out += "stroke=\"#ddd\"/>\n<text x=\"\(n(left - 8))\" y=\"\(n(py(t) + 4))\" text-anchor=\"end\">"
            out += String(format: "%.\(ydec)f", t) + "</text>\n"
        }
        let integer = integerX && xMax - xMin <= 24
        let xt = integer ? (Int(x0)...Int(x1)).map(Double.init) : ChartData.ticks(x0, x1, count: 6)
        for t in xt {
            out += "<line x1=\"\(n(px(t)))\" y1=\"\(n(top + ph))\" x2=\"\(n(px(t)))\" y2=\"\(n(top + ph + 5))\" "
            out += "stroke=\"#333\"/>\n<text x=\"\(n(px(t)))\" y=\"\(n(top + ph + 18))\" text-anchor=\"middle\">"
            out += (integer ? String(Int(t)) : formatCount(Int(t))) + "</text>\n"
        }
        out += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(H - 16))\" text-anchor=\"middle\">"
        out += Export.xml(xLabel) + "</text>\n"
        out += "<text x=\"16\" y=\"\(n(top + ph / 2))\" text-anchor=\"middle\" "
        out += "transform=\"rotate(-90 16 \(n(top + ph / 2)))\">\(Export.xml(yLabel))</text>\n"
        var ly = top + 8
        let lx = left + pw + 14
        for (i, r) in references.enumerated() {
            let c = ChartData.referenceColors[i % 2]
            out += "<line x1=\"\(n(left))\" y1=\"\(n(py(r.y)))\" x2=\"\(n(left + pw))\" y2=\"\(n(py(r.y)))\" "
            out += "stroke=\"\(c)\" stroke-width=\"1.5\" stroke-dasharray=\"\(i == 0 ? "8,4" : "2,3")\"/>\n"
            out += "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" stroke=\"\(c)\" "
            out += "stroke-width=\"1.5\" stroke-dasharray=\"\(i == 0 ? "8,4" : "2,3")\"/>\n"
            out += "<text x=\"\(n(lx + 28))\" y=\"\(n(ly + 4))\">"
            out += Export.xml(r.name) + String(format: " %.4f", r.y) + "</text>\n"
            ly += 20
        }
        for (i, s) in series.enumerated() where !s.points.isEmpty || series.count > 1 {
            let c = ChartData.colors[i % 3]
            for p in s.points where p.y.isFinite {
                out += ChartData.marker(i, x: px(p.x), y: py(p.y), color: c)
                out += "<text x=\"\(n(px(p.x) + 7))\" y=\"\(n(py(p.y) - 5))\" font-size=\"10\" fill=\"#333\">"
                out += Export.xml(p.label) + "</text>\n"
            }
            out += ChartData.marker(i, x: lx + 11, y: ly, color: c)
            out += "<text x=\"\(n(lx + 28))\" y=\"\(n(ly + 4))\">\(Export.xml(s.name))</text>\n"
            ly += 20
        }
        if let note { out += "<text x=\"\(n(lx))\" y=\"\(n(ly + 4))\" font-size=\"10\">\(Export.xml(note))</text>\n" }
        return out + "</svg>\n"
    }

    /// A circle, a triangle or a square: series keep their shape in print as in the terminal.
    static func marker(_ i: Int, x: Double, y: Double, color c: String) -> String {
        func n(_ v: Double) -> String { String(format: "%.1f", v) }
        switch i % 3 {
        case 0: return "<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"4\" fill=\"\(c)\"/>\n"
        case 1:
            return "<polygon points=\"\(n(x)),\(n(y - 5)) \(n(x - 5)),\(n(y + 4)) \(n(x + 5)),\(n(y + 4))\" "
                + "fill=\"\(c)\"/>\n"
        default: return "<rect x=\"\(n(x - 4))\" y=\"\(n(y - 4))\" width=\"8\" height=\"8\" fill=\"\(c)\"/>\n"
        }
    }
}
