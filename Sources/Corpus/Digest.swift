// SHA-256 via OpenSSL libcrypto (the one file that imports CCrypto): file order keys and split checksums.
import CCrypto

public enum Digest {
    /// Lowercase hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { out in
            EVP_Digest(bytes.baseAddress, bytes.count, out.baseAddress, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1 && length == 32, "OpenSSL EVP_Digest(sha256) failed")
        return hex(digest)
    }

    public static func sha256Hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.withUnsafeBytes { sha256Hex($0) }
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { sha256Hex($0) }
    }

    /// SHA-256 of the string's UTF-8 bytes.
    public static func sha256Hex(_ string: String) -> String {
        sha256Hex(Array(string.utf8))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var chars: [UInt8] = []
        chars.reserveCapacity(bytes.count * 2)
        for b in bytes {
            chars.append(digits[Int(b >> 4)])
            chars.append(digits[Int(b & 0xf)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
