import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// Everything decided about simulating one network on one batch shape before any sample
/// runs: the split into image-only, spiking and readout parts, the spike kernels, which
/// Adds fold into their neurons and which convolutions fuse with them, what each neuron
/// layer's readers take, the neurons' constant layouts and the executable plans of every
/// part. Built once by `Simulator`, read-only while the shards run (`ShardSimulation`).
struct SimulationPlan {
    let graph: Graph
    let options: SimulationOptions
    let partition: NetworkPartition
    let inputName: String
    let batchShape: [Int]
    /// The image-only part (nil when the first node is a neuron) and the readout tail.
    let staticPlan: ExecutionPlan?
    let tailPlan: ExecutionPlan?
    /// The spiking part, its nodes in `fusionOrder`, and the values it reads from outside.
    let dynamicGraph: Graph
    let dynamicInputs: [String]
    /// Whole-network shapes for the batch.
    let shapes: [String: [Int]]
    /// Neuron node names in graph order: the order of `SimulationResult.layers`.
    let neuronLayers: [String]
    /// Per neuron layer, the synaptic fan-out of each of its values (NCHW, one sample).
    let fanouts: [String: [Float]]
    /// Spike kernels (events, tables, matrix) for the dynamic convolutions that have one.
    let convolutions: [String: SpikingConvolution]
    /// Add nodes folded into the neuron layer that alone reads them (Add name -> neuron
    /// name): the neuron integrates both currents, so the sum is never written and re-read.
    let foldedAdds: [String: String]
    /// Per neuron layer, what its readers take (`SpikeReaders`).
    let spikeReaders: [String: SpikeReaders]
    /// Convolutions run together with the neuron layer that alone reads them, by
    /// convolution name (`Fusion`).
    let fusions: [String: Fusion]
    /// Max pools that run inside a fused layer.
    let fusedPools: Set<String>
    /// Values from the image-only part read only by neuron layers: each neuron reads the
    /// one stored step at every step, so they are never repeated over a chunk.
    let constantCurrents: Set<String>
    /// The second currents of the fused layers' folded Adds (kept as floats).
    let bypassValues: Set<String>
    /// Fused layers' bypasses that are a neuron layer's spikes times a per-channel constant
    /// (a residual shortcut's rescale in a unit-threshold network), by the Mul's output:
    /// the layer reads the spike bits with scaled amplitudes, and the Mul never runs.
    let scaledBypasses: [String: ScaledSpikes]
    /// Bypass values made by a spike-fed convolution for the fused layer alone: left to that
    /// layer (looked up per block, or pixel-major rows) when the kernel allows it
    /// (`SpikingConvolution.bypass`).
    let convolutionBypasses: Set<String>
    /// The fused layers' constant parts, by convolution name, and every neuron layer's
    /// per-sample constants.
    let fusedLayers: [String: FusedSpikingLayer]
    let neuronLayouts: [String: IFLayerState.Layout]
    /// Multiply-accumulates of the image-only part for the whole batch.
    let analogMACs: Int
    /// The batch's shards, and the spiking part's plans by [samples, steps] for every
    /// shard size and chunk length they meet.
    let shards: BatchShards
    private let chunkPlans: [[Int]: ExecutionPlan]

    /// A convolution run inside the neuron layer that alone reads it: `neuron` the layer,
    /// `add` the folded Add between them and `bypass` that Add's other input, or `pool`
    /// the running-sum max pool between them.
    struct Fusion {
        let neuron: String
        let add: String?
        let bypass: String?
        let pool: String?
    }

    /// A Mul of a neuron layer's spikes (`spikes`, NCHW) by per-channel `factors`.
    struct ScaledSpikes {
        let spikes: String
        let factors: [Float]
    }

    /// What the readers of a neuron layer take: packed spikes (convolutions whose every
    /// possible kernel reads them) and/or the float map (anything else).
    struct SpikeReaders {
        var patterns: Bool
        var floats: Bool
    }

    /// Plans `graph` (a converted network with one input) for batches of `inputShape`.
    /// Throws `SimulationError` for bad options or an unconverted model, before any work.
    init(graph: Graph, inputShape: [Int], options: SimulationOptions) throws {
        try Self.validate(options)
        guard graph.runtimeInputs.count == 1, let input = graph.runtimeInputs.first else {
            throw SimulationError.notConverted("the simulator takes models with exactly one input")
        }
        let layers = graph.neuronLayers()
        guard !layers.isEmpty else {
            throw SimulationError.notConverted("\(graph.source): no IF neuron layers; convert the model first (snnkit convert)")
        }
        self.graph = graph
        self.options = options
        inputName = input.name
        batchShape = inputShape
        partition = NetworkPartition(graph)
        neuronLayers = layers.map(\.node)
        // Whole-network shapes for the batch (the clip-ANN plan also validates thresholds).
        let full = try ExecutionPlan(graph: graph, inputShapes: [input.name: inputShape], options: PlanOptions(fuseActivations: false))
        shapes = full.shapes
        let context = PlanningContext(graph: graph, options: options, shapes: full.shapes, partition: partition)
        (staticPlan, analogMACs) = try context.staticPart(input: input, inputShape: inputShape)
        tailPlan = try context.tailPart()
        dynamicInputs = context.externalReads(of: partition.dynamicNodes)
        fanouts = context.fanouts()
        convolutions = try context.spikingConvolutions()
        foldedAdds = context.foldableAdds()
        let order = context.fusionOrder(foldedAdds: foldedAdds, convolutions: convolutions)
        dynamicGraph = graph.subgraph(nodeIndices: order, inputs: dynamicInputs.map { ValueInfo(name: $0, dimensions: nil) },
                                      outputs: partition.readoutValues, name: "dynamic")
        let scaled = context.scaledSpikes(foldedAdds: foldedAdds)
        let (fused, poolSizes) = context.fusions(order: order, foldedAdds: foldedAdds, convolutions: convolutions, scaledSpikes: scaled)
        fusions = fused
        fusedPools = Set(fused.values.compactMap(\.pool))
        scaledBypasses = scaled.filter { name, _ in fused.values.contains { $0.bypass == name } }
        bypassValues = Set(fused.values.compactMap(\.bypass)).subtracting(scaledBypasses.keys)
        convolutionBypasses = context.convolutionBypasses(fusions: fused, convolutions: convolutions)
        neuronLayouts = context.neuronLayouts()
        fusedLayers = context.fusedLayers(fusions: fused, poolSizes: poolSizes, convolutions: convolutions, fanouts: fanouts)
        constantCurrents = context.constantCurrents(dynamicInputs: dynamicInputs)
        spikeReaders = context.spikeReaders(fusions: fused, convolutions: convolutions, scaledBypasses: scaledBypasses)
        shards = BatchShards(batch: inputShape[0], size: options.shardSize)
        chunkPlans = try context.chunkPlans(dynamicGraph: dynamicGraph, dynamicInputs: dynamicInputs, shards: shards)
    }

    /// The settings checks, each naming the setting and its allowed range.
    private static func validate(_ options: SimulationOptions) throws {
        guard options.timeSteps > 0 else { throw SimulationError.invalidOptions("T must be at least 1 (got \(options.timeSteps))") }
        guard options.chunk > 0 else { throw SimulationError.invalidOptions("the chunk must be at least 1 step") }
        guard (1...16).contains(options.burst) else { throw SimulationError.invalidOptions("a burst is 1 to 16 spikes per step, not \(options.burst)") }
        guard options.shardSize > 0 else { throw SimulationError.invalidOptions("the shard must hold at least 1 sample") }
        if let bad = options.checkpoints.first(where: { $0 < 1 || $0 > options.timeSteps }) {
            throw SimulationError.invalidOptions("checkpoint \(bad) is outside 1...\(options.timeSteps) (T_max = \(options.timeSteps))")
        }
        if let bad = options.windowStarts.first(where: { $0 < 0 || $0 >= options.timeSteps }) {
            throw SimulationError.invalidOptions("window start \(bad) is outside 0..<\(options.timeSteps)")
        }
    }

    /// The spiking part's plan for `samples` samples over `steps` steps (stacked on the
    /// batch axis); every shard size and chunk length of this batch has one.
    func chunkPlan(samples: Int, steps: Int) -> ExecutionPlan { chunkPlans[[samples, steps]]! }
}
