import SNNGraph
import SNNTensor

extension GraphBuilder {
    /// A DequantizeLinear of constants, folded at import: y = (x - zero_point) x scale, per
    /// tensor or per slice along `axis`. Returns nil when an input is not a constant (the
    /// node then stays and is reported as unsupported); `encoding` is set when the zero
    /// point is 0, so the integers are kept as the constant's `IntegerEncoding`.
    func dequantizedConstant(_ node: Onnx_NodeProto, constants: [String: Constant],
                             initializers: [Onnx_TensorProto]) throws -> (value: Tensor, encoding: IntegerEncoding?)? {
        guard node.input.count >= 2, node.output.count == 1,
              case .int(let x)? = constants[node.input[0]], case .float(let scale)? = constants[node.input[1]] else { return nil }
        var zeroPoint = [Int64](repeating: 0, count: scale.count)
        if node.input.count > 2, !node.input[2].isEmpty {
            guard case .int(let z)? = constants[node.input[2]], z.values.count == scale.count else {
                throw ONNXError.badAttribute(file: file, node: node.name, detail: "the zero point '\(node.input[2])' must be an integer constant of the scale's size")
            }
            zeroPoint = z.values
        }
        let rank = x.shape.count
        var axis = try NodeAttributes(node, file: file).int("axis", default: 1)
        if axis < 0 { axis += rank }
        guard scale.count == 1 || (axis >= 0 && axis < rank && x.shape[axis] == scale.count) else {
            throw ONNXError.badAttribute(file: file, node: node.name,
                                         detail: "\(scale.count) scales do not match axis \(axis) of the integers' shape \(x.shape)")
        }
        let encoding = IntegerEncoding(axis: scale.count > 1 ? axis : 0, scales: scale.storage,
                                       storageBits: Self.storageBits(of: node.input[0], in: initializers))
        let values = x.values.enumerated().map { i, q -> Float in
            let slice = scale.count == 1 ? 0 : (i / max(1, x.shape.dropFirst(axis + 1).reduce(1, *))) % scale.count
            return Float(q - zeroPoint[slice]) * scale.storage[slice]
        }
        return (Tensor(shape: x.shape, storage: values), zeroPoint.allSatisfy { $0 == 0 } ? encoding : nil)
    }

    /// 8 for an INT8 / UINT8 initializer, 32 otherwise.
    static func storageBits(of name: String, in initializers: [Onnx_TensorProto]) -> Int {
        guard let t = initializers.first(where: { $0.name == name }) else { return 32 }
        return [ElementType.int8, .uint8].map { Int32($0.rawValue) }.contains(t.dataType) ? 8 : 32
    }
}
