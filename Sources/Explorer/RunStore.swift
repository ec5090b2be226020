// Runs that persist: the Eval pane's runs of one model on one text, saved as a small JSON file in the data
// folder (`runs/<model>-<fingerprint>--<text>-<fingerprint>.json`), written atomically and loaded when the
// explorer opens the same model and text again, so that a session can be resumed.
import Foundation

/// What identifies a model or a text across sessions: its name and a fingerprint of its contents (a model:
/// its file's size and modification time; a text: the SHA-256 of its bytes).
public struct RunOrigin: Sendable, Equatable, Codable {
    public var name: String
    public var fingerprint: String
    public init(name: String, fingerprint: String) { self.name = name; self.fingerprint = fingerprint }

    /// A model file's origin: its file name, its size and modification time.
    public static func modelFile(_ path: String) -> RunOrigin {
        let name = (path as NSString).lastPathComponent
        let a = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (a?[.size] as? NSNumber)?.int64Value ?? -1
        let mtime = Int64((a?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)
        return RunOrigin(name: name, fingerprint: "size\(size)-mtime\(mtime)")
    }
}

/// The file's contents: the runs, the pinned baseline and the next run number.
public struct RunFile: Sendable, Equatable, Codable {
    public var version = 1
    public var model: RunOrigin
    public var text: RunOrigin
    public var baseline: Int?
    public var nextRunID: Int
    public var runs: [Run]
}

public struct RunStore: Sendable, Equatable {
    public let path: String
    public let model: RunOrigin
    public let text: RunOrigin

    /// The store of `model` on `text` in `folder` (the data folder): its file is under `folder/runs`.
    public init(folder: String, model: RunOrigin, text: RunOrigin) {
        self.model = model; self.text = text
        let name = "\(RunStore.slug(model.name))-\(RunStore.shortHash(model.fingerprint))--"
            + "\(RunStore.slug(text.name))-\(RunStore.shortHash(text.fingerprint)).json"
        path = (folder as NSString).appendingPathComponent("runs/" + name)
    }

    public enum Loaded: Sendable, Equatable {
        /// No file yet: a first session on this model and text.
        case none
        case file(RunFile)
        /// The file exists but cannot be read as runs of this model and text (the reason in words).
        case unreadable(String)
    }

    public func load() -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else { return .none }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .unreadable("cannot read \(Export.quote(path))")
        }
        let file: RunFile
        do { file = try JSONDecoder().decode(RunFile.self, from: data) } catch {
            return .unreadable("\(Export.quote(path)) is not a runs file (\(RunStore.reason(error)))")
        }
        guard file.version == 1 else { return .unreadable("\(Export.quote(path)): unknown version \(file.version)") }
        guard file.model == model && file.text == text else {
            return .unreadable("\(Export.quote(path)) holds the runs of \(file.model.name) on \(file.text.name)")
        }
        return .file(file)
    }

    /// Writes the runs of `s` (temporary file, then rename); nil, or the failure in words.
    public func save(_ s: AppState) -> String? {
        let file = RunFile(model: model, text: text, baseline: s.baseline, nextRunID: s.nextRunID, runs: s.runs)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? enc.encode(file) else { return "cannot encode the runs" }
        let dir = (path as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            return "cannot create \(Export.quote(dir)): \(error.localizedDescription)"
        }
        return Export.writeFile(path, Array(data)).map { "runs not saved: " + $0 }
    }

    /// Puts the saved runs into a new session's state. Returns whether the session may save its runs: not when
    /// the file is unreadable (it is left as it is, the runs start empty and the status bar says why).
    public func restore(into s: inout AppState) -> Bool {
        switch load() {
        case .none:
            return true
        case .file(let f):
            s.runs = f.runs
            s.baseline = f.runs.contains { $0.id == f.baseline } ? f.baseline : nil
            s.nextRunID = Swift.max(f.nextRunID, (f.runs.map(\.id).max() ?? 0) + 1)
            s.selectedRun = f.runs.isEmpty ? nil : f.runs.count - 1
            if !f.runs.isEmpty {
                s.say("resumed \(f.runs.count) run\(f.runs.count == 1 ? "" : "s") of \(model.name) on \(text.name)")
            }
            return true
        case .unreadable(let why):
            let line = why.split(separator: "\n").first.map(String.init) ?? why
            s.say("runs not loaded and not saved: \(line)", error: true)
            return false
        }
    }

    /// Letters, digits, `.`, `_` and `-` of a name, at most 60; every other character as `_`. `collapsing`: a run of
    /// other characters as one `_`, none at the ends (`div4-same-length (500 words)` is `div4-same-length_500_words`);
    /// saved runs' file names keep one `_` per character, so that earlier sessions' files are found again.
    static func slug(_ name: String, collapsing: Bool = false) -> String {
        let ok = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
        var out = ""
        for ch in name {
            if ok.contains(ch) {
                out.append(ch)
            } else if !collapsing || (!out.isEmpty && out.last != "_") {
                out.append("_")
            }
        }
        if collapsing { while out.last == "_" { out.removeLast() } }
        return out.isEmpty ? "_" : String(out.prefix(60))
    }

    /// 16 hex digits of FNV-1a over a fingerprint: short enough for a file name.
    static func shortHash(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let k, _): return "no \(k.stringValue)"
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "bad \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }
}
