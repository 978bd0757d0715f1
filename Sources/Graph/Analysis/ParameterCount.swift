extension Operator {
    /// Input positions that hold learned parameters: weights, biases and normalisation
    /// statistics. Constants elsewhere (resize scales, shapes, decode offsets) are not
    /// parameters.
    public var parameterInputs: [Int] {
        switch self {
        case .conv, .convTranspose, .gemm: [1, 2]
        case .matMul: [1]
        case .batchNormalization: [1, 2, 3, 4]
        default: []
        }
    }
}

extension Graph {
    /// Learned parameters: the elements of the constants that feed a parameter input
    /// (`Operator.parameterInputs`), each constant counted once however often it is used.
    public func parameterCount() -> Int {
        var counted = Set<String>()
        var total = 0
        for node in nodes {
            for position in node.op.parameterInputs {
                guard let name = node.input(position), let constant = constants[name], counted.insert(name).inserted else { continue }
                total += constant.shape.reduce(1, *)
            }
        }
        return total
    }
}
