import SNNGraph
import SNNTensor

/// Swaps ReLU -> MaxPool into MaxPool -> ReLU ("pre-neuron max pooling").
///
/// max(ReLU(z)) = ReLU(max(z)) because ReLU is monotone, so the ANN is unchanged. In the
/// spiking network the pool then acts on analog currents and the integrate-and-fire
/// neuron comes after it, with the pooled shape (docs/method.md,
/// "What each operator becomes").
public struct MoveMaxPoolBeforeNeuron: GraphPass {
    /// The pass's name in messages.
    public let name = "maxpool-before-neuron"
    /// The pass; it has no settings.
    public init() {}

    /// The graph with every ReLU -> MaxPool pair (ReLU read only by the pool) swapped.
    public func apply(to graph: Graph) throws -> Graph {
        var g = graph
        var changed = true
        while changed {
            changed = false
            let consumers = g.consumers()
            let outputs = Set(g.outputs.map(\.name))
            for (i, relu) in g.nodes.enumerated() where relu.op.conversionRole == .neuron {
                guard let reluOut = relu.outputs.first, !outputs.contains(reluOut), let readers = consumers[reluOut],
                      readers.count == 1, case .maxPool = g.nodes[readers[0]].op else { continue }
                let p = readers[0]
                let pool = g.nodes[p]
                // z -> pool -> (pooled z) -> relu -> pool's old output name
                var newPool = pool
                newPool.inputs = [relu.inputs[0]]
                newPool.outputs = [reluOut]
                var newRelu = relu
                newRelu.inputs = [reluOut] + relu.inputs.dropFirst()
                newRelu.outputs = pool.outputs
                g.nodes[i] = newPool
                g.nodes[p] = newRelu
                changed = true
                break
            }
        }
        return g
    }
}
