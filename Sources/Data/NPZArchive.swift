import Foundation
import ZIPFoundation

/// The arrays of a NumPy `.npz` file: a zip archive with one `.npy` entry per array
/// (`np.savez` stores them, `np.savez_compressed` deflates them).
///
/// ZIPFoundation reads the archive's directory (names, sizes, methods, CRCs). The entry
/// data is then taken from the mapped file directly: a stored entry is used in place, so
/// an uncompressed archive costs no more memory than a .npy file, and a deflated one is
/// inflated into memory with its CRC-32 checked (deflate cannot be read from the middle)
/// through `Inflate`, which guards against damaged streams that `Archive.extract` would
/// read past or spin on. ZIPFoundation has no public accessor for where an entry's data
/// starts, so `locate` finds it from the local headers.
struct NPZArchive {
    let url: URL
    let mapped: FileBytes
    /// Entry paths in directory order.
    let entryPaths: [String]
    private let entries: [String: Entry]

    var name: String { url.path }

    /// Array names (entry paths without `.npy`), in archive order.
    var arrayNames: [String] { entryPaths.map { $0.hasSuffix(".npy") ? String($0.dropLast(4)) : $0 } }

    static let defaultImageNames = ["images", "x", "data", "arr_0"]
    static let defaultLabelNames = ["labels", "y", "arr_1"]

    init(url: URL, mapped: FileBytes) throws {
        self.url = url
        self.mapped = mapped
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch {
            throw DataError.badHeader(file: url.path, field: "zip directory", detail: "not a readable zip archive (\(error))")
        }
        var paths = [String](), entries = [String: Entry]()
        for entry in archive where entry.type == .file {
            paths.append(entry.path)
            entries[entry.path] = entry
        }
        entryPaths = paths
        self.entries = entries
    }

    /// The first of `names` present in the archive (with or without `.npy`).
    func find(_ names: [String]) -> String? {
        for name in names {
            for path in [name + ".npy", name] where entries[path] != nil { return path }
        }
        return nil
    }

    /// The array `path` (an entry path from `find`): mapped in place when stored,
    /// inflated when deflated.
    func array(_ path: String) throws -> NumPyArray {
        let label = "\(name):\(path)"
        guard let entry = entries[path] else {
            throw DataError.missingArray(file: name, name: path, available: arrayNames)
        }
        guard let (dataStart, method) = locate(path) else {
            throw DataError.badHeader(
                file: label, field: "local file header",
                detail: "not found where the zip directory puts the entry; the archive is damaged (np.load would fail too)")
        }
        let compressedSize = Int(clamping: entry.compressedSize), size = Int(clamping: entry.uncompressedSize)
        switch method {
        case 0:
            return try NumPyArray(bytes: mapped, base: dataStart, name: label)
        case 8:
            // Past the end of the file, Inflate reports the entry as truncated.
            let end = compressedSize <= mapped.count - dataStart ? dataStart + compressedSize : Int.max
            let (contents, crc) = try Inflate.raw(
                mapped, dataStart..<end,
                expectedSize: size, sizeField: "the zip directory", file: label)
            guard crc == entry.checksum else {
                throw DataError.corruptCompressedData(file: label, detail: String(format: "CRC-32 0x%08x, the zip directory says 0x%08x", crc, entry.checksum))
            }
            return try NumPyArray(bytes: FileBytes(name: label, bytes: contents), name: label)
        default:
            throw DataError.unsupportedDType(file: label, dtype: "zip compression method \(method)", supported: "stored (0) or deflated (8) entries")
        }
    }

    /// Where the data of entry `path` starts and its compression method, from its local
    /// header. Archives written in one pass (np.savez, zipfile, zip) lay the local headers
    /// out back to back, each followed by its data (and, with general-purpose flag bit 3,
    /// a data descriptor), so walking them finds every entry; the walk uses the
    /// directory's sizes, since a streamed local header may hold none. When the walk
    /// breaks (data before the first entry, gaps), every local-header signature in the
    /// file is tried instead. Nil when no local header carries the name.
    private func locate(_ path: String) -> (dataStart: Int, method: Int)? {
        let all = mapped.all
        let wanted = Array(path.utf8)
        func u16(_ at: Int) -> Int? { at >= 0 && at + 2 <= all.count ? Int(all.littleEndian(at: at, as: UInt16.self)) : nil }
        func u32(_ at: Int) -> UInt32? { at >= 0 && at + 4 <= all.count ? all.littleEndian(at: at, as: UInt32.self) : nil }
        let localHeader: UInt32 = 0x0403_4B50, descriptor: UInt32 = 0x0807_4B50
        /// The local header at `at`: its name, flags, method and where its data starts.
        func header(at: Int) -> (name: [UInt8], flags: Int, method: Int, dataStart: Int)? {
            guard u32(at) == localHeader, let flags = u16(at + 6), let method = u16(at + 8),
                  let nameLength = u16(at + 26), let extraLength = u16(at + 28),
                  at + 30 + nameLength + extraLength <= all.count
            else { return nil }
            return (Array(all[at + 30..<at + 30 + nameLength]), flags, method, at + 30 + nameLength + extraLength)
        }
        var at = 0
        for _ in 0..<entries.count {
            guard let local = header(at: at) else { break }
            if local.name == wanted { return (local.dataStart, local.method) }
            guard let entry = entries[String(decoding: local.name, as: UTF8.self)],
                  Int(clamping: entry.compressedSize) <= all.count - local.dataStart
            else { break }
            at = local.dataStart + Int(clamping: entry.compressedSize)
            if local.flags & 0x08 != 0 {
                // A data descriptor: an optional signature, the CRC, then 4- or 8-byte sizes.
                let start = u32(at) == descriptor ? at + 4 : at
                guard let next = [start + 12, start + 20].first(where: { u32($0) == localHeader }) else { break }
                at = next
            }
        }
        var candidate = 0
        while candidate + 30 <= all.count {
            if all[candidate] == 0x50, let local = header(at: candidate), local.name == wanted { return (local.dataStart, local.method) }
            candidate += 1
        }
        return nil
    }
}
