import SNNGraph

extension Graph {
    /// This converted graph with every neuron's initial membrane set to `ratio` x its
    /// threshold (calibrated per-channel potentials dropped): 0 simulates what an NIR
    /// consumer runs (NIR's IF has no initial potential).
    public func settingInitialPotential(_ ratio: Float) -> Graph {
        var g = self
        for i in g.nodes.indices {
            if case .ifNeuron = g.nodes[i].op {
                g.nodes[i].op = .ifNeuron(initialPotential: ratio)
                g.nodes[i].inputs = Array(g.nodes[i].inputs.prefix(2))
            }
        }
        g.removeUnusedConstants()
        g.metadata["snnkit.initial_potential"] = String(ratio)
        return g
    }
}
