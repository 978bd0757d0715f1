import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes of a dataset file: memory-mapped from disk, or held in memory when
/// they had to be decompressed first (gzip, deflated .npz entries).
///
/// Mapping is what keeps a 50 000-image set from being loaded at once: a batch touches
/// only the pages of its own samples, and the kernel may drop them again afterwards.
/// The bytes never change after `init`, so sharing one instance across threads is safe
/// (hence `@unchecked Sendable`); every read checks its bounds (see `slice`). As with any
/// mapping, a file truncated by another process while it is open cannot be guarded against.
final class FileBytes: @unchecked Sendable {
    /// The file path (or `archive.npz:entry`) that errors name.
    let name: String
    let count: Int
    /// Whether the bytes are a mapping of the file (false: decompressed into memory).
    let isMapped: Bool
    private let base: UnsafeRawPointer?
    private let release: () -> Void

    /// Maps the whole file. An empty file maps to zero bytes (mmap refuses length 0), so
    /// the format readers report it as truncated rather than failing here.
    init(mapping url: URL) throws {
        let path = url.path
        name = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DataError.unreadable(file: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw DataError.unreadable(file: path, reason: "not a regular file") }
        let size = Int(info.st_size)
        count = size
        isMapped = true
        if size == 0 {
            base = nil
            release = {}
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let address, address != MAP_FAILED else {
            throw DataError.unreadable(file: path, reason: "mmap: \(String(cString: strerror(errno)))")
        }
        base = UnsafeRawPointer(address)
        release = { munmap(address, size) }
    }

    /// Takes ownership of bytes that were produced in memory (decompressed data).
    init(name: String, bytes: [UInt8]) {
        self.name = name
        count = bytes.count
        isMapped = false
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        base = UnsafeRawPointer(buffer.baseAddress)
        release = { buffer.deallocate() }
    }

    deinit { release() }

    /// The bytes `range`, checked against the file size; `field` says in an error which
    /// part of the format needed them, `file` overrides the name (an entry of an archive).
    func slice(_ range: Range<Int>, field: String, file: String? = nil) throws -> UnsafeRawBufferPointer {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DataError.truncated(file: file ?? name, field: field, needed: range.upperBound, actual: count)
        }
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    /// All bytes; only for parsing and for readers that already checked their bounds.
    var all: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// The first `n` bytes (fewer if the file is shorter), for magic-number checks.
    func prefix(_ n: Int) -> [UInt8] { Array(all.prefix(n)) }
}

extension UnsafeRawBufferPointer {
    /// A big-endian UInt32 at `offset` (IDX headers); the caller checks the bounds.
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// A little-endian integer at `offset` (gzip, .npy, zip headers); the caller checks the bounds.
    func littleEndian<T: FixedWidthInteger>(at offset: Int, as type: T.Type) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// Hex text of the first bytes of a file, for bad-magic errors.
func hexBytes(_ bytes: some Collection<UInt8>) -> String {
    bytes.isEmpty ? "an empty file" : "0x" + bytes.map { String(format: "%02x", $0) }.joined()
}
