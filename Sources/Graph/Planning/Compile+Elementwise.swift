import Foundation
import SNNTensor

extension NodeCompiler {
    /// Relu, Clip, LeakyRelu, Sigmoid, Exp: one value in, one value out, shape unchanged.
    func unary() throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        let shape = x.shape
        let transform: @Sendable (inout Tensor) -> Void
        switch node.op {
        case .relu, .clip:
            // The same `Clamp` a convolution applies when the activation is fused into it.
            var bounds = Clamp.relu
            if case .clip(let low, let high) = node.op {
                bounds = Clamp(lower: low ?? -.infinity, upper: high ?? .infinity)
                guard bounds.lower <= bounds.upper else {
                    throw GraphError.invalidAttribute(node: node.name, message: "Clip min \(bounds.lower) > max \(bounds.upper)")
                }
            }
            let clamp = bounds
            transform = { t in t.storage.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] = clamp(y[i]) } } }
        case .leakyRelu(let alpha):
            transform = { t in t.storage.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] = y[i] < 0 ? y[i] * alpha : y[i] } } }
        case .sigmoid:
            transform = { t in t.storage.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] = 1 / (1 + Foundation.exp(-y[i])) } } }
        case .exp:
            transform = { t in t.storage.withUnsafeMutableBufferPointer { y in for i in 0..<y.count { y[i] = Foundation.exp(y[i]) } } }
        default:
            preconditionFailure("unary() called for \(node.op.onnxType)")
        }
        return try foldingIfConstant(single(shape) { inputs in
            var t = inputs[0]!
            transform(&t)
            return t
        })
    }

    /// The clip-ANN form of an IF neuron layer: min(max(x, 0), theta_c).
    func ifNeuron() throws -> CompiledNode {
        let x = try required(0, "current")
        try requireFloat(x)
        let theta = try floatConstant(1, "threshold")
        try Self.validateThresholds(theta, for: x.shape, node: node.name, value: node.inputs[1])
        if let input = node.initialPotentialInput {
            let channels = x.shape.count >= 2 ? x.shape[1] : 0
            if let problem = Graph.initialPotentialProblem(try floatConstant(2, "initial potential").storage, channels: channels) {
                throw GraphError.invalidAttribute(node: node.name, message: "initial potential '\(input)': \(problem). Re-run the calibration.")
            }
        }
        let channels = theta.count
        let inner = channels == 1 ? x.shape.reduce(1, *) : x.shape[2...].reduce(1, *)
        let thresholds = theta.storage
        return single(x.shape) { inputs in
            let t = inputs[0]!
            return Tensor(shape: t.shape) { out in
                t.storage.withUnsafeBufferPointer { z in
                    let planes = z.count / max(inner, 1)
                    for plane in 0..<planes {
                        let limit = thresholds[channels == 1 ? 0 : plane % channels]
                        let base = plane * inner
                        for i in 0..<inner { out[base + i] = min(max(z[base + i], 0), limit) }
                    }
                }
            }
        }
    }

    /// Thresholds must be positive, finite, and one per channel (axis 1) or a single value.
    static func validateThresholds(_ theta: Tensor, for shape: [Int], node: String, value: String) throws {
        guard shape.count >= 2, theta.count == 1 || theta.count == shape[1] else {
            throw GraphError.shapeMismatch(node: node, message: "threshold '\(value)' has \(theta.count) values for \(shape.count >= 2 ? shape[1] : 0) channels of \(shape)")
        }
        if let bad = theta.storage.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
            throw GraphError.invalidAttribute(node: node, message: "threshold '\(value)'[\(bad)] = \(theta.storage[bad]); thresholds must be positive and finite. Re-run the conversion.")
        }
    }

    func softmax(axis: Int, coerceTo2D: Bool) throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        let a = try normalizeAxis(axis, rank: x.shape.count)
        return try foldingIfConstant(single(x.shape) { Softmax.forward($0[0]!, axis: a, coerceTo2D: coerceTo2D) })
    }

    /// Identity and inference-mode Dropout (whose optional mask output is all ones).
    func passThrough() throws -> CompiledNode {
        let x = try required(0, "input")
        if let constant = x.constant {
            var outputs = [constant]
            if node.outputs.count > 1 { outputs.append(.float(Tensor(shape: x.shape, repeating: 1))) }
            return .folded(outputs)
        }
        let shape = x.shape
        let withMask = node.outputs.count > 1 && !node.outputs[1].isEmpty
        return .kernel(outputShapes: withMask ? [shape, shape] : [shape]) { inputs in
            withMask ? [inputs[0]!, Tensor(shape: shape, repeating: 1)] : [inputs[0]!]
        }
    }

    func binary(_ op: Operator.BinaryOperator) throws -> CompiledNode {
        let a = try required(0, "A"), b = try required(1, "B")
        guard let outShape = Broadcast.shape(a.shape, b.shape) else {
            throw fail("cannot broadcast \(a.shape) with \(b.shape)")
        }
        // Integer shape arithmetic folds at planning time.
        if case .int(let x)? = a.constant, case .int(let y)? = b.constant {
            let f: (Int64, Int64) -> Int64
            switch op {
            case .add: f = { $0 &+ $1 }
            case .sub: f = { $0 &- $1 }
            case .mul: f = { $0 &* $1 }
            case .div: f = { $1 == 0 ? 0 : $0 / $1 }
            case .min: f = { Swift.min($0, $1) }
            case .max: f = { Swift.max($0, $1) }
            }
            let (values, shape) = Broadcast.apply(x.values, x.shape, y.values, y.shape, f)!
            return .folded([.int(IntTensor(shape: shape, values: values))])
        }
        try requireFloat(a)
        try requireFloat(b)
        let operation: Broadcast.Operation = switch op {
        case .add: .add
        case .sub: .subtract
        case .mul: .multiply
        case .div: .divide
        case .min: .minimum
        case .max: .maximum
        }
        return try foldingIfConstant(single(outShape) { inputs in
            Broadcast.apply(inputs[0]!, inputs[1]!, operation)!
        })
    }
}
