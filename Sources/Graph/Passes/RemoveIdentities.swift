/// Removes Identity and inference-mode Dropout nodes by wiring their readers to their input.
public struct RemoveIdentities: GraphPass {
    /// The pass's name in messages.
    public let name = "remove-identities"
    /// The pass; it has no settings.
    public init() {}

    /// The graph with Identity and Dropout nodes bypassed; graph outputs keep their names.
    public func apply(to graph: Graph) throws -> Graph {
        var g = graph
        let graphOutputs = Set(graph.outputs.map(\.name))
        var removed = Set<Int>()
        for (i, node) in graph.nodes.enumerated() {
            guard node.op == .identity || node.op == .dropout, let input = node.input(0), let output = node.outputs.first else { continue }
            // A graph output keeps its name: only drop the node if its input is not itself an output.
            if graphOutputs.contains(output) && (graphOutputs.contains(input) || graph.inputs.contains { $0.name == input }
                || graph.constants[input] != nil) { continue }
            if graphOutputs.contains(output) {
                // Rename the producer's value instead, so the output name survives.
                g.rename(value: input, to: output)
                for j in g.nodes.indices { for k in g.nodes[j].outputs.indices where g.nodes[j].outputs[k] == input { g.nodes[j].outputs[k] = output } }
                if let c = g.constants.removeValue(forKey: input) { g.constants[output] = c }
            } else {
                g.rename(value: output, to: input)
            }
            removed.insert(i)
        }
        g.nodes = g.nodes.enumerated().filter { !removed.contains($0.offset) }.map(\.element)
        return g
    }
}
