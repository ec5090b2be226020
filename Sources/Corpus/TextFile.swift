// Raw text files as byte corpora (`--text FILE`): the model sees bytes 0-255, whatever the encoding.
import Foundation

/// The bytes of the file at `path`; a clear error if it is missing, a directory, unreadable or empty.
public func readTextFile(_ path: String) throws(CorpusError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw .fileMissing(path: path)
    }
    guard !isDirectory.boolValue else { throw .notAFile(path: path) }
    guard FileManager.default.isReadableFile(atPath: path) else {
        throw .unreadable(path: path, reason: "permission denied")
    }
    let bytes: [UInt8]
    // A FileHandle reads pipes and devices too (`--text <(zcat notes.gz)`), where Data(contentsOf:) fails.
    do { bytes = [UInt8](try FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readToEnd() ?? Data()) } catch {
        throw .unreadable(path: path, reason: error.localizedDescription)
    }
    guard !bytes.isEmpty else { throw .emptyFile(path: path) }
    return bytes
}
