import Foundation
import Testing
@testable import SNNKit

/// Deterministic pseudo-random tensors for calibration in tests.
struct TestData {
    static func batch(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 0x9E3779B97F4A7C15 &+ 1
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u1 = Double((state >> 11) & 0xFFFFF) / Double(0x100000) + 1e-7
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u2 = Double((state >> 11) & 0xFFFFF) / Double(0x100000)
            return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
        }
        return Tensor(shape: shape, storage: values)
    }

    static func model(_ name: String) throws -> (Graph, [Int]) {
        let dir = Fixtures.onnx.appendingPathComponent(name)
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let input = try TensorFile.readTestData(directory: dir).inputs[0].tensor
        return (graph, input.shape)
    }
}

@Suite struct ConversionTests {
    /// LTB written again here in float64 on top of the (separately verified) executor.
    func referenceThresholds(_ graph: Graph, batches: [Tensor], eta: Double, perChannel: Bool) throws -> [String: [Double]] {
        let prepared = try Converter.prepare(graph)
        let name = prepared.runtimeInputs[0].name
        let plan = try ExecutionPlan(graph: prepared, inputShapes: [name: batches[0].shape], options: .init(fuseActivations: false))
        var theta = [String: [Double]]()
        for b in batches {
            _ = try plan.run([name: b], intercept: { index, inputs in
                let node = prepared.nodes[index]
                guard node.op == .relu, let z = inputs[0] else { return nil }
                let n = z.shape[0], c = z.shape[1], inner = z.shape[2...].reduce(1, *)
                var t = theta[node.name] ?? [Double](repeating: 0, count: perChannel ? c : 1)
                var excess = [Double](repeating: 0, count: t.count)
                var counts = [Double](repeating: 0, count: t.count)
                for s in 0..<n { for ch in 0..<c { for i in 0..<inner {
                    let slot = perChannel ? ch : 0
                    excess[slot] += max(Double(z.storage[(s * c + ch) * inner + i]) - t[slot], 0)
                    counts[slot] += 1
                } } }
                for k in t.indices { t[k] = max(t[k] + eta * 2 * excess[k] / counts[k], 1e-6) }
                theta[node.name] = t
                var out = z
                for s in 0..<n { for ch in 0..<c { for i in 0..<inner {
                    let j = (s * c + ch) * inner + i
                    out.storage[j] = Float(min(max(Double(z.storage[j]), 0), t[perChannel ? ch : 0]))
                } } }
                return [out]
            })
        }
        return theta
    }

    @Test(arguments: ["net_a_classifier", "net_b_resnet_blocks", "net_c_vgg", "net_e_dense_block"], [true, false])
    func thresholdsMatchAFloat64Reference(_ name: String, perChannel: Bool) throws {
        let (graph, shape) = try TestData.model(name)
        let batches = (0..<6).map { TestData.batch([8] + shape.dropFirst(), seed: UInt64($0)) }
        var options = ConversionOptions()
        options.method = perChannel ? .channelLTB(eta: 1) : .layerLTB(eta: 1)
        options.budget = .fixed(6)
        let result = try Converter(options: options).convert(graph, calibration: InMemoryBatches(batches))
        let reference = try referenceThresholds(graph, batches: batches, eta: 1, perChannel: perChannel)
        #expect(reference.count == result.graph.neuronLayers().count)
        for layer in result.graph.neuronLayers() {
            let ours = try #require(result.graph.floatConstant(layer.threshold)).storage
            let ref = try #require(reference[layer.node])
            for (c, value) in ours.enumerated() {
                let r = ref[perChannel ? c : 0]
                #expect(abs(Double(value) - r) <= 1e-5 * max(abs(r), 1e-3), "\(layer.node)[\(c)]: \(value) vs \(r)")
            }
        }
    }

    @Test func convertedModelRoundTripsThroughONNX() throws {
        let (graph, shape) = try TestData.model("net_b_resnet_blocks")
        var options = ConversionOptions()
        options.budget = .fixed(3)
        let result = try Converter(options: options).convert(graph, calibration: InMemoryBatches((0..<3).map { TestData.batch([4] + shape.dropFirst(), seed: UInt64($0)) }))
        let reloaded = try ONNXImporter.load(data: try ONNXExporter.serialize(result.graph), file: "converted.onnx")
        #expect(reloaded.neuronLayers().map(\.node) == result.graph.neuronLayers().map(\.node))
        let info = try #require(try ConvertedModelInfo(reading: reloaded))
        #expect(info.method == "ltb" && info.eta == 1 && info.calibrationBatches == 3 && info.batchSize == 4)
        #expect(info.delay == result.delay.steps && info.initialPotential == options.initialPotential)
        let x = TestData.batch([4] + shape.dropFirst(), seed: 99)
        let name = graph.runtimeInputs[0].name
        let a = try ExecutionPlan(graph: result.graph, inputShapes: [name: x.shape]).run([name: x])
        let b = try ExecutionPlan(graph: reloaded, inputShapes: [name: x.shape]).run([name: x])
        #expect(a == b)
    }

    @Test func refusesNetworksWithNonReLUActivationsBeforeTheLastNeuron() throws {
        // Sigmoid feeding a ReLU layer: cannot be an IF neuron.
        let x = ValueInfo(name: "x", dimensions: [.fixed(1), .fixed(4)])
        let w = Constant.float(Tensor(shape: [4, 4], repeating: 0.1))
        let graph = Graph(name: "g", nodes: [
            Node(name: "fc1", op: .gemm(.init()), inputs: ["x", "w"], outputs: ["a"]),
            Node(name: "sig", op: .sigmoid, inputs: ["a"], outputs: ["b"]),
            Node(name: "fc2", op: .gemm(.init()), inputs: ["b", "w"], outputs: ["c"]),
            Node(name: "relu", op: .relu, inputs: ["c"], outputs: ["d"]),
        ], inputs: [x], outputs: [ValueInfo(name: "d", dimensions: nil)], constants: ["w": w])
        let error = #expect(throws: ConversionError.self) { try Converter.prepare(graph) }
        #expect("\(error!)".contains("sig"))
    }

    @Test func reusedCalibrationBatchesAreCounted() throws {
        let (graph, shape) = try TestData.model("net_a_classifier")
        var options = ConversionOptions()
        options.budget = .fixed(5)
        let batches = (0..<2).map { TestData.batch([2] + shape.dropFirst(), seed: UInt64(10 + $0)) }
        let result = try Converter(options: options).convert(graph, calibration: InMemoryBatches(batches))
        #expect(result.batchesUsed == 5 && result.distinctBatches == 2)
    }

    @Test func badCalibrationDataIsRefused() throws {
        let (graph, shape) = try TestData.model("net_a_classifier")
        var options = ConversionOptions()
        options.budget = .fixed(2)
        let converter = Converter(options: options)
        #expect(throws: ConversionError.noCalibrationData) { try converter.convert(graph, calibration: InMemoryBatches([])) }
        var nan = TestData.batch([2] + shape.dropFirst(), seed: 1)
        nan.storage[3] = .nan
        #expect(throws: ConversionError.self) { try converter.convert(graph, calibration: InMemoryBatches([nan])) }
        let wrong = TestData.batch([2, 5, 3, 3], seed: 1)
        #expect(throws: ConversionError.self) { try converter.convert(graph, calibration: InMemoryBatches([wrong])) }
        options.budget = .fixed(0)
        #expect(throws: ConversionError.noCalibrationData) {
            try Converter(options: options).convert(graph, calibration: InMemoryBatches([TestData.batch([2] + shape.dropFirst(), seed: 1)]))
        }
    }
}

/// The clip-ANN exported as standard ONNX and run by onnxruntime (outputs recorded by
/// Scripts/make_conversion_fixtures.sh) matches SNNKit's own clipped forward pass.
@Suite struct ClipANNExportTests {
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg"])
    func onnxRuntimeAgreesWithTheClippedForwardPass(_ name: String) throws {
        let dir = Fixtures.root.appendingPathComponent("conversion")
        let converted = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("\(name).snn.onnx"))
        #expect(!converted.neuronLayers().isEmpty)
        let data = try TensorFile.readTestData(directory: dir.appendingPathComponent(name))
        let input = converted.runtimeInputs[0].name
        let ours = try ExecutionPlan(graph: converted, inputShapes: [input: data.inputs[0].tensor.shape])
            .run([input: data.inputs[0].tensor])[converted.outputs[0].name]!
        #expect(relativeError(ours, data.outputs[0].tensor) <= 1e-4)
        // And the clipping is active: the clip-ANN differs from the ReLU network.
        let relu = try ExecutionPlan(graph: converted.restoringReLUs(), inputShapes: [input: data.inputs[0].tensor.shape])
            .run([input: data.inputs[0].tensor])[converted.outputs[0].name]!
        #expect(relativeError(relu, data.outputs[0].tensor) > 1e-3)
    }
}
