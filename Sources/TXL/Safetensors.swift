// safetensors, read field by field and written atomically (format: huggingface/safetensors, "Format").
// Layout: u64 little-endian header length N, N bytes of JSON header, then the raw tensor bytes.
import Foundation

public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i32 = "I32", i64 = "I64", u8 = "U8"
    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .i64: return 8
        case .u8: return 1
        }
    }
}

public struct TensorInfo: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Byte range inside the data section.
    public let begin: Int, end: Int
    public var count: Int { shape.reduce(1, *) }
}

public struct SafetensorsFile: Sendable {
    public let path: String
    public let metadata: [String: String]
    public let tensors: [String: TensorInfo]
    /// The file's bytes: mapped read-only from disk (`init(path:)`), or a copy of an array.
    let storage: FileBytes
    let dataStart: Int

    public static let maxHeader = 100 << 20

    /// Maps the file (no copy: tensors are read from the mapping, pages come in as they are touched).
    public init(path: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw ModelError.checkpoint(path: path, problem: "no such file")
        }
        if isDir.boolValue {
            throw ModelError.checkpoint(path: path, problem: "is a directory, not a safetensors file")
        }
        guard let storage = FileBytes(mapping: path) else {
            throw ModelError.checkpoint(path: path, problem: "cannot be read")
        }
        try self.init(storage: storage, path: path)
    }

    public init(bytes: [UInt8], path: String = "<memory>") throws {
        try self.init(storage: FileBytes(copying: bytes), path: path)
    }

    init(storage: FileBytes, path: String) throws {
        let bytes = UnsafeRawBufferPointer(start: storage.base, count: storage.count)
        func fail(_ s: String) -> ModelError { .checkpoint(path: path, problem: s) }
        guard bytes.count >= 8 else {
            throw fail("not a safetensors file (\(bytes.count) bytes, too short for a header)")
        }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard n >= 2 && n <= UInt64(SafetensorsFile.maxHeader) else {
            throw fail("not a safetensors file (header length \(n) is implausible)")
        }
        guard 8 + Int(n) <= bytes.count else {
            throw fail("truncated: header says \(n) bytes but the file has \(bytes.count - 8) after the length")
        }
        let header = bytes[8..<(8 + Int(n))]
        guard let root = try? JSONSerialization.jsonObject(with: Data(header)), let dict = root as? [String: Any] else {
            throw fail("not a safetensors file (header is not a JSON object)")
        }
        let dataStart = 8 + Int(n), dataSize = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        for (rawName, value) in dict {
            let name = ModelError.quote(rawName)
            if rawName == "__metadata__" {
                guard let m = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw fail("metadata \(ModelError.quote(k)) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any] else { throw fail("tensor \(name) is not an object") }
            guard let dt = entry["dtype"] as? String else { throw fail("tensor \(name) has no dtype") }
            guard let dtype = DType(rawValue: dt) else {
                throw fail(
                    "tensor \(name) has unsupported dtype \(ModelError.quote(dt)) (known: "
                        + "\(DType.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            guard let shapeAny = entry["shape"] as? [Any], let offAny = entry["data_offsets"] as? [Any],
                offAny.count == 2
            else {
                throw fail("tensor \(name) lacks shape or data_offsets")
            }
            guard shapeAny.count <= 8 else { throw fail("tensor \(name) has \(shapeAny.count) dimensions (at most 8)") }
            let shape = try shapeAny.map { (x: Any) -> Int in
                guard let v = SafetensorsFile.exactInt(x), v >= 0, v <= 1 << 32 else {
                    throw fail("tensor \(name) has a bad shape")
                }
                return v
            }
            guard let b = SafetensorsFile.exactInt(offAny[0]), let e = SafetensorsFile.exactInt(offAny[1]) else {
                throw fail("tensor \(name) has bad data_offsets")
            }
            guard b >= 0, e >= b, e <= dataSize else {
                throw fail(
                    "tensor \(name) data [\(b), \(e)) lies outside the file's \(dataSize) data bytes (truncated?)")
            }
            // Sizes come from the file: every product is checked, in the test and in the message.
            guard let bytesNeeded = SafetensorsFile.byteCount(shape: shape, dtype: dtype) else {
                throw fail("tensor \(name) shape \(shape) of \(dt) is too large (its byte count overflows)")
            }
            guard bytesNeeded == e - b else {
                throw fail("tensor \(name) shape \(shape) of \(dt) needs \(bytesNeeded) bytes, offsets give \(e - b)")
            }
            tensors[rawName] = TensorInfo(dtype: dtype, shape: shape, begin: b, end: e)
        }
        // Hostile headers: no two tensors may share bytes.
        let ranges = tensors.values.filter { $0.end > $0.begin }.sorted { $0.begin < $1.begin }
        for (x, y) in zip(ranges, ranges.dropFirst()) where y.begin < x.end {
            throw fail("tensors overlap at data bytes \(y.begin)-\(x.end - 1)")
        }
        self.path = path; self.metadata = metadata; self.tensors = tensors
        self.storage = storage; self.dataStart = dataStart
    }

    /// An integer from a JSON header, only when it is one exactly (no rounding of 1e30 or 2.5, no Bool).
    static func exactInt(_ x: Any) -> Int? {
        guard let n = x as? NSNumber else { return nil }
        return Int(n.stringValue)  // "12" parses; "1e+30", "2.5" and out-of-range digits do not
    }

    /// shape product x dtype size, or nil when it overflows Int.
    public static func byteCount(shape: [Int], dtype: DType) -> Int? {
        var n = dtype.size
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: d)
            if o { return nil }
            n = p
        }
        return n
    }

    /// Tensor `name`'s entry, checked to exist and, when `expected` is given, to have that shape.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws -> TensorInfo {
        guard let t = tensors[name] else {
            throw ModelError.checkpoint(path: path, problem: "missing tensor \(ModelError.quote(name))")
        }
        if let expected, expected != t.shape {
            throw ModelError.checkpoint(
                path: path, problem: "tensor \(ModelError.quote(name)) has shape \(t.shape), expected \(expected)")
        }
        return t
    }

    /// The named tensor as Float, converting F16/BF16/I32/I64/U8. Throws if missing or of the wrong shape.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws -> [Float] {
        let t = try tensor(name, shape: expected)
        var out = [Float](repeating: 0, count: t.count)
        do {
            let p = storage.base + dataStart + t.begin
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<t.count {
                    switch t.dtype {
                    case .f32:
                        o[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    case .f16:
                        o[i] = Float(
                            Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                    case .bf16:
                        o[i] = Float(
                            bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)
                                << 16)
                    case .i32: o[i] = Float(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                    case .i64: o[i] = Float(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                    case .u8: o[i] = Float(p.load(fromByteOffset: i, as: UInt8.self))
                    }
                }
            }
        }
        return out
    }

    /// The named integer tensor (I32, I64 or U8) as Int, read exactly (not through Float).
    public func ints(_ name: String) throws -> [Int] {
        guard let t = tensors[name] else {
            throw ModelError.checkpoint(path: path, problem: "missing tensor \(ModelError.quote(name))")
        }
        guard [.i32, .i64, .u8].contains(t.dtype) else {
            throw ModelError.checkpoint(
                path: path, problem: "tensor \(ModelError.quote(name)) is \(t.dtype.rawValue), expected an integer type"
            )
        }
        var out = [Int](repeating: 0, count: t.count)
        do {
            let p = storage.base + dataStart + t.begin
            for i in 0..<t.count {
                switch t.dtype {
                case .i32: out[i] = Int(Int32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)))
                case .i64: out[i] = Int(Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)))
                default: out[i] = Int(p.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
        return out
    }
}

extension SafetensorsFile {
    /// The named float32 tensor in place, without a copy, when the file stores it as little-endian float32 at a
    /// 4-byte aligned address (on this little-endian machine); nil otherwise (then `floats` converts it).
    /// Valid while `owner` lives.
    public func mappedFloats(_ name: String) -> UnsafePointer<Float>? {
        guard let t = tensors[name], t.dtype == .f32, 1.littleEndian == 1 else { return nil }
        let p = storage.base + dataStart + t.begin
        guard Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0 else { return nil }
        return p.assumingMemoryBound(to: Float.self)
    }

    /// What keeps `mappedFloats` pointers valid.
    public var owner: AnyObject { storage }

    /// Whether the bytes are mapped from the file rather than held in memory.
    public var isMapped: Bool { storage.mapped }
}

/// A file's bytes, mapped read-only (private), or a copy of an array.
final class FileBytes: @unchecked Sendable {
    let base: UnsafeRawPointer
    let count: Int
    let mapped: Bool

    init(copying bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { p.copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(p), byteCount: bytes.count) }
        base = UnsafeRawPointer(p); count = bytes.count; mapped = false
    }

    /// nil when the file cannot be opened or mapped. An empty file is held as an empty copy.
    init?(mapping path: String) {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        let n = Int(st.st_size)
        if n == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            count = 0; mapped = false
            return
        }
        guard let p = mmap(nil, n, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        base = UnsafeRawPointer(p); count = n; mapped = true
    }

    deinit {
        if mapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}

/// Writes tensors (float32, or raw bytes for other dtypes) and string metadata as one safetensors file.
public struct SafetensorsWriter {
    public struct Entry { let name: String; let dtype: DType; let shape: [Int]; let data: [UInt8] }
    var entries: [Entry] = []
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) {
        precondition(
            shape.reduce(1, *) == floats.count, "safetensors: shape \(shape) does not match \(floats.count) floats")
        var data = [UInt8](repeating: 0, count: floats.count * 4)
        data.withUnsafeMutableBytes { raw in
            for i in 0..<floats.count {
                raw.storeBytes(of: floats[i].bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
        entries.append(Entry(name: name, dtype: .f32, shape: shape, data: data))
    }

    public mutating func add(_ name: String, shape: [Int], floats: [Float]) {
        floats.withUnsafeBufferPointer { add(name, shape: shape, floats: $0) }
    }

    public mutating func add(_ name: String, dtype: DType, shape: [Int], raw: [UInt8]) {
        precondition(shape.reduce(1, *) * dtype.size == raw.count, "safetensors: bad raw size for \(name)")
        entries.append(Entry(name: name, dtype: dtype, shape: shape, data: raw))
    }

    public func encode() -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let sorted = entries.sorted { $0.name < $1.name }
        for e in sorted {
            header[e.name] =
                ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.data.count]]
                as [String: Any]
            offset += e.data.count
        }
        var json = [UInt8](try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while (8 + json.count) % 8 != 0 { json.append(0x20) }  // pad so the data section is 8-byte aligned
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        let n = UInt64(json.count)
        for i in 0..<8 { out.append(UInt8((n >> (8 * UInt64(i))) & 0xff)) }
        out += json
        for e in sorted { out += e.data }
        return out
    }

    /// Temporary file, fsync, rename: a crash never leaves a half-written file under `path`.
    public func write(to path: String) throws {
        try AtomicFile.write(encode(), to: path)
    }
}

public enum AtomicFile {
    /// Writes `bytes` to `path.tmp-PID`, fsyncs, renames it over `path` and fsyncs the folder. Temp files beside `path`
    /// left by a process that died mid-write (SIGKILL) are removed first.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        removeStale(for: path)
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            throw ModelError.checkpoint(path: path, problem: "cannot write (\(String(cString: strerror(errno))))")
        }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { failure = w < 0 ? errno : ENOSPC; return }
                done += w
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(tmp, path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(tmp)
            throw ModelError.checkpoint(path: path, problem: "cannot write (\(String(cString: strerror(failure))))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let dir = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Removes `path.tmp-PID` files whose process no longer exists; returns their paths.
    @discardableResult
    public static func removeStale(for path: String) -> [String] {
        let folder = (path as NSString).deletingLastPathComponent, base = (path as NSString).lastPathComponent + ".tmp-"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(base) {
            guard let pid = Int32(name.dropFirst(base.count)), pid > 0, pid != getpid(), kill(pid, 0) != 0,
                errno == ESRCH
            else {
                continue
            }
            let full = folder.isEmpty ? name : folder + "/" + name
            if unlink(full) == 0 { removed.append(full) }
        }
        return removed
    }
}
