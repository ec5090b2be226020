// A sweep's output folder: sweep.json (the settings every cell shares), results.json/csv/md and the charts,
// rewritten atomically after each cell so that a stopped sweep leaves complete, committable results.
import Foundation
import TXL

/// Writes a file's bytes; tests inject one that fails (a full disk) to check that nothing half-written is left.
public typealias FileWriter = @Sendable (_ bytes: [UInt8], _ path: String) throws -> Void

public struct SweepFolder: Sendable {
    public let path: String
    let writer: FileWriter

    public static let settingsName = "sweep.json"
    public static let resultsName = "results.json"

    public init(path: String, writer: FileWriter? = nil) {
        self.path = path
        self.writer = writer ?? { bytes, p in try AtomicFile.write(bytes, to: p) }
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var cellsFolder: String { file("cells") }
    public func cellFile(_ name: String) -> String { (cellsFolder as NSString).appendingPathComponent(name) }

    public func write(_ text: String, to name: String) throws { try write(Array(text.utf8), toPath: file(name)) }

    public func write(_ bytes: [UInt8], toPath p: String) throws {
        do { try writer(bytes, p) } catch let e as ModelError {
            throw SweepError.io(path: p, problem: e.description.replacingOccurrences(of: "\(p): ", with: ""))
        } catch let e as SweepError { throw e } catch {
            throw SweepError.io(path: p, problem: "cannot write (\(error.localizedDescription))")
        }
    }

    /// Creates the folder (and cells/), or checks that a folder already there belongs to this sweep: its sweep.json
    /// must hold the same settings (compared key by key, the cell list excepted), and there are no results without it.
    public func claim(settings: [String: String], kind: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SweepError.bad("--out \(path) is a file, not a folder") }
        } else {
            do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                throw SweepError.io(path: path, problem: "cannot create the folder (\(error.localizedDescription))")
            }
        }
        let settingsPath = file(SweepFolder.settingsName)
        if let data = fm.contents(atPath: settingsPath) {
            guard let old = try? JSONDecoder().decode([String: String].self, from: data) else {
                throw SweepError.io(path: settingsPath, problem: "is not a sweep settings file; choose another --out")
            }
            var diffs: [String] = []
            for key in Set(old.keys).union(settings.keys).sorted() where key != "cells" && old[key] != settings[key] {
                diffs.append("\(key) \(old[key] ?? "(unset)") there, \(settings[key] ?? "(unset)") now")
            }
            if !diffs.isEmpty {
                let what = old["kind"] != kind ? "another kind of sweep (\(old["kind"] ?? "?"))" : "another sweep"
                throw SweepError.bad(
                    "--out \(path) holds \(what): \(diffs.joined(separator: "; ")); "
                        + "rerun with the same settings to resume it, or choose another --out")
            }
        } else if let stray = [SweepFolder.resultsName, "results.csv", "results.md"].first(where: {
            fm.fileExists(atPath: file($0))
        }) {
            throw SweepError.bad(
                "--out \(path) holds \(stray) but no \(SweepFolder.settingsName): another program's "
                    + "results; choose another --out"
            )
        }
        do { try fm.createDirectory(atPath: cellsFolder, withIntermediateDirectories: true) } catch {
            throw SweepError.io(path: cellsFolder, problem: "cannot create the folder (\(error.localizedDescription))")
        }
        let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        try write(Array(try enc.encode(settings)) + [10], toPath: settingsPath)
    }

    /// The cells results.json already holds (none when it does not exist yet).
    public func records() throws -> [SweepRecord] {
        let p = file(SweepFolder.resultsName)
        guard let data = FileManager.default.contents(atPath: p) else { return [] }
        return try SweepTables.decode(data, path: p)
    }

    /// results.json, results.csv, results.md and the charts, from every finished cell.
    public func publish(
        _ records: [SweepRecord], header: [String: String], title: String, notes: [String],
        layers: Int
    ) throws {
        try write(try SweepTables.json(records, header: header), toPath: file(SweepFolder.resultsName))
        try write(SweepTables.csv(records), to: "results.csv")
        try write(SweepTables.markdown(records, title: title, notes: notes), to: "results.md")
        for (name, svg) in SweepCharts.all(records, layers: layers) { try write(svg, to: name) }
    }
}
