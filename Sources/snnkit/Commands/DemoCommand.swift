import ArgumentParser
import Foundation
import SNNDemo
import SNNKit

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Convert an embedded pretrained CNN to a spiking network and show the whole story (no arguments, no network).",
        discussion: "Example: snnkit demo --output snnkit-demo -T 256")

    @Option(name: .shortAndLong, help: "Folder for the report (report.json, curves.csv, SVG plots, report.html).")
    var output: String = "snnkit-demo"

    @Option(name: [.customShort("T"), .long], help: "Time steps to simulate.")
    var timeSteps: Int = 256

    @Option(name: .long, help: "Use only the first N test images.")
    var images: Int?

    @Flag(name: .long, help: "Also convert with layer-wise LTB, max-norm and robust-norm on the same batches and compare.")
    var baselines = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        do { try SimulationSettings(timeSteps: timeSteps).validate() } catch let error as PipelineError { throw ValidationError(error.description) }
        if let images, images <= 0 { throw ValidationError("--images must be positive") }
    }

    func run() throws {
        try common.apply()
        try Failure.run {
            var budget = Demo.Budget()
            budget.timeSteps = timeSteps
            budget.testImages = images
            budget.baselines = baselines
            if !common.json {
                print("SNNKit demo: a residual CNN (conv, BatchNorm, max pooling, residual add) trained on 8x8 handwritten digits,")
                print("converted to a spiking network with channel-wise local threshold balancing, simulated for T = 1...\(timeSteps).\n")
            }
            let calibrationBar = ProgressBar(label: "calibrating", unit: "img", quiet: common.quiet || common.json)
            let simulationBar = ProgressBar(label: "simulating ", unit: "img", quiet: common.quiet || common.json)
            let run = try Demo.run(budget: budget, calibrationProgress: { p in
                calibrationBar.update(done: p.batchesDone, total: p.batchesPlanned, extraUnits: p.images)
            }, evaluationProgress: { done, total in
                calibrationBar.finish()
                simulationBar.update(done: done, total: total)
            })
            simulationBar.finish()
            let files = try ReportWriter.write(run.report, to: URL(fileURLWithPath: output))
            if common.json {
                try JSONOutput.print(run.report)
                return
            }
            print("1. Conversion")
            ResultPrinter.conversion(run.conversion)
            if let tuning = run.tuning { ResultPrinter.tuning(.standard, tuning) }
            print("\n2. Simulation (delayed evaluation: the readout window starts chosen on held-out data)")
            ResultPrinter.evaluation(run.evaluation)
            if let b = run.report.baselines { ResultPrinter.baselines(b, main: run.evaluation, conversion: run.report.conversion) }
            print("\nreport: " + files.map { $0.path }.joined(separator: "\n        "))
        }
    }
}
