/// A rewrite of the graph that keeps what it computes (up to float rounding, where noted).
/// Conversion is a fixed sequence of passes; each is a small, separately tested unit.
public protocol GraphPass {
    var name: String { get }
    func apply(to graph: Graph) throws -> Graph
}

extension Graph {
    /// Applies passes in order.
    public func applying(_ passes: [any GraphPass]) throws -> Graph {
        try passes.reduce(self) { try $1.apply(to: $0) }
    }

    /// The rewrites that speed up ANN inference without changing its meaning.
    public func simplifiedForInference() throws -> Graph {
        try applying([RemoveIdentities(), FoldBatchNormalization()])
    }

    /// Replaces every read of `old` by `new` (in nodes and graph outputs).
    mutating func rename(value old: String, to new: String) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == old { nodes[i].inputs[j] = new }
        }
        for i in outputs.indices where outputs[i].name == old { outputs[i].name = new }
    }

    /// Drops constants no node reads any more.
    mutating func removeUnusedConstants() {
        var used = Set(outputs.map(\.name))
        for node in nodes { used.formUnion(node.inputs) }
        constants = constants.filter { used.contains($0.key) }
    }
}

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
