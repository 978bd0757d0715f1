import Foundation

/// An IDX file, the format of the original MNIST release: a 4-byte magic (two zero
/// bytes, an element type, the number of axes), one big-endian UInt32 per axis, then
/// the elements in C order. Images are `0x00000803` (unsigned bytes, N x H x W), labels
/// `0x00000801` (unsigned bytes, N).
///
/// `.gz` files (how MNIST is distributed) are recognised by their gzip magic, not by the
/// name, and inflated in memory first (see `Gzip`); plain files are memory-mapped.
struct IDXFile {
    let bytes: FileBytes
    let shape: [Int]
    let dataOffset: Int

    var name: String { bytes.name }

    static func open(_ url: URL) throws -> IDXFile {
        try IDXFile(bytes: FileBytes(mapping: url))
    }

    init(bytes file: FileBytes) throws {
        let bytes = Gzip.isGzip(file) ? FileBytes(name: file.name, bytes: try Gzip.inflate(file)) : file
        self.bytes = bytes
        let name = bytes.name
        let magic = bytes.prefix(4)
        guard magic.count == 4, magic[0] == 0, magic[1] == 0 else {
            throw DataError.badMagic(file: name, expected: "0x00000803 (IDX images) or 0x00000801 (IDX labels)", found: hexBytes(magic))
        }
        guard magic[2] == 0x08 else {
            let types: [UInt8: String] = [0x09: "signed bytes", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64"]
            throw DataError.unsupportedDType(
                file: name, dtype: String(format: "0x%02x", magic[2]) + " (\(types[magic[2]] ?? "unknown"))", supported: "0x08 (unsigned bytes)")
        }
        let rank = Int(magic[3])
        let dims = try bytes.slice(4..<4 + 4 * rank, field: "\(rank) dimension sizes")
        shape = (0..<rank).map { Int(dims.bigEndianUInt32(at: 4 * $0)) }
        dataOffset = 4 + 4 * rank
        // At most four 32-bit factors, so the product fits an Int; check it anyway.
        let size = try NumPyArray.byteCount(shape: shape, elementSize: 1, file: name)
        _ = try bytes.slice(dataOffset..<dataOffset + size, field: "shape \(DataError.format(shape))")
    }

    /// The values of a 1-D file (magic 0x00000801), as labels.
    func labels() throws -> [Int] {
        guard shape.count == 1 else {
            throw DataError.wrongRank(file: name, shape: shape, expected: "1-D IDX labels (magic 0x00000801)")
        }
        return bytes.all[dataOffset..<dataOffset + shape[0]].map { Int($0) }
    }
}
