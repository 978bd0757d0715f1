import Foundation
import SNNGraph
import SNNTensor

/// Simulates a converted network over T steps, layer by layer over chunks of steps.
///
/// Each dynamic node processes a whole chunk of steps (steps stacked on the batch axis)
/// before the next node runs, so a layer's weights stay in cache for the chunk. Neurons
/// and running-sum max pools carry their state from chunk to chunk, so the result is the
/// same for any chunk size. The layers before the first neuron see the same image every
/// step and run once. The batch runs in shards of `SimulationOptions.shardSize` samples,
/// one core carrying each shard through all of this (`BatchShards`, `ShardSimulation`).
///
/// Spikes travel between layers as packed bits (`SpikePatterns`) with the density the
/// neuron layer counted; a convolution reading them runs by table lookup, event-driven or
/// as an AMX matrix product (`SpikingConvolution` picks per chunk), and one that never
/// runs dense and feeds a single neuron layer, directly, through a residual Add or through
/// a running-sum max pool, runs fused with it (`FusedSpikingLayer`). A residual Add
/// read only by a neuron layer is folded into it. Float maps are built only for the
/// nodes that need them (pools, sums, the readout).
///
/// All of that is decided once, when the simulator is made (`SimulationPlan`); `run`
/// executes the plan shard by shard.
public final class Simulator {
    let plan: SimulationPlan
    /// Seconds per part when timings are collected: "OpType node" for each dynamic node
    /// ("Conv conv5", with " (events)" or " (tables)" when that kernel ran rather than the
    /// dense one, and " + IFNeuron" or " + MaxPool + IFNeuron" when the neuron layer, and
    /// the pool before it, ran fused inside it), plus "input tiling" and "readout sums".
    public private(set) var timings: [String: Double] = [:]

    /// Plans `graph` (a converted network with one input) for batches of `inputShape`.
    /// Throws `SimulationError` for bad options or an unconverted model.
    public init(graph: Graph, inputShape: [Int], options: SimulationOptions) throws {
        plan = try SimulationPlan(graph: graph, inputShape: inputShape, options: options)
    }

    /// The converted network being simulated.
    public var graph: Graph { plan.graph }
    /// The settings the simulator was made with.
    public var options: SimulationOptions { plan.options }
    /// Add nodes folded into the neuron layer that alone reads them (Add name -> neuron name).
    public var foldedAdds: [String: String] { plan.foldedAdds }
    /// Max pools that run inside a fused layer.
    public var fusedPools: Set<String> { plan.fusedPools }
    /// Values from the image-only part read only by neuron layers, never repeated over a chunk.
    public var constantCurrents: Set<String> { plan.constantCurrents }
    /// Convolutions run inside the neuron layer that alone reads them (`SimulationPlan.Fusion`).
    var fusions: [String: SimulationPlan.Fusion] { plan.fusions }
    /// Bypass values a spike-fed convolution leaves to its fused layer.
    var convolutionBypasses: Set<String> { plan.convolutionBypasses }
    /// Residual shortcuts read by a fused layer as scaled spike bits (`SimulationPlan.scaledBypasses`).
    var scaledBypasses: Set<String> { Set(plan.scaledBypasses.keys) }

    /// Simulates one batch, shard by shard (`BatchShards`: one core carries each shard
    /// through the whole network). `clipActivations` (neuron node name -> the clip-ANN's
    /// output of that layer for this batch) turns on the per-layer distance diagnostics.
    public func run(_ input: Tensor, clipActivations: [String: Tensor]? = nil) throws -> SimulationResult {
        guard input.shape == plan.batchShape else {
            throw SimulationError.invalidOptions("data has shape \(input.shape), the simulator was set up for \(plan.batchShape)")
        }
        let feeds = [plan.inputName: input]
        var staticValues = feeds
        if let staticPlan = plan.staticPlan { staticValues.merge(try staticPlan.run(feeds)) { a, _ in a } }
        let keep = keptSteps()
        let runs = try plan.shards.map { range in
            try ShardSimulation(plan: plan, samples: range, staticValues: staticValues, clipActivations: clipActivations, keep: keep).run()
        }
        for run in runs { timings.merge(run.timings, uniquingKeysWith: +) }
        var constants = [String: Tensor]()
        for name in plan.partition.staticOutputs { constants[name] = staticValues[name] }
        constants[plan.inputName] = input
        return SimulationResult(timeSteps: options.timeSteps, batch: plan.batchShape[0], layers: layerActivity(runs, clipActivations),
                                analogMACsPerStep: plan.analogMACs, readoutSums: readoutSums(runs), constantValues: constants,
                                tail: plan.tailPlan, outputNames: graph.outputs.map(\.name))
    }

    /// The steps whose readout running sums are kept: the checkpoints and window bounds,
    /// or every step when asked for and the sums fit in 64 M floats.
    private func keptSteps() -> Set<Int> {
        let readoutSize = plan.partition.readoutValues.reduce(0) { $0 + (plan.shapes[$1]?.reduce(1, *) ?? 0) }
        let keepAll = options.keepEveryStep && readoutSize * options.timeSteps <= 64_000_000
        if keepAll { return Set(0...options.timeSteps) }
        return Set(options.checkpoints).union(options.windowStarts).union([0, options.timeSteps])
    }

    /// The shards' readout running sums joined along the batch, step by step.
    private func readoutSums(_ runs: [ShardRun]) -> [String: [Int: Tensor]] {
        var sums = [String: [Int: Tensor]]()
        for name in plan.partition.readoutValues {
            guard let steps = runs.first?.readoutSums[name]?.keys else { continue }
            sums[name] = Dictionary(uniqueKeysWithValues: steps.map { step in
                (step, Tensor(concatenatingSamples: runs.map { $0.readoutSums[name]![step]! }))
            })
        }
        return sums
    }

    /// Each neuron layer's counts summed over the shards.
    private func layerActivity(_ runs: [ShardRun], _ clipActivations: [String: Tensor]?) -> [LayerActivity] {
        plan.neuronLayers.indices.map { k -> LayerActivity in
            let parts = runs.map { $0.layers[k] }
            return LayerActivity(node: parts[0].node, neurons: parts[0].neurons, spikesPerStep: Self.sum(parts.map(\.spikesPerStep)),
                                 synapticOpsPerStep: Self.sum(parts.map(\.synapticOpsPerStep)), gapToClipANN: Self.sum(parts.map(\.gapToClipANN)),
                                 clipANNMagnitude: clipActivations?[parts[0].node].map { $0.storage.reduce(0.0) { $0 + Double(abs($1)) } } ?? 0)
        }
    }

    /// Element by element, in shard order: the same sums for any thread count.
    private static func sum(_ parts: [[Double]]) -> [Double] {
        parts.dropFirst().reduce(parts[0]) { total, part in zip(total, part).map(+) }
    }
}
