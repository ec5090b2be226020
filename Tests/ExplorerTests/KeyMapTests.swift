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
