/// A rewrite of the graph that keeps what it computes (up to float rounding, where noted).
/// Conversion is a fixed sequence of passes; each is a small, separately tested unit.
public protocol GraphPass {
    /// A short name for messages.
    var name: String { get }
    /// The rewritten graph; throws when the graph cannot be rewritten as the pass requires.
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

    /// Drops the nodes none of the graph outputs depends on, then the constants left unread.
    public mutating func removeUnusedNodes() {
        var needed = Set(outputs.map(\.name))
        var kept = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() where nodes[i].outputs.contains(where: needed.contains) {
            kept[i] = true
            needed.formUnion(nodes[i].inputs)
        }
        nodes = nodes.indices.filter { kept[$0] }.map { nodes[$0] }
        removeUnusedConstants()
    }

    /// Drops constants no node reads any more.
    public mutating func removeUnusedConstants() {
        var used = Set(outputs.map(\.name))
        for node in nodes { used.formUnion(node.inputs) }
        constants = constants.filter { used.contains($0.key) }
        integerConstants = integerConstants.filter { used.contains($0.key) }
    }
}
