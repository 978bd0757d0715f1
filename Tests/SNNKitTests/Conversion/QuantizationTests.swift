import Foundation
import Testing
@testable import SNNKit
@testable import SNNSimulation

/// The integer SNN: hand-worked exponents and integers, the errors, the ONNX round trip,
/// and the engine against the integer reference machine, spike for spike.
@Suite struct QuantizationTests {
    /// input -> 1x1 conv -> IF (analog layer) -> 1x1 conv "c2" -> IF "n2" -> output, unit thresholds.
    func handNetwork() -> Graph {
        func conv(_ name: String, _ input: String, _ output: String) -> Node {
            Node(name: name, op: .conv(.init(kernelShape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, group: 1)),
                 inputs: [input, name + ".w"], outputs: [output])
        }
        let nodes = [conv("c1", "x", "z1"), Node(name: "n1", op: .ifNeuron(initialPotential: 0.5), inputs: ["z1", "one2"], outputs: ["s1"]),
                     conv("c2", "s1", "z2"), Node(name: "n2", op: .ifNeuron(initialPotential: 0.5), inputs: ["z2", "one2"], outputs: ["y"])]
        return Graph(name: "hand", nodes: nodes, inputs: [ValueInfo(name: "x", dimensions: [.fixed(1), .fixed(2), .fixed(2), .fixed(2)])],
                     outputs: [ValueInfo(name: "y", dimensions: nil)],
                     constants: ["c1.w": .float(Tensor(shape: [2, 2, 1, 1], storage: [1, 0, 0, 1])),
                                 "c2.w": .float(Tensor(shape: [2, 2, 1, 1], storage: [0.3, -0.1, 0.02, 0.01])),
                                 "one2": .float(Tensor(shape: [2], storage: [1, 1]))])
    }

    /// An image added into a spiking layer has no integer form: refused, naming the layer.
    @Test func anAnalogShortcutIntoASpikingLayerIsRefused() throws {
        let (graph, _) = try SimulationTests().converted("net_b_resnet_blocks")
        #expect { try Pipeline.quantize(try ConvertedModel(graph), options: QuantizationOptions(weightBits: 8)) } throws: { error in
            "\(error)".contains("l1.relu2") && "\(error)".contains("no integer form")
        }
    }

    /// 4 bits (largest weight 7): channel 0 (max 0.3) has k = 4 (x16: 5, -2; k = 5 would clip
    /// 9.6 to 7, a larger error) and channel 1 (max 0.02) k = 8 (x256: 5.12 -> 5, 2.56 -> 3).
    @Test func perChannelExponentsAndIntegersAsWorkedByHand() throws {
        let q = try QuantizeWeights(options: QuantizationOptions(weightBits: 4)).apply(to: handNetwork())
        let record = try #require(try QuantizationRecord(reading: q))
        #expect(record.layers.map(\.neuron) == ["n2"], "the analog layer n1 stays float")
        #expect(record.layers[0].exponents == [4, 8])
        let name = try #require(q.nodes.first { $0.name == "c2" }?.inputs[1])
        let encoding = try #require(q.integerConstants[name])
        let w = try #require(q.floatConstant(name))
        #expect(encoding.integers(of: w.storage, shape: w.shape) == [5, -2, 5, 3])
        let expected: [Float] = [5.0 / 16, -2.0 / 16, 5.0 / 256, 3.0 / 256]
        #expect(w.storage == expected)
        #expect(q.floatConstant(q.nodes[0].inputs[1])?.storage == [1, 0, 0, 1], "the analog layer's weights are unchanged")
    }

    /// One scale for the layer: the largest weight (0.3) sets k = 4 for both channels, and
    /// channel 1's small weights round to 0.
    @Test func layerScalesShareOneExponent() throws {
        let q = try QuantizeWeights(options: QuantizationOptions(weightBits: 4, granularity: .layer)).apply(to: handNetwork())
        #expect(try QuantizationRecord(reading: q)?.layers[0].exponents == [4])
        let expected: [Float] = [5.0 / 16, -2.0 / 16, 0, 0]
        #expect(q.floatConstant(q.nodes[2].inputs[1])?.storage == expected)
    }

    @Test func widthsOutOfRangeAreRefused() throws {
        for (bits, state) in [(1, 24), (9, 24), (8, 3), (8, 25)] {
            #expect(throws: ConversionError.self) { try QuantizeWeights(options: QuantizationOptions(weightBits: bits, stateBits: state)).apply(to: handNetwork()) }
        }
    }

    @Test func aQuantizedModelIsNotQuantizedAgain() throws {
        let q = try QuantizeWeights(options: QuantizationOptions(weightBits: 8)).apply(to: handNetwork())
        #expect { try QuantizeWeights(options: QuantizationOptions(weightBits: 8)).apply(to: q) } throws: { error in
            "\(error)".contains("already quantized")
        }
    }

    /// 4 state bits hold at most 7: a weight of 3.5 is 7 units at threshold 2^1 (the best
    /// exponent), and 2 + 7 does not fit.
    @Test func aStateTooNarrowForOneStepIsRefused() throws {
        var g = handNetwork()
        g.constants["c2.w"] = .float(Tensor(shape: [2, 2, 1, 1], storage: [3.5, -0.1, 0.02, 0.01]))
        #expect { try QuantizeWeights(options: QuantizationOptions(weightBits: 4, stateBits: 4)).apply(to: g) } throws: { error in
            "\(error)".contains("state bits are too few for neuron 'n2'") && "\(error)".contains("--state-bits")
        }
    }

    @Test func thresholdsMustBeFoldedFirst() throws {
        var g = handNetwork()
        g.constants["one2"] = .float(Tensor(shape: [2], storage: [2, 2]))
        #expect { try QuantizeWeights(options: QuantizationOptions(weightBits: 8)).apply(to: g) } throws: { error in
            "\(error)".contains("fold the thresholds")
        }
    }

    /// Written as INT8/INT32 initializers with DequantizeLinear and read back: the same
    /// floats, encodings and record.
    @Test func integerWeightsRoundTripThroughONNX() throws {
        let q = try Pipeline.quantize(try ConvertedModel(try residualNetwork()), options: QuantizationOptions(weightBits: 6, stateBits: 16))
        let data = try ONNXExporter.serialize(q.graph)
        let back = try ONNXImporter.load(data: data)
        #expect(!q.graph.integerConstants.isEmpty)
        #expect(back.integerConstants == q.graph.integerConstants)
        for name in q.graph.integerConstants.keys { #expect(back.constants[name] == q.graph.constants[name], "\(name)") }
        #expect(try QuantizationRecord(reading: back) == q.quantization)
        let proto = try Onnx_ModelProto(serializedBytes: data)
        #expect(proto.graph.node.filter { $0.opType == "DequantizeLinear" }.count == q.graph.integerConstants.count)
        #expect(proto.graph.initializer.contains { $0.dataType == Int32(ElementType.int8.rawValue) })
    }

    /// The engine against the integer machine, on every kernel at 1 and 2 threads: the
    /// same spikes, every layer, every step.
    @Test(arguments: ["residual", "decoder", "net_c_vgg"], ConvolutionKernel.allCases)
    func engineEqualsTheIntegerMachine(_ name: String, _ kernel: ConvolutionKernel) throws {
        let (graph, shape) = name == "residual" ? (try residualNetwork(), [2, 3, 6, 6])
            : name == "decoder" ? (try decoderNetwork(), [2, 3, 8, 8]) : try SimulationTests().converted(name)
        let x = TestData.batch([3] + shape.dropFirst(), seed: 7)
        for (bits, granularity) in [(8, QuantizationOptions.Granularity.channel), (4, .layer)] {
            let q = try Pipeline.quantize(try ConvertedModel(graph), options: QuantizationOptions(weightBits: bits, granularity: granularity))
            // (The residual network's 8 channels are too few for the event kernel to fuse.)
            try expectSameSpikes(q, x, kernel: kernel, shortcutFuses: name == "residual" && kernel != .events)
        }
    }

    /// Calibrated per-channel initial potentials become whole numbers of each channel's
    /// units (the integer machine refuses any other), and the engine still equals it.
    @Test(arguments: [QuantizationOptions.Granularity.channel, .layer])
    func calibratedPotentialsBecomeIntegers(_ granularity: QuantizationOptions.Granularity) throws {
        let graph = LowLatencyTests().withPerChannelPotentials(try residualNetwork(), seed: 9)
        let q = try Pipeline.quantize(try ConvertedModel(graph), options: QuantizationOptions(weightBits: 6, granularity: granularity))
        for layer in q.quantization!.layers {
            let node = try #require(q.graph.nodes.first { $0.name == layer.neuron })
            let ratios = try #require(q.graph.initialPotentialRatios(of: node))
            #expect(ratios.count > 1, "\(layer.neuron) keeps a value per channel")
            for (c, r) in ratios.enumerated() {
                let k = layer.exponents[layer.exponents.count == 1 ? 0 : c]
                #expect(QuantizationRecord.isWhole(ratio: r, exponent: k), "\(layer.neuron)[\(c)] = \(r) at 2^-\(k)")
            }
        }
        for kernel in [ConvolutionKernel.auto, .dense] {
            try expectSameSpikes(q, TestData.batch([3, 3, 6, 6], seed: 11), kernel: kernel)
        }
    }

    /// A narrow state that saturates: the engine clamps exactly where the machine does.
    @Test(arguments: [ResetMode.subtract, .zero])
    func saturatingMembranesMatchTheIntegerMachine(_ reset: ResetMode) throws {
        let graph = try residualNetwork()
        let x = TestData.batch([3, 3, 6, 6], seed: 11)
        let float = try Pipeline.quantize(try ConvertedModel(graph), options: QuantizationOptions(weightBits: 8))
        let widest = float.quantization!.layers.flatMap(\.exponents).max()!
        // The narrowest state the largest threshold allows: about two thresholds of headroom.
        let q = try Pipeline.quantize(try ConvertedModel(graph), options: QuantizationOptions(weightBits: 8, stateBits: widest + 2))
        let log = IntegerNeurons.Log()
        try expectSameSpikes(q, x, kernel: .auto, reset: reset, shortcutFuses: true, log: log)
        #expect(log.counts.values.reduce(0, +) > 0, "the state bound is reached, so the test sees the clamp")
    }

    /// `shortcutFuses`: the model's residual Add follows a convolution with spike kernels,
    /// so its shortcut must reach the fused layer as scaled spike bits.
    func expectSameSpikes(_ q: ConvertedModel, _ x: Tensor, kernel: ConvolutionKernel, reset: ResetMode = .subtract, shortcutFuses: Bool = false,
                          log: IntegerNeurons.Log? = nil) throws {
        let steps = 48
        var settings = SimulationSettings(timeSteps: steps)
        settings.reset = reset
        var options = try q.evaluationOptions(settings).simulation
        options.chunk = 16
        options.convolutionKernel = kernel
        let reference = try ReferenceSimulator(graph: q.graph, runningSumPooling: true, reset: reset, quantization: q.quantization,
                                               saturation: log).run(x, steps: steps)
        // One worker (`serially`, local to this thread, unlike `Parallel.threads`) and every core.
        #expect(q.quantization!.layers.count >= 2 && reference.spikes.values.joined().reduce(0, +) > 0, "integer layers that fire")
        for serial in [true, false] {
            let simulator = try Simulator(graph: q.graph, inputShape: x.shape, options: options)
            if shortcutFuses && kernel != .dense {
                #expect(!simulator.scaledBypasses.isEmpty, "the shortcut's scaled spikes feed a fused layer")
            }
            let result = serial ? try Parallel.serially { try simulator.run(x) } : try simulator.run(x)
            for layer in result.layers {
                #expect(layer.spikesPerStep == reference.spikes[layer.node]!, "\(layer.node), \(kernel), serial: \(serial)")
            }
        }
    }
}
