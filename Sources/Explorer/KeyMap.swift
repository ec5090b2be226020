// One table from keys to actions (htop's key table); the help overlay is generated from it, and the
// curses adapter decodes raw key codes into `Key` with `KeyDecoder`.

public enum Key: Sendable, Hashable, CustomStringConvertible {
    case char(Character)
    case ctrl(Character)  // ctrl("c") is Ctrl-C
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
        case .up: return "↑";
        case .down: return "↓";
        case .left: return "←";
        case .right: return "→"
        case .shiftUp: return "S-↑";
        case .shiftDown: return "S-↓"
        case .shiftLeft: return "S-←";
        case .shiftRight: return "S-→"
        case .pageUp: return "PgUp";
        case .pageDown: return "PgDn";
        case .home: return "Home";
        case .end: return "End"
        case .enter: return "Enter";
        case .escape: return "Esc";
        case .tab: return "Tab";
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp";
        case .delete: return "Del"
        case .function(let n): return "F\(n)"
        case .resize: return "resize"
        case .mouse: return "mouse"
        }
    }
}

/// Which keys apply: an overlay or the input line takes the keys first.
public enum KeyMode: Sendable, Equatable, CaseIterable {
    case normal, help, confirmQuit, input
}

extension AppState {
    public var keyMode: KeyMode {
        if overlay == .confirmQuit { return .confirmQuit }
        if input != nil { return .input }
        if overlay == .help { return .help }
        return .normal
    }
}

public struct Binding: Sendable {
    public let mode: KeyMode
    public let keys: [Key]
    public let action: Action
    public let group: String
    public let help: String
}

public enum KeyMap {
    private static func normal(_ keys: [Key], _ action: Action, _ group: String, _ help: String) -> Binding {
        Binding(mode: .normal, keys: keys, action: action, group: group, help: help)
    }

    /// Every key of every mode. The help overlay lists them in this order, then the `:` commands.
    public static let table: [Binding] = Array(normalKeys[..<6]) + paneKeys + normalKeys[6...] + modal

    static let normalKeys: [Binding] = [
        normal([.char("?"), .function(1)], .general(.toggleHelp), "General", "help (this list)"),
        normal([.char("q")], .general(.quit), "General", "quit (asks while an evaluation runs)"),
        normal([.ctrl("c")], .general(.interrupt), "General", "cancel the running job; again: quit"),
        normal([.escape], .general(.escape), "General", "close overlay / cancel input"),
        normal([.tab], .general(.nextPane), "General", "next pane"),
        normal([.backTab], .general(.previousPane), "General", "previous pane"),
        // (here the pane keys, 1-5)
        normal([.char(":")], .input(.open(.command)), "General", "command line (the commands are listed below)"),
        normal([.char("x")], .general(.export), "General", "export the focused pane (CSV + SVG / JSON)"),

        normal([.up, .char("k")], .navigate(.move(.up)), "Move", "up: layer / query / line / run"),
        normal([.down, .char("j")], .navigate(.move(.down)), "Move", "down"),
        normal([.left, .char("h")], .navigate(.move(.left)), "Move", "left: previous byte (query)"),
        normal([.right, .char("l")], .navigate(.move(.right)), "Move", "right: next byte (query)"),
        normal([.shiftUp, .char("K")], .text(.pageUp), "Move", "Text: page up; Attention: 8 heatmap rows up"),
        normal([.shiftDown, .char("J")], .text(.pageDown), "Move", "page down (8 heatmap rows down)"),
        normal([.shiftLeft, .char("H")], .heatmap(.panLeft), "Move", "pan heatmap keys left"),
        normal([.shiftRight, .char("L")], .heatmap(.panRight), "Move", "pan heatmap keys right"),
        normal([.pageUp], .navigate(.jump(.pageUp)), "Move", "a page up (the pane's height; Attention: a segment)"),
        normal([.pageDown], .navigate(.jump(.pageDown)), "Move", "a page down"),
        normal([.char("g"), .home], .navigate(.jump(.first)), "Move", "first"),
        normal([.char("G"), .end], .navigate(.jump(.last)), "Move", "last"),
        normal([.char("/")], .input(.open(.search)), "Move", "search the text"),
        normal([.char("n")], .text(.searchNext), "Move", "next hit"),
        normal([.char("N")], .text(.searchPrevious), "Move", "previous hit"),

        normal([.char("+")], .layers(.double), "Memory", "double the selected layer's memory"),
        normal([.char("-")], .layers(.halve), "Memory", "halve it"),
        normal([.char("0")], .layers(.clear), "Memory", "clear it (0)"),
        normal([.char("=")], .layers(.copyToAll), "Memory", "copy it to all layers"),
        normal([.char("m")], .input(.open(.memoryValue)), "Memory", "type an exact length for the selected layer"),
        normal([.enter], .eval(.restoreRun), "Memory", "Eval pane: restore the run's memory; else as m"),
        normal([.char("P")], .layers(.cyclePreset), "Memory", "next preset (full, interleaved, last, first, none)"),
        normal([.char("R")], .layers(.reset), "Memory", "back to the checkpoint's memory"),

        normal([.char("[")], .layers(.previous), "Attention", "previous layer (wraps round, as { })"),
        normal([.char("]")], .layers(.next), "Attention", "next layer (wraps round)"),
        normal([.char("{")], .heatmap(.previousHead), "Attention", "previous head (mean, max, 0, 1, ...; wraps)"),
        normal([.char("}")], .heatmap(.nextHead), "Attention", "next head (wraps round)"),
        normal([.char("a")], .heatmap(.cycleHeadAggregate), "Attention", "mean / max over heads"),
        normal([.char("z")], .heatmap(.zoomIn), "Attention", "zoom into the keys"),
        normal([.char("Z")], .heatmap(.zoomOut), "Attention", "zoom out"),
        normal([.char("v")], .heatmap(.cycleReduction), "Attention", "downsampling: max / min / mean"),
        normal([.char("s")], .heatmap(.toggleScale), "Attention", "colour scale: log / linear (per view)"),
        normal([.char("f")], .heatmap(.fixedScale(nil)), "Attention", "colour scale fixed (same for all) / per view"),
        normal([.char(",")], .heatmap(.keyOlder), "Attention", "key cursor a column older (left)"),
        normal([.char(".")], .heatmap(.keyNewer), "Attention", "key cursor a column newer (right)"),
        normal([.char("^")], .heatmap(.keyToOldest), "Attention", "key cursor to the oldest memory key"),
        normal([.char("|")], .heatmap(.keyToSegmentStart), "Attention", "key cursor to the segment start"),

        normal([.char("e")], .eval(.start), "Evaluation", "run bpc over the text (restarts a running one)"),
        normal([.char("E")], .eval(.cancel), "Evaluation", "cancel the evaluation"),
        normal([.char("<")], .eval(.halveBytes), "Evaluation", "halve the bytes evaluated"),
        normal([.char(">")], .eval(.doubleBytes), "Evaluation", "double the bytes evaluated"),
        normal([.char("p")], .eval(.pinBaseline), "Evaluation", "pin the selected run as the baseline"),
        normal([.char("d"), .delete], .eval(.deleteRun), "Evaluation", "Eval pane: delete the selected run"),

        normal([.char("c")], .compare(.pin), "Compare A/B", "pin the current memory as A; changes make B"),
        normal([.char("C")], .compare(.swap), "Compare A/B", "swap A and B"),
        normal([.char("D")], .compare(.toggleDelta), "Compare A/B", "text pane: loss B-A (Δ) / loss of B"),
        normal([.char("w")], .compare(.nextWorst), "Compare A/B", "jump to the next byte where B loses most"),
        normal([.char("W")], .compare(.previousWorst), "Compare A/B", "jump to the previous one"),
        normal([.char("b")], .compare(.showB), "Compare A/B", "heatmap: back to B's attention after a jump"),
        normal([.char("u")], .compare(.undo), "Compare A/B", "undo the last memory change"),
        normal([.ctrl("r")], .compare(.redo), "Compare A/B", "redo it"),
        normal([.char("t")], .eval(.toggleChart), "Eval chart", "bpc by memory state / by long-range layers (paper)"),
    ]

    /// `1`-`5`: one per pane, from the Pane enum.
    static let paneKeys: [Binding] = Pane.allCases.map { p in
        let name = p == .evaluation ? "Evaluation" : p.description
        return normal([.char(Character("\(p.rawValue)"))], .general(.focus(p)), "General", "\(name) pane")
    }

    /// Keys of the overlays and the input line. In the input line any other character is typed.
    static let modal: [Binding] = [
        Binding(
            mode: .input, keys: [.enter], action: .input(.submit), group: "Input line (: / m)",
            help: "run the command / search / set the length"),
        Binding(
            mode: .input, keys: [.backspace, .delete], action: .input(.backspace), group: "Input line (: / m)",
            help: "delete the last character; on an empty line, close it"),
        Binding(
            mode: .input, keys: [.escape, .ctrl("c"), .ctrl("g")], action: .general(.escape),
            group: "Input line (: / m)", help: "close the line without running it"),
        Binding(
            mode: .help, keys: [.char("?"), .function(1), .escape, .char("q")], action: .general(.escape),
            group: "Help (this list)", help: "close it"),
        Binding(
            mode: .help, keys: [.ctrl("c")], action: .general(.interrupt), group: "Help (this list)",
            help: "cancel the running job, as outside"),
        Binding(
            mode: .help, keys: [.up, .char("k")], action: .general(.scrollHelp(-1)), group: "Help (this list)",
            help: "scroll up a line"),
        Binding(
            mode: .help, keys: [.down, .char("j")], action: .general(.scrollHelp(1)), group: "Help (this list)",
            help: "scroll down a line"),
        Binding(
            mode: .help, keys: [.pageUp, .char("K")], action: .general(.pageHelp(-1)), group: "Help (this list)",
            help: "scroll up a page"),
        Binding(
            mode: .help, keys: [.pageDown, .char(" "), .char("J")], action: .general(.pageHelp(1)),
            group: "Help (this list)", help: "scroll down a page"),
        Binding(
            mode: .help, keys: [.char("g"), .home], action: .general(.scrollHelp(Int.min / 2)),
            group: "Help (this list)", help: "to the top"),
        Binding(
            mode: .help, keys: [.char("G"), .end], action: .general(.scrollHelp(Int.max / 2)),
            group: "Help (this list)", help: "to the end"),
        Binding(
            mode: .confirmQuit, keys: [.char("y"), .char("Y"), .char("q"), .enter, .ctrl("c")],
            action: .general(.confirmQuit(true)), group: "Quit while evaluating", help: "quit"),
        Binding(
            mode: .confirmQuit, keys: [.char("n"), .char("N"), .escape], action: .general(.confirmQuit(false)),
            group: "Quit while evaluating", help: "stay"),
    ]

    private static let lookup: [KeyMode: [Key: Action]] = {
        var d: [KeyMode: [Key: Action]] = [:]
        for b in table { for k in b.keys where d[b.mode]?[k] == nil { d[b.mode, default: [:]][k] = b.action } }
        return d
    }()

    /// The action for a key in a mode; nil if unbound.
    public static func action(for key: Key, mode: KeyMode = .normal) -> Action? {
        switch (key, mode) {
        case (.resize, _): return nil
        case (.mouse(let m), .normal): return .mouse(m)
        case (.mouse, _): return nil
        default:
            if let a = lookup[mode]?[key] { return a }
            if mode == .input, case .char(let c) = key { return .input(.character(c)) }
            return nil
        }
    }

    /// Help overlay lines, grouped: every key of every mode, then every `:` command.
    public static func helpLines() -> [(group: String, keys: String, help: String)] {
        table.map { b in (b.group, b.keys.map(\.description).joined(separator: " "), b.help) }
            + CommandParser.commands.map { c in
                let aliases = c.names.dropFirst().map { ":" + $0 }.joined(separator: " ")
                return ("Commands (:)", c.usage, c.help + (aliases.isEmpty ? "" : " (also \(aliases))"))
            }
    }
}

/// The action a key stands for in the current state: overlays and the input line take keys first.
public func action(for key: Key, in s: AppState) -> Action? { KeyMap.action(for: key, mode: s.keyMode) }

/// Key codes, which the curses adapter reads from curses.h, so that nothing here needs curses.
public struct KeyCodes: Sendable {
    public var down: Int, up: Int, left: Int, right: Int, home: Int, end: Int, backspace: Int, delete: Int
    public var f0: Int, shiftDown: Int, shiftUp: Int, shiftLeft: Int, shiftRight: Int
    public var pageDown: Int, pageUp: Int, enter: Int, backTab: Int, resize: Int
    public init(
        down: Int, up: Int, left: Int, right: Int, home: Int, end: Int, backspace: Int, delete: Int,
        f0: Int, shiftDown: Int, shiftUp: Int, shiftLeft: Int, shiftRight: Int,
        pageDown: Int, pageUp: Int, enter: Int, backTab: Int, resize: Int
    ) {
        self.down = down; self.up = up; self.left = left; self.right = right; self.home = home; self.end = end
        self.backspace = backspace; self.delete = delete; self.f0 = f0
        self.shiftDown = shiftDown; self.shiftUp = shiftUp; self.shiftLeft = shiftLeft; self.shiftRight = shiftRight
        self.pageDown = pageDown; self.pageUp = pageUp; self.enter = enter; self.backTab = backTab; self.resize = resize
    }
}

public struct KeyDecoder: Sendable {
    public let codes: KeyCodes
    public init(codes: KeyCodes) { self.codes = codes }

    /// Decodes one `wget_wch` result: `isKeyCode` when it returned KEY_CODE_YES. Mouse events are
    /// read by the adapter (getmouse) and arrive as `.mouse` directly.
    public func decode(_ value: Int, isKeyCode: Bool) -> Key? {
        if isKeyCode {
            let c = codes
            let named: [(Int, Key)] = [
                (c.up, .up), (c.down, .down), (c.left, .left), (c.right, .right), (c.shiftUp, .shiftUp),
                (c.shiftDown, .shiftDown), (c.shiftLeft, .shiftLeft), (c.shiftRight, .shiftRight),
                (c.pageUp, .pageUp), (c.pageDown, .pageDown), (c.home, .home), (c.end, .end), (c.enter, .enter),
                (c.backTab, .backTab), (c.backspace, .backspace), (c.delete, .delete),
            ]
            if let key = named.first(where: { $0.0 == value })?.1 { return key }
            switch value {
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
