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

    /// `verify` on a folder that is not there says so, rather than "0 input_N.pb files".
    @Test func missingTestDataFolderIsNamed() {
        let error = #expect(throws: ONNXError.self) {
            try TensorFile.readTestData(directory: URL(fileURLWithPath: "/nonexistent/test_data_set_0"))
        }
        #expect("\(error!)".contains("/nonexistent/test_data_set_0") && "\(error!)".contains("no such folder"), "\(error!)")
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

    /// A NaN weight would make every output it reaches NaN; planning must name the node,
    /// the tensor and where in it the value sits.
    @Test func nonFiniteWeightsAreNamed() throws {
        var conv = TaskEvaluationTests.signSegmenter()
        conv.constants["w1"] = .float(Tensor(shape: [2, 1, 1, 1], storage: [1, .nan]))
        let e1 = #expect(throws: GraphError.self) { try ExecutionPlan(graph: conv, inputShapes: ["x": [2, 1, 2, 2]]) }
        #expect("\(e1!)".contains("node 'c1'") && "\(e1!)".contains("'w1'") && "\(e1!)".contains("nan at [1, 0, 0, 0]"), "\(e1!)")
        // Conversion reports it as the model's fault, not the calibration batch's.
        #expect(throws: GraphError.self) { try TaskEvaluationTests.convert(conv, Tensor(zeros: [2, 1, 2, 2])) }
        var gemm = TaskEvaluationTests.oneAnchorDetector()
        gemm.constants["eye"] = .float(Tensor(shape: [2, 2], storage: [1, 0, 0, -.infinity]))
        let e2 = #expect(throws: GraphError.self) { try ExecutionPlan(graph: gemm, inputShapes: ["x": [4, 2]]) }
        #expect("\(e2!)".contains("node 'fc1'") && "\(e2!)".contains("'eye'") && "\(e2!)".contains("-inf at [1, 1]"), "\(e2!)")
    }

    /// NaN or infinite inputs are refused before they are scored as wrong answers: in the
    /// evaluation data (naming the file, the image and the position) and in calibration.
    @Test func nonFiniteInputsAreNamed() throws {
        let graph = TaskEvaluationTests.signSegmenter()
        let x = Tensor(shape: [2, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1])
        var options = EvaluationOptions(timeSteps: 4)
        options.task = .segmentation(ignoreLabel: 255)
        let evaluator = Evaluator(ann: graph, converted: try TaskEvaluationTests.convert(graph, x), options: options)
        let masks = TaskTargets.masks([Int](repeating: 0, count: 8), shape: [2, 2, 2])
        // Two batches of one image: the second image is the one at fault.
        var bad = x
        bad.storage[6] = .infinity
        let data = TaskEvaluationTests.Data(images: bad, targets: [.masks([0, 0, 0, 0], shape: [1, 2, 2]), .masks([0, 0, 0, 0], shape: [1, 2, 2])])
        let e1 = #expect(throws: EvaluationError.self) { try evaluator.evaluate(data) }
        #expect("\(e1!)".contains("test-data.npz: image 1 holds inf at [0, 1, 0]"), "\(e1!)")
        _ = try evaluator.evaluate(TaskEvaluationTests.Data(images: x, targets: [masks]))
        bad = x
        bad.storage[5] = .nan
        let e2 = #expect(throws: ConversionError.self) { try TaskEvaluationTests.convert(graph, bad) }
        #expect("\(e2!)".contains("calibration data: image 1 (calibration batch 0) holds nan at [0, 0, 1]"), "\(e2!)")
    }
}
