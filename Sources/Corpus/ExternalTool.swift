// Runs apt-get and dpkg-deb found on PATH, output captured to files (no pipe to fill up and deadlock).
import Foundation

struct ExternalTool {
    let name: String
    /// What the tool is needed for, quoted when it is missing.
    let purpose: String

    /// Runs the tool in `directory`; returns its trimmed stdout, or throws with the tail of its output.
    func run(
        _ arguments: [String], in directory: URL,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(CorpusError) -> String {
        guard let executable = Self.find(name, path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw .toolMissing(tool: name, purpose: purpose)
        }
        let command = ([name] + arguments).joined(separator: " ")
        let outURL = directory.appendingPathComponent(".\(name).stdout")
        let errURL = directory.appendingPathComponent(".\(name).stderr")
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        do {
            try Data().write(to: outURL)
            try Data().write(to: errURL)
            process.standardOutput = try FileHandle(forWritingTo: outURL)
            process.standardError = try FileHandle(forWritingTo: errURL)
            try process.run()
        } catch {
            throw .toolFailed(command: command, status: -1, output: "cannot start it (\(error))")
        }
        Interruption.shared.add(child: process.processIdentifier)
        process.waitUntilExit()
        Interruption.shared.remove(child: process.processIdentifier)
        Interruption.shared.waitIfInterrupted()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .toolFailed(
                command: command, status: process.terminationStatus,
                output: Self.reason(stderr.isEmpty ? stdout : stderr))
        }
        return stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func find(_ name: String, path: String) -> URL? {
        for dir in path.split(separator: ":") where !dir.isEmpty {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// The tool's own words, one line: its first line that says "error" (dpkg-deb and tar name the cause there, such
    /// as "No space left on device") and its last line, at most 300 characters.
    static func reason(_ text: String) -> String {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        var picked: [String] = []
        if let cause = lines.first(where: { $0.localizedCaseInsensitiveContains("error") || $0.contains("No space") }) {
            picked.append(cause)
        }
        if let last = lines.last, !picked.contains(last) { picked.append(last) }
        let joined = picked.joined(separator: " / ")
        return joined.count > 300 ? String(joined.prefix(300)) + "..." : joined
    }

    /// The last two non-empty lines joined, so the error stays one line.
    static func lastLines(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .suffix(2)
            .joined(separator: " / ")
    }
}
