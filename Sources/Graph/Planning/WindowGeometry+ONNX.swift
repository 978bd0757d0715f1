import SNNTensor

extension WindowGeometry {
    /// Resolves ONNX padding (explicit pads or auto_pad) into a 2-D window; `node` names
    /// the node in errors.
    public static func resolve(node: String, kernel: [Int], strides: [Int], dilations: [Int], pads: [Int],
                               autoPad: Operator.AutoPad, inputSpatial: [Int]) throws -> WindowGeometry {
        guard kernel.count == 2 else {
            throw GraphError.invalidAttribute(node: node, message: "only 2-D windows are supported (kernel_shape \(kernel))")
        }
        let strides = strides.isEmpty ? [1, 1] : strides
        let dilations = dilations.isEmpty ? [1, 1] : dilations
        guard strides.count == 2, dilations.count == 2, strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }),
              kernel.allSatisfy({ $0 > 0 }) else {
            throw GraphError.invalidAttribute(node: node, message: "strides \(strides), dilations \(dilations) and kernel \(kernel) must be positive pairs")
        }
        try checkBounded(node: node, ["kernel_shape": kernel, "strides": strides, "dilations": dilations, "pads": pads])
        var begin = [0, 0], end = [0, 0]
        switch autoPad {
        case .notSet:
            if !pads.isEmpty {
                guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else {
                    throw GraphError.invalidAttribute(node: node, message: "pads \(pads) must be 4 non-negative values")
                }
                begin = [pads[0], pads[1]]
                end = [pads[2], pads[3]]
            }
        case .valid:
            break
        case .sameUpper, .sameLower:
            for axis in 0..<2 {
                let out = (inputSpatial[axis] + strides[axis] - 1) / strides[axis]
                let span = (kernel[axis] - 1) * dilations[axis] + 1
                let total = max((out - 1) * strides[axis] + span - inputSpatial[axis], 0)
                begin[axis] = autoPad == .sameUpper ? total / 2 : total - total / 2
                end[axis] = total - begin[axis]
            }
        }
        return WindowGeometry(kernel: (kernel[0], kernel[1]), stride: (strides[0], strides[1]),
                              dilation: (dilations[0], dilations[1]),
                              pads: (top: begin[0], left: begin[1], bottom: end[0], right: end[1]))
    }

    /// Throws unless every window attribute is at most `Planner.maximumElements`: larger
    /// values are mistakes, and products of two bounded values cannot overflow an Int.
    static func checkBounded(node: String, _ attributes: [String: [Int]]) throws {
        for (name, values) in attributes.sorted(by: { $0.key < $1.key }) where values.contains(where: { $0 > Planner.maximumElements || $0 < -Planner.maximumElements }) {
            throw GraphError.invalidAttribute(node: node, message: "\(name) \(values) is out of range (at most \(Planner.maximumElements))")
        }
    }
}
