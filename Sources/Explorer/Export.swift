// Export of what a pane shows, as pure functions returning file contents: the heatmap and distance
// profile as CSV and SVG, the runs as CSV and JSON, the attention of one layer as JSON (the format
// `memscope attention --out FILE.json` writes: layer, offset, probabilities [head][query][key], distances
// [query][key]).
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TXL

public enum Export {
    /// Sixteen colours, dark to bright (an inferno-like ramp), for SVG heat cells.
    public static let ramp: [String] = [
        "#000004", "#0c0826", "#240c4f", "#420a68", "#5d126e", "#781c6d", "#932667", "#ad305c",
        "#c73e4c", "#dc5039", "#ed6925", "#f6841a", "#fba40a", "#fac62d", "#f2e661", "#fcffa4",
    ]

    static func num(_ x: Double) -> String {
        if x.isNaN { return "" }
        return String(format: "%.6g", x)
    }
    static func num(_ x: Float) -> String { num(Double(x)) }
    static func xml(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func svgOpen(width w: Int, height h: Int) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(w)\" height=\"\(h)\" font-family=\"monospace\" "
            + "font-size=\"11\">\n<rect width=\"\(w)\" height=\"\(h)\" fill=\"white\"/>\n"
    }
    static func rect(x: Int, y: Int, width: Int, height: Int, fill: String) -> String {
        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(width)\" height=\"\(height)\" fill=\"\(fill)\"/>\n"
    }

    // MARK: Heatmap

    /// The full-resolution matrix the heatmap shows: one row per query, one column per key (oldest
    /// memory first); the header names each key by its position relative to the segment start.
    public static func heatmapCSV(_ att: AttentionCapture, offset: Int, head: HeadView) -> String {
        let m = Heatmap.matrix(att, head: head)
        var out = "query," + (0..<att.keys).map { String($0 - att.memoryKeys) }.joined(separator: ",") + "\n"
        out.reserveCapacity(att.queries * att.keys * 10)
        for q in 0..<att.queries {
            out += String(offset + q)
            for k in 0..<att.keys { out += ","; out += num(m[q * att.keys + k]) }
            out += "\n"
        }
        return out
    }

    /// The downsampled view as an SVG image: one rect per bin, the memory/segment boundary, a legend.
    public static func heatmapSVG(_ v: HeatmapView, title: String, memoryKeys: Int, scale: HeatScale) -> String {
        let cw = 6, ch = 6, left = 10, topY = 30
        let w = left + v.cols * cw + 10, h = topY + v.rows * ch + 50
        var out = svgOpen(width: w, height: h)
        out += "<text x=\"\(left)\" y=\"18\">\(xml(title))</text>\n"
        // Cells of the darkest level are the background; a row's run of equal levels is one rect.
        out += rect(x: left, y: topY, width: v.cols * cw, height: v.rows * ch, fill: ramp[0])
        for r in 0..<v.rows {
            var c = 0
            while c < v.cols {
                let level = Heatmap.level(v.value(r, c), top: v.maxValue, scale: scale)
                var e = c + 1
                while e < v.cols && Heatmap.level(v.value(r, e), top: v.maxValue, scale: scale) == level { e += 1 }
                if level > 0 {
                    let x = left + c * cw, y = topY + r * ch
                    out += rect(x: x, y: y, width: (e - c) * cw, height: ch, fill: ramp[Int(level)])
                }
                c = e
            }
        }
        if let c = v.column(ofKey: memoryKeys) {
            let x = left + c * cw
            out +=
                "<line x1=\"\(x)\" y1=\"\(topY - 4)\" x2=\"\(x)\" y2=\"\(topY + v.rows * ch + 4)\" "
                + "stroke=\"#2a9d8f\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(x + 3)\" y=\"\(topY + v.rows * ch + 16)\">segment</text>\n"
        }
        let ly = topY + v.rows * ch + 26
        for l in 0..<16 { out += rect(x: left + 90 + l * 10, y: ly, width: 10, height: 10, fill: ramp[l]) }
        let bottom = String(format: "%.1e", Heatmap.threshold(1, top: v.maxValue, scale: scale))
        out += "<text x=\"\(left)\" y=\"\(ly + 9)\">\(bottom)</text>\n"
        let top = String(format: "%.4f", v.maxValue)
        out += "<text x=\"\(left + 256)\" y=\"\(ly + 9)\">\(top) (\(scale.rawValue))</text>\n"
        return out + "</svg>\n"
    }

    /// One layer's attention in the `memscope attention` JSON format.
    public static func attentionJSON(_ att: AttentionCapture, offset: Int) -> String {
        var out = "{\"layer\": \(att.layer), \"offset\": \(offset), \"heads\": \(att.heads), "
        out += "\"queries\": \(att.queries), "
        out += "\"keys\": \(att.keys), \"memory_keys\": \(att.memoryKeys),\n\"probabilities\": ["
        for h in 0..<att.heads {
            out += h == 0 ? "\n [" : ",\n ["
            for q in 0..<att.queries {
                let base = (h * att.queries + q) * att.keys
                let row = (0..<att.keys).map { num(att.probabilities[base + $0]) }
                out += (q == 0 ? "[" : ",\n  [") + row.joined(separator: ",") + "]"
            }
            out += "]"
        }
        out += "],\n\"distances\": ["
        for q in 0..<att.queries {
            let row = (0..<att.keys).map { String(att.distance(query: q, key: $0)) }
            out += (q == 0 ? "\n [" : ",\n [") + row.joined(separator: ",") + "]"
        }
        return out + "]}\n"
    }

    // MARK: Distance profile

    public static func distanceCSV(_ profiles: [DistanceProfile], memory: [Int]) -> String {
        let bins = profiles.first?.bins.count ?? 0
        let names = (0..<bins).map { i -> String in
            let r = DistanceProfile.range(ofBin: i)
            return r.lowerBound == r.upperBound ? "d\(r.lowerBound)" : "d\(r.lowerBound)_\(r.upperBound)"
        }
        var out = (["layer", "memory", "mean_distance", "beyond_segment"] + names).joined(separator: ",") + "\n"
        for p in profiles {
            let m = p.layer < memory.count ? memory[p.layer] : p.memoryKeys
            let fields =
                [String(p.layer), String(m), num(p.meanDistance), num(p.beyondSegment)]
                + p.bins.map { num($0) }
            out += fields.joined(separator: ",") + "\n"
        }
        return out
    }

    public static func distanceSVG(_ profiles: [DistanceProfile], segmentLength: Int, title: String) -> String {
        let bins = profiles.first?.bins.count ?? 0
        let bw = 14, rowH = 34, left = 40, topY = 30
        let w = left + bins * bw + 160, h = topY + profiles.count * rowH + 30
        var out = svgOpen(width: w, height: h)
        out += "<text x=\"\(left)\" y=\"18\">\(xml(title))</text>\n"
        for (j, p) in profiles.enumerated() {
            let y0 = topY + j * rowH, base = y0 + rowH - 6
            out += "<text x=\"4\" y=\"\(base)\">L\(p.layer)</text>\n"
            let top = p.bins.max() ?? 0
            for (i, m) in p.bins.enumerated() where m > 0 && top > 0 {
                let bh = max(1, Int((m / top * Double(rowH - 10)).rounded()))
                out += rect(x: left + i * bw, y: base - bh, width: bw - 2, height: bh, fill: "#3b528b")
            }
            let stats = String(format: "mean %.1f beyond %.1f%%", p.meanDistance, p.beyondSegment * 100)
            out += "<text x=\"\(left + bins * bw + 8)\" y=\"\(base)\">\(stats)</text>\n"
        }
        let sx = left + DistanceProfile.bin(of: segmentLength) * bw - 1
        out +=
            "<line x1=\"\(sx)\" y1=\"\(topY)\" x2=\"\(sx)\" y2=\"\(h - 24)\" stroke=\"#2a9d8f\" "
            + "stroke-dasharray=\"3,3\"/>\n"
        out +=
            "<text x=\"\(left)\" y=\"\(h - 8)\">distance bins 0, 1, 2-3, 4-7, ... "
            + "(dashed: segment length \(segmentLength))</text>\n"
        return out + "</svg>\n"
    }

    // MARK: Runs, layers, loss

    /// The runs as CSV: a byte model's in bytes and bpc; a word model's (`words`) in tokens, bits per token and
    /// perplexity (eval's units). The Δ to the baseline only where the run predicted the same positions.
    public static func runsCSV(_ runs: [Run], baseline: Int?, defaultMemory: [Int], words: Bool = false) -> String {
        let base = runs.first { $0.id == baseline }
        let units = words ? "tokens,bits_per_token,perplexity" : "bytes,bpc"
        var out = "run,memory,state_floats,ratio_to_full,offset,\(units),delta_to_baseline,seconds\n"
        for r in runs {
            let delta = base.flatMap { $0.sameText(r) ? num(r.bpc - $0.bpc) : nil } ?? ""
            let ratio = num(MemoryPlan.ratio(r.memory, to: defaultMemory))
            let loss = words ? "\(num(r.bpc)),\(num(pow(2, r.bpc)))" : num(r.bpc)
            out +=
                "\(r.id),\"\(MemorySpec.compact(r.memory))\",\(r.stateFloats),\(ratio),\(r.offset),\(r.bytes),"
                + "\(loss),\(delta),\(num(r.seconds))\n"
        }
        return out
    }

    /// The runs as JSON, in the units of `runsCSV`.
    public static func runsJSON(
        _ runs: [Run], baseline: Int?, defaultMemory: [Int], model: String, words: Bool = false
    ) -> String {
        let base = runs.first { $0.id == baseline }
        let items = runs.map { r -> String in
            var f = [
                "\"run\": \(r.id)", "\"memory\": [\(r.memory.map(String.init).joined(separator: ", "))]",
                "\"state_floats\": \(r.stateFloats)",
                "\"ratio_to_full\": \(num(MemoryPlan.ratio(r.memory, to: defaultMemory)))", "\"offset\": \(r.offset)",
            ]
            f +=
                words
                ? [
                    "\"tokens\": \(r.bytes)", "\"bits_per_token\": \(num(r.bpc))",
                    "\"perplexity\": \(num(pow(2, r.bpc)))",
                ]
                : ["\"bytes\": \(r.bytes)", "\"bpc\": \(num(r.bpc))"]
            f.append("\"seconds\": \(num(r.seconds))")
            if let base, base.sameText(r) { f.append("\"delta_to_baseline\": \(num(r.bpc - base.bpc))") }
            return "  {" + f.joined(separator: ", ") + "}"
        }
        return "{\"model\": \(jsonString(model)), \"unit\": \(jsonString(words ? "bits_per_token" : "bpc")), "
            + "\"baseline\": \(baseline.map(String.init) ?? "null"), \"runs\": [\n"
            + items.joined(separator: ",\n") + "\n]}\n"
    }

    public static func layersCSV(_ memory: [Int], long: Int, short: Int, dModel: Int) -> String {
        let total = max(1, memory.reduce(0, +))
        var out = "layer,memory,kind,share,state_floats\n"
        for (l, m) in memory.enumerated() {
            let kind = m == 0 ? "none" : (m > short ? "long" : "short")
            out += "\(l),\(m),\(kind),\(num(Double(m) / Double(total))),\(m * dModel)\n"
        }
        return out
    }

    public static func lossCSV(_ a: SegmentAnalysis, tokens: TokenText? = nil) -> String {
        if let t = tokens {
            // A word model: the token's index and its word (CSV-quoted), then its loss.
            var out = "token,word,loss_bits\n"
            for i in a.bytes.indices {
                let p = a.offset + i
                let w = p < t.count ? t.word(at: p).replacingOccurrences(of: "\"", with: "\"\"") : ""
                out += "\(p),\"\(w)\",\(i < a.lossBits.count ? num(a.lossBits[i]) : "")\n"
            }
            return out
        }
        var out = "offset,byte,loss_bits\n"
        for (i, b) in a.bytes.enumerated() {
            out += "\(a.offset + i),\(b),\(i < a.lossBits.count ? num(a.lossBits[i]) : "")\n"
        }
        return out
    }

    /// SVG exports stay under this size (the heatmap is downsampled further until it fits).
    public static let svgLimit = 1 << 20

    /// What `x` writes for a pane: files named `base` + suffix (`.csv`, `.svg`, `-chart-state.svg`), with
    /// `-2`, `-3` ... after the base when files of that name exist already.
    public struct ExportSet: Sendable {
        public var base: String
        public var parts: [(suffix: String, contents: String)]
        public func names(_ n: Int = 1) -> [String] { parts.map { base + (n > 1 ? "-\(n)" : "") + $0.suffix } }
    }

    /// `memscope-<model>-<text>`: every export's name starts with what it was computed from.
    static func stem(_ s: AppState) -> String {
        "memscope-\(RunStore.slug(s.model.name, collapsing: true))-\(RunStore.slug(s.textName, collapsing: true))"
    }

    /// A memory setting in a file name: `L0-3=64,L4=128`, or `mem` and a hash when that is long.
    static func memoryTag(_ m: [Int]) -> String {
        let t = MemorySpec.compact(m).replacingOccurrences(of: " ", with: ",").replacingOccurrences(of: ":", with: "=")
        return t.count <= 48 ? t : "mem" + RunStore.shortHash(t).prefix(8)
    }

    static func headTag(_ h: HeadView) -> String {
        if case .head(let i) = h { return "h\(i)" }
        return h.description
    }

    /// The pane's export, or nil when it has nothing yet.
    public static func exportSet(for pane: Pane, state s: AppState) -> ExportSet? {
        let stem = stem(s)
        switch pane {
        case .layers:
            let csv = layersCSV(s.memory, long: s.longLength, short: s.shortLength, dModel: s.model.dModel)
            return ExportSet(base: "\(stem)-layers-\(memoryTag(s.memory))", parts: [(".csv", csv)])
        case .attention:
            guard let a = s.analysis, s.selectedLayer < a.attention.count else { return nil }
            let att = a.attention[s.selectedLayer]
            let memory = s.analysisMemory ?? s.memory
            let title =
                "layer \(s.selectedLayer), \(s.effectiveHeadView), "
                + "\(s.model.units) \(a.offset)-\(a.offset + a.bytes.count - 1), memory \(att.memoryKeys) "
                + "(\(s.model.name))"
            // Downsampled until the SVG fits in svgLimit (the CSV holds every value).
            var rows = min(att.queries, 256), cols = min(att.keys, 512)
            var svg = ""
            while true {
                let v = Heatmap.downsample(
                    att, head: s.effectiveHeadView, reduction: s.reduction, queries: 0..<att.queries,
                    keys: 0..<att.keys, rows: rows, cols: cols)
                svg = heatmapSVG(v, title: title, memoryKeys: att.memoryKeys, scale: s.scale)
                if svg.utf8.count < svgLimit || (rows <= 16 && cols <= 16) { break }
                if cols >= rows { cols = max(1, cols / 2) } else { rows = max(1, rows / 2) }
            }
            let what = "attention-L\(s.selectedLayer)-\(headTag(s.effectiveHeadView))"
            let csv = heatmapCSV(att, offset: a.offset, head: s.effectiveHeadView)
            return ExportSet(
                base: "\(stem)-\(what)-\(memoryTag(memory))-at\(a.offset)", parts: [(".csv", csv), (".svg", svg)])
        case .distance:
            guard let a = s.analysis, !s.profiles.isEmpty else { return nil }
            let memory = s.analysisMemory ?? s.memory
            let title = "attention by distance, \(MemorySpec.compact(memory)) (\(s.model.name))"
            return ExportSet(
                base: "\(stem)-distance-\(memoryTag(memory))-at\(a.offset)",
                parts: [
                    (".csv", distanceCSV(s.profiles, memory: memory)),
                    (".svg", distanceSVG(s.profiles, segmentLength: s.model.segmentLength, title: title)),
                ])
        case .text:
            guard let a = s.analysis else { return nil }
            let memory = s.analysisMemory ?? s.memory
            return ExportSet(
                base: "\(stem)-loss-\(memoryTag(memory))-at\(a.offset)",
                parts: [(".csv", lossCSV(a, tokens: s.model.tokens))])
        case .evaluation:
            guard !s.runs.isEmpty else { return nil }
            let offset = s.runs.map(\.offset).min() ?? 0, words = s.model.tokens != nil
            return ExportSet(
                base: "\(stem)-runs-at\(offset)",
                parts: [
                    (".csv", runsCSV(s.runs, baseline: s.baseline, defaultMemory: s.model.defaultMemory, words: words)),
                    (
                        ".json",
                        runsJSON(
                            s.runs, baseline: s.baseline, defaultMemory: s.model.defaultMemory, model: s.model.name,
                            words: words)
                    ),
                    ("-chart-\(s.chartView.rawValue).svg", Charts.data(s).svg()),
                ])
        }
    }

    /// The files `x` writes for a pane: (file name, contents). Empty when the pane has nothing yet.
    public static func files(for pane: Pane, state s: AppState) -> [(String, String)] {
        guard let set = exportSet(for: pane, state: s) else { return [] }
        return Array(zip(set.names(), set.parts.map(\.contents)))
    }

    /// Writes the pane's files into `directory`, never over an existing file (the names take the first free
    /// `-2`, `-3` ...); returns the paths written, or the failure in words.
    public static func write(_ pane: Pane, state: AppState, directory: String) -> WorkerResult {
        guard let set = exportSet(for: pane, state: state) else {
            return .exportFailed("\(pane) has nothing to export yet")
        }
        let dir = directory.hasSuffix("/") ? directory : directory + "/"
        var n = 1
        while set.names(n).contains(where: { FileManager.default.fileExists(atPath: dir + $0) }) {
            n += 1
            if n > 999 { return .exportFailed("\(quote(directory)) holds 999 exports named \(set.base) already") }
        }
        var paths: [String] = []
        for (name, part) in zip(set.names(n), set.parts) {
            let path = dir + name
            let problem = writeFile(path, Array(part.contents.utf8), replace: false)
            if let problem { return .exportFailed(problem) }
            paths.append(path)
        }
        return .exported(paths)
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`. Returns nil, or the
    /// file and the system's reason ("Permission denied", "No space left on device").
    /// With `replace` false an existing file is never replaced (the temporary file is linked to `path`, which
    /// fails if it exists).
    static func writeFile(_ path: String, _ bytes: [UInt8], replace: Bool = true) -> String? {
        let tmp = path + ".tmp-\(getpid())"
        func failed(_ what: String) -> String {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            return "\(what) \(quote(path)): \(reason)"
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return failed("cannot create") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { let m = failed("cannot write"); close(fd); return m }
            written += n
        }
        guard close(fd) == 0 else { return failed("cannot write") }
        if !replace {
            if link(tmp, path) == 0 { unlink(tmp); return nil }
            if errno == EEXIST { unlink(tmp); return "\(quote(path)) exists already; not overwritten" }
            if access(path, F_OK) == 0 { unlink(tmp); return "\(quote(path)) exists already; not overwritten" }
        }
        guard rename(tmp, path) == 0 else { return failed("cannot replace") }
        return nil
    }

    private static func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.write(fd, p, n)
        #else
        return Darwin.write(fd, p, n)
        #endif
    }

    /// A path for a one-line message: at most 120 characters, the end kept.
    static func quote(_ path: String) -> String { path.count <= 120 ? path : "..." + path.suffix(117) }
}
