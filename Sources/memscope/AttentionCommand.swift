// `memscope attention`: one layer's attention for the segment holding a byte, as SVG, CSV or JSON (what the
// explorer's heatmap shows, for papers and scripts). Memories are carried from the start of the text.
import Analysis
import ArgumentParser
import Explorer
import Foundation
import TXL

struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Write one layer's attention for the segment holding byte --at to FILE.svg, .csv or .json.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var source: TextOptions

    @Option(help: "Layer, 0 = bottom.") var layer: Int
    @Option(help: "Head, 0-based (default: the mean over heads; in JSON every head is written).") var head: Int?
    @Option(
        parsing: .unconditional,
        help: "A byte of the text; the segment holding it is shown (segments counted from the start).")
    var at: Int = 0
    @Option(help: "Output file: .svg, .csv or .json.") var out: String

    func run() throws {
        let ext = (out as NSString).pathExtension.lowercased()
        guard ["svg", "csv", "json"].contains(ext) else {
            throw Failure("--out \(out): the name must end in .svg, .csv or .json")
        }
        let (bytes, sourceName, _) = try source.load(command: "attention")
        let (loaded, path) = try model.loadAnyModel()
        let (options, T) = try model.run(for: loaded)
        guard layer >= 0 && layer < loaded.nLayer else {
            throw Failure("--layer \(layer): the model has layers 0-\(loaded.nLayer - 1)")
        }
        if let head, head < 0 || head >= loaded.nHead {
            throw Failure("--head \(head): the model has heads 0-\(loaded.nHead - 1)")
        }
        // A word model counts in tokens (--at is a token index): the text's words through its vocabulary.
        let tokens = try loaded.tokens(bytes, source: sourceName)
        let unit = { if case .byte = loaded { return "bytes" } else { return "tokens" } }()
        guard at >= 0 && at < tokens.count - 1 else {
            throw Failure("--at \(at) is outside the text's \(max(0, tokens.count - 1)) predicting \(unit)")
        }
        let seg: SegmentAttention
        if case .byte(let m) = loaded {
            seg = try Evaluator.attention(
                model: m, text: bytes, offset: at, options: options, segment: T, layers: [layer])
        } else {
            seg = try Evaluator.attention(
                network: loaded.network, tokens: tokens, offset: at, options: options, segment: T, layers: [layer])
        }
        guard let cap = seg.captures.first else { throw Failure("no attention captured for layer \(layer)") }
        let att = cap
        let view: HeadView = head.map { .head($0) } ?? .mean
        let body: String
        switch ext {
        case "json": body = Export.attentionJSON(att, offset: seg.start)
        case "csv": body = Export.heatmapCSV(att, offset: seg.start, head: view)
        default:
            let v = Heatmap.downsample(
                att, head: view, reduction: .max, queries: 0..<att.queries, keys: 0..<att.keys,
                rows: min(att.queries, 256), cols: min(att.keys, 512))
            body = Export.heatmapSVG(
                v,
                title:
                    "layer \(layer), \(view), \(unit) \(seg.start)-\(seg.start + att.queries - 1) of \(sourceName), "
                        + "memory \(MemorySpec.compact(options.memory))",
                memoryKeys: att.memoryKeys, scale: .log)
        }
        // The error names the file and the reason.
        do { try AtomicFile.write(Array(body.utf8), to: out) } catch { throw Failure("--out \(error)") }
        print(
            "wrote \(out): layer \(layer), \(view), segment \(seg.start)-\(seg.start + att.queries - 1), \(att.keys) "
                + "keys (\(att.memoryKeys) memory), model \((path as NSString).lastPathComponent)"
        )
    }
}
