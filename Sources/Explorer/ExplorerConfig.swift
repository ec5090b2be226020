// The explorer's config file: $XDG_CONFIG_HOME/memscope/config, else ~/.config/memscope/config
// (btop's pattern). One `key = value` per line, `#` starts a comment; flags on the command line win.
//
//     # ~/.config/memscope/config
//     model = ~/models/enwik8-24l.safetensors
//     color = 8
//     ascii = false
//     mouse = false
//     export-dir = ~/memscope-exports
import Foundation

public struct ExplorerConfig: Equatable, Sendable {
    public var model: String?
    public var split: String?
    public var mem: String?
    public var color: String?
    public var ascii: Bool?
    public var mouse: Bool?
    public var exportDir: String?

    public static let keys = ["model", "split", "mem", "color", "ascii", "mouse", "export-dir"]

    public init() {}

    /// Where the file is looked for. XDG_CONFIG_HOME set but empty counts as unset (XDG spec).
    public static func path(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/memscope/config" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/memscope/config" }
        return nil
    }

    /// The config at `path`; an empty config when there is no file. Any line it cannot read is an
    /// error naming the file and the line, so that a typo never passes silently.
    public static func load(path: String?, home: String?) throws -> ExplorerConfig {
        guard let path, FileManager.default.fileExists(atPath: path) else { return ExplorerConfig() }
        guard let data = FileManager.default.contents(atPath: path),
            let text = String(data: data, encoding: .utf8)
        else {
            throw ConfigError("\(path): cannot be read as UTF-8 text")
        }
        return try parse(text, file: path, home: home)
    }

    public static func parse(_ text: String, file: String, home: String?) throws -> ExplorerConfig {
        var config = ExplorerConfig()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line =
                raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let at = "\(file):\(index + 1)"
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw ConfigError("\(at): expected `key = value`, got \"\(trimmed)\"")
            }
            let key = trimmed[..<eq].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { throw ConfigError("\(at): \(key) has no value") }
            func bool() throws -> Bool {
                switch value.lowercased() {
                case "true", "yes", "on", "1": return true
                case "false", "no", "off", "0": return false
                default: throw ConfigError("\(at): \(key) must be true or false, not \"\(value)\"")
                }
            }
            func expanded() -> String {
                guard value == "~" || value.hasPrefix("~/"), let home else { return value }
                return home + value.dropFirst()
            }
            switch key {
            case "model": config.model = expanded()
            case "split": config.split = value
            case "mem": config.mem = value
            case "color": config.color = value
            case "ascii": config.ascii = try bool()
            case "mouse": config.mouse = try bool()
            case "export-dir": config.exportDir = expanded()
            default: throw ConfigError("\(at): unknown key \"\(key)\" (known: \(keys.joined(separator: ", ")))")
            }
        }
        return config
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
