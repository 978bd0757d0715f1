import Foundation
import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// One shard of a batch carried through all steps of a `SimulationPlan`, chunk by chunk:
/// each dynamic node takes a whole chunk before the next runs. Holds the shard's state
/// (membranes, pooled sums, readout running sums), which persists across chunks, and
/// what travels between the nodes of the chunk being run (`ChunkTraffic`).
final class ShardSimulation {
    let plan: SimulationPlan
    let batch: Int
    /// The image-only part's outputs the spiking part reads, for this shard's samples.
    let staticValues: [String: Tensor]
    /// The steps whose readout running sums to keep.
    let keep: Set<Int>
    /// Neuron layers by name. Those fused into a convolution keep their membranes in the
    /// fused layer's state (`fusedStates`, pixel-major) and only their counts here.
    let neurons: [String: IFLayerState]
    var fusedStates: [String: FusedSpikingLayer.State]
    /// Running-sum max pools that run on their own.
    let pools: [String: RunningMaxPoolState]
    /// The readout values' running sums, and their copies at the kept steps.
    var running: [String: Tensor] = [:]
    var sums: [String: [Int: Tensor]] = [:]
    /// Steps done so far.
    var done = 0
    /// The current chunk's values in flight between nodes.
    var traffic = ChunkTraffic()
    var timings: [String: Double] = [:]
    private var mark: UInt64 = 0

    /// The state at t = 0 for samples `range` of the batch. `staticValues`: the image-only
    /// part's outputs for the whole batch; `clipActivations` turns on the gap diagnostics.
    init(plan: SimulationPlan, samples range: Range<Int>, staticValues whole: [String: Tensor], clipActivations: [String: Tensor]?,
         keep: Set<Int>) throws {
        self.plan = plan
        batch = range.count
        self.keep = keep
        var values = [String: Tensor]()
        for name in plan.dynamicInputs { values[name] = whole[name]?.samples(range) }
        staticValues = values
        fusedStates = plan.fusedLayers.mapValues { $0.initialState(batch: range.count) }
        neurons = Self.neuronStates(plan, samples: range, clipActivations: clipActivations)
        pools = try Self.poolStates(plan, batch: range.count)
        for name in plan.partition.readoutValues {
            var shape = plan.shapes[name] ?? [batch]
            shape[0] = batch
            let zero = Tensor(zeros: shape)
            running[name] = zero
            sums[name] = [0: zero]
        }
    }

    /// Every neuron layer's state for the shard, with its readers' needs and, when given,
    /// the clip-ANN activations its gap probe compares against.
    private static func neuronStates(_ plan: SimulationPlan, samples range: Range<Int>, clipActivations: [String: Tensor]?)
        -> [String: IFLayerState] {
        let graph = plan.graph
        var fusedByNeuron = [String: FusedSpikingLayer]()
        for (conv, layer) in plan.fusedLayers { if let neuron = plan.fusions[conv]?.neuron { fusedByNeuron[neuron] = layer } }
        var neurons = [String: IFLayerState]()
        for node in graph.nodes {
            guard case .ifNeuron = node.op, let theta = graph.floatConstant(node.inputs[1]), let layout = plan.neuronLayouts[node.name],
                  let shape = plan.shapes[node.inputs[0]] else { continue }
            let state = IFLayerState(thresholds: theta.storage, sampleShape: Array(shape.dropFirst()), batch: range.count, layout: layout,
                                     fanout: plan.fanouts[node.name] ?? [], membrane: fusedByNeuron[node.name] == nil)
            if let needs = plan.spikeReaders[node.name] {
                state.emitsPatterns = needs.patterns
                state.emitsFloats = needs.floats
            }
            if let reference = clipActivations?[node.name]?.samples(range) {
                state.reference = reference
                state.checkpoints = Set(plan.options.checkpoints)
                if let layer = fusedByNeuron[node.name] {
                    state.referenceValues = layer.pixelMajor(reference)
                    state.outputSum = [Float](repeating: 0, count: state.referenceValues.count)
                }
            }
            neurons[node.name] = state
        }
        return neurons
    }

    /// The running-sum max pools of the spiking part, at 0 (none with per-step pooling,
    /// which the compiled kernel runs).
    private static func poolStates(_ plan: SimulationPlan, batch: Int) throws -> [String: RunningMaxPoolState] {
        var pools = [String: RunningMaxPoolState]()
        guard plan.options.maxPooling == .runningSum else { return pools }
        for i in plan.partition.dynamicNodes {
            let node = plan.graph.nodes[i]
            guard case .maxPool(let a) = node.op, let inShape = plan.shapes[node.inputs[0]], inShape.count == 4 else { continue }
            let window = try WindowGeometry.resolve(node: node.name, kernel: a.kernelShape, strides: a.strides, dilations: a.dilations,
                                                    pads: a.pads, autoPad: a.autoPad, inputSpatial: [inShape[2], inShape[3]])
            pools[node.name] = RunningMaxPoolState(inputSampleShape: Array(inShape.dropFirst()), batch: batch, window: window,
                                                   ceilMode: a.ceilMode)
        }
        return pools
    }

    /// Runs every chunk and returns the shard's counts and readout sums.
    func run() throws -> ShardRun {
        while done < plan.options.timeSteps {
            let steps = min(plan.options.chunk, plan.options.timeSteps - done)
            try runChunk(steps: steps)
            done += steps
        }
        let layers = plan.neuronLayers.map { name -> LayerActivity in
            let s = neurons[name]!
            return LayerActivity(node: name, neurons: s.perSample, spikesPerStep: s.spikesPerStep, synapticOpsPerStep: s.opsPerStep,
                                 gapToClipANN: s.gapNumerators)
        }
        return ShardRun(layers: layers, readoutSums: sums, timings: timings)
    }

    /// One chunk of `steps` steps through the spiking part's plan, the nodes SNNKit runs
    /// itself intercepted (`intercept`), then the readout sums.
    private func runChunk(steps: Int) throws {
        let chunkPlan = plan.chunkPlan(samples: batch, steps: steps)
        startClock()
        let feeds = tiledInputs(steps: steps)
        lap("input tiling")
        traffic = ChunkTraffic()
        for fusion in plan.fusions.values { if let b = fusion.bypass, let t = feeds[b] { traffic.kept[b] = t } }
        let out = try chunkPlan.run(feeds, deferred: plan.constantCurrents, intercept: { index, inputs in
            try self.intercept(index, inputs, steps: steps)
        }, observe: { index, outputs in
            self.observe(index, outputs)
        })
        addToReadoutSums(out, steps: steps)
        lap("readout sums")
    }

    /// The spiking part's inputs repeated for each step of the chunk ([steps * batch, ...],
    /// time-major), except the constant currents, which neurons read in place.
    private func tiledInputs(steps: Int) -> [String: Tensor] {
        var feeds = [String: Tensor]()
        for name in plan.dynamicInputs where !plan.constantCurrents.contains(name) {
            guard let value = staticValues[name] else { continue }
            var shape = value.shape
            shape[0] *= steps
            var storage = [Float]()
            storage.reserveCapacity(value.count * steps)
            for _ in 0..<steps { storage.append(contentsOf: value.storage) }
            feeds[name] = Tensor(shape: shape, storage: storage)
        }
        return feeds
    }

    /// Starts timing the chunk's parts (when timings are collected).
    private func startClock() {
        if plan.options.collectTimings { mark = DispatchTime.now().uptimeNanoseconds }
    }

    /// Adds the time since the last lap to `label` (when timings are collected).
    func lap(_ label: String) {
        guard plan.options.collectTimings else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        timings[label, default: 0] += Double(now - mark) * 1e-9
        mark = now
    }
}
