import ArgumentParser
import Foundation
import SNNKit

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Convert (or load a converted model), then evaluate the ANN once and the SNN at every checkpoint, side by side.",
        discussion: """
        Examples:
          snnkit eval resnet20.onnx --calib train.npy --data test.npz --preset cifar10 -T 256 --report report/
          snnkit eval resnet20.snn.onnx --data test.npz --preset cifar10
          snnkit eval resnet20.onnx --calib train.npy --data test.npz --preset cifar10 --weight-bits 8   (the integer SNN against the float ANN)
        """)

    @Argument(help: "ONNX model: a ReLU network (converted first) or a converted .snn.onnx.")
    var model: String

    @Option(name: .long, help: "Calibration data (needed unless MODEL is already converted).")
    var calib: String?

    @OptionGroup var conversion: ConversionFlags
    @OptionGroup var latency: LatencyFlags
    @OptionGroup var quantization: QuantizationFlags
    @OptionGroup var evaluation: EvaluationFlags
    @OptionGroup var parts: PartFlags

    @Flag(name: .long, help: "Also convert with layer-wise LTB, max-norm and robust-norm on the same batches and compare.")
    var baselines = false

    @OptionGroup var simulation: SimulationFlags
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: CommonOptions

    func validate() throws { try parts.validate(report: evaluation.report) }

    func run() throws {
        try common.apply()
        let options = try conversion.options(initialPotential: simulation.initialPotential ?? 0.5)
        let settings = try simulation.settings()
        let quiet = common.quiet || common.json
        try Failure.run {
            let calibration = try calib.map { try dataOptions.settings().calibration($0, warn: Warning.print) }
            let data = try evaluation.open(dataOptions)
            let calibrationBar = ProgressBar(label: "calibrating", unit: "img", quiet: quiet)
            let simulationBar = ProgressBar(label: "simulating", unit: "img", quiet: quiet)
            let progress = PipelineProgress(
                calibration: { p in calibrationBar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images) },
                simulation: { done, total in
                    calibrationBar.finish()
                    simulationBar.update(done: done, total: total)
                },
                baseline: { method in if !quiet { FileHandle.standardError.write(Data("baseline \(method)...\n".utf8)) } })
            if let part = try parts.selected() {
                let result = try Pipeline.evaluatePart(modelFile: model, calibration: calibration, conversion: options, tuning: latency.tuning(),
                                                       quantization: try quantization.options(), data: data, part: part, task: data.task,
                                                       settings: settings, baselines: baselines, identity: evaluation.identity(), progress: progress)
                simulationBar.finish()
                return try parts.finish(result, json: common.json)
            }
            let run = try Pipeline.evaluate(try Pipeline.loadModel(model), calibration: calibration, conversion: options, tuning: latency.tuning(),
                                            quantization: try quantization.options(),
                                            data: data, task: data.task, settings: settings, baselines: baselines, progress: progress)
            simulationBar.finish()
            if let report = run.tuning, !common.json { ResultPrinter.tuning(latency.tuning(), report) }
            try RunOutput.finish(RunReport(command: "snnkit eval", model: model, run: run), folder: evaluation.report, json: common.json)
        }
    }
}
