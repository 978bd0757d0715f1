import ArgumentParser
import Foundation
import SNNKit

/// Flags of a simulation run, shared by simulate and eval.
struct SimulationFlags: ParsableArguments {
    @Option(name: [.customShort("T"), .long], help: "Time steps to simulate (T_max).")
    var timeSteps: Int = 256

    @Option(name: .long, help: "Checkpoints to evaluate, e.g. 1,2,4,8 (default: powers of two up to T).")
    var checkpoints: String?

    @Option(name: .long, help: "Readout delay: auto (the converted model's estimate), none, half (t0 = T/2) or a number of steps.")
    var delay: String = "auto"

    @Option(name: .long, help: "Max pooling in the SNN: running-sum (exact) or per-step (the paper's).")
    var maxpool: String = "running-sum"

    @Option(name: .long, help: "Steps simulated per layer at a time.")
    var chunk: Int = 16

    @Option(name: .long, help: "Samples per shard: each shard runs through the whole network on one core. Kernels follow each shard's firing density, so this (not --threads) is part of what fixes the result.")
    var shard: Int = SimulationOptions(timeSteps: 1).shardSize

    @Option(name: .long, help: "Convolution kernel in the spiking part: auto (by spike density), dense, events, tables or matrix (AMX int8 tiles, on CPUs that have them; tables elsewhere). All give the same result up to float rounding.")
    var kernel: ConvolutionKernel = .auto

    @Option(name: .customLong("initial-potential"), help: "v(0) as a fraction of the threshold, for every neuron (default: the converted model's, 0.5). 0 is what an NIR consumer runs.")
    var initialPotential: Float?

    @Option(name: .long, help: "Neuron reset: subtract (v -= threshold, default) or zero (v = 0, NIR's IF and most hardware).")
    var reset: ResetMode = .subtract

    @Flag(name: .customLong("fold-thresholds"), help: "Simulate the network with its thresholds folded into the weights (unit thresholds and spikes, as exported to NIR).")
    var foldThresholds = false

    /// The converted graph as these flags want it simulated: initial potential set,
    /// thresholds folded.
    func prepare(_ converted: Graph) throws -> Graph {
        var g = converted
        if let initialPotential {
            guard initialPotential.isFinite, initialPotential >= 0, initialPotential < 1 else {
                throw ValidationError("--initial-potential is a fraction of the threshold in 0..<1")
            }
            g = g.settingInitialPotential(initialPotential)
        }
        if foldThresholds { g = try g.foldingThresholds(shapes: NIRExporter.plannedShapes(g)) }
        return g
    }

    func options(stored: Int?) throws -> EvaluationOptions {
        guard timeSteps > 0 else { throw ValidationError("-T must be positive") }
        var points: [Int]? = nil
        if let checkpoints {
            let parsed = checkpoints.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--checkpoints takes numbers separated by commas") }
            let values = Array(Set(parsed.map { $0! })).sorted()
            if let bad = values.first(where: { $0 < 1 || $0 > timeSteps }) {
                throw ValidationError("checkpoint \(bad) is outside 1...\(timeSteps); raise -T or drop it")
            }
            points = values
        }
        var o = EvaluationOptions(timeSteps: timeSteps, checkpoints: points)
        guard let mode = MaxPoolMode(rawValue: maxpool) else { throw ValidationError("--maxpool is running-sum or per-step") }
        o.simulation.maxPooling = mode
        guard chunk > 0 else { throw ValidationError("--chunk must be positive") }
        o.simulation.chunk = chunk
        guard shard > 0 else { throw ValidationError("--shard must be positive") }
        o.simulation.shardSize = shard
        o.simulation.convolutionKernel = kernel
        o.simulation.reset = reset
        switch delay {
        case "auto": o.delay = stored.map { .estimated($0) } ?? .none
        case "none": o.delay = .none
        case "half": o.delay = .half
        default:
            guard let d = Int(delay), d >= 0 else { throw ValidationError("--delay is auto, none, half or a non-negative number") }
            o.delay = .fixed(d)
        }
        return o
    }
}

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
        try Failure.run {
            let converted = try ModelLoader.load(model)
            guard !converted.neuronLayers().isEmpty else {
                throw InputError("\(model) has no IF neurons: convert it first (snnkit convert \(model) --calib DATA)")
            }
            let options = try simulation.options(stored: converted.metadata["snnkit.delay"].flatMap(Int.init))
            let simulated = try simulation.prepare(converted)
            let result = try Evaluate.run(ann: converted.restoringReLUs(), converted: simulated, options: options, flags: evaluation,
                                          dataOptions: dataOptions, quiet: common.quiet || common.json)
            try Evaluate.finish(RunReport(command: "snnkit simulate", model: model, evaluation: result), report: evaluation.report, json: common.json)
        }
    }
}

/// The evaluation part shared by simulate and eval.
enum Evaluate {
    static func run(ann: Graph, converted: Graph, options: EvaluationOptions, flags: EvaluationFlags,
                    dataOptions: DataOptions, quiet: Bool) throws -> EvaluationResult {
        let batches = try flags.open(dataOptions)
        var options = options
        options.task = batches.task
        let bar = ProgressBar(label: "simulating", unit: "img", quiet: quiet)
        let result = try Evaluator(ann: ann, converted: converted, options: options).evaluate(batches) { done, total in
            bar.update(done: done, total: total)
        }
        bar.finish()
        return result
    }

    static func finish(_ report: RunReport, report folder: String?, json: Bool) throws {
        var files = [String]()
        if let folder { files = try ReportWriter.write(report, to: URL(fileURLWithPath: folder)).map(\.path) }
        if json { try JSONOutput.print(report); return }
        if let c = report.conversion {
            print("Conversion")
            print(String(format: "  %@: %d batches of %d, %.2f s, delay %d steps", c.method, c.calibrationBatches, c.batchSize, c.seconds, c.delay.steps))
        }
        if let e = report.evaluation {
            ResultPrinter.evaluation(e)
            if let b = report.baselines { ResultPrinter.baselines(b, main: e) }
        }
        if !files.isEmpty { print("\nreport: " + files.joined(separator: "\n        ")) }
    }
}

extension ConvolutionKernel: ExpressibleByArgument {}
extension ResetMode: ExpressibleByArgument {}
