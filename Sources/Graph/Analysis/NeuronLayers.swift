import SNNTensor

extension Node {
    /// The IF node's calibrated initial potential (its third input), when it has one.
    public var initialPotentialInput: String? { inputs.count > 2 && !inputs[2].isEmpty ? inputs[2] : nil }
}

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
        if let input = node.initialPotentialInput, let perChannel = floatConstant(input) { return perChannel.storage }
        return [ratio]
    }

    /// Makes `ratios` (v(0) / theta per channel) the calibrated initial potential of the IF
    /// node at `index`, as the constant `name`, in place of any it had.
    public mutating func setInitialPotentials(_ ratios: [Float], ofNode index: Int, name: String) {
        constants[name] = .float(Tensor(shape: [ratios.count], storage: ratios))
        if nodes[index].initialPotentialInput == nil { nodes[index].inputs = Array(nodes[index].inputs.prefix(2)) + [name] } else { nodes[index].inputs[2] = name }
    }

    /// Why `ratios` cannot be the calibrated initial potentials of a layer of `channels`
    /// channels, or nil when they can: one value or one per channel, finite and in [-1, 1]
    /// (a neuron that starts a threshold or more away from it would fire or stay silent on
    /// no input).
    public static func initialPotentialProblem(_ ratios: [Float], channels: Int) -> String? {
        guard ratios.count == 1 || ratios.count == channels else { return "\(ratios.count) values for \(channels) channels" }
        guard let bad = ratios.firstIndex(where: { !($0.isFinite && abs($0) <= 1) }) else { return nil }
        return "value \(bad) is \(ratios[bad]); v(0) / threshold must be finite and in [-1, 1]"
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
