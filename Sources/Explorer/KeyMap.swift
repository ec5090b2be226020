// One table from keys to actions (htop's key table); the help overlay is generated from it, and the
// curses adapter decodes raw key codes into `Key` with `KeyDecoder`.

public enum Key: Sendable, Hashable, CustomStringConvertible {
    case char(Character)
    case ctrl(Character)                  // ctrl("c") is Ctrl-C
    case up, down, left, right
    case shiftUp, shiftDown, shiftLeft, shiftRight
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)
    case resize
    case mouse(MouseEvent)

    public var description: String {
        switch self {
        case .char(" "): return "Space"
        case .char(let c): return String(c)
        case .ctrl(let c): return "Ctrl-" + c.uppercased()
        case .up: return "↑"; case .down: return "↓"; case .left: return "←"; case .right: return "→"
        case .shiftUp: return "S-↑"; case .shiftDown: return "S-↓"; case .shiftLeft: return "S-←"; case .shiftRight: return "S-→"
        case .pageUp: return "PgUp"; case .pageDown: return "PgDn"; case .home: return "Home"; case .end: return "End"
        case .enter: return "Enter"; case .escape: return "Esc"; case .tab: return "Tab"; case .backTab: return "S-Tab"
        case .backspace: return "Bksp"; case .delete: return "Del"
        case .function(let n): return "F\(n)"
        case .resize: return "resize"
        case .mouse: return "mouse"
        }
    }
}

public struct Binding: Sendable {
    public let keys: [Key]
    public let action: Action
    public let group: String
    public let help: String
}

public enum KeyMap {
    public static let table: [Binding] = [
        Binding(keys: [.char("?"), .function(1)], action: .toggleHelp, group: "General", help: "help (this list)"),
        Binding(keys: [.char("q")], action: .quit, group: "General", help: "quit (asks while an evaluation runs)"),
        Binding(keys: [.ctrl("c")], action: .interrupt, group: "General", help: "cancel the running job; again: quit"),
        Binding(keys: [.escape], action: .escape, group: "General", help: "close overlay / cancel input"),
        Binding(keys: [.tab], action: .nextPane, group: "General", help: "next pane"),
        Binding(keys: [.backTab], action: .previousPane, group: "General", help: "previous pane"),
        Binding(keys: [.char("1")], action: .focus(.layers), group: "General", help: "Layers pane"),
        Binding(keys: [.char("2")], action: .focus(.attention), group: "General", help: "Attention pane"),
        Binding(keys: [.char("3")], action: .focus(.distance), group: "General", help: "Distance pane"),
        Binding(keys: [.char("4")], action: .focus(.text), group: "General", help: "Text pane"),
        Binding(keys: [.char("5")], action: .focus(.evaluation), group: "General", help: "Evaluation pane"),
        Binding(keys: [.char(":")], action: .openCommandLine, group: "General", help: "command line (:mem 3 128, :preset interleaved:2, :lrm N, :srm N, :q)"),
        Binding(keys: [.char("x")], action: .export, group: "General", help: "export the focused pane (CSV + SVG / JSON)"),

        Binding(keys: [.up, .char("k")], action: .move(.up), group: "Move", help: "up: layer / query / line / run"),
        Binding(keys: [.down, .char("j")], action: .move(.down), group: "Move", help: "down"),
        Binding(keys: [.left, .char("h")], action: .move(.left), group: "Move", help: "left: previous byte (query)"),
        Binding(keys: [.right, .char("l")], action: .move(.right), group: "Move", help: "right: next byte (query)"),
        Binding(keys: [.shiftUp, .char("K")], action: .pan(.up), group: "Move", help: "page up"),
        Binding(keys: [.shiftDown, .char("J")], action: .pan(.down), group: "Move", help: "page down"),
        Binding(keys: [.shiftLeft, .char("H")], action: .pan(.left), group: "Move", help: "pan heatmap keys left"),
        Binding(keys: [.shiftRight, .char("L")], action: .pan(.right), group: "Move", help: "pan heatmap keys right"),
        Binding(keys: [.pageUp], action: .jump(.pageUp), group: "Move", help: "previous segment / page"),
        Binding(keys: [.pageDown], action: .jump(.pageDown), group: "Move", help: "next segment / page"),
        Binding(keys: [.char("g"), .home], action: .jump(.first), group: "Move", help: "first"),
        Binding(keys: [.char("G"), .end], action: .jump(.last), group: "Move", help: "last"),
        Binding(keys: [.char("/")], action: .openSearch, group: "Move", help: "search the text"),
        Binding(keys: [.char("n")], action: .searchNext, group: "Move", help: "next hit"),
        Binding(keys: [.char("N")], action: .searchPrevious, group: "Move", help: "previous hit"),

        Binding(keys: [.char("+")], action: .doubleMemory, group: "Memory", help: "double the selected layer's memory"),
        Binding(keys: [.char("-")], action: .halveMemory, group: "Memory", help: "halve it"),
        Binding(keys: [.char("0")], action: .clearMemory, group: "Memory", help: "clear it (0)"),
        Binding(keys: [.char("=")], action: .copyMemoryToAll, group: "Memory", help: "copy it to all layers"),
        Binding(keys: [.char("m"), .enter], action: .enterMemoryValue, group: "Memory", help: "type an exact length (Enter: Layers pane)"),
        Binding(keys: [.char("P")], action: .cyclePreset, group: "Memory", help: "next preset (full, interleaved, last, first, none)"),
        Binding(keys: [.char("R")], action: .resetMemory, group: "Memory", help: "back to the checkpoint's memory"),

        Binding(keys: [.char("[")], action: .previousLayer, group: "Attention", help: "previous layer"),
        Binding(keys: [.char("]")], action: .nextLayer, group: "Attention", help: "next layer"),
        Binding(keys: [.char("{")], action: .previousHead, group: "Attention", help: "previous head (mean, max, 0, 1, ...)"),
        Binding(keys: [.char("}")], action: .nextHead, group: "Attention", help: "next head"),
        Binding(keys: [.char("a")], action: .cycleHeadAggregate, group: "Attention", help: "mean / max over heads"),
        Binding(keys: [.char("z")], action: .zoomIn, group: "Attention", help: "zoom into the keys"),
        Binding(keys: [.char("Z")], action: .zoomOut, group: "Attention", help: "zoom out"),
        Binding(keys: [.char("v")], action: .cycleReduction, group: "Attention", help: "downsampling: max / min / mean"),
        Binding(keys: [.char("s")], action: .toggleScale, group: "Attention", help: "colour scale: log / linear"),

        Binding(keys: [.char("e")], action: .startEval, group: "Evaluation", help: "run bpc over the text (restarts a running one)"),
        Binding(keys: [.char("E")], action: .cancelEval, group: "Evaluation", help: "cancel the evaluation"),
        Binding(keys: [.char("<")], action: .halveEvalBytes, group: "Evaluation", help: "halve the bytes evaluated"),
        Binding(keys: [.char(">")], action: .doubleEvalBytes, group: "Evaluation", help: "double the bytes evaluated"),
        Binding(keys: [.char("p")], action: .pinBaseline, group: "Evaluation", help: "pin the selected run as the baseline"),
    ]

    private static let lookup: [Key: Action] = {
        var d: [Key: Action] = [:]
        for b in table { for k in b.keys where d[k] == nil { d[k] = b.action } }
        return d
    }()

    /// The action for a key in normal mode (no input line, no overlay); nil if unbound.
    public static func action(for key: Key) -> Action? {
        switch key {
        case .resize: return nil
        case .mouse(let m): return .mouse(m)
        default: return lookup[key]
        }
    }

    /// Help overlay lines, grouped, generated from the table.
    public static func helpLines() -> [(group: String, keys: String, help: String)] {
        table.map { b in (b.group, b.keys.map(\.description).joined(separator: " "), b.help) }
    }
}

/// ncurses key codes (from curses.h); the adapter passes its own values so nothing here needs curses.
public struct KeyCodes: Sendable {
    public var down = 0o402, up = 0o403, left = 0o404, right = 0o405, home = 0o406, backspace = 0o407
    public var f0 = 0o410, delete = 0o512, shiftDown = 0o520, shiftUp = 0o521, pageDown = 0o522, pageUp = 0o523
    public var enter = 0o527, backTab = 0o541, end = 0o550, shiftLeft = 0o611, shiftRight = 0o622
    public var mouse = 0o631, resize = 0o632
    public init() {}
    public static let ncurses = KeyCodes()
}

public struct KeyDecoder: Sendable {
    public let codes: KeyCodes
    public init(codes: KeyCodes = .ncurses) { self.codes = codes }

    /// Decodes one `wget_wch` result: `isKeyCode` when it returned KEY_CODE_YES. Mouse events are
    /// read by the adapter (getmouse) and arrive as `.mouse` directly.
    public func decode(_ value: Int, isKeyCode: Bool) -> Key? {
        if isKeyCode {
            let c = codes
            switch value {
            case c.up: return .up; case c.down: return .down; case c.left: return .left; case c.right: return .right
            case c.shiftUp: return .shiftUp; case c.shiftDown: return .shiftDown
            case c.shiftLeft: return .shiftLeft; case c.shiftRight: return .shiftRight
            case c.pageUp: return .pageUp; case c.pageDown: return .pageDown
            case c.home: return .home; case c.end: return .end
            case c.enter: return .enter; case c.backTab: return .backTab
            case c.backspace: return .backspace; case c.delete: return .delete
            case c.resize: return .resize
            case (c.f0 + 1)...(c.f0 + 12): return .function(value - c.f0)
            default: return nil
            }
        }
        switch value {
        case 0x0A, 0x0D: return .enter
        case 0x09: return .tab
        case 0x1B: return .escape
        case 0x08, 0x7F: return .backspace
        case 0x01...0x1A: return .ctrl(Character(Unicode.Scalar(UInt8(value) + 0x60)))
        case 0x20...:
            guard let s = Unicode.Scalar(value) else { return nil }
            return .char(Character(s))
        default: return nil
        }
    }
}
