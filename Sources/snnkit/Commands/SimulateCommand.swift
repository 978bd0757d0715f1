import ArgumentParser
import Foundation
import SNNKit

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a converted model over T steps and score it at every checkpoint against the ANN.",
        discussion: """
        One simulation to T_max gives the metric at every checkpoint, with and without delayed evaluation, plus firing
        rates, synaptic operations and energy. The ANN is recovered from the converted file (neurons back to ReLU).
        Example: snnkit simulate resnet20.snn.onnx --data test.npz --preset cifar10 -T 256 --report out/
        """)

    @Argument(help: "Converted model (.snn.onnx).")
    var model: String

    @OptionGroup var evaluation: EvaluationFlags
    @OptionGroup var simulation: SimulationFlags
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        let settings = try simulation.settings()
        try Failure.run {
            let converted = try ConvertedModel(contentsOf: model)
            let data = try evaluation.open(dataOptions)
            let bar = ProgressBar(label: "simulating", unit: "img", quiet: common.quiet || common.json)
            let result = try Pipeline.simulate(converted, on: data, task: data.task, settings: settings) { done, total in
                bar.update(done: done, total: total)
            }
            bar.finish()
            try RunOutput.finish(RunReport(command: "snnkit simulate", model: model, evaluation: result), folder: evaluation.report, json: common.json)
        }
    }
}
