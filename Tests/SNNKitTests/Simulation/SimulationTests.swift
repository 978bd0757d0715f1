import Foundation
import Testing
@testable import SNNKit
@testable import SNNSimulation
import SNNAMX

/// The oracle: the whole network step by step, dense, with the neuron equations written
/// out plainly. It shares only the ANN executor (verified against onnxruntime).
struct ReferenceSimulator {
    let graph: Graph
    let runningSumPooling: Bool
    var reset: ResetMode = .subtract
    /// Spikes a neuron may emit per step (burst neurons).
    var burst = 1
    /// An integer SNN's record: its layers then run as the integer machine (`IntegerNeurons`)
    /// and its float layers in float32, as the engine adds.
    var quantization: QuantizationRecord? = nil
    /// Receives, per integer layer, how many updates hit the state bounds.
    var saturation: IntegerNeurons.Log? = nil

    /// Sum over steps 1...T of the network outputs (before any readout tail's non-linearity
    /// the fixture networks have none), returned per step as running sums.
    func run(_ x: Tensor, steps: Int) throws -> (sums: [Tensor], spikes: [String: [Double]]) {
        let (sums, spikes, _) = try runKeepingOutputs(x, steps: steps)
        return (sums, spikes)
    }

    /// Also: per neuron layer and step, every neuron's output summed over steps 1...t.
    func runKeepingOutputs(_ x: Tensor, steps: Int) throws -> (sums: [Tensor], spikes: [String: [Double]], outputs: [String: [[Double]]]) {
        var outputSums = [String: [Double]]()
        var outputs = [String: [[Double]]]()
        let name = graph.runtimeInputs[0].name
        let plan = try ExecutionPlan(graph: graph, inputShapes: [name: x.shape], options: .init(fuseActivations: false))
        var membrane = [String: [Double]]()
        var cumulative = [String: [Double]]()
        var previousPool = [String: Tensor]()
        var spikeCounts = [String: [Double]]()
        var total: Tensor? = nil
        var sums = [Tensor]()
        var integerState = IntegerNeurons.State()
        for _ in 0..<steps {
            let out = try plan.run([name: x], intercept: { index, inputs in
                let node = graph.nodes[index]
                guard let z = inputs[0] else { return nil }
                if let quantization, let y = try IntegerNeurons.step(node, z, quantization, reset: reset,
                                                                     ratios: node.inputs.count > 2 ? graph.initialPotentialRatios(of: node) : nil,
                                                                     state: &integerState) {
                    spikeCounts[node.name, default: []].append(Double(y.storage.filter { $0 != 0 }.count))
                    var total = outputSums[node.name] ?? [Double](repeating: 0, count: z.count)
                    for i in 0..<z.count { total[i] += Double(y.storage[i]) }
                    outputSums[node.name] = total
                    outputs[node.name, default: []].append(total)
                    return [y]
                }
                if case .ifNeuron(let ratio) = node.op {
                    let theta = graph.floatConstant(node.inputs[1])!.storage
                    // v(0) / theta per channel when calibrated (a third input), else the attribute.
                    let v0 = node.inputs.count > 2 ? graph.floatConstant(node.inputs[2])!.storage : [ratio]
                    let c = z.shape[1], inner = z.shape[2...].reduce(1, *)
                    func channel(_ i: Int) -> Int { (i / inner) % c }
                    var v = membrane[node.name] ?? (0..<z.count).map {
                        Double(v0[v0.count == 1 ? 0 : channel($0)]) * Double(theta[theta.count == 1 ? 0 : channel($0)])
                    }
                    var y = Tensor(zeros: z.shape)
                    var count = 0.0
                    for i in 0..<z.count {
                        let th = Double(theta[theta.count == 1 ? 0 : channel(i)])
                        v[i] += Double(z.storage[i])
                        var fired = 0
                        while fired < burst && v[i] > th { v[i] = reset == .zero ? 0 : v[i] - th; fired += 1 }
                        y.storage[i] = Float(Double(fired) * th)
                        count += Double(fired)
                    }
                    membrane[node.name] = v
                    spikeCounts[node.name, default: []].append(count)
                    var total = outputSums[node.name] ?? [Double](repeating: 0, count: z.count)
                    for i in 0..<z.count { total[i] += Double(y.storage[i]) }
                    outputSums[node.name] = total
                    outputs[node.name, default: []].append(total)
                    return [y]
                }
                if case .maxPool = node.op, runningSumPooling {
                    var c = cumulative[node.name] ?? [Double](repeating: 0, count: z.count)
                    for i in 0..<z.count { c[i] += Double(z.storage[i]) }
                    cumulative[node.name] = c
                    let pooledPlan = try ExecutionPlan(graph: graph.subgraph(nodeIndices: [index], inputs: [ValueInfo(name: node.inputs[0], dimensions: nil)], outputs: node.outputs, name: "p"), inputShapes: [node.inputs[0]: z.shape])
                    let pooled = try pooledPlan.run([node.inputs[0]: Tensor(shape: z.shape, storage: c.map { Float($0) })])[node.outputs[0]]!
                    let previous = previousPool[node.name] ?? Tensor(zeros: pooled.shape)
                    previousPool[node.name] = pooled
                    return [Tensor(shape: pooled.shape, storage: zip(pooled.storage, previous.storage).map { $0 - $1 })]
                }
                return nil
            })
            let y = out[graph.outputs[0].name]!
            total = total.map { Tensor(shape: y.shape, storage: zip($0.storage, y.storage).map { $0 + $1 }) } ?? y
            sums.append(total!)
        }
        saturation?.counts = integerState.saturated
        return (sums, spikeCounts, outputs)
    }
}

@Suite struct SimulationTests {
    func converted(_ name: String, batches: Int = 8) throws -> (Graph, [Int]) {
        let (graph, shape) = try TestData.model(name)
        var options = ConversionOptions()
        options.budget = .fixed(batches)
        let calibration = InMemoryBatches((0..<batches).map { TestData.batch([8] + shape.dropFirst(), seed: UInt64(100 + $0)) })
        return (try Converter(options: options).convert(graph, calibration: calibration).graph, shape)
    }

    @Test(arguments: ["net_a_classifier", "net_b_resnet_blocks", "net_c_vgg", "net_d_segmentation", "net_e_dense_block",
                      "net_g_inverted_residual"],
          ConvolutionKernel.allCases)
    func engineMatchesTheReference(_ name: String, _ kernel: ConvolutionKernel) throws {
        let (graph, shape) = try converted(name)
        try expectEngineMatchesTheReference(graph, input: TestData.batch([3] + shape.dropFirst(), seed: 7), kernel: kernel,
                                            residual: name == "net_b_resnet_blocks", pooled: name == "net_c_vgg" && kernel != .dense)
    }

    /// The dense work of an inverted residual's SNN, counted by hand: the depthwise layers
    /// have no spike kernel (8x8x32 and, strided, 4x4x32 outputs of 9 taps), and the second
    /// expansion reads the first block's sum, not spikes (8x8x32 outputs of 8 inputs). The
    /// spike-fed 1x1 layers and the readout's projection do no dense work.
    @Test func denseWorkOfAnInvertedResidual() throws {
        let (graph, shape) = try converted("net_g_inverted_residual")
        let simulator = try Simulator(graph: graph, inputShape: [3] + shape.dropFirst(), options: SimulationOptions(timeSteps: 4))
        #expect(simulator.denseWorkPerSampleStep == [.depthwise: 8 * 8 * 32 * 9 + 4 * 4 * 32 * 9, .pointwise: 8 * 8 * 32 * 8])
        let (vgg, vggShape) = try converted("net_c_vgg")
        #expect(try Simulator(graph: vgg, inputShape: [3] + vggShape.dropFirst(), options: SimulationOptions(timeSteps: 4))
            .denseWorkPerSampleStep.isEmpty)
    }

    /// A converted three-layer network on 3 x 3 planes with channel counts that are not a
    /// multiple of eight (20, 72); `pooled`: on 4 x 4 planes, 20 -> 64 channels (so the event
    /// kernel applies too), with a 2 x 2 max pool after the second layer's neurons (moved
    /// before them by the conversion, as in a VGG).
    func smallPlanesNetwork(pooled: Bool = false) throws -> Graph {
        func conv(_ name: String, _ input: String, _ output: String, kernel k: Int) -> Node {
            Node(name: name, op: .conv(.init(kernelShape: [k, k], strides: [1, 1], dilations: [1, 1], pads: [k / 2, k / 2, k / 2, k / 2],
                                             autoPad: .notSet, group: 1)), inputs: [input, name + ".w", name + ".b"], outputs: [output])
        }
        var g = KernelTests.Generator(state: 5)
        let wide = pooled ? 64 : 72
        let layers = [("c1", 3, 20, 3), ("c2", 20, wide, 3), ("c3", wide, 4, 1)]
        var constants = [String: Constant]()
        for (name, cin, cout, k) in layers {
            constants[name + ".w"] = .float(Tensor(shape: [cout, cin, k, k], storage: g.array(cout * cin * k * k).map { $0 * 0.6 }))
            constants[name + ".b"] = .float(Tensor(shape: [cout], storage: g.array(cout).map { $0 * 0.1 + 0.05 }))
        }
        let side = pooled ? 4 : 3
        let pool = Node(name: "p2", op: .maxPool(.init(kernelShape: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0],
                                                       autoPad: .notSet, ceilMode: false)), inputs: ["h2"], outputs: ["q2"])
        let ann = Graph(name: "small", nodes: [
            conv("c1", "x", "a1", kernel: 3), Node(name: "r1", op: .relu, inputs: ["a1"], outputs: ["h1"]),
            conv("c2", "h1", "a2", kernel: 3), Node(name: "r2", op: .relu, inputs: ["a2"], outputs: ["h2"]),
        ] + (pooled ? [pool] : []) + [conv("c3", pooled ? "q2" : "h2", "y", kernel: 1)],
        inputs: [ValueInfo(name: "x", dimensions: [.fixed(3), .fixed(3), .fixed(side), .fixed(side)])],
        outputs: [ValueInfo(name: "y", dimensions: nil)], constants: constants)
        var options = ConversionOptions()
        options.budget = .fixed(4)
        let calibration = InMemoryBatches((0..<4).map { TestData.batch([8, 3, side, side], seed: UInt64(40 + $0)) })
        return try Converter(options: options).convert(ann, calibration: calibration).graph
    }

    /// Planes smaller than one vector (3 x 3) and channel counts that are not a multiple of
    /// eight, where the neuron layer packs spike bits lane by lane.
    @Test(arguments: ConvolutionKernel.allCases)
    func smallPlanesMatchTheReference(_ kernel: ConvolutionKernel) throws {
        try expectEngineMatchesTheReference(try smallPlanesNetwork(), input: TestData.batch([3, 3, 3, 3], seed: 9), kernel: kernel)
    }

    /// On small maps the batched kernels (the matrix product, step-batched events) carry
    /// several samples per work item; a sample's outputs must be bit for bit those it has
    /// when simulated alone, with and without a running-sum pool inside the fused layer (the
    /// event kernel needs a multiple of 16 output channels: only the pooled network has one).
    @Test(arguments: [(ConvolutionKernel.matrix, false), (.matrix, true), (.events, true)])
    func samplesSharingAWorkItemMatchThemAlone(_ kernel: ConvolutionKernel, _ pooled: Bool) throws {
        let graph = try smallPlanesNetwork(pooled: pooled)
        let (batch, steps, side) = (19, 32, pooled ? 4 : 3)
        // 3 x 3 maps: 9 rows per sample and step; pooled 4 x 4: 4 pooled pixels, 16 convolution rows.
        #expect(FusedSpikingLayer.samplesPerItem(rowsPerSample: 16 * side * side, batch: batch, blocks: 1) > 1, "small maps are grouped")
        var options = SimulationOptions(timeSteps: steps)
        options.chunk = 16
        options.convolutionKernel = kernel
        options.stepBatchingWeightBytes = 0
        let x = TestData.batch([batch, 3, side, side], seed: 23)
        let simulator = try Simulator(graph: graph, inputShape: x.shape, options: options)
        if pooled { #expect(!simulator.fusedPools.isEmpty, "the pool runs inside the fused layer") }
        if kernel == .matrix && !SpikeMatrixConvolution.isAvailable { return }
        let together = try simulator.run(x).outputs(from: 0, to: steps)["y"]!
        let (size, pixels) = (together.count / batch, 3 * side * side)
        for n in [0, 1, 10, 18] {
            let sample = Tensor(shape: [1, 3, side, side], storage: Array(x.storage[(n * pixels)..<((n + 1) * pixels)]))
            let alone = try Simulator(graph: graph, inputShape: sample.shape, options: options).run(sample).outputs(from: 0, to: steps)["y"]!
            #expect(Array(together.storage[(n * size)..<((n + 1) * size)]) == alone.storage, "sample \(n)")
        }
    }

    /// The per-layer distance to given activations, measured inside the neuron loops
    /// (fused layers included), against sums of the reference simulator's outputs.
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg"], [ConvolutionKernel.auto, .dense])
    func gapDiagnosticsMatchTheReference(_ name: String, _ kernel: ConvolutionKernel) throws {
        let (graph, shape) = try converted(name)
        let x = TestData.batch([2] + shape.dropFirst(), seed: 11)
        let steps = 40
        var options = SimulationOptions(timeSteps: steps, checkpoints: [1, 5, 16, 17, 40])
        options.convolutionKernel = kernel
        let simulator = try Simulator(graph: graph, inputShape: x.shape, options: options)
        let reference = try ReferenceSimulator(graph: graph, runningSumPooling: true).runKeepingOutputs(x, steps: steps)
        // Any activations will do as the clip-ANN's: the gap is plain arithmetic on the outputs.
        let plan = try ExecutionPlan(graph: graph, inputShapes: [graph.runtimeInputs[0].name: x.shape], options: .init(fuseActivations: false))
        var targets = [String: Tensor]()
        for node in graph.nodes {
            guard case .ifNeuron = node.op, let layerShape = plan.shapes[node.inputs[0]] else { continue }
            let n = layerShape.reduce(1, *)
            targets[node.name] = Tensor(shape: layerShape, storage: (0..<n).map { Float(($0 * 7919) % 13) * 0.05 })
        }
        let result = try simulator.run(x, clipActivations: targets)
        #expect(result.layers.count == targets.count)
        for layer in result.layers {
            let sums = reference.outputs[layer.node]!, target = targets[layer.node]!.storage
            let expected = options.checkpoints.map { t in
                zip(sums[t - 1], target).reduce(0.0) { $0 + abs($1.0 / Double(t) - Double($1.1)) }
            }
            #expect(layer.gapToClipANN.count == expected.count, "\(layer.node)")
            for (ours, theirs) in zip(layer.gapToClipANN, expected) {
                #expect(abs(ours - theirs) <= 1e-3 * max(theirs, 1), "\(layer.node): gap \(ours) vs \(theirs)")
            }
        }
    }

    func expectEngineMatchesTheReference(_ graph: Graph, input x: Tensor, kernel: ConvolutionKernel, residual: Bool = false,
                                         pooled: Bool = false, stepBatchingWeightBytes: Int? = nil, tableMemoryLimit: Int? = nil,
                                         reset: ResetMode = .subtract, burst: Int = 1) throws {
        let steps = 64
        var options = SimulationOptions(timeSteps: steps)
        options.reset = reset
        options.burst = burst
        options.chunk = 16
        options.convolutionKernel = kernel
        if let bytes = stepBatchingWeightBytes { options.stepBatchingWeightBytes = bytes }
        if let bytes = tableMemoryLimit { options.tableMemoryLimit = bytes }
        let simulator = try Simulator(graph: graph, inputShape: x.shape, options: options)
        if residual { #expect(!simulator.foldedAdds.isEmpty, "the residual Adds are folded into their neurons") }
        if residual && kernel != .dense {
            // The downsampling unit: the 3x3 convolution runs fused, the 1x1 shortcut's rows
            // are left to it (looked up per block, or pixel-major from the matrix product).
            #expect(simulator.convolutionBypasses.count == 1 && simulator.fusions.values.contains { $0.bypass == simulator.convolutionBypasses.first },
                    "the shortcut feeds the fused layer directly")
        }
        if pooled { #expect(!simulator.fusedPools.isEmpty, "a max pool between a spike-fed convolution and its neurons runs fused") }
        if burst > 1 { #expect(simulator.fusions.isEmpty, "graded burst spikes run on the float kernels, never fused") }
        #expect(!simulator.constantCurrents.isEmpty, "the first neuron layer reads its constant current without repeating it")
        let result = try simulator.run(x)
        let reference = try ReferenceSimulator(graph: graph, runningSumPooling: true, reset: reset, burst: burst).run(x, steps: steps)
        for layer in result.layers {
            let ours = layer.spikesPerStep.reduce(0, +), theirs = reference.spikes[layer.node]!.reduce(0, +)
            #expect(abs(ours - theirs) <= 0.001 * max(theirs, 1), "\(layer.node): \(ours) vs \(theirs) spikes")
        }
        let ours = try result.outputs(from: 0, to: steps)[graph.outputs[0].name]!
        let ref = reference.sums[steps - 1]
        #expect(relativeError(ours, Tensor(shape: ref.shape, storage: ref.storage.map { $0 / Float(steps) })) <= 1e-4)
    }

    /// Event-driven layers whose weights overflow L2 compute a chunk's steps together; on
    /// the fixtures (small weights) that path is forced, and must still match the reference.
    @Test(arguments: [ConvolutionKernel.events, .auto])
    func stepsComputedTogetherMatchTheReference(_ kernel: ConvolutionKernel) throws {
        for name in ["net_b_resnet_blocks", "net_c_vgg"] {
            let (graph, shape) = try converted(name)
            try expectEngineMatchesTheReference(graph, input: TestData.batch([3] + shape.dropFirst(), seed: 7), kernel: kernel,
                                                stepBatchingWeightBytes: 0)
        }
    }

    /// A layer whose lookup tables would exceed `tableMemoryLimit` gets none and runs
    /// event-driven or dense, still matching the reference.
    @Test(arguments: [ConvolutionKernel.auto, .tables])
    func tablesOverTheMemoryLimitAreNotBuilt(_ kernel: ConvolutionKernel) throws {
        let (graph, shape) = try converted("net_c_vgg")
        var options = SimulationOptions(timeSteps: 8)
        options.convolutionKernel = kernel
        #expect(try !Simulator(graph: graph, inputShape: [3] + shape.dropFirst(), options: options).fusedPools.isEmpty)
        options.tableMemoryLimit = 1024
        if kernel == .tables {
            #expect(try Simulator(graph: graph, inputShape: [3] + shape.dropFirst(), options: options).fusedPools.isEmpty,
                    "without tables nothing reads packed spikes under .tables")
        }
        try expectEngineMatchesTheReference(graph, input: TestData.batch([3] + shape.dropFirst(), seed: 7), kernel: kernel,
                                            tableMemoryLimit: 1024)
    }

    /// A batch runs in shards of `shardSize` samples, side by side on the cores: each shard's
    /// readouts and activity are bit for bit those of its samples simulated as a batch of
    /// their own (shards of 4, 4 and 3: two side by side, one left over with its loops split).
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg"])
    func shardsMatchTheirSamplesSimulatedAlone(_ name: String) throws {
        let (graph, shape) = try converted(name)
        let (batch, steps) = (11, 24)
        var options = SimulationOptions(timeSteps: steps, checkpoints: [8, 24])
        options.shardSize = 4
        let x = TestData.batch([batch] + shape.dropFirst(), seed: 5)
        let together = try Simulator(graph: graph, inputShape: x.shape, options: options).run(x)
        let output = graph.outputs[0].name
        var spikes = [[Double]](), ops = [[Double]]()
        for range in [0..<4, 4..<8, 8..<11] {
            let part = x.samples(range)
            let alone = try Simulator(graph: graph, inputShape: part.shape, options: options).run(part)
            for (start, end) in [(0, 8), (0, 24), (8, 24)] {
                let whole = try together.outputs(from: start, to: end)[output]!, own = try alone.outputs(from: start, to: end)[output]!
                #expect(whole.samples(range) == own, "samples \(range), window (\(start), \(end)]")
            }
            spikes = spikes.isEmpty ? alone.layers.map(\.spikesPerStep) : zip(spikes, alone.layers).map { zip($0, $1.spikesPerStep).map(+) }
            ops = ops.isEmpty ? alone.layers.map(\.synapticOpsPerStep) : zip(ops, alone.layers).map { zip($0, $1.synapticOpsPerStep).map(+) }
        }
        #expect(together.layers.map(\.spikesPerStep) == spikes)
        #expect(together.layers.map(\.synapticOpsPerStep) == ops)
        #expect(spikes.joined().reduce(0, +) > 0, "the network fires")
    }

    /// Shards run once each, results in shard order; whole rounds run one per worker with
    /// their loops on their own thread, the rest with the loops split; a shard's error
    /// reaches the caller.
    @Test func shardsRunOnceEachAndInOrder() throws {
        defer { Parallel.threads = 0 }
        Parallel.threads = 2
        let shards = BatchShards(batch: 37, size: 8)
        #expect(shards.ranges == [0..<8, 8..<16, 16..<24, 24..<32, 32..<37])
        let seen = try shards.map { range in (range, Parallel.workers) }
        #expect(seen.map(\.0) == shards.ranges)
        #expect(seen.map(\.1) == [1, 1, 1, 1, 2], "four side by side with serial loops, the fifth with both cores")
        struct Failed: Error {}
        #expect(throws: Failed.self) { _ = try shards.map { range in if range.lowerBound == 16 { throw Failed() }; return range.count } }
    }

    @Test func chunkSizeDoesNotChangeTheResult() throws {
        let (graph, shape) = try converted("net_c_vgg")
        let x = TestData.batch([2] + shape.dropFirst(), seed: 3)
        var results = [Tensor]()
        for chunk in [1, 7, 32] {
            var options = SimulationOptions(timeSteps: 32)
            options.chunk = chunk
            results.append(try Simulator(graph: graph, inputShape: x.shape, options: options).run(x).outputs(from: 0, to: 32)[graph.outputs[0].name]!)
        }
        #expect(relativeError(results[0], results[1]) <= 1e-6)
        #expect(relativeError(results[0], results[2]) <= 1e-6)
    }

    /// As T grows the readout approaches the clip-ANN: the error shrinks roughly as 1/T with
    /// running-sum pooling; per-step pooling after a spiking layer stays off.
    @Test func readoutConvergesToTheClipANN() throws {
        let (graph, shape) = try converted("net_c_vgg", batches: 12)
        let x = TestData.batch([4] + shape.dropFirst(), seed: 11)
        let name = graph.runtimeInputs[0].name
        let clip = try ExecutionPlan(graph: graph, inputShapes: [name: x.shape]).run([name: x])[graph.outputs[0].name]!
        var errors = [MaxPoolMode: [Double]]()
        for mode in MaxPoolMode.allCases {
            var options = SimulationOptions(timeSteps: 1024, checkpoints: [32, 128, 1024])
            options.maxPooling = mode
            let result = try Simulator(graph: graph, inputShape: x.shape, options: options).run(x)
            errors[mode] = try [32, 128, 1024].map { relativeError(try result.outputs(from: 0, to: $0)[graph.outputs[0].name]!, clip) }
        }
        let running = errors[.runningSum]!, perStep = errors[.perStep]!
        #expect(running[1] < running[0] && running[2] < running[1], "\(running)")
        #expect(running[2] < 0.02, "\(running)")
        #expect(running[0] / running[2] > 8, "error should fall roughly as 1/T: \(running)")
        #expect(perStep[2] > 3 * running[2], "per-step pooling should not converge: \(perStep) vs \(running)")
    }

    @Test func badSettingsFailBeforeAnyWork() throws {
        let (graph, shape) = try converted("net_a_classifier", batches: 2)
        let x = [2] + shape.dropFirst()
        #expect(throws: SimulationError.self) { try Simulator(graph: graph, inputShape: x, options: SimulationOptions(timeSteps: 0)) }
        #expect(throws: SimulationError.self) { try Simulator(graph: graph, inputShape: x, options: SimulationOptions(timeSteps: 8, checkpoints: [4, 16])) }
        var noShard = SimulationOptions(timeSteps: 8)
        noShard.shardSize = 0
        #expect(throws: SimulationError.invalidOptions("the shard must hold at least 1 sample")) {
            try Simulator(graph: graph, inputShape: x, options: noShard)
        }
        let (ann, _) = try TestData.model("net_a_classifier")
        #expect(throws: SimulationError.self) { try Simulator(graph: ann, inputShape: x, options: SimulationOptions(timeSteps: 8)) }
        var broken = graph
        let layer = graph.neuronLayers()[0]
        broken.constants[layer.threshold] = .float(Tensor(shape: [layer.channels], repeating: -1))
        #expect(throws: GraphError.self) { try Simulator(graph: broken, inputShape: x, options: SimulationOptions(timeSteps: 8)) }
        let sim = try Simulator(graph: graph, inputShape: x, options: SimulationOptions(timeSteps: 8))
        #expect(throws: SimulationError.self) { try sim.run(Tensor(zeros: [1] + shape.dropFirst())) }
    }
}

/// The fused layers' neuron step in C (`snn_fire_rows`) against the Swift equations of
/// `IFLayerState.Lanes.fire16`, lane by lane: membranes, spike bits, count, fan-out sums,
/// with no second current, a float one, or a neuron layer's spikes read from their bits.
@Suite struct FusedNeuronStepTests {
    enum Bypass: CaseIterable { case none, floats, spikes }

    @Test(arguments: Bypass.allCases, [false, true])
    func matchesTheSwiftNeuronUpdate(bypass: Bypass, storeSpikes: Bool) {
        // 7 pixels of 20 channels padded to 32 lanes: three spike groups, the last of 4 channels.
        let (count, rowStride, channels, groups) = (7, 32, 20, 3)
        var g = KernelTests.Generator(state: storeSpikes ? 3 : 4)
        let theta = (0..<rowStride).map { $0 < channels ? 0.5 + abs(g.next()) : Float.infinity }
        let amplitude = (0..<rowStride).map { $0 < channels ? 0.25 + abs(g.next()) : 0 }
        let v0 = (0..<(count * rowStride)).map { theta[$0 % rowStride].isFinite ? abs(g.next()) * theta[$0 % rowStride] : 0 }
        let input = (0..<(count * rowStride)).map { _ in 1.5 * g.next() }
        let extra = (0..<(count * rowStride)).map { _ in 0.5 * g.next() }
        // The bypass spikes as bits ([group][pixel]) and as the floats they stand for.
        var extraBits = [UInt8](repeating: 0, count: groups * count)
        var spikeCurrents = [Float](repeating: 0, count: count * rowStride)
        for q in 0..<count {
            for c in 0..<channels where g.next() > 0.3 {
                extraBits[(c / 8) * count + q] |= 1 << UInt8(c % 8)
                spikeCurrents[q * rowStride + c] = amplitude[c]
            }
        }
        let fanout = (0..<(count * rowStride)).map { _ in 1 + abs(g.next()) * 9 }
        // Gap-probe sums, given to the step when it does not store the spikes.
        let probe0 = (0..<(count * rowStride)).map { _ in g.next() }
        // The oracle: fire16 per 16 lanes, bits assembled lane by lane.
        var lanes = IFLayerState.Lanes()
        var expectedV = v0, expectedSpikes = input, expectedProbe = probe0
        var expectedBits = [UInt8](repeating: 0, count: groups * count)
        expectedV.withUnsafeMutableBufferPointer { v in
            for q in 0..<count {
                for k in stride(from: 0, to: rowStride, by: 16) {
                    let at = q * rowStride + k
                    var current = SIMD16<Float>((0..<16).map { input[at + $0] })
                    switch bypass {
                    case .none: break
                    case .floats: current += SIMD16<Float>((0..<16).map { extra[at + $0] })
                    case .spikes: current += SIMD16<Float>((0..<16).map { spikeCurrents[at + $0] })
                    }
                    let (spike, fire) = fanout.withUnsafeBufferPointer {
                        lanes.fire16(v.baseAddress! + at, input: current, theta: SIMD16<Float>(theta[k..<(k + 16)]), fanout: $0.baseAddress! + at)
                    }
                    for j in 0..<16 {
                        expectedSpikes[at + j] = spike[j]
                        expectedProbe[at + j] += spike[j]
                        let group = (k + j) / 8
                        if fire[j] && group < groups { expectedBits[group * count + q] |= 1 << UInt8(j % 8) }
                    }
                }
            }
        }
        // The C step: every bit byte is written (they start at 0xAA), none after the planes.
        var step = NeuronStepBuffers(v: v0, rows: input, bits: [UInt8](repeating: 0xAA, count: groups * count) + [UInt8](repeating: 0x5A, count: 8),
                                     probe: probe0, extra: extra, extraBits: extraBits, amplitude: amplitude, theta: theta, fanout: fanout)
        let fired = step.run(count: count, rowStride: rowStride, groups: groups, bypass: bypass, storeSpikes: storeSpikes,
                             probing: !storeSpikes) { snn_fire_rows(&$0) }
        let (v, bits, probe, weighted, rows) = (step.v, step.bits, step.probe, step.weighted, step.rows)
        #expect(v == expectedV)
        #expect(Array(bits[0..<(groups * count)]) == expectedBits)
        #expect(bits[(groups * count)...].allSatisfy { $0 == 0x5A })
        #expect(probe == (storeSpikes ? probe0 : expectedProbe))
        #expect(fired == Int(lanes.fired.wrappedSum()))
        #expect(weighted == (0..<16).map { lanes.weighted[$0] })
        #expect(rows == (storeSpikes ? expectedSpikes : input))
        #expect(fired > 10 && fired < 100)
    }
}

extension FusedNeuronStepTests {
    enum Output { case bitsOnly, floats, probe }

    /// The unrolled sliding lookups with the neuron step run on each output as it completes
    /// (`accumulate(_:image:pixels:firing:weighted:)`, `snn_slide_fire`) against the
    /// lookups' rows then `snn_fire_rows` (tested above against the Swift equations), bit
    /// for bit: 16 and 32 input channels, a last block of 8 output channels, a run starting
    /// and ending mid-row, each bypass, and the steps that also store spikes or probe sums.
    @Test(arguments: [(16, 16, Output.bitsOnly), (32, 32, .bitsOnly), (16, 24, .bitsOnly), (16, 16, .floats), (16, 16, .probe), (32, 32, .probe)],
          Bypass.allCases)
    func slidingLookupsFireLikeRowsThenTheStep(_ layer: (inputs: Int, outputs: Int, output: Output), bypass: Bypass) throws {
        let (cin, cout, h, w) = (layer.inputs, layer.outputs, 5, 9), run = 7..<40
        var g = KernelTests.Generator(state: UInt64(cin * 100 + cout))
        let (thresholds, x) = SpikeTableConvolutionTests.spikes(&g, channels: cin, height: h, width: w, firing: 25)
        let table = try #require(SpikeTableConvolution(weights: g.array(cout * cin * 9), bias: g.array(cout), amplitudes: thresholds,
                                                       inputChannels: cin, outputChannels: cout, groups: 1,
                                                       window: WindowGeometry(kernel: (3, 3), pads: (1, 1, 1, 1)), groupBits: 8))
        #expect(table.firesWhileSliding)
        let spikes = table.padded(SpikePatterns(packing: x, amplitudes: thresholds))
        let (rowStride, count, groups) = (table.paddedOutputs, run.count, (cout + 7) / 8)
        let theta = (0..<rowStride).map { $0 < cout ? 0.3 + 0.5 * abs(g.next()) : Float.infinity }
        let buffers = NeuronStepBuffers(
            v: (0..<(count * rowStride)).map { theta[$0 % rowStride].isFinite ? abs(g.next()) * theta[$0 % rowStride] : 0 },
            rows: [Float](repeating: 0, count: count * rowStride), bits: [UInt8](repeating: 0xAA, count: groups * count),
            probe: (0..<(count * rowStride)).map { _ in g.next() }, extra: (0..<(count * rowStride)).map { _ in 0.5 * g.next() },
            extraBits: (0..<(groups * count)).map { _ in UInt8(truncatingIfNeeded: Int((g.next() + 1) * 1000)) },
            amplitude: (0..<rowStride).map { $0 < cout ? 0.25 + abs(g.next()) : 0 }, theta: theta,
            // Synapse counts, as in the simulator: whole numbers, so their sums do not depend
            // on the order the two paths visit the blocks in.
            fanout: (0..<(count * rowStride)).map { _ in (1 + abs(g.next()) * 9).rounded() })
        var fused = buffers, stored = buffers
        let (storeSpikes, probing) = (layer.output == .floats, layer.output == .probe)
        let firedFused = fused.run(count: count, rowStride: rowStride, groups: groups, bypass: bypass, storeSpikes: storeSpikes,
                                   probing: probing) { step in
            let weighted = step.weighted!
            return table.accumulate(spikes, image: 1, pixels: run, firing: &step, weighted: weighted)
        }
        let firedStored = stored.run(count: count, rowStride: rowStride, groups: groups, bypass: bypass, storeSpikes: storeSpikes,
                                     probing: probing) { step in
            table.accumulate(spikes, image: 1, pixels: run, into: step.input!)
            return snn_fire_rows(&step)
        }
        #expect(firedFused == firedStored)
        #expect(fused.v == stored.v)
        #expect(fused.bits == stored.bits)
        #expect(fused.weighted == stored.weighted)
        #expect(fused.probe == stored.probe)
        #expect(probing || fused.probe == buffers.probe)
        if storeSpikes { #expect(fused.rows == stored.rows) }
        #expect(firedFused > count && firedFused < count * cout * 3 / 4)
    }
}

/// The buffers of one fused neuron step (`snn_fire_rows_args`), handed to C as pointers.
struct NeuronStepBuffers {
    var v: [Float], rows: [Float], bits: [UInt8], probe: [Float]
    let extra: [Float], extraBits: [UInt8], amplitude: [Float], theta: [Float], fanout: [Float]
    var weighted = [Float](repeating: 0, count: 16)

    /// Runs `body` on the step's arguments: `count` pixels, spike planes `count` apart.
    mutating func run(count: Int, rowStride: Int, groups: Int, bypass: FusedNeuronStepTests.Bypass, storeSpikes: Bool, probing: Bool,
                      _ body: (inout snn_fire_rows_args) -> Int) -> Int {
        let (extra, extraBits, amplitude, theta, fanout) = (extra, extraBits, amplitude, theta, fanout)
        return v.withUnsafeMutableBufferPointer { vp in rows.withUnsafeMutableBufferPointer { rp in
            probe.withUnsafeMutableBufferPointer { sums in weighted.withUnsafeMutableBufferPointer { wp in
                bits.withUnsafeMutableBufferPointer { bp in extra.withUnsafeBufferPointer { ep in
                    extraBits.withUnsafeBufferPointer { xp in amplitude.withUnsafeBufferPointer { ap in
                        theta.withUnsafeBufferPointer { tp in fanout.withUnsafeBufferPointer { fp in
                            var step = snn_fire_rows_args(
                                count: Int32(count), row_stride: Int32(rowStride), v: vp.baseAddress!, input: rp.baseAddress!,
                                store_spikes: storeSpikes ? 1 : 0, extra: bypass == .floats ? ep.baseAddress! : nil,
                                extra_bits: bypass == .spikes ? xp.baseAddress! : nil, amplitude: ap.baseAddress!, theta: tp.baseAddress!,
                                fanout: fp.baseAddress!, lower: nil, upper: nil, bits: bp.baseAddress!, plane: count, groups: Int32(groups), weighted: wp.baseAddress!,
                                probe: probing ? sums.baseAddress! : nil, zero_reset: 0)
                            return body(&step)
                        } }
                    } }
                } }
            } }
        } }
    }
}

/// The unfused neuron layer's 16-pixel runs in C (`snn_fire_planes`) against
/// `IFLayerState.Lanes.fire16` plane by plane: membranes, pattern bytes, float spikes,
/// gap-probe sums, count and fan-out sums; pixels past the last run of 16 are untouched.
@Suite struct PlanarNeuronStepTests {
    @Test(arguments: [false, true], [false, true])
    func matchesTheSwiftNeuronUpdate(bypass: Bool, outputs: Bool) {
        let (channels, inner) = (5, 37), count = channels * inner, runs = inner / 16 * 16
        var g = KernelTests.Generator(state: bypass ? 5 : 6)
        let theta = (0..<count).map { _ in 0.5 + abs(g.next()) }
        let v0 = theta.map { abs(g.next()) * $0 }
        let z = (0..<count).map { _ in 1.5 * g.next() }, extra = (0..<count).map { _ in 0.5 * g.next() }
        let fanout = (0..<count).map { _ in 1 + abs(g.next()) * 9 }
        let probe0 = (0..<count).map { _ in g.next() }
        var lanes = IFLayerState.Lanes()
        var expectedV = v0, expectedOut = [Float](repeating: -7, count: count), expectedProbe = probe0
        var expectedPatterns = [UInt8](repeating: 0xAA, count: inner)
        expectedV.withUnsafeMutableBufferPointer { v in
            for p in stride(from: 0, to: runs, by: 16) {
                var pattern = [UInt8](repeating: 0, count: 16)
                for j in 0..<channels {
                    let at = j * inner + p
                    var current = SIMD16<Float>(z[at..<(at + 16)])
                    if bypass { current += SIMD16<Float>(extra[at..<(at + 16)]) }
                    let (spike, fire) = fanout.withUnsafeBufferPointer {
                        lanes.fire16(v.baseAddress! + at, input: current, theta: SIMD16<Float>(theta[at..<(at + 16)]), fanout: $0.baseAddress! + at)
                    }
                    for l in 0..<16 {
                        expectedOut[at + l] = spike[l]
                        expectedProbe[at + l] += spike[l]
                        if fire[l] { pattern[l] |= 1 << UInt8(j) }
                    }
                }
                expectedPatterns.replaceSubrange(p..<(p + 16), with: pattern)
            }
        }
        var v = v0, out = [Float](repeating: -7, count: count), probe = probe0, patterns = [UInt8](repeating: 0xAA, count: inner)
        var weighted = [Float](repeating: 0, count: 16)
        let fired = v.withUnsafeMutableBufferPointer { vp in
            out.withUnsafeMutableBufferPointer { op in
                probe.withUnsafeMutableBufferPointer { pp in
                    patterns.withUnsafeMutableBufferPointer { bp in
                        weighted.withUnsafeMutableBufferPointer { wp in
                            z.withUnsafeBufferPointer { zp in
                                extra.withUnsafeBufferPointer { ep in
                                    theta.withUnsafeBufferPointer { tp in
                                        fanout.withUnsafeBufferPointer { fp in
                                            var group = snn_fire_planes_args(
                                                channels: Int32(channels), inner: inner, z: zp.baseAddress!, bypass: bypass ? ep.baseAddress! : nil,
                                                out: outputs ? op.baseAddress! : nil, v: vp.baseAddress!, probe: outputs ? pp.baseAddress! : nil,
                                                theta: tp.baseAddress!, fanout: fp.baseAddress!, lower: nil, upper: nil, patterns: bp.baseAddress!, weighted: wp.baseAddress!,
                                                zero_reset: 0)
                                            return snn_fire_planes(&group)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(v == expectedV)
        #expect(patterns == expectedPatterns)
        #expect(out == (outputs ? expectedOut : [Float](repeating: -7, count: count)))
        #expect(probe == (outputs ? expectedProbe : probe0))
        #expect(fired == Int(lanes.fired.wrappedSum()))
        #expect(weighted == (0..<16).map { lanes.weighted[$0] })
        #expect(fired > 20 && fired < 2 * channels * runs / 3)
    }
}
