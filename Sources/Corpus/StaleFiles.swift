// Work files named after the process that made them (`.work-PID`, `.NAME.tmp-PID`): removed by their maker, and when a
// maker died without cleaning up (SIGKILL, power loss), by the next start. Signals reach the tools a prepare runs.
import Foundation
import Signals

public enum StaleFiles {
    static let tempMarker = ".tmp-"

    /// True when no process `pid` exists (this process is never dead).
    static func isDead(_ pid: Int32) -> Bool {
        pid > 0 && pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The PID at the end of `name` after `marker` (`.train.bin.tmp-123` -> 123), if it has that form.
    static func pid(in name: String, after marker: String) -> Int32? {
        guard let r = name.range(of: marker, options: .backwards) else { return nil }
        return Int32(name[r.upperBound...])
    }

    /// Removes `.NAME.tmp-PID` files of dead processes in `dir`; returns their names.
    @discardableResult
    public static func removeTemporaries(in dir: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let pid = pid(in: name, after: tempMarker), isDead(pid) else { continue }
            if unlink(dir.appendingPathComponent(name).path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Removes the `.work-PID` folders of dead processes in the data folder; returns their names.
    @discardableResult
    public static func removeWorkFolders(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(CorpusStore.workPrefix) {
            guard let pid = Int32(name.dropFirst(CorpusStore.workPrefix.count)), isDead(pid) else { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil {
                removed.append(name)
            }
        }
        return removed
    }

    /// fsync of a folder, so that a rename in it survives a crash.
    static func syncDirectory(_ dir: URL) {
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}

/// What an interrupted prepare must undo: the tools it is running and the work folder it made. A command that prepares
/// calls `forwardSignals()`; SIGINT, SIGTERM and SIGHUP then reach the tools, the work folder is removed, and the
/// process ends by the same signal (exit status 128 + N).
public final class Interruption: @unchecked Sendable {
    public static let shared = Interruption()
    private let lock = NSLock()
    private var children: Set<Int32> = []
    private var paths: Set<String> = []
    private var sources: [DispatchSourceSignal] = []

    func add(child pid: Int32) { lock.lock(); children.insert(pid); lock.unlock() }
    func remove(child pid: Int32) { lock.lock(); children.remove(pid); lock.unlock() }
    func add(path: String) { lock.lock(); paths.insert(path); lock.unlock() }
    func remove(path: String) { lock.lock(); paths.remove(path); lock.unlock() }

    public func forwardSignals(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [self] in interrupted(by: sig) }
            source.resume()
            lock.lock(); sources.append(source); lock.unlock()
        }
    }

    private var signalled = false

    /// Called when a tool ended: if a signal ended it, wait here for the handler to finish the process by that signal,
    /// rather than report the tool's failure.
    func waitIfInterrupted() {
        lock.lock(); let s = signalled; lock.unlock()
        if s { while true { pause() } }
    }

    func interrupted(by sig: Int32) {
        lock.lock()
        signalled = true
        let kids = children, folders = paths
        lock.unlock()
        for pid in kids {
            kill(pid, sig)
            var status: Int32 = 0
            // The tool ends on the signal; give it a moment, then make sure.
            for _ in 0..<50 where waitpid(pid, &status, WNOHANG) == 0 { usleep(20_000) }
            kill(pid, SIGKILL)
        }
        for path in folders { try? FileManager.default.removeItem(atPath: path) }
        FileHandle.standardError.write(Data("memscope: interrupted (signal \(sig)); removed the work files\n".utf8))
        // End by the same signal (libdispatch keeps it blocked in its threads; exit(bySignal:) unblocks it).
        SignalWatch.exit(bySignal: sig)
    }
}
