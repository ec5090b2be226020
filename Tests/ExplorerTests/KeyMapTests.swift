import Testing
@testable import Explorer

/// The key codes of ncurses 6 (curses.h), as the curses adapter reads them.
let ncursesCodes = KeyCodes(
    down: 0o402, up: 0o403, left: 0o404, right: 0o405, home: 0o406, end: 0o550,
    backspace: 0o407, delete: 0o512, f0: 0o410, shiftDown: 0o520, shiftUp: 0o521,
    shiftLeft: 0o611, shiftRight: 0o622, pageDown: 0o522, pageUp: 0o523, enter: 0o527,
    backTab: 0o541, resize: 0o632)

@Suite struct KeyMapTests {
    @Test func noKeyIsBoundTwiceInOneMode() {
        for mode in KeyMode.allCases {
            var seen: Set<Key> = []
            for b in KeyMap.table where b.mode == mode {
                for k in b.keys { #expect(!seen.contains(k), "\(k) bound twice in \(mode)"); seen.insert(k) }
            }
        }
    }

    /// Every key the table binds can arrive from the terminal: Ctrl-H, Ctrl-I, Ctrl-J and Ctrl-M read as Bksp, Tab
    /// and Enter, so a binding to one of them would never fire (nor would it show in help what it does).
    @Test func everyBoundKeyCanBeTyped() {
        let d = KeyDecoder(codes: ncursesCodes), c = ncursesCodes
        let named: [Key: Int] = [
            .up: c.up, .down: c.down, .left: c.left, .right: c.right, .home: c.home, .end: c.end,
            .backspace: c.backspace, .delete: c.delete, .shiftUp: c.shiftUp, .shiftDown: c.shiftDown,
            .shiftLeft: c.shiftLeft, .shiftRight: c.shiftRight, .pageUp: c.pageUp, .pageDown: c.pageDown,
            .enter: c.enter, .backTab: c.backTab,
        ]
        for b in KeyMap.table {
            for k in b.keys {
                let decoded: Key?
                switch k {
                case .char(let ch): decoded = d.decode(Int(ch.unicodeScalars.first!.value), isKeyCode: false)
                case .ctrl(let ch): decoded = d.decode(Int(ch.asciiValue!) - 0x60, isKeyCode: false)
                case .escape: decoded = d.decode(0x1B, isKeyCode: false)
                case .tab: decoded = d.decode(0x09, isKeyCode: false)
                case .function(let n): decoded = d.decode(c.f0 + n, isKeyCode: true)
                default: decoded = named[k].flatMap { d.decode($0, isKeyCode: true) }
                }
                let got = decoded.map(\.description) ?? "nothing"
                #expect(decoded == k, "\(k) (\(b.help)) cannot be typed: it reads as \(got)")
            }
        }
    }

    /// No `:` command name (or alias) belongs to two commands, and the help names each one, aliases too.
    @Test func everyCommandNameIsUniqueAndInTheHelp() {
        var seen: [String: String] = [:]
        for c in CommandParser.commands {
            for n in c.names {
                #expect(seen[n] == nil, ":\(n) is both \(seen[n] ?? "") and \(c.usage)")
                seen[n] = c.usage
            }
        }
        let help = KeyMap.helpLines()
        for c in CommandParser.commands {
            guard let line = help.first(where: { $0.group == "Commands (:)" && $0.keys == c.usage }) else {
                Issue.record("help lacks :\(c.usage)"); continue
            }
            for n in c.names.dropFirst() {
                #expect(line.help.contains(":\(n)"), "help for :\(c.usage) lacks the alias :\(n)")
            }
        }
    }

    /// At 80 columns every help line fits the box, and no word of any entry is lost to the wrapping.
    @Test func everyHelpLineFitsAt80Columns() {
        let width = KeyMap.helpWidth(Size(width: 80, height: 24))
        let lines = KeyMap.helpText(width: width)
        for line in lines {
            #expect(line.text.unicodeScalars.count <= width, "cut at 80 columns: \(line.text)")
        }
        let words = lines.map(\.text).joined(separator: " ").split(separator: " ").joined(separator: " ")
        for h in KeyMap.helpLines() {
            let entry = (h.keys + " " + h.help).split(separator: " ").joined(separator: " ")
            #expect(words.contains(entry), "help lost words of: \(entry)")
        }
    }

    @Test func helpListsEveryKeyOfEveryModeAndEveryCommand() {
        let lines = KeyMap.helpLines()
        #expect(lines.count == KeyMap.table.count + CommandParser.commands.count)
        #expect(lines.contains { $0.keys == "+" && $0.help.contains("double") })
        #expect(lines.contains { $0.keys == "? F1" })
        for mode in KeyMode.allCases { #expect(KeyMap.table.contains { $0.mode == mode }, "\(mode) has no keys") }
        #expect(lines.contains { $0.group.hasPrefix("Quit") && $0.keys.hasPrefix("y") })
        #expect(lines.contains { $0.group.hasPrefix("Help") && $0.keys == "PgDn Space J" })
        #expect(lines.contains { $0.group.hasPrefix("Input") && $0.keys == "Enter" })
    }

    @Test func everyPaneHasItsNumberKey() {
        for p in Pane.allCases {
            #expect(KeyMap.action(for: .char(Character("\(p.rawValue)"))).map(show) == show(.general(.focus(p))))
        }
    }

    @Test func specKeysAreBound() {
        let expected: [(Key, Action)] = [
            (.char("+"), .layers(.double)), (.char("-"), .layers(.halve)), (.char("0"), .layers(.clear)),
            (.char("="), .layers(.copyToAll)), (.char("["), .layers(.previous)), (.char("]"), .layers(.next)),
            (.char("{"), .heatmap(.previousHead)), (.char("}"), .heatmap(.nextHead)), (.char("e"), .eval(.start)),
            (.char("p"), .eval(.pinBaseline)), (.char("x"), .general(.export)), (.char("q"), .general(.quit)),
            (.char("?"), .general(.toggleHelp)), (.escape, .general(.escape)), (.tab, .general(.nextPane)),
            (.char("/"), .input(.open(.search))), (.char("n"), .text(.searchNext)),
            (.char("N"), .text(.searchPrevious)), (.char(":"), .input(.open(.command))),
            (.ctrl("c"), .general(.interrupt)), (.char("g"), .navigate(.jump(.first))),
            (.char("G"), .navigate(.jump(.last))), (.pageDown, .navigate(.jump(.pageDown))),
            (.char("j"), .navigate(.move(.down))), (.left, .navigate(.move(.left))),
            (.char("3"), .general(.focus(.distance))),
            (.char("c"), .compare(.pin)), (.char("C"), .compare(.swap)), (.char("u"), .compare(.undo)),
            (.ctrl("r"), .compare(.redo)), (.char("w"), .compare(.nextWorst)), (.enter, .eval(.restoreRun)),
        ]
        for (k, a) in expected { #expect(KeyMap.action(for: k).map(show) == show(a), "\(k)") }
    }

    @Test func decoderMapsCursesCodes() {
        let d = KeyDecoder(codes: ncursesCodes)
        #expect(d.decode(0o403, isKeyCode: true) == .up)
        #expect(d.decode(0o402, isKeyCode: true) == .down)
        #expect(d.decode(0o522, isKeyCode: true) == .pageDown)
        #expect(d.decode(0o523, isKeyCode: true) == .pageUp)
        #expect(d.decode(0o541, isKeyCode: true) == .backTab)
        #expect(d.decode(0o632, isKeyCode: true) == .resize)
        #expect(d.decode(0o411, isKeyCode: true) == .function(1))
        #expect(d.decode(0o407, isKeyCode: true) == .backspace)
        #expect(d.decode(0o520, isKeyCode: true) == .shiftDown)
        #expect(d.decode(3, isKeyCode: false) == .ctrl("c"))
        #expect(d.decode(13, isKeyCode: false) == .enter)
        #expect(d.decode(10, isKeyCode: false) == .enter)
        #expect(d.decode(9, isKeyCode: false) == .tab)
        #expect(d.decode(27, isKeyCode: false) == .escape)
        #expect(d.decode(127, isKeyCode: false) == .backspace)
        #expect(d.decode(Int(UInt8(ascii: "+")), isKeyCode: false) == .char("+"))
        #expect(d.decode(0xE9, isKeyCode: false) == .char("é"))
        #expect(d.decode(0o777, isKeyCode: true) == nil)
    }

    @Test func inputLineAndOverlaysTakeKeysFirst() {
        var s = makeState()
        s.input = InputLine(kind: .command)
        #expect(action(for: .char("q"), in: s).map(show) == show(.input(.character("q"))))
        #expect(action(for: .escape, in: s).map(show) == show(.general(.escape)))
        #expect(action(for: .ctrl("c"), in: s).map(show) == show(.general(.escape)))
        s.input = nil
        s.overlay = .help
        #expect(action(for: .char("q"), in: s).map(show) == show(.general(.escape)))
        #expect(action(for: .char("j"), in: s).map(show) == show(.general(.scrollHelp(1))))
        #expect(action(for: .char("+"), in: s) == nil)
        #expect(action(for: .mouse(MouseEvent(.click, x: 1, y: 1)), in: s) == nil)
        s.overlay = .confirmQuit
        #expect(action(for: .char("y"), in: s).map(show) == show(.general(.confirmQuit(true))))
        #expect(action(for: .char("n"), in: s).map(show) == show(.general(.confirmQuit(false))))
        s.overlay = nil
        #expect(action(for: .char("q"), in: s).map(show) == show(.general(.quit)))
        #expect(action(for: .resize, in: s) == nil)
    }
}
