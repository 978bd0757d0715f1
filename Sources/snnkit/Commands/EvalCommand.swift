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
        """)

    @Argument(help: "ONNX model: a ReLU network (converted first) or a converted .snn.onnx.")
    var model: String

    @Option(name: .long, help: "Calibration data (needed unless MODEL is already converted).")
    var calib: String?

    @Option(name: .customLong("calib-batches"), help: "Calibration batches: a number or auto.")
    var calibBatches: String = "auto"

    @Option(name: .long, help: "Threshold rule: ltb, ltb-layer, max-norm, robust-norm[:p].")
    var method: String = "ltb"

    @OptionGroup var evaluation: EvaluationFlags

    @Flag(name: .long, help: "Also convert with layer-wise LTB, max-norm and robust-norm on the same batches and compare.")
    var baselines = false

    @OptionGroup var simulation: SimulationFlags
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        try Failure.run {
            let graph = try ModelLoader.load(model)
            var converted = graph
            var summary: ConversionSummary? = nil
            var calibrationSource: CalibrationAdapter? = nil
            if graph.neuronLayers().isEmpty {
                guard let calib else { throw InputError("\(model) is not converted yet: pass --calib DATA to convert it") }
                guard let rule = ThresholdMethod(name: method) else { throw ValidationError("unknown --method '\(method)'") }
                var options = ConversionOptions()
                options.method = rule
                options.budget = try CalibrationBudgetArgument.parse(calibBatches, maximum: 1600)
                let source = try DataOpening.open(calib, labels: nil, options: dataOptions)
                let calibration = CalibrationAdapter(source: source, batchSize: dataOptions.batchSize)
                calibrationSource = calibration
                let bar = ProgressBar(label: "calibrating", unit: "img", quiet: common.quiet || common.json)
                let result = try Converter(options: options).convert(graph, calibration: calibration) { p in
                    bar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images)
                }
                bar.finish()
                converted = result.graph
                summary = ConversionSummary(result)
            }
            let ann = summary == nil ? converted.restoringReLUs() : try Converter.prepare(graph)
            let options = try simulation.options(stored: converted.metadata["snnkit.delay"].flatMap(Int.init))
            let result = try Evaluate.run(ann: ann, converted: try simulation.prepare(converted), options: options, flags: evaluation,
                                          dataOptions: dataOptions, quiet: common.quiet || common.json)
            var baselineRuns: [BaselineRun]? = nil
            if baselines {
                guard let calibrationSource, let summary else { throw InputError("--baselines needs --calib and an unconverted model") }
                let evalData = try evaluation.open(dataOptions)
                baselineRuns = try Baselines.run(source: graph, ann: ann, calibration: calibrationSource, batches: summary.calibrationBatches,
                                                 options: options, data: evalData) { method in
                    if !common.quiet && !common.json { FileHandle.standardError.write(Data("baseline \(method)...\n".utf8)) }
                }
            }
            let full = RunReport(command: "snnkit eval", model: model, conversion: summary, evaluation: result, baselines: baselineRuns)
            try Evaluate.finish(full, report: evaluation.report, json: common.json)
        }
    }
}
