import Foundation
import SNNGraph
import SNNTensor
import SwiftProtobuf

/// Reads and writes single tensors as serialized ONNX TensorProtos (`.pb`), the format
/// of ONNX's backend test data (test_data_set_N/input_0.pb, output_0.pb).
public enum TensorFile {
    /// A tensor with the name stored in its file.
    public struct Named: Sendable {
        /// The TensorProto's name: the graph input or output it belongs to.
        public var name: String
        /// The values as float32 (integer tensors converted).
        public var tensor: Tensor
    }

    /// Reads one serialized TensorProto; throws `ONNXError` naming the file when it is unreadable or
    /// malformed.
    public static func read(contentsOf url: URL) throws -> Named {
        let file = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ONNXError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        let proto: Onnx_TensorProto
        do { proto = try Onnx_TensorProto(serializedBytes: data) } catch {
            throw ONNXError.corrupt(file: file, detail: "not a serialized TensorProto: \(error)")
        }
        switch try TensorDecoder(file: file, baseDirectory: url.deletingLastPathComponent()).decode(proto) {
        case .float(let t): return Named(name: proto.name, tensor: t)
        case .int(let t): return Named(name: proto.name, tensor: Tensor(shape: t.shape, storage: t.values.map { Float($0) }))
        }
    }

    /// `tensor` as a serialized float32 TensorProto named `name`.
    public static func serialize(_ tensor: Tensor, name: String) throws -> Data {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        proto.dataType = Int32(ElementType.float.rawValue)
        proto.rawData = tensor.storage.withUnsafeBufferPointer { Data(buffer: $0) }
        return try proto.serializedData()
    }

    /// Reads `input_N.pb` / `output_N.pb` from an ONNX test-data folder, in index order.
    public static func readTestData(directory: URL) throws -> (inputs: [Named], outputs: [Named]) {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ONNXError.unreadable(file: directory.path, reason: "no such folder; give the ONNX test-data folder that holds input_0.pb and output_0.pb")
        }
        func series(_ prefix: String) throws -> [Named] {
            var result = [Named]()
            var i = 0
            while true {
                let url = directory.appendingPathComponent("\(prefix)_\(i).pb")
                guard FileManager.default.fileExists(atPath: url.path) else { break }
                result.append(try read(contentsOf: url))
                i += 1
            }
            return result
        }
        return (try series("input"), try series("output"))
    }
}
