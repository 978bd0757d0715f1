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

    @OptionGroup var conversion: ConversionFlags

    @Option(name: .customLong("initial-potential"), help: "Membrane potential at t = 0, as a fraction of the threshold (0...1), stored in the converted model.")
    var initialPotential: Float = 0.5

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

    func validate() throws {
        do { _ = try conversion.options(initialPotential: initialPotential) } catch let error as PipelineError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        try common.apply()
        let options = try conversion.options(initialPotential: initialPotential)
        let out = output ?? ConvertedModel.defaultPath(for: model)
        try Failure.run {
            let graph = try Pipeline.loadModel(model)
            let calibration = try data.settings().calibration(calib, warn: Warning.print)
            let bar = ProgressBar(label: "calibrating", unit: "img", quiet: common.quiet || common.json)
            let result = try Pipeline.convert(graph, calibration: calibration, options: options) { p in
                bar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images)
            }
            bar.finish()
            let converted = try ConvertedModel(result)
            // Refused before any file is written, so a model NIR cannot hold leaves nothing behind.
            let exported = try nir.map { _ in try NIRExporter.export(converted.graph, model: model) }
            try converted.write(to: out)
            var written = [out]
            if let nir, let exported {
                try NIRFile.write(exported, to: URL(fileURLWithPath: nir))
                written.append(nir)
            }
            if let clip = exportClipONNX {
                try converted.writeClipANN(to: clip, inputShape: try calibration.batch(0).shape)
                written.append(clip)
            }
            let summary = RunReport(command: "snnkit convert", model: model, conversion: result)
            if let report { written += try ReportWriter.write(summary, to: URL(fileURLWithPath: report)).map(\.path) }
            if common.json {
                try JSONOutput.print(summary)
                return
            }
            ResultPrinter.conversion(result)
            print("wrote " + written.joined(separator: ", "))
        }
    }
}
