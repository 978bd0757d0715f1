import Foundation
import ZIPFoundation

/// gzip decompression (RFC 1952) for `.gz` IDX files.
///
/// A gzip member is a small header, a raw deflate stream and an 8-byte trailer (CRC-32
/// and size of the data, little-endian). The header is parsed here; the deflate stream
/// goes to ZIPFoundation's public `Data.decompress` (through `Inflate`), which inflates
/// raw deflate, what zip entries hold, and returns the CRC-32 of what it produced, so the
/// trailer is checked without a zlib dependency of our own.
///
/// A deflate stream cannot be read from the middle, so the whole file is inflated once,
/// into memory. That suits IDX files (the MNIST training set is 47 MB inflated); large
/// image sets belong in .npy files, which are mapped instead.
///
/// Only single-member files (what `gzip` and Python's `gzip` module write) are read:
/// `Data.decompress` does not say where a stream ended, so a second member cannot be
/// found; such a file fails the size check, with a hint to gunzip it.
enum Gzip {
    static func isGzip(_ bytes: FileBytes) -> Bool {
        bytes.prefix(2) == [0x1F, 0x8B]
    }

    /// The decompressed contents of the gzip file `bytes`.
    static func inflate(_ bytes: FileBytes) throws -> [UInt8] {
        let file = bytes.name
        let all = bytes.all
        let fixed = try bytes.slice(0..<10, field: "gzip header")
        guard fixed[0] == 0x1F, fixed[1] == 0x8B else {
            throw DataError.badMagic(file: file, expected: "0x1f8b (gzip)", found: hexBytes(bytes.prefix(2)))
        }
        guard fixed[2] == 8 else {
            throw DataError.badHeader(file: file, field: "CM", detail: "compression method \(fixed[2]) is not deflate (8)")
        }
        let flags = fixed[3]
        guard flags & 0xE0 == 0 else {
            throw DataError.badHeader(file: file, field: "FLG", detail: String(format: "reserved bits set (0x%02x)", flags))
        }
        var at = 10
        if flags & 0x04 != 0 {  // FEXTRA: a 2-byte length, then that many bytes
            let length = try bytes.slice(at..<at + 2, field: "FEXTRA length").littleEndian(at: 0, as: UInt16.self)
            at += 2 + Int(length)
        }
        for (bit, field) in [(UInt8(0x08), "FNAME"), (0x10, "FCOMMENT")] where flags & bit != 0 {
            // Zero-terminated latin-1 text.
            guard let end = all[min(at, all.count)...].firstIndex(of: 0) else {
                throw DataError.truncated(file: file, field: "gzip \(field) (no terminating zero)", needed: all.count + 1, actual: all.count)
            }
            at = end + 1
        }
        if flags & 0x02 != 0 {  // FHCRC: the low 16 bits of the CRC-32 of the header before it
            let stored = try bytes.slice(at..<at + 2, field: "FHCRC").littleEndian(at: 0, as: UInt16.self)
            let computed = UInt16(truncatingIfNeeded: Data(try bytes.slice(0..<at, field: "gzip header")).crc32(checksum: 0))
            guard stored == computed else {
                throw DataError.badHeader(file: file, field: "FHCRC", detail: String(format: "header CRC 0x%04x, computed 0x%04x", stored, computed))
            }
            at += 2
        }
        let trailerStart = all.count - 8
        guard trailerStart >= at else {
            throw DataError.truncated(file: file, field: "gzip header, deflate stream and 8-byte trailer", needed: at + 8, actual: all.count)
        }
        let trailer = try bytes.slice(trailerStart..<all.count, field: "gzip trailer")
        let expectedCRC = trailer.littleEndian(at: 0, as: UInt32.self)
        let expectedSize = Int(trailer.littleEndian(at: 4, as: UInt32.self))

        let (output, crc) = try Inflate.raw(
            bytes, at..<trailerStart, expectedSize: expectedSize,
            sizeField: "the trailer (ISIZE; a file of several gzip members, which is not read here, fails this too: gunzip it first)",
            file: file)
        guard crc == expectedCRC else {
            throw DataError.corruptCompressedData(file: file, detail: String(format: "CRC-32 0x%08x, the trailer says 0x%08x", crc, expectedCRC))
        }
        return output
    }
}
