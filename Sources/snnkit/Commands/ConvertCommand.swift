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
        With --weight-bits it then writes the integer SNN: thresholds folded into the weights, weights in B-bit
        integers, integer thresholds 2^k, saturating --state-bits membranes. A model converted before needs no
        calibration data to be quantized.

        Examples:
          snnkit convert resnet20.onnx --calib cifar_train.npy --preset cifar10 -o resnet20.snn.onnx
          snnkit convert vgg.onnx --calib calib.npz --calib-batches 400 --method ltb-layer --export-clip-onnx vgg.clip.onnx
          snnkit convert resnet20.snn.onnx --weight-bits 4 --scale-granularity layer --state-bits 16 -o resnet20.w4.snn.onnx
        """)

    @Argument(help: "ONNX model (a ReLU network, or a converted SNN to quantize).")
    var model: String

    @Option(name: .long, help: "Calibration data: .npy/.npz, MNIST IDX (.gz), CIFAR binary batches or a folder of them.")
    var calib: String?

    @OptionGroup var quantization: QuantizationFlags

    @OptionGroup var conversion: ConversionFlags

    @OptionGroup var latency: LatencyFlags

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
        do {
            _ = try conversion.options(initialPotential: initialPotential)
        } catch let error as PipelineError {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        try common.apply()
        let options = try conversion.options(initialPotential: initialPotential)
        let out = output ?? ConvertedModel.defaultPath(for: model)
        try Failure.run {
            let graph = try Pipeline.loadModel(model)
            if !graph.neuronLayers().isEmpty {
                if calib != nil {
                    try calibrateConverted(graph, to: out, options: options)
                    return
                }
                try quantizeConverted(graph, to: out)
                return
            }
            guard let calib else {
                throw PipelineError("\(model) is a ReLU network: pass calibration data (--calib DATA) to convert it")
            }
            let calibration = try data.settings().calibration(calib, warn: Warning.print)
            let bar = ProgressBar(label: "calibrating", unit: "img", quiet: common.quiet || common.json)
            let result = try Pipeline.convert(graph, calibration: calibration, options: options) { p in
                bar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images)
            }
            bar.finish()
            var converted = try ConvertedModel(result)
            let (tuned, tuning) = try Pipeline.tune(converted, calibration: calibration, tuning: latency.tuning(), options: options)
            converted = tuned
            if let q = try quantization.options() { converted = try Pipeline.quantize(converted, options: q) }
            var written = try write(converted, to: out)
            if let clip = exportClipONNX {
                try converted.writeClipANN(to: clip, inputShape: try calibration.batch(0).shape)
                written.append(clip)
            }
            let summary = RunReport(command: "snnkit convert", model: model, conversion: result, tuning: tuning)
            if let report { written += try ReportWriter.write(summary, to: URL(fileURLWithPath: report)).map(\.path) }
            if common.json {
                try JSONOutput.print(summary)
                return
            }
            ResultPrinter.conversion(result)
            ResultPrinter.tuning(latency.tuning(), tuning)
            if let record = converted.quantization { ResultPrinter.quantization(record) }
            print("wrote " + written.joined(separator: ", "))
        }
    }

    /// Writes the model to `out` and, when asked, as NIR; returns the paths written. A graph
    /// NIR cannot hold is refused before any file is written, so it leaves nothing behind.
    func write(_ converted: ConvertedModel, to out: String) throws -> [String] {
        let exported = try nir.map { _ in try NIRExporter.export(converted.graph, model: model) }
        try converted.write(to: out)
        guard let nir, let exported else { return [out] }
        try NIRFile.write(exported, to: URL(fileURLWithPath: nir))
        return [out, nir]
    }

    /// --export-clip-onnx and --report describe a threshold calibration, which a model
    /// converted before does not go through again.
    func refuseCalibrationOutputs() throws {
        if exportClipONNX != nil || report != nil {
            throw PipelineError("--export-clip-onnx and --report describe a calibration, and \(model) is already converted: " +
                                "give them when converting the ReLU network")
        }
    }

    /// A model converted before, given calibration data: its potentials and readout starts
    /// calibrated on it, then quantized when asked.
    func calibrateConverted(_ graph: Graph, to out: String, options: ConversionOptions) throws {
        guard let calib else { throw PipelineError("calibrating \(model) needs calibration data (--calib DATA)") }
        try refuseCalibrationOutputs()
        let calibration = try data.settings().calibration(calib, warn: Warning.print)
        var (converted, summary) = try Pipeline.tune(try ConvertedModel(graph), calibration: calibration, tuning: latency.tuning(), options: options)
        if let q = try quantization.options() { converted = try Pipeline.quantize(converted, options: q) }
        let written = try write(converted, to: out)
        if common.json {
            try JSONOutput.print(summary)
            return
        }
        ResultPrinter.tuning(latency.tuning(), summary)
        if let record = converted.quantization { ResultPrinter.quantization(record) }
        print("wrote " + written.joined(separator: ", "))
    }

    /// A model converted before: quantized to the widths asked for, without calibration.
    func quantizeConverted(_ graph: Graph, to out: String) throws {
        guard let options = try quantization.options() else {
            throw PipelineError("\(model) is already a spiking network: give --weight-bits to quantize it, or convert the ReLU network it came from")
        }
        try refuseCalibrationOutputs()
        let quantized = try Pipeline.quantize(try ConvertedModel(graph), options: options)
        let written = try write(quantized, to: out)
        if common.json {
            try JSONOutput.print(quantized.quantization!)
            return
        }
        ResultPrinter.quantization(quantized.quantization!)
        print("wrote " + written.joined(separator: ", "))
    }
}
