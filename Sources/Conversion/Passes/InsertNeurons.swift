import SNNGraph
import SNNTensor

/// Replaces every ReLU and Clip(0, a) by an IF neuron node whose threshold (zero until
/// calibrated) is a graph constant, so calibration writes thresholds and the converted
/// graph serialises as ordinary ONNX with a custom-domain node.
public struct InsertNeurons: GraphPass {
    /// The pass's name in messages.
    public let name = "insert-neurons"
    /// Shapes of the values, from a plan of the graph (to size the thresholds).
    let shapes: [String: [Int]]
    /// Initial membrane potential of the inserted neurons, as a fraction of the threshold.
    public let initialPotential: Float

    /// The pass for a graph planned to `shapes`, with neurons starting at `initialPotential` of their
    /// threshold.
    public init(shapes: [String: [Int]], initialPotential: Float = 0.5) {
        self.shapes = shapes
        self.initialPotential = initialPotential
    }

    /// The graph with neurons in place of its ReLUs.
    public func apply(to graph: Graph) throws -> Graph { try insert(into: graph).graph }

    /// The graph with neurons in place of its ReLUs, and the neuron layers in execution order.
    public func insert(into graph: Graph) throws -> (graph: Graph, layers: [NeuronLayer]) {
        var g = graph
        var layers = [NeuronLayer]()
        for (i, node) in graph.nodes.enumerated() {
            let cap: Float?
            switch node.op {
            case .relu: cap = nil
            case .clip(let low, let high) where (low ?? -1) == 0: cap = high
            default: continue
            }
            guard let shape = shapes[node.inputs[0]], shape.count >= 2 else {
                throw GraphError.shapeMismatch(node: node.name, message: "a neuron layer needs a batch and a channel axis")
            }
            let thresholdName = node.name + ".threshold"
            g.constants[thresholdName] = .float(Tensor(zeros: [shape[1]]))
            g.nodes[i] = Node(name: node.name, op: .ifNeuron(initialPotential: initialPotential),
                              inputs: [node.inputs[0], thresholdName], outputs: node.outputs)
            layers.append(NeuronLayer(node: node.name, threshold: thresholdName, channels: shape[1], cap: cap))
        }
        return (g, layers)
    }
}
