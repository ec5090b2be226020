import Testing
@testable import Explorer

@Suite struct KeyMapTests {
    @Test func noKeyIsBoundTwice() {
        var seen: Set<Key> = []
        for b in KeyMap.table { for k in b.keys { #expect(!seen.contains(k), "\(k) bound twice"); seen.insert(k) } }
    }

    @Test func helpIsGeneratedFromTheTable() {
        let lines = KeyMap.helpLines()
        #expect(lines.count == KeyMap.table.count)
        #expect(lines.contains { $0.keys == "+" && $0.help.contains("double") })
        #expect(lines.contains { $0.keys == "? F1" })
    }

    @Test func specKeysAreBound() {
        let expected: [(Key, String)] = [(.char("+"), "doubleMemory"), (.char("-"), "halveMemory"), (.char("0"), "clearMemory"),
            (.char("="), "copyMemoryToAll"), (.char("["), "previousLayer"), (.char("]"), "nextLayer"), (.char("{"), "previousHead"),
            (.char("}"), "nextHead"), (.char("e"), "startEval"), (.char("p"), "pinBaseline"), (.char("x"), "export"),
            (.char("q"), "quit"), (.char("?"), "toggleHelp"), (.escape, "escape"), (.tab, "nextPane"), (.char("/"), "openSearch"),
            (.char("n"), "searchNext"), (.char("N"), "searchPrevious"), (.char(":"), "openCommandLine"), (.ctrl("c"), "interrupt"),
            (.char("g"), "jump(Explorer.Jump.first)"), (.char("G"), "jump(Explorer.Jump.last)"), (.pageDown, "jump(Explorer.Jump.pageDown)"),
            (.char("j"), "move(Explorer.Direction.down)"), (.left, "move(Explorer.Direction.left)"), (.char("3"), "focus(Distance)")]
        for (k, name) in expected {
            let a = KeyMap.action(for: k)
            #expect(a.map { "\($0)" } == name, "\(k)")
        }
    }

    @Test func decoderMapsCursesCodes() {
        let d = KeyDecoder()
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
        #expect("\(action(for: .char("q"), in: s)!)" == "inputCharacter(\"q\")")
        #expect("\(action(for: .escape, in: s)!)" == "escape")
        s.input = nil
        s.overlay = .help
        #expect("\(action(for: .char("q"), in: s)!)" == "escape")
        #expect(action(for: .char("+"), in: s) == nil)
        s.overlay = nil
        #expect("\(action(for: .char("q"), in: s)!)" == "quit")
        #expect(action(for: .resize, in: s) == nil)
    }
}
