import Foundation
import ZIPFoundation

/// Raw deflate decompression (RFC 1951) of a byte range of a file, for gzip members and
/// deflated .npz entries, through ZIPFoundation's public `Data.decompress`.
///
/// `Data.decompress` is driven by a provider closure, and on Linux it needs guarding:
/// it tells zlib that every chunk holds `bufferSize` bytes whatever the closure returned,
/// and it asks again forever once the closure returns nothing. So the provider here
/// always returns exactly the size asked for (the stream's bytes, then whatever follows
/// it in the file, then zeros), and throws once the stream's bytes are used up without
/// its end having been found. A complete stream ends before any padding is read; a cut
/// or damaged one fails with an error instead of reading out of bounds or spinning.
/// (ZIPFoundation's own `Archive.extract` has the same two problems on a damaged entry,
/// which is why .npz entries are inflated here too.)
enum Inflate {
    /// Inflates `bytes[range]`, which must decode to exactly `expectedSize` bytes (`sizeField`
    /// names where that size came from, for the error). Returns the data and its CRC-32
    /// for the caller to check against its format's.
    static func raw(
        _ bytes: FileBytes, _ range: Range<Int>, expectedSize: Int, sizeField: String, file: String
    ) throws -> (data: [UInt8], crc: UInt32) {
        let all = bytes.all
        guard range.lowerBound >= 0, range.upperBound <= all.count else {
            throw DataError.truncated(file: file, field: "deflate stream", needed: range.upperBound, actual: all.count)
        }
        var output = [UInt8]()
        // Deflate expands at most ~1032:1, which bounds the reservation for a bogus size.
        output.reserveCapacity(max(0, min(expectedSize, range.count * 1032 + 1024)))
        let crc: CRC32
        do {
            crc = try Data.decompress(size: Int64(range.count), bufferSize: 1 << 16, skipCRC32: false, provider: { position, size in
                guard position < Int64(range.count) else {
                    throw DataError.truncated(file: file, field: "deflate stream (it does not end)", needed: all.count + 1, actual: all.count)
                }
                let from = range.lowerBound + Int(position)
                var chunk = Data(count: size)
                let available = min(size, all.count - from)
                chunk.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[from..<from + available])) }
                return chunk
            }, consumer: { data in
                guard output.count + data.count <= expectedSize else {
                    throw DataError.corruptCompressedData(file: file, detail: "the stream inflates to more than the \(expectedSize) bytes \(sizeField) announces")
                }
                output.append(contentsOf: data)
            })
        } catch let error as DataError {
            throw error
        } catch {
            throw DataError.corruptCompressedData(file: file, detail: "the deflate stream does not decode: \(error)")
        }
        guard output.count == expectedSize else {
            throw DataError.corruptCompressedData(file: file, detail: "the stream inflates to \(output.count) bytes, \(sizeField) says \(expectedSize)")
        }
        return (output, crc)
    }
}
