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

/// Export then re-import gives the same network.
@Suite struct ONNXExportTests {
    @Test(arguments: Fixtures.cases)
    func roundTripKeepsOutputs(_ fixture: Fixtures.Case) throws {
        let dir = Fixtures.onnx.appendingPathComponent(fixture.case)
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let reloaded = try ONNXImporter.load(data: try ONNXExporter.serialize(graph), file: "roundtrip.onnx")
        let data = try TensorFile.readTestData(directory: dir)
        var feeds = [String: Tensor]()
        for (info, file) in zip(graph.runtimeInputs, data.inputs) { feeds[info.name] = file.tensor }
        let shapes = feeds.mapValues(\.shape)
        let a = try ExecutionPlan(graph: graph, inputShapes: shapes).run(feeds)
        let b = try ExecutionPlan(graph: reloaded, inputShapes: shapes).run(feeds)
        for output in graph.outputs { #expect(a[output.name] == b[output.name], "\(output.name)") }
    }

    @Test func writeIsAtomicAndRefusesUnwritablePlaces() throws {
        let graph = try ONNXImporter.load(contentsOf: Fixtures.onnx.appendingPathComponent("relu/model.onnx"))
        #expect(throws: OutputError.self) { try ONNXExporter.write(graph, to: URL(fileURLWithPath: "/nonexistent-dir/x.onnx")) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.onnx")
        try ONNXExporter.write(graph, to: url)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.onnx"])
        _ = try ONNXImporter.load(contentsOf: url)
    }
}
