// Glyph sets: Unicode block elements by default, plain ASCII for terminals without them (htop -U,
// ncdu --graph-style). Bytes of the text are drawn one cell each with visible stand-ins.

public struct Glyphs: Sendable, Equatable {
    public let ascii: Bool
    public init(ascii: Bool) { self.ascii = ascii }

    public var upperHalf: Unicode.Scalar { ascii ? " " : "▀" }
    public var vertical: Unicode.Scalar { ascii ? "|" : "│" }
    public var horizontal: Unicode.Scalar { ascii ? "-" : "─" }
    public var boundary: Unicode.Scalar { ascii ? "|" : "┃" }
    public var pointer: Unicode.Scalar { ascii ? ">" : "▸" }
    public var tick: Unicode.Scalar { ascii ? "+" : "┴" }
    public var keyMark: Unicode.Scalar { ascii ? "^" : "▲" }
    public var barFull: Unicode.Scalar { ascii ? "#" : "█" }
    public var barEmpty: Unicode.Scalar { ascii ? "." : "░" }
    public var point: Unicode.Scalar { ascii ? "*" : "●" }
    public var baselinePoint: Unicode.Scalar { ascii ? "B" : "◆" }
    public var dot: String { ascii ? "-" : "·" }
    public var delta: String { ascii ? "d" : "Δ" }
    public var times: String { ascii ? "x" : "×" }

    /// A bar of `fraction` (0...1) of `width` cells, in eighths of a cell (whole cells in ASCII); a non-zero
    /// fraction shows at least a sliver.
    public func shareBar(_ fraction: Double, width: Int) -> [Unicode.Scalar] {
        guard width > 0 else { return [] }
        let eighths: [Unicode.Scalar] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]
        let f = Swift.max(0, Swift.min(1, fraction.isFinite ? fraction : 0))
        var out = [Unicode.Scalar](repeating: " ", count: width)
        if ascii {
            let n = f > 0 ? Swift.max(1, Int((f * Double(width)).rounded())) : 0
            for i in 0..<n { out[i] = "#" }
            return out
        }
        let n = Int((f * Double(width) * 8).rounded())
        let cells = f > 0 ? Swift.max(1, n) : 0
        for i in 0..<(cells / 8) { out[i] = "█" }
        if cells % 8 > 0 && cells / 8 < width { out[cells / 8] = eighths[cells % 8 - 1] }
        return out
    }

    /// Eight sparkline levels (0 is blank).
    public var spark: [Unicode.Scalar] {
        ascii ? [" ", ".", ",", "-", "=", "+", "*", "#", "@"] : [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    }

    /// Shading by glyph for terminals without colour: index by level 0...15.
    public func shade(_ level: UInt8) -> Unicode.Scalar {
        let ramp: [Unicode.Scalar] =
            ascii
            ? [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]
            : [" ", "░", "▒", "▓", "█"]
        return ramp[min(ramp.count - 1, (Int(level) * ramp.count + 15) / 16)]
    }

    /// One cell for one byte of text: printable ASCII as itself, the rest as a visible stand-in.
    public func byte(_ b: UInt8) -> (Unicode.Scalar, isStandIn: Bool) {
        switch b {
        case 0x20...0x7E: return (Unicode.Scalar(b), false)
        case 0x0A: return (ascii ? "~" : "⏎", true)
        case 0x09: return (ascii ? ">" : "⇥", true)
        case 0x00..<0x20, 0x7F: return (ascii ? "." : "·", true)
        default: return (ascii ? "?" : "¤", true)
        }
    }

    /// A printable description of a byte for status lines: `e`, `\n`, `\t`, `\xC3`.
    public static func describe(_ b: UInt8) -> String {
        switch b {
        case 0x0A: return "\\n"
        case 0x09: return "\\t"
        case 0x20...0x7E: return String(Unicode.Scalar(b))
        default:
            let hex = String(b, radix: 16, uppercase: true)
            return "\\x" + (hex.count < 2 ? "0" + hex : hex)
        }
    }
}
