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
    public var barFull: Unicode.Scalar { ascii ? "#" : "█" }
    public var barEmpty: Unicode.Scalar { ascii ? "." : "░" }
    public var point: Unicode.Scalar { ascii ? "*" : "●" }
    public var baselinePoint: Unicode.Scalar { ascii ? "B" : "◆" }
    public var dot: String { ascii ? "-" : "·" }
    public var delta: String { ascii ? "d" : "Δ" }
    public var times: String { ascii ? "x" : "×" }

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
