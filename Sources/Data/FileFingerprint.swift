import Foundation
import ZIPFoundation

/// A file's size and CRC-32 (zlib's polynomial), read in 1 MiB chunks: enough to tell two
/// files apart when a split run's parts must have used the same model, not a defence
/// against someone forging a file.
public struct FileFingerprint: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Bytes in the file.
    public var size: Int
    /// CRC-32 of the file's bytes.
    public var crc32: UInt32

    /// The fingerprint of the file at `path`.
    public init(ofFileAt path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError.unreadable(file: path, reason: "cannot open the file")
        }
        defer { try? handle.close() }
        var checksum: UInt32 = 0, total = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw DataError.unreadable(file: path, reason: error.localizedDescription)
            }
            if chunk.isEmpty { break }
            checksum = chunk.crc32(checksum: checksum)
            total += chunk.count
        }
        size = total
        crc32 = checksum
    }

    /// "crc32 0x89abcdef, 1234 bytes".
    public var description: String { "crc32 0x\(String(crc32, radix: 16)), \(size) bytes" }
}
