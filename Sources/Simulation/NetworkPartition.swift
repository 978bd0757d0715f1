import SNNGraph

/// Splits a converted network by how its values change in time.
///
/// - static: nodes that do not depend on any neuron. Direct input coding feeds the same
///   image every step, so they are computed once (the first layer's current is constant).
/// - dynamic: neurons and everything downstream of them that still feeds a neuron; these
///   run layer by layer over chunks of time steps.
/// - readout tail: nodes after the last neuron. Whatever they compute runs once on the
///   time-averaged input (non-linear parts such as softmax must, linear parts may).
struct NetworkPartition {
    let staticNodes: [Int]
    let dynamicNodes: [Int]
    let tailNodes: [Int]
    /// Values the static part hands to the dynamic part or to the tail.
    let staticOutputs: [String]
    /// Values the dynamic part hands to the tail (the readout), or graph outputs it produces.
    let readoutValues: [String]

    init(_ graph: Graph) {
        let consumers = graph.consumers()
        var downstream = Set<Int>()  // depends on a neuron's output
        for (i, node) in graph.nodes.enumerated() {
            if case .ifNeuron = node.op { downstream.insert(i) }
            if downstream.contains(i) {
                for out in node.outputs { for c in consumers[out] ?? [] { downstream.insert(c) } }
            }
        }
        // Graph nodes are in execution order, so one forward sweep above sees producers first.
        let tail = graph.readoutTail()
        staticNodes = graph.nodes.indices.filter { !downstream.contains($0) }
        dynamicNodes = graph.nodes.indices.filter { downstream.contains($0) && !tail.contains($0) }
        tailNodes = graph.nodes.indices.filter { downstream.contains($0) && tail.contains($0) }
        let staticSet = Set(staticNodes), dynamicSet = Set(dynamicNodes)
        let outputs = Set(graph.outputs.map(\.name))
        var handedOn = [String](), readout = [String]()
        for i in staticNodes {
            for out in graph.nodes[i].outputs where !out.isEmpty {
                let readers = consumers[out] ?? []
                if outputs.contains(out) || readers.contains(where: { !staticSet.contains($0) }) { handedOn.append(out) }
            }
        }
        for i in dynamicNodes {
            for out in graph.nodes[i].outputs where !out.isEmpty {
                let readers = consumers[out] ?? []
                if outputs.contains(out) || readers.contains(where: { !dynamicSet.contains($0) }) { readout.append(out) }
            }
        }
        staticOutputs = handedOn
        readoutValues = readout
    }
}
