import Foundation
import Testing
@testable import SNNKit

@Suite struct GraphPassTests {
    func load(_ name: String) throws -> (Graph, Tensor) {
        let dir = Fixtures.onnx.appendingPathComponent(name)
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        return (graph, try TensorFile.readTestData(directory: dir).inputs[0].tensor)
    }

    func run(_ graph: Graph, _ input: Tensor) throws -> Tensor {
        let name = graph.runtimeInputs[0].name
        let out = try ExecutionPlan(graph: graph, inputShapes: [name: input.shape], options: .init(fuseActivations: false)).run([name: input])
        return out[graph.outputs[0].name]!
    }

    /// A ReLU6 (Clip) after a convolution runs in the convolution's store: the same values
    /// as the unfused plan, bit for bit; a Clip whose bounds cross is still refused.
    @Test func clipFusesIntoItsConvolution() throws {
        for name in ["conv_depthwise_stride2_relu6", "conv_1x1_relu6_4x4"] {
            let (graph, input) = try load(name)
            let inputName = graph.runtimeInputs[0].name
            let fused = try ExecutionPlan(graph: graph, inputShapes: [inputName: input.shape])
            #expect(fused.executedNodes.count == 1, "\(name): the Clip was not fused")
            #expect(try fused.run([inputName: input])[graph.outputs[0].name]! == (try run(graph, input)), "\(name)")
            var crossed = graph
            let clip = crossed.nodes.firstIndex { $0.op.onnxType == "Clip" }!
            crossed.nodes[clip].op = .clip(min: 6, max: 0)
            #expect(throws: GraphError.self) { try ExecutionPlan(graph: crossed, inputShapes: [inputName: input.shape]) }
        }
    }

    @Test func foldingRemovesEveryBatchNormAndKeepsTheOutput() throws {
        for name in ["net_a_classifier", "net_b_resnet_blocks", "batchnorm_op15"] {
            let (graph, input) = try load(name)
            let folded = try graph.applying([FoldBatchNormalization()])
            let convs = graph.nodes.filter { if case .conv = $0.op { true } else { false } }.count
            let remaining = folded.nodes.filter { if case .batchNormalization = $0.op { true } else { false } }.count
            // A BN with no conv before it (the single-op fixture) must stay.
            #expect(remaining == (convs == 0 ? 1 : 0), "\(name)")
            #expect(relativeError(try run(folded, input), try run(graph, input)) <= 1e-5, "\(name)")
        }
    }

    @Test func maxPoolMovesBeforeTheNeuronWithoutChangingTheANN() throws {
        let (graph, input) = try load("net_c_vgg")
        let moved = try graph.applying([MoveMaxPoolBeforeNeuron()])
        let producers = moved.producers()
        var movedCount = 0
        for node in moved.nodes where node.op.conversionRole == .neuron {
            if let p = producers[node.inputs[0]], case .maxPool = moved.nodes[p].op { movedCount += 1 }
        }
        for node in moved.nodes { if case .maxPool = node.op, let p = producers[node.inputs[0]] { #expect(moved.nodes[p].op != .relu) } }
        #expect(movedCount == 2)
        #expect(try run(moved, input) == (try run(graph, input)))
    }

    @Test func identitiesDisappear() throws {
        let (graph, input) = try load("net_c_vgg")
        let cleaned = try graph.applying([RemoveIdentities()])
        #expect(!cleaned.nodes.contains { $0.op == .dropout || $0.op == .identity })
        #expect(try run(cleaned, input) == (try run(graph, input)))
    }
}
