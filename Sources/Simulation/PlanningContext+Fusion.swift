import SNNGraph
import SNNTensor

extension PlanningContext {
    /// Add nodes of the spiking part read only by a neuron layer, as that layer's input, with
    /// both currents of the output's shape: folded into the neuron (Add name -> neuron name).
    func foldableAdds() -> [String: String] {
        var folded = [String: String]()
        for i in partition.dynamicNodes {
            let node = graph.nodes[i]
            guard case .binary(.add) = node.op, node.inputs.count == 2, let out = node.outputs.first, !kept.contains(out),
                  let readers = consumers[out], readers.count == 1, case .ifNeuron = graph.nodes[readers[0]].op,
                  graph.nodes[readers[0]].inputs[0] == out,
                  let a = shapes[node.inputs[0]], a == shapes[node.inputs[1]], a == shapes[out] else { continue }
            folded[node.name] = graph.nodes[readers[0]].name
        }
        return folded
    }

    /// The dynamic nodes in an order that lets the costlier of two convolutions summed by a
    /// folded Add run fused with the neuron layer.
    ///
    /// A fused layer takes the Add's other current finished, so of the two convolutions only
    /// the one that runs second can fuse. In a residual block's downsampling unit the
    /// exporter's order puts the cheap 1x1 shortcut second, so the 3x3 convolution would
    /// store its rows and the shortcut fuse. Moving the cheaper one before the costlier (when
    /// its inputs already exist there) fuses the 3x3 instead; the sum is the same float
    /// either way (a + b = b + a).
    func fusionOrder(foldedAdds: [String: String], convolutions: [String: SpikingConvolution]) -> [Int] {
        /// Multiply-accumulates per sample of a convolution with spike kernels that only the Add reads.
        func cost(_ value: String, _ add: Int) -> Int? {
            guard let p = producers[value], convolutions[graph.nodes[p].name] != nil, consumers[value] == [add],
                  let w = graph.nodes[p].input(1).flatMap({ graph.floatConstant($0) }), let out = shapes[value], out.count == 4 else { return nil }
            return w.count * out[2] * out[3]
        }
        var order = partition.dynamicNodes
        for (i, node) in graph.nodes.enumerated() where foldedAdds[node.name] != nil && node.inputs.count == 2 {
            guard let a = cost(node.inputs[0], i), let b = cost(node.inputs[1], i) else { continue }
            let (costly, cheap) = a >= b ? (producers[node.inputs[0]]!, producers[node.inputs[1]]!) : (producers[node.inputs[1]]!, producers[node.inputs[0]]!)
            guard let at = order.firstIndex(of: costly), let from = order.firstIndex(of: cheap), from > at else { continue }
            // Every value the cheap one reads must exist before the costly one runs.
            let before = Set(order[..<at].flatMap { graph.nodes[$0].outputs })
            let produced = Set(order.flatMap { graph.nodes[$0].outputs })
            guard graph.nodes[cheap].inputs.allSatisfy({ $0.isEmpty || !produced.contains($0) || before.contains($0) }) else { continue }
            order.remove(at: from)
            order.insert(cheap, at: at)
        }
        return order
    }

    /// Muls of a neuron layer's NCHW spikes by a constant of one value per channel (or one
    /// for all) that only a folded Add reads, by the Mul's output: candidates for a fused
    /// layer's spike bypass with scaled amplitudes.
    func scaledSpikes(foldedAdds folded: [String: String]) -> [String: SimulationPlan.ScaledSpikes] {
        var found = [String: SimulationPlan.ScaledSpikes]()
        for i in partition.dynamicNodes {
            let node = graph.nodes[i]
            guard case .binary(.mul) = node.op, node.inputs.count == 2, let out = node.outputs.first, !kept.contains(out),
                  let readers = consumers[out], readers.count == 1, folded[graph.nodes[readers[0]].name] != nil,
                  let p = producers[node.inputs[0]], case .ifNeuron = graph.nodes[p].op,
                  let shape = shapes[node.inputs[0]], shape.count == 4, let c = graph.floatConstant(node.inputs[1]) else { continue }
            // Broadcast along axis 1 only: [C, 1, 1], [1, C, 1, 1] or one value.
            let alongChannels = c.shape.count >= 3 && c.shape[c.shape.count - 3] == shape[1] &&
                c.shape.enumerated().allSatisfy { $0.offset == c.shape.count - 3 || $0.element == 1 }
            guard c.count == 1 || alongChannels else { continue }
            found[out] = .init(spikes: node.inputs[0], factors: c.storage)
        }
        return found
    }

    /// The convolutions that run fused with the neuron layer alone reading them (directly,
    /// through a folded Add, or through a tiling running-sum max pool), by convolution
    /// name, and for the pooled ones the pool's window side. A bypass in `scaledSpikes`
    /// exists once its neuron layer has fired.
    func fusions(order: [Int], foldedAdds folded: [String: String], convolutions kernels: [String: SpikingConvolution],
                 scaledSpikes: [String: SimulationPlan.ScaledSpikes] = [:]) -> ([String: SimulationPlan.Fusion], [String: Int]) {
        var fused = [String: SimulationPlan.Fusion]()
        var poolSizes = [String: Int]()
        var position = [String: Int]()
        for (k, i) in order.enumerated() { for out in graph.nodes[i].outputs { position[out] = k } }
        for (k, i) in order.enumerated() {
            let node = graph.nodes[i]
            guard let conv = kernels[node.name], conv.readsPatterns(options), let out = node.outputs.first, !kept.contains(out),
                  let readers = consumers[out], readers.count == 1, let shape = shapes[out], shape.count == 4 else { continue }
            let reader = graph.nodes[readers[0]]
            if case .ifNeuron = reader.op, reader.inputs[0] == out, shapes[reader.inputs[0]] == shape {
                fused[node.name] = .init(neuron: reader.name, add: nil, bypass: nil, pool: nil)
            } else if let neuron = folded[reader.name], reader.inputs.contains(out) {
                // The Add's other current must exist by the time the convolution runs
                // (either side will do: a + b and b + a are the same float).
                let other = reader.inputs[0] == out ? reader.inputs[1] : reader.inputs[0]
                if other == out { continue }
                if let p = position[scaledSpikes[other]?.spikes ?? other], p > k { continue }
                fused[node.name] = .init(neuron: neuron, add: reader.name, bypass: other, pool: nil)
            } else if options.maxPooling == .runningSum, let size = Self.tilingPoolSize(reader, input: shape, shapes: shapes),
                      let pooled = reader.outputs.first, !kept.contains(pooled), let after = consumers[pooled], after.count == 1,
                      case .ifNeuron = graph.nodes[after[0]].op, graph.nodes[after[0]].inputs[0] == pooled {
                fused[node.name] = .init(neuron: graph.nodes[after[0]].name, add: nil, bypass: nil, pool: reader.name)
                poolSizes[node.name] = size
            }
        }
        return (fused, poolSizes)
    }

    /// Fused layers' bypass values made by a spike-fed convolution that only the folded Add
    /// reads: that convolution may leave its result to the fused layer.
    func convolutionBypasses(fusions: [String: SimulationPlan.Fusion], convolutions kernels: [String: SpikingConvolution]) -> Set<String> {
        Set(fusions.values.compactMap { fusion -> String? in
            guard let value = fusion.bypass, let add = fusion.add, !kept.contains(value), let p = producers[value],
                  kernels[graph.nodes[p].name] != nil, let readers = consumers[value], readers.count == 1,
                  graph.nodes[readers[0]].name == add else { return nil }
            return value
        })
    }

    /// The window side of a max pool whose windows tile its NCHW `input` exactly (kernel =
    /// stride, no padding or dilation), the kind a fused layer runs; nil for any other node.
    static func tilingPoolSize(_ node: Node, input: [Int], shapes: [String: [Int]]) -> Int? {
        guard case .maxPool(let a) = node.op, input.count == 4, let out = node.outputs.first, let pooled = shapes[out],
              let w = try? WindowGeometry.resolve(node: node.name, kernel: a.kernelShape, strides: a.strides, dilations: a.dilations,
                                                  pads: a.pads, autoPad: a.autoPad, inputSpatial: [input[2], input[3]]) else { return nil }
        let k = w.kernel.h
        guard k > 1, w.kernel.w == k, w.stride == (k, k), w.dilation == (1, 1), w.padTop == 0, w.padLeft == 0, w.padBottom == 0,
              w.padRight == 0, input[2] % k == 0, input[3] % k == 0, pooled == [input[0], input[1], input[2] / k, input[3] / k] else { return nil }
        return k
    }
}
