// Results go to stdout; a write that fails there (a full disk, /dev/full, a closed file) is an error, never exit 0.
@preconcurrency import Glibc  // stdout is a C global; only the main thread touches it here
import Foundation

enum StandardOutput {
    /// `object` as one line of JSON with sorted keys (the `--json` output of every command).
    static func printJSON(_ object: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// Flushes stdout and throws when any write to it failed since the start (ferror is sticky).
    static func check() throws {
        let flushed = fflush(stdout) == 0
        let why = errno
        guard flushed, ferror(stdout) == 0 else {
            let reason = flushed ? "a write failed" : String(cString: strerror(why))
            throw Failure("cannot write the results to standard output (\(reason))")
        }
    }
}
