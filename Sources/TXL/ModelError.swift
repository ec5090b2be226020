// Errors a user can cause (bad files, bad flags); each prints as one line naming the problem and the value.

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case badConfig(String)
    case badMemory(String)
    case checkpoint(path: String, problem: String)
    case badInput(String)

    public var description: String {
        switch self {
        case .badConfig(let s): return "bad model config: \(s)"
        case .badMemory(let s): return "bad memory setting: \(s)"
        case .checkpoint(let path, let problem): return "\(path): \(problem)"
        case .badInput(let s): return s
        }
    }
}

extension ModelError {
    /// `text` in quotes, cut to `limit` characters: a file's names and values are quoted, never echoed whole.
    public static func quote(_ text: String, limit: Int = 80) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "?" : Character($0) })
        guard cleaned.count > limit else { return "\"\(cleaned)\"" }
        return "\"\(cleaned.prefix(limit))...\" (\(text.utf8.count) bytes)"
    }
}
