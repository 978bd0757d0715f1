import Foundation
import Testing
@testable import SNNKit

/// Every operator and attribute combination, against onnxruntime's recorded outputs.
@Suite struct ONNXOperatorTests {
    /// As imported, and after the inference simplifications (BatchNorm folding, identity removal).
    @Test(arguments: Fixtures.cases, [false, true])
    func matchesOnnxRuntime(_ fixture: Fixtures.Case, simplified: Bool) throws {
        let dir = Fixtures.onnx.appendingPathComponent(fixture.case)
        let imported = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let graph = simplified ? try imported.simplifiedForInference() : imported
        let data = try TensorFile.readTestData(directory: dir)
        var feeds = [String: Tensor]()
        for (info, file) in zip(graph.runtimeInputs, data.inputs) { feeds[info.name] = file.tensor }
        let plan = try ExecutionPlan(graph: graph, inputShapes: feeds.mapValues(\.shape))
        let outputs = try plan.run(feeds)
        #expect(data.outputs.count == graph.outputs.count)
        for (info, expected) in zip(graph.outputs, data.outputs) {
            let ours = try #require(outputs[info.name])
            #expect(ours.shape == expected.tensor.shape, "\(info.name)")
            #expect(relativeError(ours, expected.tensor) <= 1e-4, "\(info.name)")
        }
    }

    @Test func externalDataLoadsFromBesideTheModel() throws {
        let dir = Fixtures.bad.appendingPathComponent("external")
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let result = try Verification.run(model: graph, testData: dir)
        #expect(result.count == 1)
        #expect(result.allSatisfy { $0.maxRelativeError <= 1e-4 })
    }

    @Test func fusedAndUnfusedExecutionAgree() throws {
        let dir = Fixtures.onnx.appendingPathComponent("net_b_resnet_blocks")
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let data = try TensorFile.readTestData(directory: dir)
        let feeds = [graph.runtimeInputs[0].name: data.inputs[0].tensor]
        let shapes = feeds.mapValues(\.shape)
        let fused = try ExecutionPlan(graph: graph, inputShapes: shapes).run(feeds)
        let plain = try ExecutionPlan(graph: graph, inputShapes: shapes, options: .init(fuseActivations: false)).run(feeds)
        let name = graph.outputs[0].name
        #expect(fused[name] == plain[name])
    }
}
