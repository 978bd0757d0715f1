import Foundation
import SNNGraph
import SNNTensor

/// Runs a model on ONNX test data (input_N.pb / output_N.pb, e.g. written by
/// onnxruntime) and measures how far SNNKit's outputs are from the recorded ones.
public enum Verification {
    /// How one output compares with its recorded reference.
    public struct OutputComparison: Sendable, Codable {
        /// The graph output's name.
        public var name: String
        /// Shape of SNNKit's output.
        public var shape: [Int]
        /// max |ours - reference| over all elements (infinite when the shapes differ).
        public var maxAbsoluteError: Double
        /// max |ours - reference| / max |reference|: the error relative to the output's scale,
        /// which stays meaningful where individual reference values are near zero.
        public var maxRelativeError: Double
    }

    /// Feeds the folder's input_N.pb to `graph` and compares each output with output_N.pb, in graph order.
    public static func run(model graph: Graph, testData directory: URL) throws -> [OutputComparison] {
        let data = try TensorFile.readTestData(directory: directory)
        let runtime = graph.runtimeInputs
        guard data.inputs.count == runtime.count else {
            throw GraphError.badInput(name: directory.path, message: "has \(data.inputs.count) input_N.pb files but the model takes \(runtime.count) inputs")
        }
        var feeds = [String: Tensor]()
        var shapes = [String: [Int]]()
        for (info, file) in zip(runtime, data.inputs) {
            feeds[info.name] = file.tensor
            shapes[info.name] = file.tensor.shape
        }
        let plan = try ExecutionPlan(graph: graph, inputShapes: shapes)
        let outputs = try plan.run(feeds)
        return zip(graph.outputs, data.outputs).map { info, expected in
            let ours = outputs[info.name] ?? Tensor(zeros: [0])
            return compare(ours, expected.tensor, name: info.name)
        }
    }

    /// The absolute and relative error of `ours` against `reference` (infinite when the shapes differ).
    public static func compare(_ ours: Tensor, _ reference: Tensor, name: String) -> OutputComparison {
        guard ours.shape == reference.shape else {
            return OutputComparison(name: name, shape: ours.shape, maxAbsoluteError: .infinity, maxRelativeError: .infinity)
        }
        var maxError = 0.0, scale = 0.0
        for (a, b) in zip(ours.storage, reference.storage) {
            let e = abs(Double(a) - Double(b))
            maxError = e.isNaN ? .infinity : max(maxError, e)
            scale = max(scale, abs(Double(b)))
        }
        return OutputComparison(name: name, shape: ours.shape, maxAbsoluteError: maxError,
                                maxRelativeError: scale > 0 ? maxError / scale : maxError)
    }
}
