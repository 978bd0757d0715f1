import SNNTensor

/// One spiking layer of a converted network: the IF neuron node and its threshold tensor.
public struct NeuronLayer: Sendable, Equatable {
    /// Name of the ai.snnkit.IFNeuron node.
    public var node: String
    /// Name of the threshold constant (one value per channel along axis 1).
    public var threshold: String
    /// Channels along axis 1 (per neuron for a fully connected layer).
    public var channels: Int
    /// Upper bound from ReLU6 / Clip(0, a): the threshold never exceeds it.
    public var cap: Float?

    /// A layer record: the node, its threshold constant, its channel count and cap.
    public init(node: String, threshold: String, channels: Int, cap: Float?) {
        self.node = node
        self.threshold = threshold
        self.channels = channels
        self.cap = cap
    }
}

extension Graph {
    /// The neuron layers of a converted graph, in execution order.
    public func neuronLayers() -> [NeuronLayer] {
        nodes.compactMap { node in
            guard case .ifNeuron = node.op, node.inputs.count > 1, let theta = floatConstant(node.inputs[1]) else { return nil }
            return NeuronLayer(node: node.name, threshold: node.inputs[1], channels: theta.count, cap: nil)
        }
    }

    /// v(0) / theta of IF node `node`, per channel: its third input when it has one (a
    /// calibrated initial potential), else its `initialPotential` attribute as one value.
    /// Nil for another operator.
    public func initialPotentialRatios(of node: Node) -> [Float]? {
        guard case .ifNeuron(let ratio) = node.op else { return nil }
        if node.inputs.count > 2, !node.inputs[2].isEmpty, let perChannel = floatConstant(node.inputs[2]) { return perChannel.storage }
        return [ratio]
    }

    /// Nodes with no neuron downstream: the analog readout tail that runs on time-averaged
    /// outputs, where non-linear operators such as Softmax are allowed. `isNeuron` says
    /// which operators spike: the IF neurons of a converted graph by default; conversion
    /// asks the same question of the ReLUs that will become neurons.
    public func readoutTail(isNeuron: (Operator) -> Bool = { if case .ifNeuron = $0 { true } else { false } }) -> Set<Int> {
        let consumers = consumers()
        var feedsNeuron = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() {
            for out in nodes[i].outputs {
                for c in consumers[out] ?? [] where isNeuron(nodes[c].op) || feedsNeuron[c] {
                    feedsNeuron[i] = true
                }
            }
        }
        return Set(nodes.indices.filter { !feedsNeuron[$0] && !isNeuron(nodes[$0].op) })
    }
}
