// gzip via zlib (the one file that imports CZlib): multi-member gunzip of the .rst.gz files, and gzip for tests.
import CZlib

public enum Gzip {
    /// Decompresses every gzip member of `input` in turn (RFC 1952 allows concatenated members, and
    /// `gunzip` joins their contents). `source` names the input in errors.
    public static func decompress(_ input: [UInt8], source: String) throws(CorpusError) -> [UInt8] {
        guard !input.isEmpty else { throw .badGzip(source: source, reason: "empty file") }
        var stream = z_stream()
        // windowBits 15 + 16: expect a gzip header and trailer, not raw zlib.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .badGzip(source: source, reason: "zlib inflateInit2 failed")
        }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        output.reserveCapacity(input.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var failure: String? = nil
        input.withUnsafeBufferPointer { inBuf in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                var produced = 0
                let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.avail_out)
                    return status
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    // More bytes after a member's trailer: they must be another gzip member.
                    let offset = inBuf.count - Int(stream.avail_in)
                    guard stream.avail_in >= 2, inBuf[offset] == 0x1f, inBuf[offset + 1] == 0x8b else {
                        failure = "\(stream.avail_in) bytes of trailing garbage after the gzip data at byte \(offset)"
                        return
                    }
                    inflateReset(&stream)
                case Z_BUF_ERROR where stream.avail_in == 0:
                    failure = "truncated: the input ends inside a gzip member"
                    return
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
                    failure = "corrupt gzip data (\(message))"
                    return
                }
            }
        }
        if let failure { throw .badGzip(source: source, reason: failure) }
        return output
    }

    /// One gzip member holding `input` (used by tests to build .rst.gz trees).
    public static func compress(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var written = 0
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "zlib deflate did not finish: \(status)")
                written = out.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
