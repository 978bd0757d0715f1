import Foundation
import SNNGraph
import SNNTensor

/// Integer constants (`Graph.integerConstants`) as ONNX stores quantized weights: an INT8 or
/// INT32 initializer, its scales, and a DequantizeLinear node that yields the float value
/// under the constant's own name, so any ONNX reader (onnxruntime, Netron) sees the integers.
extension ONNXExporter {
    /// The initializers and DequantizeLinear nodes of `graph`'s integer constants, and the
    /// names of the float constants they replace.
    static func integerConstantProtos(_ graph: Graph, opset: Int) throws -> (initializers: [Onnx_TensorProto], nodes: [Onnx_NodeProto], replaced: Set<String>) {
        var initializers = [Onnx_TensorProto](), nodes = [Onnx_NodeProto](), replaced = Set<String>()
        for (name, encoding) in graph.integerConstants.sorted(by: { $0.key < $1.key }) {
            guard let tensor = graph.floatConstant(name) else { continue }
            guard let integers = encoding.integers(of: tensor.storage, shape: tensor.shape) else {
                throw ONNXError.badTensor(file: graph.source, tensor: name,
                                          detail: "it is marked as integers times its scales but holds a value that is not; quantize the model again")
            }
            if encoding.scales.count > 1 && opset < 13 {
                throw ONNXError.badTensor(file: graph.source, tensor: name,
                                          detail: "per-channel scales need ONNX opset 13 or later (the model is opset \(opset)); re-export the network with opset 13+")
            }
            var q = Onnx_TensorProto()
            q.name = name + ".integers"
            q.dims = tensor.shape.map { Int64($0) }
            if encoding.storageBits <= 8 {
                q.dataType = Int32(ElementType.int8.rawValue)
                q.rawData = Data(integers.map { UInt8(bitPattern: Int8($0)) })
            } else {
                q.dataType = Int32(ElementType.int32.rawValue)
                q.rawData = integers.map { $0.littleEndian }.withUnsafeBufferPointer { Data(buffer: $0) }
            }
            let scaleShape = encoding.scales.count > 1 ? [encoding.scales.count] : []
            initializers += [q, tensorProto(.float(Tensor(shape: scaleShape, storage: encoding.scales)), name: name + ".scale")]
            var node = Onnx_NodeProto()
            node.name = name + ".dequantize"
            node.opType = "DequantizeLinear"
            node.input = [q.name, name + ".scale"]
            node.output = [name]
            if encoding.scales.count > 1 {
                var axis = Onnx_AttributeProto(); axis.name = "axis"; axis.type = .int; axis.i = Int64(encoding.axis)
                node.attribute = [axis]
            }
            nodes.append(node)
            replaced.insert(name)
        }
        return (initializers, nodes, replaced)
    }
}
