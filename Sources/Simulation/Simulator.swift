import Foundation
import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// Spike and synaptic-operation counts of one neuron layer.
public struct LayerActivity: Sendable, Codable, Equatable {
    public var node: String
    /// Neurons per sample.
    public var neurons: Int
    /// Spikes at each step, summed over the batch.
    public var spikesPerStep: [Double]
    /// Synaptic operations the layer's spikes trigger at each step, summed over the batch.
    public var synapticOpsPerStep: [Double]
    /// When clip-ANN activations were given: at each checkpoint, sum over the batch's neurons
    /// of |average output over 1...T - clip-ANN activation|, and the sum of |clip-ANN
    /// activation| to divide it by.
    public var gapToClipANN: [Double] = []
    public var clipANNMagnitude: Double = 0
}

/// What one simulation run produced: readouts for any evaluated window and the activity.
public struct SimulationResult: Sendable {
    public let timeSteps: Int
    public let batch: Int
    public let layers: [LayerActivity]
    /// Multiply-accumulates of the analog part (layers before the first neuron, fed the
    /// image at every step), per step, for the whole batch.
    public let analogMACsPerStep: Int
    /// Running sums of the readout values at stored steps (0 = before the first step).
    let readoutSums: [String: [Int: Tensor]]
    let constantValues: [String: Tensor]
    let tail: ExecutionPlan?
    let outputNames: [String]

    /// Steps at which running sums were kept, i.e. valid window bounds.
    public var storedSteps: [Int] { readoutSums.values.first.map { $0.keys.sorted() } ?? [0, timeSteps] }

    /// The network outputs when the readout is averaged over steps (start, end].
    public func outputs(from start: Int, to end: Int) throws -> [String: Tensor] {
        guard start >= 0, end > start, end <= timeSteps else {
            throw SimulationError.invalidOptions("window (\(start), \(end)] is not inside 1...\(timeSteps)")
        }
        var averaged = constantValues
        for (name, sums) in readoutSums {
            guard let hi = sums[end], let lo = sums[start] else {
                throw SimulationError.invalidOptions("window (\(start), \(end)] was not kept; add the bounds to the checkpoints or window starts")
            }
            let scale = 1 / Float(end - start)
            averaged[name] = Tensor(shape: hi.shape, storage: zip(hi.storage, lo.storage).map { ($0 - $1) * scale })
        }
        var result = [String: Tensor]()
        if let tail {
            let out = try tail.run(averaged.filter { name, _ in tail.graph.runtimeInputs.contains { $0.name == name } })
            result.merge(out) { a, _ in a }
        }
        for name in outputNames where result[name] == nil { result[name] = averaged[name] }
        return result
    }
}

/// Simulates a converted network over T steps, layer by layer over chunks of steps.
///
/// Each dynamic node processes a whole chunk of steps (steps stacked on the batch axis)
/// before the next node runs, so a layer's weights stay in cache for the chunk. Neurons
/// and running-sum max pools carry their state from chunk to chunk, so the result is the
/// same for any chunk size. The layers before the first neuron see the same image every
/// step and run once. The batch runs in shards of `SimulationOptions.shardSize` samples,
/// one core carrying each shard through all of this (`BatchShards`, `runShard`).
///
/// Spikes travel between layers as packed bits (`SpikePatterns`) with the density the
/// neuron layer counted; a convolution reading them runs by table lookup, event-driven or
/// as an AMX matrix product (`SpikingConvolution` picks per chunk), and one that never
/// runs dense and feeds a single neuron layer, directly, through a residual Add or through
/// a running-sum max pool, runs fused with it (`FusedSpikingLayer`). A residual Add
/// read only by a neuron layer is folded into it. Float maps are built only for the
/// nodes that need them (pools, sums, the readout).
public final class Simulator {
    public let graph: Graph
    public let options: SimulationOptions
    let partition: NetworkPartition
    let inputName: String
    let batchShape: [Int]
    let staticPlan: ExecutionPlan?
    let tailPlan: ExecutionPlan?
    let dynamicGraph: Graph
    let dynamicInputs: [String]
    let shapes: [String: [Int]]
    let neuronLayers: [String]
    let fanouts: [String: [Float]]
    /// Spike kernels (events, tables, matrix) for the dynamic convolutions that have one.
    let convolutions: [String: SpikingConvolution]
    /// Add nodes folded into the neuron layer that alone reads them (Add name -> neuron
    /// name): the neuron integrates both currents, so the sum is never written and re-read.
    public let foldedAdds: [String: String]
    /// Per neuron layer, what its readers take: packed spikes (convolutions whose every
    /// possible kernel reads them) and/or the float map (anything else).
    let spikeReaders: [String: (patterns: Bool, floats: Bool)]
    /// Convolutions run together with the neuron layer that alone reads them (conv name ->
    /// the neuron, the folded Add between them if any and that Add's other input, or the
    /// running-sum max pool between them).
    let fusions: [String: (neuron: String, add: String?, bypass: String?, pool: String?)]
    /// Max pools that run inside a fused layer.
    public let fusedPools: Set<String>
    /// Values from the image-only part read only by neuron layers: each neuron reads the
    /// one stored step at every step, so they are never repeated over a chunk.
    public let constantCurrents: Set<String>
    let bypassValues: Set<String>
    /// Bypass values made by a spike-fed convolution for the fused layer alone: left to that
    /// layer (looked up per block, or pixel-major rows) when the kernel allows it
    /// (`SpikingConvolution.bypass`).
    let convolutionBypasses: Set<String>
    /// The fused layers' constant parts, and every neuron layer's per-sample constants.
    let fusedLayers: [String: FusedSpikingLayer]
    let neuronLayouts: [String: IFLayerState.Layout]
    let analogMACs: Int
    /// Seconds per part when timings are collected: "OpType node" for each dynamic node
    /// ("Conv conv5", with " (events)" or " (tables)" when that kernel ran rather than the
    /// dense one, and " + IFNeuron" or " + MaxPool + IFNeuron" when the neuron layer, and
    /// the pool before it, ran fused inside it), plus "input tiling" and "readout sums".
    public private(set) var timings: [String: Double] = [:]
    /// The spiking part's plans by [samples, steps].
    private var dynamicPlans: [[Int]: ExecutionPlan] = [:]

    public init(graph: Graph, inputShape: [Int], options: SimulationOptions) throws {
        guard options.timeSteps > 0 else { throw SimulationError.invalidOptions("T must be at least 1 (got \(options.timeSteps))") }
        guard options.chunk > 0 else { throw SimulationError.invalidOptions("the chunk must be at least 1 step") }
        guard options.shardSize > 0 else { throw SimulationError.invalidOptions("the shard must hold at least 1 sample") }
        if let bad = options.checkpoints.first(where: { $0 < 1 || $0 > options.timeSteps }) {
            throw SimulationError.invalidOptions("checkpoint \(bad) is outside 1...\(options.timeSteps) (T_max = \(options.timeSteps))")
        }
        if let bad = options.windowStarts.first(where: { $0 < 0 || $0 >= options.timeSteps }) {
            throw SimulationError.invalidOptions("window start \(bad) is outside 0..<\(options.timeSteps)")
        }
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
        // Whole-network shapes for the batch (the clip-ANN plan also validates thresholds).
        let full = try ExecutionPlan(graph: graph, inputShapes: [input.name: inputShape], options: PlanOptions(fuseActivations: false))
        shapes = full.shapes
        neuronLayers = layers.map(\.node)

        if partition.staticNodes.isEmpty {
            staticPlan = nil
            analogMACs = 0
        } else {
            let g = graph.subgraph(nodeIndices: partition.staticNodes, inputs: [input], outputs: partition.staticOutputs, name: "static")
            let plan = try ExecutionPlan(graph: g, inputShapes: [input.name: inputShape])
            staticPlan = plan
            analogMACs = plan.layerCosts().reduce(0) { $0 + $1.macs }
        }
        var produced = Set<String>()
        for i in partition.dynamicNodes { produced.formUnion(graph.nodes[i].outputs) }
        var readsFromOutside = [String]()
        for i in partition.dynamicNodes {
            for name in graph.nodes[i].inputs where !name.isEmpty && !produced.contains(name) && graph.constants[name] == nil
                && !readsFromOutside.contains(name) { readsFromOutside.append(name) }
        }
        dynamicInputs = readsFromOutside
        if partition.tailNodes.isEmpty {
            tailPlan = nil
        } else {
            var tailReads = [String]()
            var tailProduced = Set<String>()
            for i in partition.tailNodes { tailProduced.formUnion(graph.nodes[i].outputs) }
            for i in partition.tailNodes {
                for name in graph.nodes[i].inputs where !name.isEmpty && !tailProduced.contains(name) && graph.constants[name] == nil
                    && !tailReads.contains(name) { tailReads.append(name) }
            }
            let g = graph.subgraph(nodeIndices: partition.tailNodes, inputs: tailReads.map { ValueInfo(name: $0, dimensions: nil) },
                                   outputs: graph.outputs.map(\.name).filter { tailProduced.contains($0) }, name: "readout")
            var tailShapes = [String: [Int]]()
            for name in tailReads { tailShapes[name] = full.shapes[name] }
            tailPlan = try ExecutionPlan(graph: g, inputShapes: tailShapes)
        }
        var fan = SynapticFanout(graph: graph, shapes: full.shapes)
        var maps = [String: [Float]]()
        for node in graph.nodes { if case .ifNeuron = node.op, let out = node.outputs.first { maps[node.name] = fan.fanout(of: out) } }
        fanouts = maps
        var kernels = [String: SpikingConvolution]()
        let producers = graph.producers()
        for i in partition.dynamicNodes {
            let node = graph.nodes[i]
            guard case .conv = node.op, let x = full.shapes[node.inputs[0]],
                  let kernel = try SpikingConvolution(node: node, in: graph, inputShape: x, producers: producers,
                                                      tableMemoryLimit: options.tableMemoryLimit) else { continue }
            kernels[node.name] = kernel
        }
        convolutions = kernels
        var folded = [String: String]()
        let consumers = graph.consumers()
        let kept = Set(graph.outputs.map(\.name)).union(partition.readoutValues)
        for i in partition.dynamicNodes {
            let node = graph.nodes[i]
            guard case .binary(.add) = node.op, node.inputs.count == 2, let out = node.outputs.first, !kept.contains(out),
                  let readers = consumers[out], readers.count == 1, case .ifNeuron = graph.nodes[readers[0]].op,
                  graph.nodes[readers[0]].inputs[0] == out,
                  let a = full.shapes[node.inputs[0]], a == full.shapes[node.inputs[1]], a == full.shapes[out] else { continue }
            folded[node.name] = graph.nodes[readers[0]].name
        }
        foldedAdds = folded
        let order = Self.fusionOrder(graph, dynamicNodes: partition.dynamicNodes, foldedAdds: folded, convolutions: kernels, shapes: full.shapes)
        dynamicGraph = graph.subgraph(nodeIndices: order, inputs: readsFromOutside.map { ValueInfo(name: $0, dimensions: nil) },
                                      outputs: partition.readoutValues, name: "dynamic")
        var fused = [String: (neuron: String, add: String?, bypass: String?, pool: String?)]()
        var poolSizes = [String: Int]()
        var position = [String: Int]()
        for (k, i) in order.enumerated() { for out in graph.nodes[i].outputs { position[out] = k } }
        for (k, i) in order.enumerated() {
            let node = graph.nodes[i]
            guard let conv = kernels[node.name], conv.readsPatterns(options), let out = node.outputs.first, !kept.contains(out),
                  let readers = consumers[out], readers.count == 1, let shape = full.shapes[out], shape.count == 4 else { continue }
            let reader = graph.nodes[readers[0]]
            if case .ifNeuron = reader.op, reader.inputs[0] == out, full.shapes[reader.inputs[0]] == shape {
                fused[node.name] = (reader.name, nil, nil, nil)
            } else if let neuron = folded[reader.name], reader.inputs.contains(out) {
                // The Add's other current must exist by the time the convolution runs
                // (either side will do: a + b and b + a are the same float).
                let other = reader.inputs[0] == out ? reader.inputs[1] : reader.inputs[0]
                if other == out { continue }
                if let p = position[other], p > k { continue }
                fused[node.name] = (neuron, reader.name, other, nil)
            } else if options.maxPooling == .runningSum, let size = Self.tilingPoolSize(reader, input: shape, shapes: full.shapes),
                      let pooled = reader.outputs.first, !kept.contains(pooled), let after = consumers[pooled], after.count == 1,
                      case .ifNeuron = graph.nodes[after[0]].op, graph.nodes[after[0]].inputs[0] == pooled {
                fused[node.name] = (graph.nodes[after[0]].name, nil, nil, reader.name)
                poolSizes[node.name] = size
            }
        }
        fusions = fused
        fusedPools = Set(fused.values.compactMap(\.pool))
        bypassValues = Set(fused.values.compactMap(\.bypass))
        convolutionBypasses = Set(fused.values.compactMap { fusion -> String? in
            guard let value = fusion.bypass, let add = fusion.add, !kept.contains(value), let p = producers[value],
                  kernels[graph.nodes[p].name] != nil, let readers = consumers[value], readers.count == 1,
                  graph.nodes[readers[0]].name == add else { return nil }
            return value
        })
        var layouts = [String: IFLayerState.Layout]()
        for node in graph.nodes {
            guard case .ifNeuron(let v0) = node.op, let theta = graph.floatConstant(node.inputs[1]),
                  let shape = full.shapes[node.inputs[0]] else { continue }
            layouts[node.name] = IFLayerState.Layout(thresholds: theta.storage, sampleShape: Array(shape.dropFirst()), initialPotential: v0,
                                                          reset: options.reset)
        }
        neuronLayouts = layouts
        var fusedLayers = [String: FusedSpikingLayer]()
        for (conv, fusion) in fused {
            guard let convolution = kernels[conv], let node = graph.nodes.first(where: { $0.name == fusion.neuron }),
                  case .ifNeuron(let v0) = node.op, let theta = graph.floatConstant(node.inputs[1]),
                  let shape = full.shapes[node.inputs[0]] else { continue }
            let convolutionShape = graph.nodes.first { $0.name == conv }.flatMap { full.shapes[$0.outputs[0]] }
            let pool = poolSizes[conv].flatMap { size in convolutionShape.map { (size, Array($0.dropFirst())) } }
            fusedLayers[conv] = FusedSpikingLayer(convolution: convolution, thresholds: theta.storage, sampleShape: Array(shape.dropFirst()),
                                                  initialPotential: v0, fanout: maps[node.name] ?? [], pool: pool,
                                                  reset: options.reset)
        }
        self.fusedLayers = fusedLayers
        constantCurrents = Set(readsFromOutside.filter { name in
            guard !kept.contains(name), let users = consumers[name], !users.isEmpty else { return false }
            return users.allSatisfy { i in
                if case .ifNeuron = graph.nodes[i].op { return graph.nodes[i].inputs[0] == name && graph.nodes[i].inputs.dropFirst().allSatisfy { $0 != name } }
                return false
            }
        })
        var readers = [String: (patterns: Bool, floats: Bool)]()
        for node in graph.nodes {
            guard case .ifNeuron = node.op, let out = node.outputs.first else { continue }
            var needs = (patterns: false, floats: kept.contains(out) || full.shapes[out]?.count != 4)
            for r in consumers[out] ?? [] {
                if let conv = kernels[graph.nodes[r].name], graph.nodes[r].inputs[0] == out, conv.readsPatterns(options) {
                    needs.patterns = true
                } else if fused.values.contains(where: { $0.add == graph.nodes[r].name && $0.bypass == out }) {
                    needs.patterns = true  // a fused layer adds these spikes to its currents
                } else {
                    needs.floats = true
                }
            }
            readers[node.name] = needs
        }
        spikeReaders = readers
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

    /// The spiking part's plan for `samples` samples over `steps` steps (stacked on the batch
    /// axis). Built before the shards run, read-only while they do.
    private func buildDynamicPlan(samples: Int, steps: Int) throws {
        guard dynamicPlans[[samples, steps]] == nil else { return }
        var inputShapes = [String: [Int]]()
        for name in dynamicInputs {
            var s = shapes[name] ?? []
            s[0] = samples * steps
            inputShapes[name] = s
        }
        dynamicPlans[[samples, steps]] = try ExecutionPlan(graph: dynamicGraph, inputShapes: inputShapes, options: PlanOptions(fuseActivations: true))
    }

    func dynamicPlan(samples: Int, steps: Int) -> ExecutionPlan { dynamicPlans[[samples, steps]]! }

    /// Simulates one batch, shard by shard (`BatchShards`: one core carries each shard
    /// through the whole network). `clipActivations` (neuron node name -> the clip-ANN's
    /// output of that layer for this batch) turns on the per-layer distance diagnostics.
    public func run(_ input: Tensor, clipActivations: [String: Tensor]? = nil) throws -> SimulationResult {
        guard input.shape == batchShape else {
            throw SimulationError.invalidOptions("data has shape \(input.shape), the simulator was set up for \(batchShape)")
        }
        let feeds = [inputName: input]
        var staticValues = feeds
        if let staticPlan { staticValues.merge(try staticPlan.run(feeds)) { a, _ in a } }

        // Which running sums to keep.
        let readoutSize = partition.readoutValues.reduce(0) { $0 + (shapes[$1]?.reduce(1, *) ?? 0) }
        let keepAll = options.keepEveryStep && readoutSize * options.timeSteps <= 64_000_000
        var keep = Set(options.checkpoints).union(options.windowStarts).union([0, options.timeSteps])
        if keepAll { keep = Set(0...options.timeSteps) }

        let shards = BatchShards(batch: batchShape[0], size: options.shardSize)
        for range in shards.ranges {
            for steps in Set([min(options.chunk, options.timeSteps), options.timeSteps % options.chunk]) where steps > 0 {
                try buildDynamicPlan(samples: range.count, steps: steps)
            }
        }
        let runs = try shards.map { range in
            try runShard(range, staticValues: staticValues, clipActivations: clipActivations, keep: keep)
        }
        for run in runs { timings.merge(run.timings, uniquingKeysWith: +) }
        var sums = [String: [Int: Tensor]]()
        for name in partition.readoutValues {
            guard let steps = runs.first?.readoutSums[name]?.keys else { continue }
            sums[name] = Dictionary(uniqueKeysWithValues: steps.map { step in
                (step, Tensor(concatenatingSamples: runs.map { $0.readoutSums[name]![step]! }))
            })
        }
        var constants = [String: Tensor]()
        for name in partition.staticOutputs { constants[name] = staticValues[name] }
        constants[inputName] = input
        let activity = neuronLayers.indices.map { k -> LayerActivity in
            let parts = runs.map { $0.layers[k] }
            return LayerActivity(node: parts[0].node, neurons: parts[0].neurons, spikesPerStep: Self.sum(parts.map(\.spikesPerStep)),
                                 synapticOpsPerStep: Self.sum(parts.map(\.synapticOpsPerStep)), gapToClipANN: Self.sum(parts.map(\.gapToClipANN)),
                                 clipANNMagnitude: clipActivations?[parts[0].node].map { $0.storage.reduce(0.0) { $0 + Double(abs($1)) } } ?? 0)
        }
        return SimulationResult(timeSteps: options.timeSteps, batch: batchShape[0], layers: activity, analogMACsPerStep: analogMACs,
                                readoutSums: sums, constantValues: constants, tail: tailPlan, outputNames: graph.outputs.map(\.name))
    }

    /// Element by element, in shard order: the same sums for any thread count.
    private static func sum(_ parts: [[Double]]) -> [Double] {
        parts.dropFirst().reduce(parts[0]) { total, part in zip(total, part).map(+) }
    }
}
