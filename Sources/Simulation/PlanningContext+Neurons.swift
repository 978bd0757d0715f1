import SNNGraph

extension PlanningContext {
    /// Per neuron layer, the per-sample thresholds and initial membranes (NCHW).
    func neuronLayouts() -> [String: IFLayerState.Layout] {
        var layouts = [String: IFLayerState.Layout]()
        for node in graph.nodes {
            guard let v0 = graph.initialPotentialRatios(of: node), let theta = graph.floatConstant(node.inputs[1]),
                  let shape = shapes[node.inputs[0]] else { continue }
            layouts[node.name] = IFLayerState.Layout(thresholds: theta.storage, sampleShape: Array(shape.dropFirst()), initialPotentials: v0,
                                                          reset: options.reset, bounds: options.membraneBounds[node.name], burst: options.burst)
        }
        return layouts
    }

    /// The constant parts of each fused convolution + neuron layer, by convolution name.
    func fusedLayers(fusions: [String: SimulationPlan.Fusion], poolSizes: [String: Int], convolutions kernels: [String: SpikingConvolution],
                     fanouts: [String: [Float]]) -> [String: FusedSpikingLayer] {
        var layers = [String: FusedSpikingLayer]()
        for (conv, fusion) in fusions {
            guard let convolution = kernels[conv], let node = graph.nodes.first(where: { $0.name == fusion.neuron }),
                  let v0 = graph.initialPotentialRatios(of: node), let theta = graph.floatConstant(node.inputs[1]),
                  let shape = shapes[node.inputs[0]] else { continue }
            let convolutionShape = graph.nodes.first { $0.name == conv }.flatMap { shapes[$0.outputs[0]] }
            let pool = poolSizes[conv].flatMap { size in convolutionShape.map { (size, Array($0.dropFirst())) } }
            layers[conv] = FusedSpikingLayer(convolution: convolution, thresholds: theta.storage, sampleShape: Array(shape.dropFirst()),
                                             initialPotentials: v0, fanout: fanouts[node.name] ?? [], pool: pool,
                                             reset: options.reset, bounds: options.membraneBounds[node.name])
        }
        return layers
    }

    /// The spiking part's inputs that only neuron layers read, each as its sole current:
    /// the neurons read them in place at every step rather than from a repeated copy.
    func constantCurrents(dynamicInputs: [String]) -> Set<String> {
        Set(dynamicInputs.filter { name in
            guard !kept.contains(name), let users = consumers[name], !users.isEmpty else { return false }
            return users.allSatisfy { i in
                if case .ifNeuron = graph.nodes[i].op { return graph.nodes[i].inputs[0] == name && graph.nodes[i].inputs.dropFirst().allSatisfy { $0 != name } }
                return false
            }
        })
    }

    /// Per neuron layer, what its readers take: packed spikes when a convolution whose
    /// every kernel reads them, or a fused layer adding them, reads it; the float map when
    /// anything else does, or the value is kept or not NCHW.
    func spikeReaders(fusions: [String: SimulationPlan.Fusion], convolutions kernels: [String: SpikingConvolution],
                      scaledBypasses: [String: SimulationPlan.ScaledSpikes] = [:]) -> [String: SimulationPlan.SpikeReaders] {
        var readers = [String: SimulationPlan.SpikeReaders]()
        for node in graph.nodes {
            guard case .ifNeuron = node.op, let out = node.outputs.first else { continue }
            var needs = SimulationPlan.SpikeReaders(patterns: false, floats: kept.contains(out) || shapes[out]?.count != 4)
            for r in consumers[out] ?? [] {
                if let conv = kernels[graph.nodes[r].name], graph.nodes[r].inputs[0] == out, conv.readsPatterns(options) {
                    needs.patterns = true
                } else if fusions.values.contains(where: { $0.add == graph.nodes[r].name && $0.bypass == out }) {
                    needs.patterns = true  // a fused layer adds these spikes to its currents
                } else if let scaled = graph.nodes[r].outputs.first, scaledBypasses[scaled]?.spikes == out {
                    needs.patterns = true  // ... with amplitudes scaled, in place of the Mul
                } else {
                    needs.floats = true
                }
            }
            readers[node.name] = needs
        }
        return readers
    }
}
