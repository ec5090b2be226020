// SVG charts of a sweep with axes, ticks, labels and a legend: the paper's figure (test bpc against the number of
// long-range layers, one line per placement, full and none as reference lines; Rae & Razavi 2020 Fig. 2), bpc against
// the short-range length, bpc against memory state, and learning curves. Seeds are points; lines join their means.
import Foundation

public struct ChartSeries: Sendable {
    public enum Style: Sendable {
        /// Every value a hollow point; a line through the mean at each x, which is a filled point.
        case means
        /// A horizontal dashed line at the mean of the values, with a band from their min to max.
        case reference
        /// A plain polyline through the points in order.
        case curve
    }
    public var name: String
    public var style: Style
    public var points: [(x: Double, y: Double)]
    /// A fixed colour (placements keep theirs across charts); nil takes the palette's next.
    public var color: String?
    public init(name: String, style: Style, points: [(x: Double, y: Double)], color: String? = nil) {
        self.name = name; self.style = style; self.points = points; self.color = color
    }
}

public struct Chart: Sendable {
    public var title: String, xLabel: String, yLabel: String
    public var series: [ChartSeries]
    /// Integer ticks only on x (layer counts).
    public var integerX = false
    public var logX = false
    /// Extra x values that must be in range (e.g. 0 and N layers for the reference lines).
    public var xDomain: [Double] = []
    /// Top of the y axis when the data's maximum would flatten the rest (the first steps of a learning curve);
    /// what lies above is clipped.
    public var yCap: Double?

    public init(title: String, xLabel: String, yLabel: String, series: [ChartSeries]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
    }

    static let palette = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
        "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
    ]

    /// 1, 2 or 5 times a power of ten, so that about `count` ticks cover lo...hi.
    public static func ticks(_ lo: Double, _ hi: Double, count: Int = 5, integer: Bool = false) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(max(count, 1))
        let p = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 5, 10].map { $0 * p }.first { $0 >= raw } ?? 10 * p
        if integer { step = max(1, step.rounded()) }
        var out: [Double] = []
        var t = (lo / step).rounded(.up) * step
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double, step: Double) -> String {
        if abs(v) >= 10000 { return v >= 1e6 ? String(format: "%.3gM", v / 1e6) : String(format: "%.4gk", v / 1e3) }
        let decimals = max(0, min(6, Int(-floor(log10(max(step, 1e-12))))))
        return String(format: "%.\(decimals)f", v)
    }

    public func svg() -> String {
        let W = 760.0, H = 460.0, left = 76.0, right = 200.0, top = 44.0, bottom = 64.0
        let pw = W - left - right, ph = H - top - bottom
        let fx: (Double) -> Double = logX ? { log2(max($0, 1e-9)) } : { $0 }
        let all = series.flatMap { $0.points }
        let xs = (all.map(\.x) + xDomain).map(fx), ys = all.map(\.y).filter { $0.isFinite && $0 <= (yCap ?? .infinity) }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(W))\" height=\"\(Int(H))\" "
        out +=
            "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"\(Int(W))\" "
                + "height=\"\(Int(H))\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(W / 2))\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">\(xml(title))</text>\n"
        guard let x0 = xs.min(), let x1 = xs.max(), let y0 = ys.min(), let y1 = ys.max() else {
            return out
                + "<text x=\"\(Int(W / 2))\" y=\"\(Int(H / 2))\" text-anchor=\"middle\">no "
                + "finished cells yet</text>\n</svg>\n"
        }
        let xpad = x1 > x0 ? (x1 - x0) * 0.05 : 1, ypad = y1 > y0 ? (y1 - y0) * 0.08 : max(abs(y0) * 0.01, 0.01)
        let xlo = x0 - xpad, xhi = x1 + xpad, ylo = y0 - ypad, yhi = y1 + ypad
        func px(_ x: Double) -> Double { left + (fx(x) - xlo) / (xhi - xlo) * pw }
        func py(_ y: Double) -> Double { top + (1 - (y - ylo) / (yhi - ylo)) * ph }
        func n(_ v: Double) -> String { String(format: "%.1f", v) }

        // Axes, grid and ticks.
        out +=
            "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" height=\"\(n(ph))\" "
                + "fill=\"none\" stroke=\"#333\"/>\n"
        let yt = Chart.ticks(ylo, yhi, count: 6)
        let ystep = yt.count > 1 ? yt[1] - yt[0] : 1
        for t in yt {
            out +=
                "<line x1=\"\(n(left - 5))\" y1=\"\(n(py(t)))\" x2=\"\(n(left + pw))\" "
                    + "y2=\"\(n(py(t)))\" stroke=\"#ddd\"/>\n"
            out +=
                "<text x=\"\(n(left - 8))\" y=\"\(n(py(t) + 4))\" "
                    + "text-anchor=\"end\">\(Chart.label(t, step: ystep))</text>\n"
        }
        let xticks: [Double]
        if logX {
            let lo = Int(ceil(xlo)), hi = Int(floor(xhi))
            xticks = lo <= hi ? (lo...hi).map { pow(2, Double($0)) } : []
        } else {
            xticks = Chart.ticks(xlo, xhi, count: 6, integer: integerX)
        }
        let xstep = xticks.count > 1 ? abs(xticks[1] - xticks[0]) : 1
        for t in xticks {
            out +=
                "<line x1=\"\(n(px(t)))\" y1=\"\(n(top))\" x2=\"\(n(px(t)))\" "
                    + "y2=\"\(n(top + ph + 5))\" stroke=\"#eee\"/>\n"
            out +=
                "<text x=\"\(n(px(t)))\" y=\"\(n(top + ph + 19))\" "
                    + "text-anchor=\"middle\">\(Chart.label(t, step: logX ? 1 : xstep))</text>\n"
        }
        out += "<text x=\"\(n(left + pw / 2))\" y=\"\(n(H - 18))\" text-anchor=\"middle\">\(xml(xLabel))</text>\n"
        out +=
            "<text x=\"18\" y=\"\(n(top + ph / 2))\" text-anchor=\"middle\" "
                + "transform=\"rotate(-90 18 \(n(top + ph / 2)))\">"
        out += "\(xml(yLabel))</text>\n"

        // Series (clipped to the plot) and legend.
        out +=
            "<clipPath id=\"plot\"><rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(pw))\" "
                + "height=\"\(n(ph))\"/></clipPath>\n"
        for (i, s) in series.enumerated() {
            let c = s.color ?? Chart.palette[i % Chart.palette.count]
            let ly = top + 8 + Double(i) * 20, lx = left + pw + 14
            switch s.style {
            case .reference:
                let vals = s.points.map(\.y).filter(\.isFinite)
                guard !vals.isEmpty else { continue }
                let mean = vals.reduce(0, +) / Double(vals.count)
                if vals.count > 1, let lo = vals.min(), let hi = vals.max() {
                    out +=
                        "<rect x=\"\(n(left))\" y=\"\(n(py(hi)))\" width=\"\(n(pw))\" "
                            + "height=\"\(n(max(py(lo) - py(hi), 0.5)))\" "
                    out += "fill=\"\(c)\" opacity=\"0.12\"/>\n"
                }
                out +=
                    "<line x1=\"\(n(left))\" y1=\"\(n(py(mean)))\" x2=\"\(n(left + pw))\" "
                        + "y2=\"\(n(py(mean)))\" stroke=\"\(c)\" "
                out += "stroke-width=\"1.5\" stroke-dasharray=\"6,4\"/>\n"
                for p in s.points where p.y.isFinite {
                    out += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"3\" fill=\"none\" stroke=\"\(c)\"/>\n"
                }
                out +=
                    "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" "
                        + "stroke=\"\(c)\" stroke-width=\"1.5\" "
                out += "stroke-dasharray=\"6,4\"/>\n"
            case .means:
                var byX: [Double: [Double]] = [:]
                for p in s.points where p.y.isFinite { byX[p.x, default: []].append(p.y) }
                let means = byX.keys.sorted().map { ($0, byX[$0]!.reduce(0, +) / Double(byX[$0]!.count)) }
                if means.count > 1 {
                    out += "<polyline fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.8\" points=\""
                    out += means.map { "\(n(px($0.0))),\(n(py($0.1)))" }.joined(separator: " ") + "\"/>\n"
                }
                for p in s.points where p.y.isFinite && byX[p.x]!.count > 1 {
                    out += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"3\" fill=\"none\" stroke=\"\(c)\"/>\n"
                }
                for m in means { out += "<circle cx=\"\(n(px(m.0)))\" cy=\"\(n(py(m.1)))\" r=\"4\" fill=\"\(c)\"/>\n" }
                out +=
                    "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" "
                        + "stroke=\"\(c)\" stroke-width=\"1.8\"/>\n"
                out += "<circle cx=\"\(n(lx + 11))\" cy=\"\(n(ly))\" r=\"4\" fill=\"\(c)\"/>\n"
            case .curve:
                let pts = s.points.filter { $0.y.isFinite }
                guard !pts.isEmpty else { continue }
                out += "<polyline clip-path=\"url(#plot)\" fill=\"none\" stroke=\"\(c)\" stroke-width=\"1.2\" points=\""
                out += pts.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ") + "\"/>\n"
                out +=
                    "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 22))\" y2=\"\(n(ly))\" "
                        + "stroke=\"\(c)\" stroke-width=\"1.5\"/>\n"
            }
            out += "<text x=\"\(n(lx + 28))\" y=\"\(n(ly + 4))\">\(xml(s.name))</text>\n"
        }
        if series.contains(where: { s in s.style == .means && Set(s.points.map(\.x)).count < s.points.count }) {
            let y = top + 8 + Double(series.count) * 20 + 6
            out +=
                "<text x=\"\(n(left + pw + 14))\" y=\"\(n(y))\" font-size=\"10\">hollow: "
                    + "one seed; filled: mean</text>\n"
        }
        return out + "</svg>\n"
    }

    func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }
}

extension ChartSeries.Style: Equatable {}

public enum SweepCharts {
    /// Each placement family keeps its colour in every chart.
    static let familyColor = [
        "first": "#1f77b4", "last": "#d62728", "interleaved": "#2ca02c", "full": "#9467bd",
        "none": "#ff7f0e",
    ]
    /// A lighter shade for a family's second line (last:2 beside last:1).
    static let familyColor2 = ["first": "#6baed6", "last": "#fc9272", "interleaved": "#74c476"]

    /// The srm (and lrm) most placement cells share: the paper's figure compares placements at one short length.
    static func reference(_ records: [SweepRecord]) -> (lrm: Int, srm: Int?) {
        func mode<T: Hashable & Comparable>(_ xs: [T]) -> T? {
            var c: [T: Int] = [:]
            for x in xs { c[x, default: 0] += 1 }
            return c.max { ($0.value, $0.key) < ($1.value, $1.key) }?.key
        }
        let lrm = mode(records.map(\.lrm)) ?? 0
        let srm = mode(records.filter { $0.lrm == lrm && $0.placement != "full" }.compactMap(\.srm))
        return (lrm, srm)
    }

    /// (file name, SVG) for every chart the records can fill.
    public static func all(_ records: [SweepRecord], layers: Int) -> [(String, String)] {
        var out: [(String, String)] = []
        let ref = reference(records)
        let atRef = records.filter { $0.lrm == ref.lrm && ($0.placement == "full" || $0.srm == ref.srm) }
        let families = ["first", "last", "interleaved"]

        // 1. The paper's figure.
        var s1: [ChartSeries] = []
        for fam in families {
            let pts = atRef.filter { $0.placement.hasPrefix(fam + ":") }.map {
                (x: Double($0.longLayers), y: $0.testBPC)
            }
            if !pts.isEmpty { s1.append(ChartSeries(name: fam, style: .means, points: pts, color: familyColor[fam])) }
        }
        for p in ["full", "none"] {
            let pts = atRef.filter { $0.placement == p }.map { (x: Double($0.longLayers), y: $0.testBPC) }
            if !pts.isEmpty {
                s1.append(
                    ChartSeries(
                        name: p == "full" ? "full (all \(layers) long)" : "none (all short)", style: .reference,
                        points: pts, color: familyColor[p]))
            }
        }
        var c1 = Chart(
            title: "Test bpc by number of long-range layers (lrm \(ref.lrm), srm \(ref.srm.map(String.init) ?? "-"))",
            xLabel: "long-range layers (of \(layers))", yLabel: "test bpc", series: s1)
        c1.integerX = true; c1.xDomain = [0, Double(layers)]
        out.append(("chart-placements.svg", c1.svg()))

        // 2. Short-range length, for arrangements trained or evaluated at several.
        var s2: [ChartSeries] = []
        let bySRM = Dictionary(
            grouping: records.filter { $0.lrm == ref.lrm && $0.srm != nil && $0.placement != "none" }, by: \.placement)
        var used = Set<String>()
        for p in bySRM.keys.sorted() where Set(bySRM[p]!.compactMap(\.srm)).count > 1 {
            let fam = bySRM[p]![0].family
            s2.append(
                ChartSeries(
                    name: p, style: .means, points: bySRM[p]!.map { (x: Double($0.srm!), y: $0.testBPC) },
                    color: used.insert(fam).inserted ? familyColor[fam] : familyColor2[fam]))
        }
        if !s2.isEmpty {
            let full = records.filter { $0.placement == "full" && $0.lrm == ref.lrm }
            let xs = s2.flatMap { $0.points.map(\.x) }
            if !full.isEmpty {
                s2.append(
                    ChartSeries(
                        name: "full", style: .reference, points: full.map { (x: xs.max() ?? 0, y: $0.testBPC) },
                        color: familyColor["full"]))
            }
            var c2 = Chart(
                title: "Test bpc by short-range length of the other layers (lrm \(ref.lrm))",
                xLabel: "short-range memory length (srm)", yLabel: "test bpc", series: s2)
            c2.integerX = true; c2.xDomain = xs
            out.append(("chart-srm.svg", c2.svg()))
        }

        // 3. Memory state.
        var s3: [ChartSeries] = []
        for fam in ["full", "none"] + families {
            let pts = records.filter { $0.family == fam }.map { (x: Double($0.memoryFloats), y: $0.testBPC) }
            if !pts.isEmpty { s3.append(ChartSeries(name: fam, style: .means, points: pts, color: familyColor[fam])) }
        }
        out.append(
            (
                "chart-memory-state.svg",
                Chart(
                    title: "Test bpc by memory state", xLabel: "memory state (floats per stream)",
                    yLabel: "test bpc", series: s3
                ).svg()
            ))

        // 4. Learning curves.
        let curves = records.filter { !($0.curve ?? []).isEmpty }
        if !curves.isEmpty {
            var s4: [ChartSeries] = []
            for r in curves {
                let pts = r.curve!.compactMap { p in p.trainBPC.map { (x: Double(p.step), y: $0) } }
                s4.append(ChartSeries(name: r.name, style: .curve, points: pts))
            }
            var c4 = Chart(
                title: "Learning curves (training bpc, mean over each logging window)",
                xLabel: "step", yLabel: "training bpc", series: s4)
            // The first tenth of training spans several bits; the axis shows the rest.
            let lastStep = s4.flatMap { $0.points.map(\.x) }.max() ?? 0
            c4.yCap = s4.flatMap { $0.points.filter { $0.x >= lastStep / 10 }.map(\.y) }.max()
            out.append(("chart-learning-curves.svg", c4.svg()))
        }
        return out
    }
}

extension SweepRecord {
    public var family: String { placement.split(separator: ":").first.map(String.init) ?? placement }
}
