import Foundation
import Testing
@testable import SNNKit
@testable import SNNSimulation

/// The low-latency options: calibrated per-channel initial potentials, burst neurons and
/// readout starts chosen on data, each against an oracle written apart from the engine.
@Suite struct LowLatencyTests {
    /// `graph` with a seeded v(0) / theta in [-0.5, 0.9) on every channel of every neuron
    /// layer, as a calibration would store them (the IF node's third input).
    func withPerChannelPotentials(_ graph: Graph, seed: UInt64) -> Graph {
        var g = graph
        var random = KernelTests.Generator(state: seed)
        for layer in g.neuronLayers() {
            guard let i = g.nodes.firstIndex(where: { $0.name == layer.node }) else { continue }
            let name = layer.node + ".initial_potential"
            g.constants[name] = .float(Tensor(shape: [layer.channels], storage: random.array(layer.channels).map { 0.2 + 0.7 * $0 }))
            g.nodes[i].inputs.append(name)
        }
        return g
    }

    /// Per-channel initial potentials reach every neuron path (dense, events, tables, the
    /// fused layers): the engine's spikes are the reference simulator's.
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg", "net_g_inverted_residual"], [ConvolutionKernel.auto, .dense, .events, .tables])
    func perChannelPotentialsMatchTheReference(_ name: String, _ kernel: ConvolutionKernel) throws {
        let (graph, shape) = try SimulationTests().converted(name)
        let calibrated = withPerChannelPotentials(graph, seed: 3)
        try SimulationTests().expectEngineMatchesTheReference(calibrated, input: TestData.batch([3] + shape.dropFirst(), seed: 7), kernel: kernel)
        // The potentials change the spikes: the test would notice them being dropped.
        let x = TestData.batch([3] + shape.dropFirst(), seed: 7)
        let plain = try ReferenceSimulator(graph: graph, runningSumPooling: true).run(x, steps: 8).spikes
        let shifted = try ReferenceSimulator(graph: calibrated, runningSumPooling: true).run(x, steps: 8).spikes
        #expect(plain != shifted)
    }

    /// Initial potentials that do not fit the layer (too few, not finite, beyond a
    /// threshold) are refused by the simulator and the quantizer, naming the node.
    @Test func malformedPotentialsAreRefused() throws {
        let (graph, shape) = try SimulationTests().converted("net_c_vgg")
        let layer = try #require(graph.neuronLayers().first)
        for bad in [[Float](repeating: 0.5, count: 3), [Float](repeating: .nan, count: layer.channels), [Float](repeating: 1.5, count: layer.channels)] {
            var g = graph
            let i = try #require(g.nodes.firstIndex { $0.name == layer.node })
            g.constants["v0"] = .float(Tensor(shape: [bad.count], storage: bad))
            g.nodes[i].inputs.append("v0")
            #expect(throws: (any Error).self) { try Simulator(graph: g, inputShape: [2] + shape.dropFirst(), options: SimulationOptions(timeSteps: 4)) }
            do {
                _ = try Simulator(graph: g, inputShape: [2] + shape.dropFirst(), options: SimulationOptions(timeSteps: 4))
            } catch {
                #expect("\(error)".contains(layer.node), "\(error)")
            }
            #expect(throws: (any Error).self) { try Pipeline.quantize(try ConvertedModel(g), options: QuantizationOptions(weightBits: 8)) }
        }
    }

    /// Burst neurons (up to 3 spikes per step) on the float kernels: the same spikes and
    /// readout as the reference, which fires while v > theta up to the limit.
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg", "net_g_inverted_residual"])
    func burstNeuronsMatchTheReference(_ name: String) throws {
        let (graph, shape) = try SimulationTests().converted(name)
        // Half the thresholds, so neurons hold more than one threshold of charge and burst.
        var g = graph
        for layer in g.neuronLayers() {
            let theta = g.floatConstant(layer.threshold)!
            g.constants[layer.threshold] = .float(Tensor(shape: theta.shape, storage: theta.storage.map { $0 * 0.4 }))
        }
        let x = TestData.batch([3] + shape.dropFirst(), seed: 7)
        try SimulationTests().expectEngineMatchesTheReference(g, input: x, kernel: .auto, burst: 3)
        let single = try ReferenceSimulator(graph: g, runningSumPooling: true).run(x, steps: 16).spikes
        let bursts = try ReferenceSimulator(graph: g, runningSumPooling: true, burst: 3).run(x, steps: 16).spikes
        #expect(single != bursts, "neurons do burst on this input")
    }

    /// A burst worked by hand: threshold 1, v(0) = 0.5, constant input 2.7, at most 3
    /// spikes a step. Membranes after input: 3.2 (3 spikes, v = 0.2), 2.9 (2, v = 0.9),
    /// 3.6 (3, v = 0.6), 3.3 (3, v = 0.3): 11 spikes, 11 x fan-out synaptic operations.
    @Test func aBurstWorkedByHand() throws {
        let graph = Graph(name: "burst", nodes: [
            Node(name: "c", op: .conv(.init(kernelShape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, group: 1)),
                 inputs: ["x", "w"], outputs: ["z"]),
            Node(name: "n", op: .ifNeuron(initialPotential: 0.5), inputs: ["z", "theta"], outputs: ["s"]),
            Node(name: "r", op: .conv(.init(kernelShape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, group: 1)),
                 inputs: ["s", "w2"], outputs: ["y"]),
        ], inputs: [ValueInfo(name: "x", dimensions: [.fixed(1), .fixed(1), .fixed(1), .fixed(1)])],
        outputs: [ValueInfo(name: "y", dimensions: nil)], constants: [
            "w": .float(Tensor(shape: [1, 1, 1, 1], storage: [2.7])), "theta": .float(Tensor(shape: [1], storage: [1])),
            "w2": .float(Tensor(shape: [2, 1, 1, 1], storage: [1, -1])),
        ])
        var options = SimulationOptions(timeSteps: 4)
        options.burst = 3
        let result = try Simulator(graph: graph, inputShape: [1, 1, 1, 1], options: options).run(Tensor(shape: [1, 1, 1, 1], storage: [1]))
        #expect(result.layers[0].spikesPerStep == [3, 2, 3, 3])
        #expect(result.layers[0].synapticOpsPerStep == [6, 4, 6, 6], "two readout synapses per spike")
        #expect(try result.outputs(from: 0, to: 4)["y"]!.storage == [11.0 / 4, -11.0 / 4])
    }

    @Test func burstsOutOfRangeAreRefused() throws {
        let (graph, shape) = try SimulationTests().converted("net_a_classifier")
        for bad in [0, 17] {
            var options = SimulationOptions(timeSteps: 4)
            options.burst = bad
            #expect(throws: SimulationError.self) { try Simulator(graph: graph, inputShape: [2] + shape.dropFirst(), options: options) }
            var settings = SimulationSettings(timeSteps: 4)
            settings.burst = bad
            #expect(throws: PipelineError.self) { try settings.validate() }
        }
    }

    /// The calibration's own measure against one computed apart: the reference simulator's
    /// per-neuron output sums and the clip-ANN's activations (observed in the executor),
    /// reduced to channel means. The shortfall it reports after calibrating must be that,
    /// and at most half of what it was.
    @Test func potentialCalibrationHalvesTheShortfallItReports() throws {
        let (graph, shape) = try SimulationTests().converted("net_b_resnet_blocks")
        let batches = (0..<2).map { TestData.batch([6] + shape.dropFirst(), seed: UInt64(300 + $0)) }
        let steps = 8
        let (calibrated, rounds) = try PotentialCalibration(steps: steps, rounds: 2).calibrate(try ConvertedModel(graph), batches: batches)
        #expect(rounds.count == 3)
        #expect(rounds[2].relativeError < 0.5 * rounds[0].relativeError, "\(rounds.map(\.relativeError))")
        #expect(calibrated.graph.neuronLayers().allSatisfy { layer in
            calibrated.graph.nodes.first { $0.name == layer.node }!.inputs.count == 3
        })
        let ratios = calibrated.graph.nodes.compactMap { calibrated.graph.initialPotentialRatios(of: $0) }.flatMap { $0 }
        #expect(ratios.allSatisfy { PotentialCalibration.ratioBounds.contains($0) })

        func shortfall(_ g: Graph) throws -> Double {
            var clip = [String: [Double]](), snn = [String: [Double]]()
            let layers = g.neuronLayers()
            for x in batches {
                let name = g.runtimeInputs[0].name
                let plan = try ExecutionPlan(graph: g, inputShapes: [name: x.shape], options: .init(fuseActivations: false))
                _ = try plan.run([name: x], observe: { index, outputs in
                    let node = g.nodes[index]
                    guard layers.contains(where: { $0.node == node.name }) else { return }
                    clip[node.name] = Self.channelSums(outputs[0].storage.map(Double.init), shape: outputs[0].shape, into: clip[node.name])
                })
                let reference = try ReferenceSimulator(graph: g, runningSumPooling: true).runKeepingOutputs(x, steps: steps)
                for layer in layers {
                    let means = reference.outputs[layer.node]![steps - 1].map { $0 / Double(steps) }
                    snn[layer.node] = Self.channelSums(means, shape: [x.shape[0], layer.channels], into: snn[layer.node])
                }
            }
            var error = 0.0, magnitude = 0.0
            for layer in layers {
                for (a, r) in zip(clip[layer.node]!, snn[layer.node]!) { error += abs(a - r); magnitude += abs(a) }
            }
            return error / magnitude
        }
        #expect(abs(try shortfall(graph) - rounds[0].relativeError) <= 1e-4 * rounds[0].relativeError)
        #expect(abs(try shortfall(calibrated.graph) - rounds[2].relativeError) <= 1e-3 * rounds[0].relativeError)
    }

    /// Channel sums of an [N, C, ...] array (values of a sample's channel contiguous).
    static func channelSums(_ values: [Double], shape: [Int], into sums: [Double]?) -> [Double] {
        let c = shape[1], inner = values.count / (shape[0] * c)
        var result = sums ?? [Double](repeating: 0, count: c)
        for (i, v) in values.enumerated() { result[(i / inner) % c] += v / Double(inner) }
        return result
    }
}

/// Readout starts: the schedule's form and lookup, and a choice worked by hand.
@Suite struct ReadoutScheduleTests {
    @Test func startsParseLookUpAndPrint() throws {
        let schedule = try #require(ReadoutSchedule(parsing: "1:0,2:1,8:5,4:3"))
        #expect(schedule.description == "1:0,2:1,4:3,8:5")
        #expect([1, 2, 3, 4, 7, 8, 100].map(schedule.start(forSteps:)) == [0, 1, 1, 3, 3, 5, 5], "the longest calibrated run not longer")
        #expect(ReadoutSchedule(starts: [16: 6]).start(forSteps: 8) == 0, "shorter than any calibrated run: from the start")
        for bad in ["", "4:4", "4:-1", "0:0", "4", "4:1,4:2", "a:b"] { #expect(ReadoutSchedule(parsing: bad) == nil, "\(bad)") }
    }

    /// A damaged schedule in a converted file is an error naming the key, not a silent default.
    @Test func aDamagedScheduleIsRefused() throws {
        var (graph, _) = try SimulationTests().converted("net_a_classifier")
        graph.metadata["snnkit.readout_starts"] = "8:9"
        #expect(throws: ConversionError.self) { try ConvertedModel(graph) }
    }

    /// One neuron (threshold 1, v(0) = 0) fed 0.25 per step, read out as is: its ANN output
    /// is 0.25. It first fires at step 5 (the membrane must pass 1 strictly), then every 4
    /// steps. No window ending at 1, 2 or 4 holds a spike (all equally far: start 0); the
    /// window (4, 8] averages exactly 0.25, as do (4, 16] and (4, 32] (3 and 7 spikes), the
    /// earliest such start.
    @Test func startsWorkedByHand() throws {
        let graph = Graph(name: "one", nodes: [
            Node(name: "c", op: .conv(.init(kernelShape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, group: 1)),
                 inputs: ["x", "w"], outputs: ["z"]),
            Node(name: "n", op: .ifNeuron(initialPotential: 0), inputs: ["z", "theta"], outputs: ["s"]),
            Node(name: "f", op: .flatten(axis: 1), inputs: ["s"], outputs: ["v"]),
            Node(name: "fc", op: .gemm(.init(transB: true)), inputs: ["v", "w2"], outputs: ["y"]),
        ], inputs: [ValueInfo(name: "x", dimensions: [.fixed(1), .fixed(1), .fixed(1), .fixed(1)])],
        outputs: [ValueInfo(name: "y", dimensions: nil)], constants: [
            "w": .float(Tensor(shape: [1, 1, 1, 1], storage: [0.25])), "theta": .float(Tensor(shape: [1], storage: [1])),
            "w2": .float(Tensor(shape: [1, 1], storage: [1])),
        ])
        let schedule = try ReadoutCalibration(maxSteps: 32).calibrate(try ConvertedModel(graph), batches: [Tensor(shape: [1, 1, 1, 1], storage: [1])])
        #expect(schedule.starts == [1: 0, 2: 0, 4: 0, 8: 4, 16: 4, 32: 4])
    }
}
