import SNNGraph
import SNNTensor

/// What every planning step of `SimulationPlan` looks up: the graph, its batch shapes and
/// wiring, and the values that must stay visible (graph outputs and the readout).
struct PlanningContext {
    let graph: Graph
    let options: SimulationOptions
    let shapes: [String: [Int]]
    let partition: NetworkPartition
    let producers: [String: Int]
    let consumers: [String: [Int]]
    /// Values read outside the spiking part: never folded away or left unwritten.
    let kept: Set<String>

    init(graph: Graph, options: SimulationOptions, shapes: [String: [Int]], partition: NetworkPartition) {
        self.graph = graph
        self.options = options
        self.shapes = shapes
        self.partition = partition
        producers = graph.producers()
        consumers = graph.consumers()
        kept = Set(graph.outputs.map(\.name)).union(partition.readoutValues)
    }

    /// The values `nodes` read that none of them produces and that are not constants, in
    /// first-read order.
    func externalReads(of nodes: [Int]) -> [String] {
        var produced = Set<String>()
        for i in nodes { produced.formUnion(graph.nodes[i].outputs) }
        var reads = [String]()
        for i in nodes {
            for name in graph.nodes[i].inputs where !name.isEmpty && !produced.contains(name) && graph.constants[name] == nil
                && !reads.contains(name) { reads.append(name) }
        }
        return reads
    }

    /// The image-only part's plan and its multiply-accumulates (nil and 0 when empty).
    func staticPart(input: ValueInfo, inputShape: [Int]) throws -> (ExecutionPlan?, Int) {
        guard !partition.staticNodes.isEmpty else { return (nil, 0) }
        let g = graph.subgraph(nodeIndices: partition.staticNodes, inputs: [input], outputs: partition.staticOutputs, name: "static")
        let plan = try ExecutionPlan(graph: g, inputShapes: [input.name: inputShape])
        return (plan, plan.layerCosts().reduce(0) { $0 + $1.macs })
    }

    /// The readout tail's plan, run on the time-averaged readout (nil when there is none).
    func tailPart() throws -> ExecutionPlan? {
        guard !partition.tailNodes.isEmpty else { return nil }
        let reads = externalReads(of: partition.tailNodes)
        var produced = Set<String>()
        for i in partition.tailNodes { produced.formUnion(graph.nodes[i].outputs) }
        let g = graph.subgraph(nodeIndices: partition.tailNodes, inputs: reads.map { ValueInfo(name: $0, dimensions: nil) },
                               outputs: graph.outputs.map(\.name).filter { produced.contains($0) }, name: "readout")
        var tailShapes = [String: [Int]]()
        for name in reads { tailShapes[name] = shapes[name] }
        return try ExecutionPlan(graph: g, inputShapes: tailShapes)
    }

    /// Per neuron layer, the synaptic fan-out of each of its values.
    func fanouts() -> [String: [Float]] {
        var fan = SynapticFanout(graph: graph, shapes: shapes)
        var maps = [String: [Float]]()
        for node in graph.nodes { if case .ifNeuron = node.op, let out = node.outputs.first { maps[node.name] = fan.fanout(of: out) } }
        return maps
    }

    /// The spike kernels of the spiking part's convolutions that have any.
    func spikingConvolutions() throws -> [String: SpikingConvolution] {
        var kernels = [String: SpikingConvolution]()
        for i in partition.dynamicNodes {
            let node = graph.nodes[i]
            guard case .conv = node.op, let x = shapes[node.inputs[0]],
                  // Burst spikes are graded, not 0/1: no spike kernel may read them.
                  let kernel = try SpikingConvolution(node: node, in: graph, inputShape: x, producers: options.burst > 1 ? [:] : producers,
                                                      tableMemoryLimit: options.tableMemoryLimit) else { continue }
            kernels[node.name] = kernel
        }
        return kernels
    }

    /// The spiking part's plans for every shard size and chunk length (`options.chunk`
    /// steps, and the shorter last chunk when T is not a multiple of it), by [samples, steps].
    func chunkPlans(dynamicGraph: Graph, dynamicInputs: [String], shards: BatchShards) throws -> [[Int]: ExecutionPlan] {
        var plans = [[Int]: ExecutionPlan]()
        let lengths = Set([min(options.chunk, options.timeSteps), options.timeSteps % options.chunk]).filter { $0 > 0 }
        for samples in Set(shards.ranges.map(\.count)) {
            for steps in lengths {
                var inputShapes = [String: [Int]]()
                for name in dynamicInputs {
                    var s = shapes[name] ?? []
                    s[0] = samples * steps
                    inputShapes[name] = s
                }
                plans[[samples, steps]] = try ExecutionPlan(graph: dynamicGraph, inputShapes: inputShapes,
                                                            options: PlanOptions(fuseActivations: true))
            }
        }
        return plans
    }
}
