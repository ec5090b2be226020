// How the explorer should use the terminal: colour mode, glyphs, mouse (flags of `memscope explore`).
import Foundation
import Explorer

public enum ColorMode: String, Sendable, CaseIterable {
    case auto, c256 = "256", c8 = "8", none
}

public struct TerminalOptions: Sendable {
    public var color: ColorMode
    public var ascii: Bool
    public var mouse: Bool
    public var exportDirectory: String
    public init(color: ColorMode = .auto, ascii: Bool = false, mouse: Bool = true, exportDirectory: String = ".") {
        self.color = color; self.ascii = ascii; self.mouse = mouse; self.exportDirectory = exportDirectory
    }

    /// The colour mode to use, given what the terminal reports (`COLORS`) and the environment:
    /// NO_COLOR (non-empty) means none, whatever else is asked (no-color.org).
    public func resolve(terminalColors: Int, hasColors: Bool, environment: [String: String]) -> ColorMode {
        if let nc = environment["NO_COLOR"], !nc.isEmpty { return .none }
        switch color {
        case .none: return .none
        case .c256: return hasColors && terminalColors >= 256 ? .c256 : (hasColors && terminalColors >= 8 ? .c8 : .none)
        case .c8: return hasColors && terminalColors >= 8 ? .c8 : .none
        case .auto:
            guard hasColors else { return .none }
            return terminalColors >= 256 ? .c256 : (terminalColors >= 8 ? .c8 : .none)
        }
    }
}

public struct TerminalError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
