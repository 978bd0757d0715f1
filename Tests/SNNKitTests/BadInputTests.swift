import Foundation
import Testing
@testable import SNNKit

/// Broken models must fail with one clear error naming what is wrong, never crash.
@Suite struct BadInputTests {
    /// Loads and plans a model with its declared input shapes, as `snnkit inspect` does.
    func loadAndPlan(_ url: URL) throws {
        let graph = try ONNXImporter.load(contentsOf: url)
        var shapes = [String: [Int]]()
        for input in graph.runtimeInputs {
            shapes[input.name] = input.dimensions?.map { $0.value ?? 1 }
        }
        _ = try ExecutionPlan(graph: graph, inputShapes: shapes)
    }

    @Test(arguments: Fixtures.badCases.filter { $0.expect == "error" })
    func rejectedWithAClearMessage(_ bad: Fixtures.BadCase) throws {
        let url = Fixtures.bad.appendingPathComponent(bad.file)
        let error = #expect(throws: (any Error).self) { try loadAndPlan(url) }
        let message = "\(error.map { "\($0)" } ?? "")"
        #expect(message.contains(url.lastPathComponent) || message.contains(bad.node_or_tensor ?? "\u{0}"), "\(message)")
        if let named = bad.node_or_tensor { #expect(message.contains(named), "\(message)") }
    }

    @Test func truncatedAtEveryTenthByteNeverCrashes() throws {
        let data = try Data(contentsOf: Fixtures.onnx.appendingPathComponent("net_b_resnet_blocks/model.onnx"))
        for cut in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            do {
                let graph = try ONNXImporter.load(data: data.prefix(cut), file: "cut.onnx")
                _ = try ExecutionPlan(graph: graph, inputShapes: [graph.runtimeInputs.first?.name ?? "": [2, 3, 8, 8]])
            } catch let error as ONNXError {
                #expect("\(error)".contains("cut.onnx"))
            } catch let error as GraphError {
                #expect(!"\(error)".isEmpty)
            }
        }
    }

    @Test func emptyFileIsNotAModel() {
        #expect(throws: ONNXError.corrupt(file: "empty.onnx", detail: "the file is empty")) {
            try ONNXImporter.load(data: Data(), file: "empty.onnx")
        }
    }

    @Test func missingFileNamesThePath() {
        let error = #expect(throws: ONNXError.self) {
            try ONNXImporter.load(contentsOf: URL(fileURLWithPath: "/nonexistent/model.onnx"))
        }
        #expect("\(error!)".contains("/nonexistent/model.onnx"))
    }

    @Test func wrongRuntimeInputShapeIsRefused() throws {
        let dir = Fixtures.onnx.appendingPathComponent("conv_3x3_pad1")
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let name = graph.runtimeInputs[0].name
        let plan = try ExecutionPlan(graph: graph, inputShapes: [name: [2, 3, 7, 7]])
        let error = #expect(throws: GraphError.self) { try plan.run([name: Tensor(zeros: [2, 3, 8, 8])]) }
        #expect("\(error!)".contains("expected shape [2, 3, 7, 7]"))
        #expect(throws: GraphError.self) { try ExecutionPlan(graph: graph, inputShapes: [name: [2, 4, 7, 7]]) }
    }
}
