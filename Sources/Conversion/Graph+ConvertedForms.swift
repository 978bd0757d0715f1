import SNNGraph

extension Graph {
    /// The ANN a converted graph came from: every IF neuron back to a ReLU. BatchNorm stays
    /// folded, which changes results by float rounding only.
    public func restoringReLUs() -> Graph {
        var g = self
        for i in g.nodes.indices {
            if case .ifNeuron = g.nodes[i].op {
                g.nodes[i] = Node(name: g.nodes[i].name, op: .relu, inputs: [g.nodes[i].inputs[0]], outputs: g.nodes[i].outputs)
            }
        }
        g.removeUnusedConstants()
        return g
    }

    /// The clip-ANN as standard ONNX: each IF neuron becomes ReLU followed by an element-wise
    /// Min with its thresholds (shaped [C, 1, 1] to broadcast over the channel axis), which
    /// any ONNX runtime can execute.
    public func clipANNForExport(shapes: [String: [Int]]) -> Graph {
        var g = self
        var rewritten = [Node]()
        for node in g.nodes {
            guard case .ifNeuron = node.op, let theta = g.floatConstant(node.inputs[1]) else { rewritten.append(node); continue }
            let rank = shapes[node.inputs[0]]?.count ?? 4
            let thetaName = node.inputs[1] + "_broadcast"
            let shape = theta.count == 1 ? [1] : [theta.count] + [Int](repeating: 1, count: max(0, rank - 2))
            g.constants[thetaName] = .float(theta.reshaped(shape))
            let reluOut = node.name + "_relu"
            rewritten.append(Node(name: node.name + "_relu", op: .relu, inputs: [node.inputs[0]], outputs: [reluOut]))
            rewritten.append(Node(name: node.name + "_clip", op: .binary(.min), inputs: [reluOut, thetaName], outputs: node.outputs))
        }
        g.nodes = rewritten
        g.removeUnusedConstants()
        return g
    }
}
