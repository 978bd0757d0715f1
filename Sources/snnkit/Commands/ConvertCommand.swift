import ArgumentParser
import Foundation
import SNNKit

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a ReLU network to a spiking network with thresholds from calibration data.",
        discussion: """
        Folds BatchNorm, moves max pools before the neurons, turns every ReLU into an integrate-and-fire neuron and sets
        its per-channel threshold by local threshold balancing (one forward pass per calibration batch).

        Examples:
          snnkit convert resnet20.onnx --calib cifar_train.npy --preset cifar10 -o resnet20.snn.onnx
          snnkit convert vgg.onnx --calib calib.npz --calib-batches 400 --method ltb-layer --export-clip-onnx vgg.clip.onnx
        """)

    @Argument(help: "ONNX model (a ReLU network).")
    var model: String

    @Option(name: .long, help: "Calibration data: .npy/.npz, MNIST IDX (.gz), CIFAR binary batches or a folder of them.")
    var calib: String

    @Option(name: .customLong("calib-batches"), help: "Calibration batches: a number, or auto (stop when more batches no longer bring the clip-ANN closer to the ANN).")
    var calibBatches: String = "auto"

    @Option(name: .customLong("max-calib-batches"), help: "Upper bound for --calib-batches auto.")
    var maxCalibBatches: Int = 1600

    @Option(name: .long, help: "Threshold rule: ltb (channel-wise, default), ltb-layer, max-norm, robust-norm[:percentile].")
    var method: String = "ltb"

    @Option(name: .long, help: "LTB step size.")
    var eta: Float = 1

    @Option(name: .shortAndLong, help: "Converted model file (default: MODEL.snn.onnx).")
    var output: String?

    @Option(name: .customLong("export-clip-onnx"), help: "Also write the clip-ANN (ReLU then Min with the thresholds) as standard ONNX.")
    var exportClipONNX: String?

    @Option(name: .long, help: "Also write the spiking network as NIR (HDF5; thresholds folded to 1, see snnkit export --help).")
    var nir: String?

    @Option(name: .long, help: "Also write report.json for the conversion into this folder.")
    var report: String?

    @OptionGroup var data: DataOptions
    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        guard let rule = ThresholdMethod(name: method, eta: eta) else {
            throw ValidationError("unknown --method '\(method)' (ltb, ltb-layer, max-norm, robust-norm[:p])")
        }
        var options = ConversionOptions()
        options.method = rule
        options.budget = try CalibrationBudgetArgument.parse(calibBatches, maximum: maxCalibBatches)
        let out = output ?? Self.defaultOutput(for: model)
        try Failure.run {
            let graph = try ModelLoader.load(model)
            let source = try DataOpening.open(calib, labels: nil, options: data)
            let calibration = CalibrationAdapter(source: source, batchSize: data.batchSize)
            guard calibration.distinctBatches > 0 else {
                throw InputError("\(calib) holds \(source.count) images, fewer than one batch of \(data.batchSize); lower --batch-size")
            }
            let bar = ProgressBar(label: "calibrating", unit: "img", quiet: common.quiet || common.json)
            let result = try Converter(options: options).convert(graph, calibration: calibration) { p in
                bar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images)
            }
            bar.finish()
            var converted = result.graph
            converted.metadata["snnkit.source_model"] = URL(fileURLWithPath: model).lastPathComponent
            // Refused before any file is written, so a model NIR cannot hold leaves nothing behind.
            let exported = try nir.map { _ in try NIRExporter.export(converted, model: model) }
            try ONNXExporter.write(converted, to: URL(fileURLWithPath: out))
            var written = [out]
            if let nir, let exported {
                try NIRFile.write(exported, to: URL(fileURLWithPath: nir))
                written.append(nir)
            }
            if let clip = exportClipONNX {
                let plan = try ModelLoader.plan(converted, [converted.runtimeInputs[0].name: try calibration.batch(0).shape],
                                                options: PlanOptions(fuseActivations: false))
                try ONNXExporter.write(converted.clipANNForExport(shapes: plan.shapes), to: URL(fileURLWithPath: clip))
                written.append(clip)
            }
            if let report {
                let r = RunReport(command: "snnkit convert", model: model, conversion: ConversionSummary(result))
                written += try ReportWriter.write(r, to: URL(fileURLWithPath: report)).map(\.path)
            }
            if common.json {
                try JSONOutput.print(RunReport(command: "snnkit convert", model: model, conversion: ConversionSummary(result)))
                return
            }
            ResultPrinter.conversion(result)
            print("wrote " + written.joined(separator: ", "))
        }
    }

    static func defaultOutput(for model: String) -> String {
        let url = URL(fileURLWithPath: model)
        return url.deletingPathExtension().path + ".snn.onnx"
    }
}
