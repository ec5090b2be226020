// Where prepared corpora live: $MEMSCOPE_DATA, else $XDG_CACHE_HOME/memscope, else ~/.cache/memscope.
import Foundation

public enum DataFolder {
    /// The data folder for `environment` (the process environment by default). Empty variables count
    /// as unset, as the XDG base-directory spec asks.
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let data = nonEmpty(environment["MEMSCOPE_DATA"]) {
            return URL(fileURLWithPath: data, isDirectory: true)
        }
        if let cache = nonEmpty(environment["XDG_CACHE_HOME"]) {
            return URL(fileURLWithPath: cache, isDirectory: true).appendingPathComponent("memscope", isDirectory: true)
        }
        let home = nonEmpty(environment["HOME"]) ?? FileManager.default.homeDirectoryForCurrentUser.path
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache", isDirectory: true)
            .appendingPathComponent("memscope", isDirectory: true)
    }

    private static func nonEmpty(_ value: String?) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return value
    }
}
