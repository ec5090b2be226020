// The curses adapter, the only file that imports CNcurses: terminal setup and restore, colours,
// blit(grid) and key decoding. Every call happens on the UI thread.
import CNcurses
import CTerminalGuard
import Explorer
import Foundation

final class CursesScreen {
    private(set) var display: Display
    private let mode: ColorMode
    private let mouse: Bool
    private var open = false
    private var screen: OpaquePointer?
    private let decoder: KeyDecoder
    // Role -> (attributes, pair); heat pairs are computed.
    private var attrCache: [Role: (attr_t, Int16)] = [:]
    private var levels = 16  // colours in the heat ramp
    private var uiPairBase: Int16 = 0
    private var deltaPairBase: Int16 = 0

    init(options: TerminalOptions) throws {
        // Locale first, or ncursesw prints UTF-8 as junk; fall back to C.UTF-8 where LANG is unset.
        func codesetIsUTF8() -> Bool { String(cString: nl_langinfo(nl_item(CODESET))).uppercased().contains("UTF") }
        var utf8 = false
        if setlocale(LC_ALL, "") != nil, codesetIsUTF8() { utf8 = true }
        if !utf8, setlocale(LC_ALL, "C.UTF-8") != nil, codesetIsUTF8() { utf8 = true }
        if getenv("ESCDELAY") == nil { set_escdelay(25) }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? "unset"
        // The shell's terminal mode, for the fatal-signal handler to put back.
        terminal_guard_save(STDIN_FILENO)
        guard let scr = newterm(nil, shim_stdout(), shim_stdin()) else {
            throw TerminalError("cannot start the terminal (TERM=\(term))")
        }
        set_term(scr)
        // A terminal that cannot move the cursor (TERM=dumb) would get a scrolling mess: refuse it.
        guard shim_tigetstr("cup") != nil else {
            endwin()
            delscreen(scr)
            throw TerminalError(
                "TERM=\(term) cannot move the cursor; the explorer needs a terminal such as xterm"
                    + " (for scripts use `memscope eval`)")
        }
        screen = scr
        open = true
        raw(); noecho(); nonl()
        keypad(shim_stdscr(), true)
        curs_set(0)

        let env = ProcessInfo.processInfo.environment
        // COLORS is only known after start_color(); never start it when colour is off anyway.
        let off = options.resolve(terminalColors: 256, hasColors: true, environment: env) == .none
        if !off && has_colors() { start_color(); use_default_colors() }
        mode =
            off
            ? .none
            : options.resolve(terminalColors: Int(shim_colors()), hasColors: has_colors(), environment: env)
        mouse = options.mouse
        decoder = KeyDecoder(
            codes: KeyCodes(
                down: Int(shim_key_down()), up: Int(shim_key_up()), left: Int(shim_key_left()),
                right: Int(shim_key_right()), home: Int(shim_key_home()), end: Int(shim_key_end()),
                backspace: Int(shim_key_backspace()), delete: Int(shim_key_dc()), f0: Int(shim_key_f0()),
                shiftDown: Int(shim_key_sf()), shiftUp: Int(shim_key_sr()), shiftLeft: Int(shim_key_sleft()),
                shiftRight: Int(shim_key_sright()), pageDown: Int(shim_key_npage()), pageUp: Int(shim_key_ppage()),
                enter: Int(shim_key_enter()), backTab: Int(shim_key_btab()), resize: Int(shim_key_resize())))

        let label: String
        switch mode {
        case .c256: label = "256 colours"
        case .c8: label = "8 colours"
        default: label = "no colour"
        }
        display = Display(colors: mode == .c256 || mode == .c8, ascii: options.ascii || !utf8, label: label)
        if display.colors { setUpColors() }
        if mouse {
            mousemask(shim_all_mouse_events(), nil)
            mouseinterval(0)
        }
        installFatalSignalGuard()
    }

    /// What a fatal signal's handler writes before it restores the terminal mode: mouse reporting off
    /// (xterm's modes, which ncurses turns on), attributes reset, the cursor shown, keypad mode and the
    /// alternate screen left (from terminfo).
    private func installFatalSignalGuard() {
        var bytes: [UInt8] = mouse ? Array("\u{1B}[?1006l\u{1B}[?1003l\u{1B}[?1002l\u{1B}[?1000l".utf8) : []
        for cap in ["sgr0", "cnorm", "rmkx", "rmcup"] {
            if let s = shim_tigetstr(cap) { bytes += Array(String(cString: s).utf8) }
        }
        bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { terminal_guard_install(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
    }

    /// Restores the terminal; safe to call more than once.
    func close() {
        guard open else { return }
        open = false
        if mouse { mousemask(0, nil) }
        curs_set(1)
        endwin()
        if let s = screen { delscreen(s); screen = nil }
        fflush(shim_stdout())
        terminal_guard_uninstall()
    }

    deinit { close() }

    var size: Size { Size(width: Int(getmaxx(shim_stdscr())), height: Int(getmaxy(shim_stdscr()))) }

    // MARK: Colours

    /// 256 colours: a 16-step inferno-like ramp from the xterm cube; 8 colours: six base colours.
    private static let ramp256: [Int16] = [16, 17, 54, 55, 90, 91, 126, 161, 167, 202, 208, 214, 220, 221, 227, 230]
    private static let ramp8: [Int16] = [COLOR_BLACK, COLOR_BLUE, COLOR_MAGENTA, COLOR_RED, COLOR_YELLOW, COLOR_WHITE]
        .map { Int16($0) }

    private func setUpColors() {
        let ramp = mode == .c256 ? CursesScreen.ramp256 : CursesScreen.ramp8
        levels = ramp.count
        for f in 0..<levels { for b in 0..<levels { init_pair(Int16(1 + f * levels + b), ramp[f], ramp[b]) } }
        uiPairBase = Int16(1 + levels * levels)
        let is256 = mode == .c256
        let ui: [(Int16, Int16)] = [
            (Int16(COLOR_WHITE), is256 ? 24 : Int16(COLOR_BLUE)),  // header
            (Int16(COLOR_BLACK), Int16(COLOR_CYAN)),  // selected
            (Int16(COLOR_CYAN), -1),  // accent
            (Int16(COLOR_YELLOW), -1),  // warning
            (Int16(COLOR_RED), -1),  // error
            (is256 ? 244 : Int16(COLOR_WHITE), -1),  // dim, border
        ]
        for (i, p) in ui.enumerated() { init_pair(uiPairBase + Int16(i), p.0, p.1) }
        // Δ (loss B minus A), diverging: blues where B is better, reds where it is worse, levels 1...7 each side.
        deltaPairBase = uiPairBase + Int16(ui.count)
        let worse: [Int16] =
            is256 ? [224, 217, 210, 203, 196, 160, 124] : [Int16](repeating: Int16(COLOR_RED), count: 7)
        let better: [Int16] = is256 ? [195, 153, 117, 81, 39, 27, 19] : [Int16](repeating: Int16(COLOR_BLUE), count: 7)
        for i in 0..<7 {
            let fgW: Int16 = is256 && i < 4 ? Int16(COLOR_BLACK) : Int16(COLOR_WHITE)
            let fgB: Int16 = is256 && i < 4 ? Int16(COLOR_BLACK) : Int16(COLOR_WHITE)
            init_pair(deltaPairBase + Int16(i), fgW, worse[i])
            init_pair(deltaPairBase + 7 + Int16(i), fgB, better[i])
        }
    }

    private func level(_ l: UInt8) -> Int { Int(l) * levels / 16 }

    private func style(_ role: Role) -> (attr_t, Int16) {
        if let c = attrCache[role] { return c }
        let normal = shim_a_normal(), bold = shim_a_bold(), rev = shim_a_reverse(), dim = shim_a_dim()
        let ul = shim_a_underline()
        var out: (attr_t, Int16) = (normal, 0)
        if display.colors {
            let base = uiPairBase
            switch role {
            case .plain: out = (normal, 0)
            case .header: out = (bold, base)
            case .title: out = (bold, 0)
            case .selected: out = (bold, base + 1)
            case .accent: out = (normal, base + 2)
            case .warning: out = (bold, base + 3)
            case .error: out = (bold, base + 4)
            case .dim, .border: out = (mode == .c256 ? normal : dim, base + 5)
            case .cursor: out = (rev | bold, 0)
            case .match: out = (bold | ul, base + 3)
            case .heat(let t, let b): out = (normal, Int16(1 + level(t) * levels + level(b)))
            case .delta(let l):
                // 8 colours have one red and one blue: small differences in bold, large ones as the background.
                let k = Int16(abs(Int(l)) - 1)
                if l == 0 {
                    out = (normal, 0)
                } else if mode == .c256 || abs(l) >= 3 {
                    out = (normal, deltaPairBase + (l > 0 ? k : 7 + k))
                } else {
                    out = (bold, l > 0 ? base + 4 : base + 2)
                }
            case .shade(let l):
                let bg = level(l)
                let fg = bg < levels / 2 ? levels - 1 : 0
                out = (normal, Int16(1 + fg * levels + bg))
            }
        } else {
            switch role {
            case .plain, .heat: out = (normal, 0)
            case .header, .cursor: out = (rev, 0)
            case .selected: out = (rev | bold, 0)
            case .title, .accent, .warning, .error: out = (bold, 0)
            case .dim, .border: out = (dim, 0)
            case .match: out = (bold | ul, 0)
            case .shade(let l): out = (l >= 10 ? rev : (l >= 5 ? ul : normal), 0)
            // No colour: B worse is underlined, much worse reversed; B better is dim.
            case .delta(let l): out = (l >= 3 ? rev : (l >= 1 ? ul | bold : (l <= -1 ? dim : normal)), 0)
            }
        }
        attrCache[role] = out
        return out
    }

    // MARK: Drawing

    /// Draws the grid: runs of equal role per row, one wattr_set each; one doupdate per frame.
    func blit(_ g: Grid) {
        let win = shim_stdscr()
        var buffer = [wchar_t](repeating: 0, count: g.width + 1)
        for y in 0..<g.height {
            var x = 0
            while x < g.width {
                let role = g[x, y].role
                var n = 0
                while x + n < g.width && g[x + n, y].role == role {
                    buffer[n] = wchar_t(bitPattern: g[x + n, y].char.value)
                    n += 1
                }
                let (a, p) = style(role)
                wattr_set(win, a, p, nil)
                // The bottom-right cell makes addnwstr report ERR (the cursor cannot advance); it is drawn anyway.
                buffer.withUnsafeBufferPointer { _ = mvwaddnwstr(win, Int32(y), Int32(x), $0.baseAddress, Int32(n)) }
                x += n
            }
        }
        wattr_set(win, shim_a_normal(), 0, nil)
        wnoutrefresh(win)
        doupdate()
    }

    /// Waits up to `timeoutMs` for a key; nil on timeout.
    func readKey(timeoutMs: Int32) -> Key? {
        let win = shim_stdscr()
        wtimeout(win, timeoutMs)
        var ch: wint_t = 0
        let rc = wget_wch(win, &ch)
        if rc == ERR { return nil }
        let isKeyCode = rc == shim_key_code_yes()
        if isKeyCode && Int32(ch) == shim_key_mouse() {
            var ev = MEVENT()
            guard getmouse(&ev) == OK else { return nil }
            let x = Int(ev.x), y = Int(ev.y)
            if ev.bstate & shim_button4_pressed() != 0 { return .mouse(MouseEvent(.wheelUp, x: x, y: y)) }
            if shim_button5_pressed() != 0 && ev.bstate & shim_button5_pressed() != 0 {
                return .mouse(MouseEvent(.wheelDown, x: x, y: y))
            }
            if ev.bstate & shim_button1_pressed() != 0 { return .mouse(MouseEvent(.click, x: x, y: y)) }
            return nil
        }
        return decoder.decode(Int(ch), isKeyCode: isKeyCode)
    }
}
