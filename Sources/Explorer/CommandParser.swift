// The `:` command line (k9s style): `:mem 3 128`, `:preset interleaved:2`, `:lrm 1024`, `:srm 64`, `:q`.
import Foundation

public enum CommandParser {
    public static let usage = "commands: mem L N | mem SPEC | preset P | lrm N | srm N | layer L | head H|mean|max | bytes N | goto OFFSET | eval | cancel | export | help | q"

    /// Parses one command line (without the leading `:`) into the actions it stands for.
    public static func parse(_ line: String, layers: Int, heads: Int, maxMemory: Int, textCount: Int,
                             long: Int, short: Int) -> Result<[Action], MemoryError> {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let verb = words.first?.lowercased() else { return .success([]) }
        let args = Array(words.dropFirst())
        func int(_ s: String, _ what: String) throws(MemoryError) -> Int {
            guard let v = Int(s.replacingOccurrences(of: "_", with: "")) else { throw .invalid("\(what) must be a whole number, not \(s)") }
            return v
        }
        func length(_ s: String) throws(MemoryError) -> Int {
            let v = try int(s, "a memory length")
            guard v >= 0 && v <= maxMemory else { throw .invalid("memory length \(v) is outside 0...\(maxMemory)") }
            return v
        }
        func expect(_ n: Int) throws(MemoryError) {
            guard args.count == n else { throw .invalid(":\(verb) takes \(n) argument\(n == 1 ? "" : "s"); \(usage)") }
        }
        do throws(MemoryError) {
            switch verb {
            case "q", "q!", "quit", "exit":
                try expect(0); return .success([.quit])
            case "mem", "memory":
                if args.count == 2, let _ = Int(args[0]) {
                    let l = try int(args[0], "a layer")
                    guard l >= 0 && l < layers else { throw .invalid("layer \(l) does not exist (layers 0-\(layers - 1))") }
                    return .success([.setMemory(layer: l, length: try length(args[1]))])
                }
                guard !args.isEmpty else { throw .invalid(":mem takes LAYER LENGTH or a spec like L0-3:64,L4-11:512") }
                let lengths = try MemoryPlan.parse(args.joined(separator: ","), layers: layers, long: long, short: short, maxMemory: maxMemory)
                return .success([.setAllMemory(lengths)])
            case "preset":
                try expect(1); return .success([.applyPreset(try Preset.parse(args[0]))])
            case "lrm", "long":
                try expect(1); return .success([.setLong(try length(args[0]))])
            case "srm", "short":
                try expect(1); return .success([.setShort(try length(args[0]))])
            case "layer":
                try expect(1)
                let l = try int(args[0], "a layer")
                guard l >= 0 && l < layers else { throw .invalid("layer \(l) does not exist (layers 0-\(layers - 1))") }
                return .success([.setLayer(l)])
            case "head":
                try expect(1)
                switch args[0].lowercased() {
                case "mean": return .success([.setHead(.mean)])
                case "max": return .success([.setHead(.max)])
                default:
                    let h = try int(args[0], "a head")
                    guard h >= 0 && h < heads else { throw .invalid("head \(h) does not exist (heads 0-\(heads - 1))") }
                    return .success([.setHead(.head(h))])
                }
            case "bytes":
                try expect(1)
                let n = try int(args[0], "a byte count")
                guard n >= 1 && n <= textCount else { throw .invalid("byte count \(n) is outside 1...\(textCount)") }
                return .success([.setEvalBytes(n)])
            case "goto", "at":
                try expect(1)
                let n = try int(args[0], "an offset")
                guard n >= 0 && n < textCount else { throw .invalid("offset \(n) is outside 0...\(textCount - 1)") }
                return .success([.setCursor(n)])
            case "eval": try expect(0); return .success([.startEval])
            case "cancel": try expect(0); return .success([.cancelEval])
            case "export": try expect(0); return .success([.export])
            case "help": try expect(0); return .success([.toggleHelp])
            default:
                throw .invalid("unknown command :\(verb); \(usage)")
            }
        } catch {
            return .failure(error)
        }
    }
}
