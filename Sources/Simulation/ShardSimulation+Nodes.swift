import SNNGraph
import SNNSpikeKernels
import SNNTensor

extension ShardSimulation {
    /// Stands in for the compiled kernel on the node types the simulation runs itself:
    /// neurons, fused convolution + neuron layers, folded Adds, running-sum pools and
    /// spike-fed convolutions. Nil leaves the node to the plan.
    func intercept(_ index: Int, _ inputs: [Tensor?], steps: Int) throws -> [Tensor]? {
        let node = plan.dynamicGraph.nodes[index]
        if let state = neurons[node.name] { return stepNeuron(node, state, inputs, steps: steps) }
        if let layer = plan.fusedLayers[node.name], let fusion = plan.fusions[node.name], let spikes = traffic.spikeMaps[node.inputs[0]],
           let conv = plan.convolutions[node.name] {
            return try stepFusedLayer(node, index, layer, fusion, conv, spikes: spikes, steps: steps)
        }
        if let neuron = plan.foldedAdds[node.name], let a = inputs[0], let b = inputs[1] {
            if traffic.fusedResults[neuron] != nil { return [Self.placeholder] }
            // The neuron adds `b`; `a` stands in for the sum it alone reads.
            traffic.bypass[neuron] = b
            return [a]
        }
        if plan.fusedPools.contains(node.name) { return [Self.placeholder] }
        if let out = node.outputs.first, plan.scaledBypasses[out] != nil { return [Self.placeholder] }
        if let pool = pools[node.name], let z = inputs[0] { return [pool.step(z, steps: steps)] }
        // Packed spikes where a kernel reads them; a fused layer packs its spikes for every
        // reader, so a convolution whose kernel cannot takes the float map instead.
        if let conv = plan.convolutions[node.name], conv.readsPatterns(plan.options), let spikes = traffic.spikeMaps[node.inputs[0]] {
            return try convolveSpikes(node, index, conv, spikes.patterns, density: spikes.density)
        }
        if let conv = plan.convolutions[node.name], let x = inputs[0] {
            let choice = conv.choose(for: x, plan.options)
            if plan.options.collectTimings { traffic.kernelRan[index] = choice }
            return conv.forward(x, choice).map { [$0] }
        }
        return nil
    }

    /// Holds the place of a value no reader takes as floats.
    static let placeholder = Tensor(shape: [0], storage: [])

    /// A neuron layer's chunk: the result its fused convolution already computed, or its
    /// current (plus a folded Add's other current), or its constant current read in place.
    private func stepNeuron(_ node: Node, _ state: IFLayerState, _ inputs: [Tensor?], steps: Int) -> [Tensor]? {
        let result: IFLayerState.Output
        if let fused = traffic.fusedResults.removeValue(forKey: node.name) {
            result = fused
        } else if let z = inputs[0] {
            result = state.step(z, adding: traffic.bypass.removeValue(forKey: node.name), steps: steps)
        } else if plan.constantCurrents.contains(node.inputs[0]), let z = staticValues[node.inputs[0]] {
            result = state.step(z, steps: steps, constant: true)
        } else {
            return nil
        }
        if let patterns = result.patterns { traffic.spikeMaps[node.outputs[0]] = (patterns, state.density(ofLast: steps)) }
        // Without float readers the map is never built; an empty tensor holds its place.
        return [result.floats ?? Self.placeholder]
    }

    /// A convolution and the neuron layer it feeds, run as one (`FusedSpikingLayer`); the
    /// neuron node picks up the result.
    private func stepFusedLayer(_ node: Node, _ index: Int, _ layer: FusedSpikingLayer, _ fusion: SimulationPlan.Fusion,
                                _ conv: SpikingConvolution, spikes: (patterns: SpikePatterns, density: Double), steps: Int) throws -> [Tensor] {
        let choice = conv.choose(density: spikes.density, spikes: true, plan.options)
        if plan.options.collectTimings { traffic.kernelRan[index] = choice }
        var extra: FusedSpikingLayer.Bypass? = nil
        if let name = fusion.bypass {
            let scaled = plan.scaledBypasses[name].flatMap { s in traffic.spikeMaps[s.spikes].map { FusedSpikingLayer.Bypass.spikes($0.patterns.scaled(by: s.factors)) } }
            extra = traffic.spikeMaps[name].map { .spikes($0.patterns) } ?? scaled ?? traffic.preparedBypasses.removeValue(forKey: name)
                ?? traffic.kept[name].map { .currents($0) }
            guard extra != nil else { throw SimulationError.notConverted("\(node.name): the current added to this layer was not computed") }
        }
        let batching = choice == .events && conv.eventWeightBytes > plan.options.stepBatchingWeightBytes
        guard let result = layer.step(spikes.patterns, kernel: choice, batchingSteps: batching, adding: extra, steps: steps,
                                      state: &fusedStates[node.name]!, neuron: neurons[fusion.neuron]!) else {
            throw SimulationError.notConverted("\(node.name): no spike kernel could be built for this convolution; run with --kernel dense")
        }
        traffic.fusedResults[fusion.neuron] = result
        return [Self.placeholder]
    }

    /// A convolution of packed spikes by the kernel chosen for their density; a bypass only
    /// its fused layer reads is left to that layer when the kernel allows.
    private func convolveSpikes(_ node: Node, _ index: Int, _ conv: SpikingConvolution, _ patterns: SpikePatterns,
                                density: Double) throws -> [Tensor] {
        let choice = conv.choose(density: density, spikes: true, plan.options)
        if plan.options.collectTimings { traffic.kernelRan[index] = choice }
        // Left for the fused layer to look up, or stored pixel-major for it.
        if plan.convolutionBypasses.contains(node.outputs[0]), let prepared = conv.bypass(patterns, choice) {
            traffic.preparedBypasses[node.outputs[0]] = prepared
            return [Self.placeholder]
        }
        guard let y = conv.forward(patterns, choice) else {
            throw SimulationError.notConverted("\(node.name): no spike kernel could be built for this convolution; run with --kernel dense")
        }
        return [y]
    }

    /// After each executed node: keeps the fused layers' bypass currents and, when timings
    /// are collected, books the node's time under its name and kernel.
    func observe(_ index: Int, _ outputs: [Tensor]) {
        let node = plan.dynamicGraph.nodes[index]
        for (name, value) in zip(node.outputs, outputs) where plan.bypassValues.contains(name) { traffic.kept[name] = value }
        guard plan.options.collectTimings else { return }
        // A fused layer's time includes the nodes it absorbed: say which.
        let absorbed = plan.fusions[node.name].map { ($0.pool == nil ? "" : " + MaxPool") + " + IFNeuron" } ?? ""
        let kernel = traffic.kernelRan[index].map { $0 == .dense ? "" : " (\($0.rawValue)\(absorbed))" } ?? ""
        lap("\(node.op.onnxType) \(node.name)" + kernel)
    }
}
