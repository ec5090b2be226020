// The `:` command line (k9s style): `:mem 3 128`, `:preset interleaved:2`, `:lrm 1024`, `:srm 64`, `:q`.
// One table of commands drives both parsing and the help overlay.
import Foundation

public enum CommandParser {
    /// What a command may refer to: the model's and the text's sizes, and the current lrm and srm.
    public struct Context: Sendable {
        public var layers: Int, heads: Int, maxMemory: Int, textCount: Int, long: Int, short: Int
        /// The command's name as typed, for messages.
        public var verb = ""
    }

    public struct Command: Sendable {
        public let names: [String]
        public let usage: String
        public let help: String
        let parse: @Sendable (_ args: [String], _ c: Context) throws(MemoryError) -> [Action]
    }

    public static let commands: [Command] = [
        Command(
            names: ["mem", "memory"], usage: "mem L N | mem SPEC",
            help: "layer L's memory, or every layer's by the --mem grammar"
        ) { args, c throws(MemoryError) in
            if args.count == 2, Int(args[0]) != nil {
                return [.layers(.set(layer: try layer(args[0], c), length: try length(args[1], c)))]
            }
            guard !args.isEmpty else { throw .invalid(":mem takes LAYER LENGTH or a spec like L0-3:64,L4-11:512") }
            return [
                .layers(
                    .setAll(
                        try MemoryPlan.parse(
                            args.joined(separator: ","), layers: c.layers, long: c.long,
                            short: c.short, maxMemory: c.maxMemory)))
            ]
        },
        Command(
            names: ["preset"], usage: "preset P",
            help: "full, none, first:K, last:K or interleaved:K, with lrm and srm"
        ) { args, c throws(MemoryError) in
            try expect(args, 1, c)
            return [.layers(.applyPreset(try Preset.parse(args[0], layers: c.layers)))]
        },
        Command(names: ["lrm", "long"], usage: "lrm N", help: "the long-range length presets give") {
            args, c throws(MemoryError) in
            try expect(args, 1, c)
            return [.layers(.setLong(try length(args[0], c)))]
        },
        Command(names: ["srm", "short"], usage: "srm N", help: "the short-range length presets give") {
            args, c throws(MemoryError) in
            try expect(args, 1, c)
            return [.layers(.setShort(try length(args[0], c)))]
        },
        Command(names: ["layer"], usage: "layer L", help: "select layer L") { args, c throws(MemoryError) in
            try expect(args, 1, c)
            return [.layers(.select(try layer(args[0], c)))]
        },
        Command(names: ["head"], usage: "head H|mean|max", help: "the heatmap's head, or mean or max over heads") {
            args, c throws(MemoryError) in
            try expect(args, 1, c)
            switch args[0].lowercased() {
            case "mean": return [.heatmap(.setHead(.mean))]
            case "max": return [.heatmap(.setHead(.max))]
            default:
                let h = try int(args[0], "a head")
                guard h >= 0 && h < c.heads else {
                    throw .invalid("head \(h) does not exist (heads 0-\(c.heads - 1))")
                }
                return [.heatmap(.setHead(.head(h)))]
            }
        },
        Command(
            names: ["scale"], usage: "scale fixed|view|log|linear",
            help: "heatmap colours: fixed (the same log scale everywhere) or per view, log or linear"
        ) { args, c throws(MemoryError) in
            try expect(args, 1, c)
            switch args[0].lowercased() {
            case "fixed": return [.heatmap(.fixedScale(true))]
            case "view": return [.heatmap(.fixedScale(false))]
            case "log": return [.heatmap(.fixedScale(false)), .heatmap(.setScale(.log))]
            case "linear": return [.heatmap(.fixedScale(false)), .heatmap(.setScale(.linear))]
            default: throw .invalid(":scale takes fixed, view, log or linear, not \(args[0])")
            }
        },
        Command(
            names: ["bytes", "tokens"], usage: "bytes N [FROM]",
            help: "evaluate N bytes (a word model: tokens) of the text, from position FROM (default: 0)"
        ) {
            args, c throws(MemoryError) in
            guard args.count == 1 || args.count == 2 else {
                throw .invalid(":\(c.verb) takes N or N FROM; \(usage)")
            }
            let n = try int(args[0], "a count")
            guard n >= 2 && n <= c.textCount else { throw .invalid("count \(n) is outside 2...\(c.textCount)") }
            guard args.count == 2 else { return [.eval(.setBytes(n, from: 0))] }
            let from = try int(args[1], "a position")
            guard from >= 0 && from + n <= c.textCount else {
                throw .invalid("\(n) from \(from) runs past the text's end (\(c.textCount))")
            }
            return [.eval(.setBytes(n, from: from))]
        },
        Command(names: ["goto", "at"], usage: "goto OFFSET", help: "move the cursor to a byte of the text") {
            args, c throws(MemoryError) in
            try expect(args, 1, c)
            let n = try int(args[0], "an offset")
            guard n >= 0 && n < c.textCount else { throw .invalid("offset \(n) is outside 0...\(c.textCount - 1)") }
            return [.text(.setCursor(n))]
        },
        Command(
            names: ["compare", "ab"], usage: "compare [off|swap|model PATH]",
            help: "pin the current memory as A; off: unpin, or end A/B across models; swap: swap A and B; "
                + "model PATH: A this model, B the model at PATH (.safetensors or Hugging Face folder; same "
                + "vocabulary and layer count), each at its own memory"
        ) { args, c throws(MemoryError) in
            switch args.map({ $0.lowercased() }) {
            case []: return [.compare(.pin)]
            case ["off"]: return [.compare(.unpin)]
            case ["swap"]: return [.compare(.swap)]
            case ["model"]:
                throw .invalid(":compare model takes a path: a .safetensors file or a Hugging Face folder")
            default:
                if args[0].lowercased() == "model" {
                    return [.compare(.loadModel(args.dropFirst().joined(separator: " ")))]
                }
                throw .invalid(":compare takes nothing, off, swap or model PATH, not \(args.joined(separator: " "))")
            }
        },
        Command(names: ["undo"], usage: "undo", help: "undo the last memory change, as u") {
            args, c throws(MemoryError) in
            try expect(args, 0, c); return [.compare(.undo)]
        },
        Command(names: ["redo"], usage: "redo", help: "redo it, as Ctrl-R") { args, c throws(MemoryError) in
            try expect(args, 0, c); return [.compare(.redo)]
        },
        Command(names: ["eval"], usage: "eval", help: "run bpc over the text, as e") { args, c throws(MemoryError) in
            try expect(args, 0, c); return [.eval(.start)]
        },
        Command(names: ["cancel"], usage: "cancel", help: "cancel the evaluation, as E") {
            args, c throws(MemoryError) in
            try expect(args, 0, c); return [.eval(.cancel)]
        },
        Command(names: ["export"], usage: "export", help: "export the focused pane, as x") {
            args, c throws(MemoryError) in
            try expect(args, 0, c); return [.general(.export)]
        },
        Command(names: ["help"], usage: "help", help: "this list, as ?") { args, c throws(MemoryError) in
            try expect(args, 0, c); return [.general(.toggleHelp)]
        },
        Command(names: ["q", "q!", "quit", "exit"], usage: "q", help: "quit, as q") { args, c throws(MemoryError) in
            try expect(args, 0, c); return [.general(.quit)]
        },
    ]

    /// One line: every command's usage.
    public static let usage = "commands: " + commands.map(\.usage).joined(separator: " | ")

    private static let byName: [String: Command] = {
        var d: [String: Command] = [:]
        for c in commands { for n in c.names { d[n] = c } }
        return d
    }()

    /// Parses one command line (without the leading `:`) into the actions it stands for.
    public static func parse(
        _ line: String, layers: Int, heads: Int, maxMemory: Int, textCount: Int,
        long: Int, short: Int
    ) -> Result<[Action], MemoryError> {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let verb = words.first?.lowercased() else { return .success([]) }
        let context = Context(
            layers: layers, heads: heads, maxMemory: maxMemory, textCount: textCount,
            long: long, short: short, verb: verb)
        guard let command = byName[verb] else { return .failure(.invalid("unknown command :\(verb); \(usage)")) }
        do throws(MemoryError) {
            return .success(try command.parse(Array(words.dropFirst()), context))
        } catch {
            return .failure(error)
        }
    }

    /// Parses a command line against the explorer's current state.
    static func parse(_ line: String, in s: AppState) -> Result<[Action], MemoryError> {
        parse(
            line, layers: s.model.layers, heads: s.model.heads, maxMemory: s.model.maxMemory,
            textCount: s.text.count, long: s.longLength, short: s.shortLength)
    }

    private static func int(_ s: String, _ what: String) throws(MemoryError) -> Int {
        guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else {
            throw .invalid("\(what) must be a whole number, not \(s)")
        }
        return v
    }

    private static func length(_ s: String, _ c: Context) throws(MemoryError) -> Int {
        let v = try int(s, "a memory length")
        guard v >= 0 && v <= c.maxMemory else { throw .invalid("memory length \(v) is outside 0...\(c.maxMemory)") }
        return v
    }

    private static func layer(_ s: String, _ c: Context) throws(MemoryError) -> Int {
        let l = try int(s, "a layer")
        guard l >= 0 && l < c.layers else { throw .invalid("layer \(l) does not exist (layers 0-\(c.layers - 1))") }
        return l
    }

    private static func expect(_ args: [String], _ n: Int, _ c: Context) throws(MemoryError) {
        guard args.count == n else {
            throw .invalid(":\(c.verb) takes \(n) argument\(n == 1 ? "" : "s"); \(usage)")
        }
    }
}
