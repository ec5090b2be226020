// The help overlay's lines (every key of every mode from the key table, then every `:` command) and the
// bottom hint line of each pane: its few most useful keys, taken from the same table.

extension KeyMap {
    /// Group titles and entries as the help overlay lists them, then a line on the mouse; an entry longer than
    /// `width` goes on under its help column, cut at words, so that nothing is lost at 80 columns.
    public static func helpText(width: Int = 72) -> [(text: String, role: Role)] {
        var lines: [(String, Role)] = []
        var group = ""
        let indent = 16
        for h in helpLines() {
            if h.group != group { group = h.group; lines.append((h.group, .title)) }
            var head = "  " + pad(h.keys, indent - 3) + " "
            if head.count > indent && head.count + 1 + h.help.count > width {
                lines.append((head, .plain))  // a long usage on a line of its own, its help under it
                head = String(repeating: " ", count: indent)
            }
            let column = Swift.max(indent, head.count)
            let parts = wrapWords(h.help, width: Swift.max(8, width - column), cutLongWords: true)
            for (i, part) in parts.enumerated() {
                lines.append(((i == 0 ? head : String(repeating: " ", count: column)) + part, .plain))
            }
        }
        for part in wrapWords(
            "Mouse: click selects, wheel scrolls (Shift+drag selects text); --no-mouse turns it off", width: width,
            cutLongWords: true)
        {
            lines.append((part, .dim))
        }
        return lines
    }

    /// The help overlay's box for a terminal size, and how many lines it shows at once.
    static func helpBox(_ size: Size) -> Rect { Rect(x: 2, y: 1, width: size.width - 4, height: size.height - 2) }
    static func helpRows(_ size: Size) -> Int { Swift.max(1, helpBox(size).height - 2) }
    /// The width of a help line in the box.
    static func helpWidth(_ size: Size) -> Int { Swift.max(20, helpBox(size).width - 4) }

    /// The first help line that can be shown at the top: the last page ends on the last line.
    static func helpMaxTop(_ size: Size) -> Int {
        Swift.max(0, helpText(width: helpWidth(size)).count - helpRows(size))
    }

    /// The focused pane's main keys for the bottom line: (keys as shown, what they do). Every key is bound
    /// in normal mode (tested), so the hint never names a key that does nothing.
    public static func paneHints(_ s: AppState) -> [(keys: [Key], label: String)] {
        switch s.focus {
        case .layers:
            return [([.char("+"), .char("-")], "memory"), ([.char("P")], "preset"), ([.char("c")], "compare"),
                    ([.char("e")], "eval")]
        case .attention:
            return [([.char("["), .char("]")], "layer"), ([.char("{"), .char("}")], "head"), ([.char("z")], "zoom"),
                    ([.char(","), .char(".")], "key"), ([.char("f")], "scale")]
        case .distance:
            return [([.up, .down], "layer"), ([.char("+"), .char("-")], "memory"), ([.char("c")], "compare")]
        case .text:
            if s.comparison?.deltaMode == true {
                return [([.char("w"), .char("W")], "worst"), ([.char("D")], "Δ / B"), ([.char("u")], "undo"),
                        ([.char("/")], "search")]
            }
            return [([.left, .right], "byte"), ([.pageUp, .pageDown], "page"), ([.char("/")], "search"),
                    ([.char("n")], "next")]
        case .evaluation:
            return [([.char("e")], "run"), ([.char("t")], "chart"), ([.enter], "restore"), ([.char("p")], "pin"),
                    ([.char("d")], "delete")]
        }
    }
}
