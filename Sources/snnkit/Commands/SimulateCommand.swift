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
        With --compare-bits, the model's integer forms (as made by snnkit convert --weight-bits) are simulated on the
        same data too, one more row and curve each.
        Examples:
          snnkit simulate resnet20.snn.onnx --data test.npz --preset cifar10 -T 256 --report out/
          snnkit simulate resnet20.snn.onnx --data test.npz --preset cifar10 --compare-bits 8,6,4 --compare-granularity channel,layer
        Split over processes or a cluster (Scripts/slurm/): each process runs one part, then snnkit merge makes the report:
          snnkit simulate resnet20.snn.onnx --data test.npz --preset cifar10 --part 0/4 --part-file parts/part-0.json
          snnkit merge parts/part-*.json --report out/
        """)

    @Argument(help: "Converted model (.snn.onnx).")
    var model: String

    @Option(name: .customLong("compare-bits"), parsing: .upToNextOption, help: "Also simulate the integer forms with these weight widths (e.g. 8,6,4).")
    var compareBits: [String] = []

    @Option(name: .customLong("compare-granularity"), parsing: .upToNextOption, help: "Scale granularities of the integer forms (channel, layer; e.g. channel,layer).")
    var compareGranularity: [String] = ["channel"]

    @Option(name: .customLong("compare-state-bits"), help: "Membrane width of the integer forms (4-24).")
    var compareStateBits: Int = QuantizationOptions.widestState

    @OptionGroup var evaluation: EvaluationFlags
    @OptionGroup var parts: PartFlags
    @OptionGroup var simulation: SimulationFlags
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: CommonOptions

    /// The integer forms asked for, every combination of width and granularity.
    func integerForms() throws -> [QuantizationOptions] {
        let bits = try compareBits.flatMap { $0.split(separator: ",") }.map { text -> Int in
            guard let b = Int(text.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("--compare-bits takes whole numbers, not '\(text)'") }
            return b
        }
        let granularities = try compareGranularity.flatMap { $0.split(separator: ",") }.map { text -> QuantizationOptions.Granularity in
            guard let g = QuantizationOptions.Granularity(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--compare-granularity takes channel or layer, not '\(text)'")
            }
            return g
        }
        let forms = bits.flatMap { b in granularities.map { QuantizationOptions(weightBits: b, granularity: $0, stateBits: compareStateBits) } }
        for form in forms {
            do { try form.validate() } catch let error as ConversionError { throw ValidationError(error.description) }
        }
        return forms
    }

    func validate() throws {
        _ = try integerForms()
        try parts.validate(report: evaluation.report)
    }

    func run() throws {
        try common.apply()
        let settings = try simulation.settings()
        let forms = try integerForms()
        try Failure.run {
            if let part = try parts.selected() {
                let data = try evaluation.open(dataOptions)
                let bar = ProgressBar(label: "simulating part \(part)", unit: "img", quiet: common.quiet || common.json)
                let progress = PipelineProgress(simulation: { done, total in bar.update(done: done, total: total) }, baseline: { name in
                    bar.finish()
                    if !common.quiet && !common.json { FileHandle.standardError.write(Data("simulating the integer form: \(name)\n".utf8)) }
                })
                let result = try Pipeline.simulatePart(modelFile: model, data: data, part: part, task: data.task, settings: settings,
                                                       integerForms: forms, identity: evaluation.identity(), progress: progress)
                bar.finish()
                return try parts.finish(result, json: common.json)
            }
            let converted = try ConvertedModel(contentsOf: model)
            let data = try evaluation.open(dataOptions)
            let bar = ProgressBar(label: "simulating", unit: "img", quiet: common.quiet || common.json)
            let result = try Pipeline.simulate(converted, on: data, task: data.task, settings: settings) { done, total in
                bar.update(done: done, total: total)
            }
            bar.finish()
            var others: [BaselineRun]? = nil
            if !forms.isEmpty {
                others = try Pipeline.simulateIntegerForms(of: converted, widths: forms, on: data, task: data.task, settings: settings) { name in
                    if !common.quiet && !common.json { FileHandle.standardError.write(Data("simulating the integer form: \(name)\n".utf8)) }
                }
            }
            try RunOutput.finish(RunReport(command: "snnkit simulate", model: model, evaluation: result, baselines: others,
                                           quantization: converted.quantization),
                                 folder: evaluation.report, json: common.json)
        }
    }
}
