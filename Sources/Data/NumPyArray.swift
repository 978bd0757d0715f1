import Foundation

/// One array of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0), its data left
/// in place in the mapped file.
///
/// The format is a magic string, a version, a header length (2 bytes in 1.0, 4 bytes
/// from 2.0 on) and a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 32, 32, 3), }`, followed
/// by the raw elements. Only C-order arrays of a few little-endian dtypes are read: they
/// are what `np.save` writes for image sets, and anything else is refused with an error
/// that tells how to convert it, rather than guessed at.
public struct NumPyArray: Sendable {
    /// Element types the readers understand (`descr` without its byte-order character).
    public enum DType: String, Sendable, CaseIterable {
        /// Unsigned bytes, booleans, 32/64-bit little-endian integers and floats.
        case uint8 = "u1", bool = "b1", int32 = "i4", int64 = "i8", float32 = "f4", float64 = "f8"

        /// Bytes per element.
        public var byteSize: Int {
            switch self {
            case .uint8, .bool: 1
            case .int32, .float32: 4
            case .int64, .float64: 8
            }
        }

        /// The dtype as NumPy writes it, `|u1` or `<f4`.
        public var descr: String { (byteSize == 1 ? "|" : "<") + rawValue }
    }

    /// The file (or `archive.npz:entry`) the array came from.
    public let name: String
    /// The element type.
    public let dtype: DType
    /// Dimensions, outermost first (C order).
    public let shape: [Int]
    /// The format's major version (1, 2 or 3).
    public let formatVersion: Int
    let bytes: FileBytes
    let dataOffset: Int

    /// Memory-maps `url` and parses its header; no element is read.
    public static func open(_ url: URL) throws -> NumPyArray {
        try NumPyArray(bytes: FileBytes(mapping: url))
    }

    /// Parses the header at byte `base` of `bytes` (0, or where an .npz entry starts) and
    /// checks that the data it announces is there. `name` names the array in errors.
    init(bytes: FileBytes, base: Int = 0, name: String? = nil) throws {
        let file = name ?? bytes.name
        self.name = file
        self.bytes = bytes
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        let found = Array(bytes.all.dropFirst(base).prefix(6))
        guard found == magic else {
            throw DataError.badMagic(file: file, expected: "\\x93NUMPY (a .npy file)", found: hexBytes(found))
        }
        let head = try bytes.slice(base..<base + 8, field: "version", file: file)
        let major = Int(head[6])
        let lengthBytes: Int
        switch major {
        case 1: lengthBytes = 2
        case 2, 3: lengthBytes = 4
        default: throw DataError.badHeader(file: file, field: "version", detail: "format version \(major).\(head[7]) is not 1.0, 2.0 or 3.0")
        }
        let lengthField = try bytes.slice(base + 8..<base + 8 + lengthBytes, field: "header length", file: file)
        let headerLength = lengthBytes == 2
            ? Int(lengthField.littleEndian(at: 0, as: UInt16.self))
            : Int(lengthField.littleEndian(at: 0, as: UInt32.self))
        let headerStart = base + 8 + lengthBytes
        let headerBytes = try bytes.slice(headerStart..<headerStart + headerLength, field: "header", file: file)
        // 1.0 and 2.0 headers are latin-1, 3.0 ones UTF-8; both are ASCII for every field read here.
        let encoding: String.Encoding = major == 3 ? .utf8 : .isoLatin1
        guard let text = String(bytes: headerBytes, encoding: encoding) else {
            throw DataError.badHeader(file: file, field: "header", detail: "not \(major == 3 ? "UTF-8" : "latin-1") text")
        }
        let header = try NumPyHeader(parsing: text, file: file)
        if header.fortranOrder { throw DataError.fortranOrder(file: file) }
        dtype = try Self.dtype(header.descr, file: file)
        shape = header.shape
        formatVersion = major
        dataOffset = headerStart + headerLength
        let needed = try Self.byteCount(shape: shape, elementSize: dtype.byteSize, file: file)
        let (end, overflow) = dataOffset.addingReportingOverflow(needed)
        guard !overflow else { throw DataError.badHeader(file: file, field: "shape", detail: "\(DataError.format(shape)) is too large") }
        _ = try bytes.slice(dataOffset..<end, field: "shape \(DataError.format(shape)) of \(dtype.descr)", file: file)
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Maps a `descr` to a supported dtype; big-endian multi-byte types and structured
    /// dtypes are refused.
    static func dtype(_ descr: String, file: String) throws -> DType {
        let supported = DType.allCases.map(\.descr).joined(separator: ", ")
        guard let order = descr.first, "<|=>".contains(order), let type = DType(rawValue: String(descr.dropFirst())) else {
            throw DataError.unsupportedDType(file: file, dtype: "'\(descr)'", supported: supported)
        }
        // '=' is native order, which is little-endian on every platform SNNKit builds for.
        if order == ">" && type.byteSize > 1 {
            throw DataError.unsupportedDType(file: file, dtype: "'\(descr)' (big-endian)", supported: supported)
        }
        return type
    }

    /// elements x elementSize, refusing shapes whose size overflows rather than trapping.
    static func byteCount(shape: [Int], elementSize: Int, file: String) throws -> Int {
        // The product of the non-zero sizes must fit too: an empty array of (0, 2^32, 2^32)
        // holds no bytes, but its per-sample stride would overflow every reader.
        var total = elementSize, extent = elementSize
        for dim in shape {
            guard dim >= 0 else { throw DataError.badHeader(file: file, field: "shape", detail: "negative dimension in \(DataError.format(shape))") }
            let (product, overflow) = extent.multipliedReportingOverflow(by: max(dim, 1))
            guard !overflow else { throw DataError.badHeader(file: file, field: "shape", detail: "\(DataError.format(shape)) is too large") }
            extent = product
            total *= dim
        }
        return total
    }

    /// The raw element bytes (already bounds-checked in `init`).
    var data: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes.all[dataOffset..<dataOffset + count * dtype.byteSize])
    }

    /// The values of a 1-D integer or boolean array, as labels.
    public func labels() throws -> [Int] {
        guard shape.count == 1 else { throw DataError.wrongRank(file: name, shape: shape, expected: "1-D labels (N,)") }
        let raw = data
        let n = shape[0]
        switch dtype {
        case .uint8, .bool: return raw.map { Int($0) }
        case .int32: return (0..<n).map { Int(raw.littleEndian(at: $0 * 4, as: Int32.self)) }
        case .int64: return (0..<n).map { Int(raw.littleEndian(at: $0 * 8, as: Int64.self)) }
        case .float32, .float64:
            throw DataError.unsupportedDType(file: name, dtype: "'\(dtype.descr)' for labels", supported: "|u1, |b1, <i4, <i8")
        }
    }
}

/// The three fields of a .npy header dict, parsed from its Python literal text.
///
/// A real parser rather than pattern matching, so that a header with unusual spacing,
/// key order or a Python 2 `3L` dimension is read correctly, and anything else (a
/// structured dtype's list, a missing key) fails naming the field.
struct NumPyHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    init(parsing text: String, file: String) throws {
        var scanner = Scanner(Array(text.utf8), file: file)
        var fields = [String: Value]()
        try scanner.expect("{")
        while try scanner.peek() != UInt8(ascii: "}") {
            guard case .string(let key) = try scanner.value() else { throw scanner.error("a quoted key") }
            try scanner.expect(":")
            fields[key] = try scanner.value()
            if try scanner.peek() == UInt8(ascii: ",") { try scanner.expect(",") }
        }
        func field(_ key: String) throws -> Value {
            guard let value = fields[key] else { throw DataError.badHeader(file: file, field: key, detail: "missing") }
            return value
        }
        switch try field("descr") {
        case .string(let s): descr = s
        case let other: throw DataError.unsupportedDType(file: file, dtype: "\(other) (a structured dtype)", supported: "plain numeric dtypes")
        }
        guard case .bool(let fortran) = try field("fortran_order") else {
            throw DataError.badHeader(file: file, field: "fortran_order", detail: "not True or False")
        }
        fortranOrder = fortran
        guard case .tuple(let dims) = try field("shape") else {
            throw DataError.badHeader(file: file, field: "shape", detail: "not a tuple of integers")
        }
        shape = dims
    }

    enum Value: CustomStringConvertible {
        case string(String), bool(Bool), tuple([Int]), other(String)
        var description: String {
            switch self {
            case .string(let s): "'\(s)'"
            case .bool(let b): b ? "True" : "False"
            case .tuple(let t): DataError.format(t)
            case .other(let s): s
            }
        }
    }

    struct Scanner {
        let bytes: [UInt8]
        let file: String
        var at = 0

        init(_ bytes: [UInt8], file: String) {
            self.bytes = bytes
            self.file = file
        }

        func error(_ wanted: String) -> DataError {
            DataError.badHeader(file: file, field: "header", detail: "expected \(wanted) at character \(at)")
        }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x09 || bytes[at] == 0x0D { at += 1 }
        }

        mutating func peek() throws -> UInt8 {
            skipSpace()
            guard at < bytes.count else { throw error("more text (the header ends early)") }
            return bytes[at]
        }

        mutating func expect(_ c: Character) throws {
            guard try peek() == c.asciiValue else { throw error("'\(c)'") }
            at += 1
        }

        mutating func value() throws -> Value {
            let c = try peek()
            switch c {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                at += 1
                let start = at
                while at < bytes.count, bytes[at] != c { at += 1 }
                guard at < bytes.count else { throw error("a closing quote") }
                defer { at += 1 }
                return .string(String(decoding: bytes[start..<at], as: UTF8.self))
            case UInt8(ascii: "("):
                at += 1
                var dims = [Int]()
                while try peek() != UInt8(ascii: ")") {
                    dims.append(try integer())
                    if try peek() == UInt8(ascii: ",") { at += 1 }
                }
                at += 1
                return .tuple(dims)
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                // A structured dtype's field list: skip it whole, the caller refuses it.
                let start = at
                var depth = 0
                repeat {
                    if bytes[at] == UInt8(ascii: "[") || bytes[at] == UInt8(ascii: "{") || bytes[at] == UInt8(ascii: "(") { depth += 1 }
                    if bytes[at] == UInt8(ascii: "]") || bytes[at] == UInt8(ascii: "}") || bytes[at] == UInt8(ascii: ")") { depth -= 1 }
                    at += 1
                } while depth > 0 && at < bytes.count
                guard depth == 0 else { throw error("a closing bracket") }
                return .other(String(decoding: bytes[start..<at], as: UTF8.self))
            default:
                let start = at
                while at < bytes.count, (bytes[at] >= UInt8(ascii: "A") && bytes[at] <= UInt8(ascii: "z")) { at += 1 }
                switch String(decoding: bytes[start..<at], as: UTF8.self) {
                case "True": return .bool(true)
                case "False": return .bool(false)
                default: throw error("a string, True, False or a tuple")
                }
            }
        }

        mutating func integer() throws -> Int {
            _ = try peek()
            let start = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
            guard at > start, let value = Int(String(decoding: bytes[start..<at], as: UTF8.self)) else {
                throw error("a non-negative integer dimension")
            }
            if at < bytes.count, bytes[at] == UInt8(ascii: "L") { at += 1 }  // Python 2 long
            return value
        }
    }
}
