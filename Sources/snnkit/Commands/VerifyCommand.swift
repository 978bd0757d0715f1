import ArgumentParser
import Foundation
import SNNKit

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Run a model on ONNX test data (input_N.pb / output_N.pb) and compare with the recorded outputs.",
        discussion: """
        The folder holds serialized TensorProtos as in ONNX's backend tests, e.g. written by onnxruntime.
        Example: snnkit verify model.onnx --data test_data_set_0 --tolerance 1e-4
        """)

    @Argument(help: "ONNX model file.")
    var model: String

    @Option(name: .long, help: "Folder with input_0.pb, ..., output_0.pb, ...")
    var data: String

    @Option(name: .long, help: "Largest accepted error relative to each output's largest magnitude.")
    var tolerance: Double = 1e-4

    @OptionGroup var common: CommonOptions

    struct Report: Encodable {
        var model: String
        var outputs: [Verification.OutputComparison]
        var maxRelError: Double
        var passed: Bool
        var tolerance: Double
    }

    func run() throws {
        try common.apply()
        try Failure.run {
            let graph = try ModelLoader.load(model).simplifiedForInference()
            let outputs = try Verification.run(model: graph, testData: URL(fileURLWithPath: data))
            let worst = outputs.map(\.maxRelativeError).max() ?? .infinity
            let report = Report(model: model, outputs: outputs, maxRelError: worst, passed: worst <= tolerance, tolerance: tolerance)
            if common.json {
                try JSONOutput.print(report)
            } else {
                var table = TextTable(["output", "shape", "max abs error", "max rel error"], leftAligned: [0, 1])
                for o in outputs {
                    table.add([o.name, Format.shape(o.shape), String(format: "%.3g", o.maxAbsoluteError), String(format: "%.3g", o.maxRelativeError)])
                }
                print(table.render())
                print(report.passed ? "PASS (tolerance \(tolerance))" : "FAIL: error \(worst) exceeds \(tolerance)")
            }
            if !report.passed { throw ExitCode(1) }
        }
    }
}
