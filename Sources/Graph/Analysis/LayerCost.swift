import SNNTensor

/// Parameters and multiply-accumulates of one node, from the planned shapes.
public struct LayerCost: Sendable, Codable, Equatable {
    /// The node's name.
    public var node: String
    /// The ONNX operator type.
    public var op: String
    /// Shape of the node's first output.
    public var outputShape: [Int]
    /// Elements of the constants the node reads (weights, biases, BatchNorm statistics); a constant
    /// shared by several nodes counts once, at the first.
    public var parameters: Int
    /// Multiply-accumulates for the whole batch of the plan.
    public var macs: Int
}

extension ExecutionPlan {
    /// Cost of every executed node. MACs count the dense multiply-accumulates of
    /// convolutions and matrix products (the operations an ANN pays for); element-wise
    /// and pooling work is not counted, as is usual when comparing against SOPs.
    public func layerCosts() -> [LayerCost] {
        var costs = [LayerCost]()
        var counted = Set<String>()
        func params(_ name: String?) -> Int {
            guard let name, graph.constants[name] != nil, !counted.contains(name) else { return 0 }
            counted.insert(name)
            return graph.constants[name]!.shape.reduce(1, *)
        }
        for (index, written) in executedSteps {
            let node = graph.nodes[index]
            let out = written.first.flatMap { shapes[$0] } ?? []
            let outCount = out.reduce(1, *)
            var macs = 0
            let p = node.op.parameterInputs.reduce(0) { $0 + params(node.input($1)) }
            switch node.op {
            case .conv:
                let w = node.input(1).flatMap { shapes[$0] } ?? []
                if w.count >= 3 { macs = outCount * w[1...].reduce(1, *) }
            case .convTranspose:
                let w = node.input(1).flatMap { shapes[$0] } ?? []
                let x = node.input(0).flatMap { shapes[$0] } ?? []
                if w.count == 4, x.count == 4 { macs = x.reduce(1, *) * w[1...].reduce(1, *) }
            case .gemm(let g):
                let a = node.input(0).flatMap { shapes[$0] } ?? []
                if a.count == 2 { macs = outCount * (g.transA ? a[0] : a[1]) }
            case .matMul:
                let a = node.input(0).flatMap { shapes[$0] } ?? []
                if let k = a.last { macs = outCount * k }
            default:
                break
            }
            costs.append(LayerCost(node: node.name, op: node.op.onnxType, outputShape: out, parameters: p, macs: macs))
        }
        return costs
    }
}
