import Foundation
import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// What simulating one shard of a batch produced; `Simulator.run` merges the shards.
struct ShardRun {
    /// Per neuron layer (in `Simulator.neuronLayers` order): the shard's spike and
    /// synaptic-operation counts and gap sums.
    var layers: [LayerActivity]
    /// Running sums of the readout values at the kept steps, for the shard's samples.
    var readoutSums: [String: [Int: Tensor]]
    /// Seconds per part, when timings are collected.
    var timings: [String: Double]
}

extension Simulator {
    /// Simulates samples `range` of the batch over all steps, chunk by chunk: each dynamic
    /// node takes a whole chunk before the next runs. `staticValues`: the image-only
    /// part's outputs for the whole batch; `keep`: the steps whose running sums to keep.
    func runShard(_ range: Range<Int>, staticValues whole: [String: Tensor], clipActivations: [String: Tensor]?,
                  keep: Set<Int>) throws -> ShardRun {
        let batch = range.count
        var staticValues = [String: Tensor]()
        for name in dynamicInputs { staticValues[name] = whole[name]?.samples(range) }
        var timings = [String: Double]()

        // Per-node state for this shard. Fused convolution + neuron layers keep their own
        // membranes, pixel-major, and so their diagnostics too.
        let fusedLayers = self.fusedLayers
        var fusedByNeuron = [String: FusedSpikingLayer]()
        for (conv, layer) in fusedLayers { if let neuron = fusions[conv]?.neuron { fusedByNeuron[neuron] = layer } }
        var fusedStates = fusedLayers.mapValues { $0.initialState(batch: batch) }
        var neurons = [String: IFLayerState]()
        for node in graph.nodes {
            guard case .ifNeuron = node.op, let theta = graph.floatConstant(node.inputs[1]), let layout = neuronLayouts[node.name],
                  let shape = shapes[node.inputs[0]] else { continue }
            let state = IFLayerState(thresholds: theta.storage, sampleShape: Array(shape.dropFirst()), batch: batch, layout: layout,
                                     fanout: fanouts[node.name] ?? [], membrane: fusedByNeuron[node.name] == nil)
            if let needs = spikeReaders[node.name] {
                state.emitsPatterns = needs.patterns
                state.emitsFloats = needs.floats
            }
            if let reference = clipActivations?[node.name]?.samples(range) {
                state.reference = reference
                state.checkpoints = Set(options.checkpoints)
                if let layer = fusedByNeuron[node.name] {
                    state.referenceValues = layer.pixelMajor(reference)
                    state.outputSum = [Float](repeating: 0, count: state.referenceValues.count)
                }
            }
            neurons[node.name] = state
        }
        var pools = [String: RunningMaxPoolState]()
        if options.maxPooling == .runningSum {
            for i in partition.dynamicNodes {
                let node = graph.nodes[i]
                guard case .maxPool(let a) = node.op, let inShape = shapes[node.inputs[0]], inShape.count == 4 else { continue }
                let window = try WindowGeometry.resolve(node: node.name, kernel: a.kernelShape, strides: a.strides, dilations: a.dilations,
                                                        pads: a.pads, autoPad: a.autoPad, inputSpatial: [inShape[2], inShape[3]])
                pools[node.name] = RunningMaxPoolState(inputSampleShape: Array(inShape.dropFirst()), batch: batch, window: window,
                                                       ceilMode: a.ceilMode)
            }
        }


        var running = [String: Tensor]()
        var sums = [String: [Int: Tensor]]()
        for name in partition.readoutValues {
            var shape = shapes[name] ?? [batch]
            shape[0] = batch
            let zero = Tensor(zeros: shape)
            running[name] = zero
            sums[name] = [0: zero]
        }

        var done = 0
        while done < options.timeSteps {
            let steps = min(options.chunk, options.timeSteps - done)
            let plan = dynamicPlan(samples: batch, steps: steps)
            var chunkFeeds = [String: Tensor]()
            for name in dynamicInputs where !constantCurrents.contains(name) {
                guard let value = staticValues[name] else { continue }
                var shape = value.shape
                shape[0] *= steps
                var storage = [Float]()
                storage.reserveCapacity(value.count * steps)
                for _ in 0..<steps { storage.append(contentsOf: value.storage) }
                chunkFeeds[name] = Tensor(shape: shape, storage: storage)
            }
            let dynamicNodes = dynamicGraph.nodes
            let timed = options.collectTimings
            var mark = DispatchTime.now().uptimeNanoseconds
            func lap(_ label: String) {
                guard timed else { return }
                let now = DispatchTime.now().uptimeNanoseconds
                timings[label, default: 0] += Double(now - mark) * 1e-9
                mark = now
            }
            lap("input tiling")
            var kernelRan = [Int: SpikingConvolution.Choice]()
            var bypass = [String: Tensor]()
            // Packed spikes and their density, by value name, for the convolutions reading them.
            var spikeMaps = [String: (patterns: SpikePatterns, density: Double)]()
            // Fused layers' results, waiting for their neuron node; and the currents their
            // folded Adds need, kept when produced.
            var fusedResults = [String: IFLayerState.Output]()
            var kept = [String: Tensor]()
            // Bypasses a convolution left for its fused layer (`SpikingConvolution.bypass`).
            var preparedBypasses = [String: FusedSpikingLayer.Bypass]()
            for fusion in fusions.values { if let b = fusion.bypass, let t = chunkFeeds[b] { kept[b] = t } }
            let placeholder = Tensor(shape: [0], storage: [])
            let out = try plan.run(chunkFeeds, deferred: constantCurrents, intercept: { index, inputs in
                let node = dynamicNodes[index]
                if let state = neurons[node.name] {
                    let result: IFLayerState.Output
                    if let fused = fusedResults.removeValue(forKey: node.name) {
                        result = fused
                    } else if let z = inputs[0] {
                        result = state.step(z, adding: bypass.removeValue(forKey: node.name), steps: steps)
                    } else if self.constantCurrents.contains(node.inputs[0]), let z = staticValues[node.inputs[0]] {
                        result = state.step(z, steps: steps, constant: true)
                    } else {
                        return nil
                    }
                    if let patterns = result.patterns { spikeMaps[node.outputs[0]] = (patterns, state.density(ofLast: steps)) }
                    // Without float readers the map is never built; an empty tensor holds its place.
                    return [result.floats ?? placeholder]
                }
                if let layer = fusedLayers[node.name], let fusion = self.fusions[node.name], let spikes = spikeMaps[node.inputs[0]],
                   let conv = self.convolutions[node.name] {
                    let choice = conv.choose(density: spikes.density, spikes: true, self.options)
                    if timed { kernelRan[index] = choice }
                    var extra: FusedSpikingLayer.Bypass? = nil
                    if let name = fusion.bypass {
                        extra = spikeMaps[name].map { .spikes($0.patterns) } ?? preparedBypasses.removeValue(forKey: name)
                            ?? kept[name].map { .currents($0) }
                        guard extra != nil else { throw SimulationError.notConverted("\(node.name): the current added to this layer was not computed") }
                    }
                    let batching = choice == .events && conv.eventWeightBytes > self.options.stepBatchingWeightBytes
                    guard let result = layer.step(spikes.patterns, kernel: choice, batchingSteps: batching, adding: extra, steps: steps,
                                                  state: &fusedStates[node.name]!, neuron: neurons[fusion.neuron]!) else {
                        throw SimulationError.notConverted("\(node.name): no spike kernel could be built for this convolution; run with --kernel dense")
                    }
                    fusedResults[fusion.neuron] = result
                    return [placeholder]
                }
                if let neuron = self.foldedAdds[node.name], let a = inputs[0], let b = inputs[1] {
                    if fusedResults[neuron] != nil { return [placeholder] }
                    // The neuron adds `b`; `a` stands in for the sum it alone reads.
                    bypass[neuron] = b
                    return [a]
                }
                if self.fusedPools.contains(node.name) { return [placeholder] }
                if let pool = pools[node.name], let z = inputs[0] { return [pool.step(z, steps: steps)] }
                if let conv = self.convolutions[node.name], let spikes = spikeMaps[node.inputs[0]] {
                    let choice = conv.choose(density: spikes.density, spikes: true, self.options)
                    if timed { kernelRan[index] = choice }
                    // Left for the fused layer to look up, or stored pixel-major for it.
                    if self.convolutionBypasses.contains(node.outputs[0]), let prepared = conv.bypass(spikes.patterns, choice) {
                        preparedBypasses[node.outputs[0]] = prepared
                        return [placeholder]
                    }
                    guard let y = conv.forward(spikes.patterns, choice) else {
                        throw SimulationError.notConverted("\(node.name): no spike kernel could be built for this convolution; run with --kernel dense")
                    }
                    return [y]
                }
                if let conv = self.convolutions[node.name], let x = inputs[0] {
                    let choice = conv.choose(for: x, self.options)
                    if timed { kernelRan[index] = choice }
                    return conv.forward(x, choice).map { [$0] }
                }
                return nil
            }, observe: { index, outputs in
                let node = dynamicNodes[index]
                for (name, value) in zip(node.outputs, outputs) where self.bypassValues.contains(name) { kept[name] = value }
                guard timed else { return }
                // A fused layer's time includes the nodes it absorbed: say which.
                let absorbed = self.fusions[node.name].map { ($0.pool == nil ? "" : " + MaxPool") + " + IFNeuron" } ?? ""
                let kernel = kernelRan[index].map { $0 == .dense ? "" : " (\($0.rawValue)\(absorbed))" } ?? ""
                lap("\(node.op.onnxType) \(node.name)" + kernel)
            })
            for name in partition.readoutValues {
                guard let chunk = out[name], var total = running[name] else { continue }
                let block = total.count
                let pieces = (block + 4095) / 4096
                for t in 0..<steps {
                    total.storage.withUnsafeMutableBufferPointer { s in
                        chunk.storage.withUnsafeBufferPointer { c in
                            let sp = s.baseAddress!, cp = c.baseAddress! + t * block
                            Parallel.forEach(pieces, minimumPerThread: 4) { k in
                                var i = k * 4096
                                let end = min(block, i + 4096)
                                while i + 16 <= end {
                                    let sum = UnsafeRawPointer(sp + i).loadUnaligned(as: SIMD16<Float>.self)
                                        + UnsafeRawPointer(cp + i).loadUnaligned(as: SIMD16<Float>.self)
                                    UnsafeMutableRawPointer(sp + i).storeBytes(of: sum, as: SIMD16<Float>.self)
                                    i += 16
                                }
                                while i < end { sp[i] += cp[i]; i += 1 }
                            }
                        }
                    }
                    if keep.contains(done + t + 1) { sums[name]![done + t + 1] = total }
                }
                running[name] = total
            }
            lap("readout sums")
            done += steps
        }
        let layers = neuronLayers.map { name -> LayerActivity in
            let s = neurons[name]!
            return LayerActivity(node: name, neurons: s.perSample, spikesPerStep: s.spikesPerStep, synapticOpsPerStep: s.opsPerStep,
                                 gapToClipANN: s.gapNumerators)
        }
        return ShardRun(layers: layers, readoutSums: sums, timings: timings)
    }
}
