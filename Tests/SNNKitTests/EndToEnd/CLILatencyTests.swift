import Foundation
import Testing
@testable import SNNKit

/// The low-latency calibrations as a user runs them: convert stores calibrated potentials
/// and readout starts, simulate reads them back, and bad settings are refused.
@Suite struct CLILatencyTests {
    @Test func convertCalibratesAndSimulateReadsTheStarts() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = folder.path("vgg.snn.onnx")
        let convert = try snnkit.run(["convert", E2EFiles.model, "--calib", E2EFiles.data, "--preset", "none", "--batch-size", "8",
                                      "--calib-batches", "2", "--calibrate-potential", "4", "--readout-steps", "16", "-o", output, "--json"])
        try #require(convert.status == 0, "\(convert)")
        let conversion = try #require(try convert.json()["conversion"] as? [String: Any])
        #expect(conversion["potential_steps"] as? Int == 4)
        let shortfall = try #require(conversion["potential_shortfall"] as? [Double])
        #expect(shortfall.count == 3 && shortfall[2] < shortfall[0], "\(shortfall)")
        let starts = try #require(conversion["readout_starts"] as? String)

        // The file holds what the report says: a v(0) per channel and the starts.
        let model = try ConvertedModel(contentsOf: output)
        for layer in model.graph.neuronLayers() {
            let node = try #require(model.graph.nodes.first { $0.name == layer.node })
            #expect(model.graph.initialPotentialRatios(of: node)?.count == layer.channels)
        }
        let schedule = try #require(model.info?.readoutSchedule)
        #expect(schedule.description == starts)
        #expect(model.info?.potentialSteps == 4)
        #expect(Set(schedule.starts.keys) == [1, 2, 4, 8, 16])

        let inspect = try snnkit.run(["inspect", output])
        #expect(inspect.status == 0 && inspect.stdout.contains("initial potentials: calibrated per channel for T = 4")
                && inspect.stdout.contains("readout starts chosen on data (T:start): \(starts)"), "\(inspect)")

        let simulate = try snnkit.run(["simulate", output, "--data", E2EFiles.data, "-T", "16", "--batch-size", "8", "--json"])
        try #require(simulate.status == 0, "\(simulate)")
        let snn = try #require(CLIPipelineTests.value(try simulate.json(), "evaluation", "snn") as? [[String: Any]])
        for row in snn {
            let t = try #require(row["steps"] as? Int)
            #expect(row["window_start"] as? Int == schedule.start(forSteps: t), "T = \(t)")
        }
        // --delay estimated keeps the analytic estimate's windows.
        let estimated = try snnkit.run(["simulate", output, "--data", E2EFiles.data, "-T", "16", "--batch-size", "8", "--delay", "estimated", "--json"])
        try #require(estimated.status == 0, "\(estimated)")
        let delay = try #require(model.info?.delay)
        let rows = try #require(CLIPipelineTests.value(try estimated.json(), "evaluation", "snn") as? [[String: Any]])
        #expect(rows.compactMap { $0["window_start"] as? Int } == rows.compactMap { $0["steps"] as? Int }.map {
            DelayEstimate(steps: delay, perLayer: []).start(forSteps: $0)
        })

        // Burst neurons: more spikes per step allowed, the same file.
        let burst = try snnkit.run(["simulate", output, "--data", E2EFiles.data, "-T", "16", "--batch-size", "8", "--burst", "3", "--json"])
        try #require(burst.status == 0, "\(burst)")
    }

    @Test func badSettingsAreRefused() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (arguments, words) in [
            (["convert", E2EFiles.model, "--calib", E2EFiles.data, "--calibrate-potential", "5000"], "potential calibration's T"),
            (["convert", E2EFiles.model, "--calib", E2EFiles.data, "--calibrate-potential", "4", "--potential-rounds", "0"], "1 to 20 rounds"),
            (["convert", E2EFiles.model, "--calib", E2EFiles.data, "--readout-steps", "5000"], "--readout-steps is 0 (keep the analytic delay)"),
            (["simulate", E2EFiles.converted, "--data", E2EFiles.data, "--burst", "0"], "1 to 16 spikes per step"),
            (["simulate", E2EFiles.converted, "--data", E2EFiles.data, "--delay", "later"], "auto, estimated, none, half"),
        ] {
            let run = try snnkit.run(arguments + ["-o", folder.path("x.onnx")].filter { _ in arguments[0] == "convert" })
            #expect(run.status == 64 && run.stderr.contains(words), "\(arguments): \(run)")
        }
        // An integer SNN is calibrated through the float SNN it came from.
        let integer = folder.path("vgg.w8.snn.onnx")
        try #require(try snnkit.run(["convert", E2EFiles.converted, "--weight-bits", "8", "-o", integer]).status == 0)
        let refused = try snnkit.run(["convert", integer, "--calib", E2EFiles.data, "--preset", "none", "--batch-size", "8", "-o", folder.path("y.onnx")])
        #expect(refused.status != 0 && refused.stderr.contains("is an integer SNN: calibrate the float SNN"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("y.onnx")))
    }
}
