// Raw text files as byte corpora (`--text FILE`): the model sees bytes 0-255, whatever the encoding.
import Foundation

/// The most a text may hold: a device such as /dev/zero never ends, and nothing MemScope reads is this large.
public let maxTextBytes = 1 << 30

/// The bytes of the file at `path`, at most `limit` of them (a pipe or a device is read only that far); a clear
/// error if it is missing, a directory, unreadable, empty or longer than `maxTextBytes`.
public func readTextFile(_ path: String, limit: Int? = nil) throws(CorpusError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .fileMissing(path: path)
    }
    guard !isDirectory.boolValue else { throw .notAFile(path: path) }
    let cap = min(limit ?? maxTextBytes, maxTextBytes)
    let bytes = try readBytes(path, limit: cap + 1)
    guard !bytes.isEmpty else { throw .emptyFile(path: path) }
    if bytes.count > cap {
        guard limit != nil else {
            throw .unreadable(path: path, reason: "longer than \(maxTextBytes) bytes, the most MemScope reads")
        }
        return Array(bytes[..<cap])
    }
    return bytes
}

/// Up to `limit` bytes of `path` with read(2), so that pipes and devices work and errors are errno's own words.
func readBytes(_ path: String, limit: Int) throws(CorpusError) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    if fstat(fd, &st) == 0, Int(st.st_mode) & Int(S_IFMT) == Int(S_IFDIR) { throw .notAFile(path: path) }
    var out = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while out.count < limit {
        let want = min(chunk.count, limit - out.count)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, want) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        if n == 0 { break }
        out += chunk[..<n]
    }
    return out
}

/// What kind of file `path` is when it is not a regular file ("a FIFO", "a character device", ...), else nil.
func irregularKind(_ path: String) -> String? {
    var st = stat()
    guard stat(path, &st) == 0 else { return nil }
    switch Int(st.st_mode) & Int(S_IFMT) {
    case Int(S_IFREG): return nil
    case Int(S_IFDIR): return "a directory"
    case Int(S_IFIFO): return "a FIFO"
    case Int(S_IFCHR): return "a character device"
    case Int(S_IFBLK): return "a block device"
    case Int(S_IFSOCK): return "a socket"
    default: return "not a regular file"
    }
}
