// A named pipe as the explorer's text (issue 8, finding 6): opening one blocks until a writer comes, so the
// explorer opens it without blocking, says on stderr that it waits, and keeps `q` and Ctrl-C working.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}

public enum FIFOText {
    public enum Outcome: Sendable, Equatable {
        case text([UInt8])
        /// `q` on the terminal while waiting.
        case quit
        /// Ctrl-C on the terminal while waiting.
        case interrupted
    }

    /// The most the explorer reads from a pipe: it keeps the whole text in memory.
    public static let limit = 1 << 30

    public static func isFIFO(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
    }

    /// Reads the pipe at `path` until its writer closes it. While it waits, the terminal on `keys` is read
    /// key by key (no echo, Ctrl-C as a key) and its mode is restored before this returns.
    public static func read(
        _ path: String, keys: Int32 = 0 /* standard input */,
        say: (String) -> Void = {
            FileHandle.standardError.write(Data(($0 + "\n").utf8))
        }
    ) throws -> Outcome {
        let fd = open(path, O_RDONLY | O_NONBLOCK)
        func reason() -> String { String(cString: strerror(errno)) }
        guard fd >= 0 else { throw TerminalError("cannot open the pipe \(path): \(reason())") }
        defer { close(fd) }
        var saved = termios()
        let isTerminal = tcgetattr(keys, &saved) == 0
        if isTerminal {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            tcsetattr(keys, TCSANOW, &raw)
        }
        defer { if isTerminal { tcsetattr(keys, TCSANOW, &saved) } }

        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var said = false
        while true {
            var fds = [
                pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: keys, events: Int16(isTerminal ? POLLIN : 0), revents: 0),
            ]
            let ready = poll(&fds, 2, 250)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw TerminalError("cannot wait on the pipe \(path): \(reason())") }
            if ready == 0 {
                if bytes.isEmpty && !said {
                    say("memscope: waiting for a writer on the pipe \(path) (q or Ctrl-C quits)")
                    said = true
                }
                continue
            }
            if fds[1].revents & Int16(POLLIN) != 0 {
                var key: UInt8 = 0
                if systemRead(keys, &key, 1) == 1 {
                    if key == UInt8(ascii: "q") || key == UInt8(ascii: "Q") { return .quit }
                    if key == 3 { return .interrupted }
                }
            }
            guard fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard n >= 0 else { throw TerminalError("cannot read the pipe \(path): \(reason())") }
            if n == 0 { break }  // the writer closed it
            guard bytes.count + n <= limit else {
                throw TerminalError(
                    "the pipe \(path) sent more than \(limit >> 20) MiB; the explorer keeps its text "
                        + "in memory: save a part to a file")
            }
            bytes += buffer[0..<n]
        }
        guard !bytes.isEmpty else { throw TerminalError("the pipe \(path) was closed without sending any bytes") }
        return .text(bytes)
    }
}
