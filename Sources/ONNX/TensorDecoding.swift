import Foundation
import SNNGraph
import SNNTensor

/// Turns ONNX TensorProtos into SNNKit constants.
///
/// Data may sit in `raw_data` (little-endian bytes), in the typed repeated fields, or in
/// an external file beside the model (models over 2 GB must do this). Every path checks
/// that the byte count matches the declared dimensions before allocating, so a damaged
/// file gives an error naming the tensor instead of garbage weights.
struct TensorDecoder {
    let file: String
    /// Folder that external data locations are relative to.
    let baseDirectory: URL?

    static let maximumElements = 1 << 31

    func decode(_ proto: Onnx_TensorProto, name overrideName: String? = nil) throws -> Constant {
        let name = overrideName ?? proto.name
        let dims = proto.dims.map { Int($0) }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw ONNXError.badTensor(file: file, tensor: name, detail: "negative dimension in \(dims)") }
        var count = 1
        for d in dims {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= Self.maximumElements else {
                throw ONNXError.badTensor(file: file, tensor: name, detail: "absurd dimensions \(dims)")
            }
            count = p
        }
        guard let type = ElementType(rawValue: Int(proto.dataType)) else {
            throw ONNXError.unsupportedElementType(file: file, tensor: name, type: "code \(proto.dataType)")
        }
        var raw: Data? = proto.hasRawData ? proto.rawData : nil
        if proto.dataLocation == .external {
            raw = try externalBytes(proto, name: name)
        }
        switch type {
        case .float, .double, .float16, .bfloat16:
            let values: [Float]
            if let raw {
                values = try floats(raw, type: type, count: count, name: name)
            } else if type == .float {
                values = proto.floatData
            } else if type == .double {
                values = proto.doubleData.map { Float($0) }
            } else {
                // float16/bfloat16 in int32_data hold the 16-bit pattern.
                values = proto.int32Data.map { Self.halfToFloat(UInt16(truncatingIfNeeded: $0), bfloat: type == .bfloat16) }
            }
            guard values.count == count else {
                throw ONNXError.badTensor(file: file, tensor: name, detail: "holds \(values.count) values but its dimensions \(dims) need \(count)")
            }
            return .float(Tensor(shape: dims, storage: values))
        case .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32, .uint64, .bool:
            let values: [Int64]
            if let raw {
                values = try integers(raw, type: type, count: count, name: name)
            } else if type == .int64 {
                values = proto.int64Data
            } else if type == .uint64 || type == .uint32 {
                values = proto.uint64Data.map { Int64(truncatingIfNeeded: $0) }
            } else {
                values = proto.int32Data.map { Int64($0) }
            }
            guard values.count == count else {
                throw ONNXError.badTensor(file: file, tensor: name, detail: "holds \(values.count) values but its dimensions \(dims) need \(count)")
            }
            return .int(IntTensor(shape: dims, values: values))
        default:
            throw ONNXError.unsupportedElementType(file: file, tensor: name, type: type.name)
        }
    }

    private func floats(_ raw: Data, type: ElementType, count: Int, name: String) throws -> [Float] {
        let width = type == .float ? 4 : type == .double ? 8 : 2
        guard raw.count == count * width else {
            throw ONNXError.badTensor(file: file, tensor: name, detail: "has \(raw.count) bytes of data, expected \(count * width) for \(count) values")
        }
        return raw.withUnsafeBytes { bytes -> [Float] in
            switch type {
            case .float:
                return (0..<count).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .double:
                return (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
            default:
                return (0..<count).map {
                    Self.halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)), bfloat: type == .bfloat16)
                }
            }
        }
    }

    private func integers(_ raw: Data, type: ElementType, count: Int, name: String) throws -> [Int64] {
        let width: Int = switch type {
        case .int64, .uint64: 8
        case .int32, .uint32: 4
        case .int16, .uint16: 2
        default: 1
        }
        guard raw.count == count * width else {
            throw ONNXError.badTensor(file: file, tensor: name, detail: "has \(raw.count) bytes of data, expected \(count * width) for \(count) values")
        }
        return raw.withUnsafeBytes { b -> [Int64] in
            (0..<count).map { i -> Int64 in
                switch type {
                case .int64, .uint64: Int64(littleEndian: b.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))
                case .int32: Int64(Int32(littleEndian: b.loadUnaligned(fromByteOffset: i * 4, as: Int32.self)))
                case .uint32: Int64(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
                case .int16: Int64(Int16(littleEndian: b.loadUnaligned(fromByteOffset: i * 2, as: Int16.self)))
                case .uint16: Int64(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                case .int8: Int64(b.load(fromByteOffset: i, as: Int8.self))
                default: Int64(b.load(fromByteOffset: i, as: UInt8.self))
                }
            }
        }
    }

    private func externalBytes(_ proto: Onnx_TensorProto, name: String) throws -> Data {
        var fields = [String: String]()
        for entry in proto.externalData { fields[entry.key] = entry.value }
        guard let location = fields["location"], !location.isEmpty else {
            throw ONNXError.externalData(file: file, tensor: name, detail: "no location is given")
        }
        guard let base = baseDirectory else {
            throw ONNXError.externalData(file: file, tensor: name, detail: "the model was not loaded from a file, so '\(location)' cannot be found")
        }
        let url = base.appendingPathComponent(location)
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw ONNXError.externalData(file: file, tensor: name, detail: "'\(url.path)' does not exist or cannot be read")
        }
        defer { try? handle.close() }
        let offset = UInt64(fields["offset"].flatMap { UInt64($0) } ?? 0)
        let size = (try? handle.seekToEnd()) ?? 0
        let length = fields["length"].flatMap { UInt64($0) } ?? (size > offset ? size - offset : 0)
        guard offset + length <= size else {
            throw ONNXError.externalData(file: file, tensor: name, detail: "'\(location)' has \(size) bytes, but the tensor needs bytes \(offset)..<\(offset + length)")
        }
        try handle.seek(toOffset: offset)
        return try handle.read(upToCount: Int(length)) ?? Data()
    }

    /// IEEE half (or bfloat16) bit pattern to Float.
    static func halfToFloat(_ bits: UInt16, bfloat: Bool) -> Float {
        if bfloat { return Float(bitPattern: UInt32(bits) << 16) }
        let sign = UInt32(bits & 0x8000) << 16
        var exponent = Int((bits >> 10) & 0x1F)
        var mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            while mantissa & 0x400 == 0 { mantissa <<= 1; exponent -= 1 }
            exponent += 1
            mantissa &= 0x3FF
        } else if exponent == 31 {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
}
