import Foundation
import Testing
@testable import SNNKit
@testable import SNNDemo

/// The demo path end to end on a tiny budget, and the report it writes.
@Suite struct DemoTests {
    @Test func demoRunsAndItsReportMatchesTheSimulation() throws {
        var budget = Demo.Budget()
        budget.calibration = .fixed(40)
        budget.timeSteps = 32
        budget.testImages = 100
        let run = try Demo.run(budget: budget)
        let e = run.evaluation
        #expect(e.images == 100)
        #expect(e.task == "classification" && e.primaryMetric == "top1")
        #expect(e.ann["top1"]! > 0.95, "the embedded model is a trained digit classifier")
        #expect(e.snn.map(\.steps) == [1, 2, 4, 8, 16, 32])
        #expect(e.snn.last!.delayed!["top1"]! > 0.9, "the SNN approaches the ANN by T = 32")
        #expect(run.conversion.layers.count == 5)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try ReportWriter.write(run.report, to: dir).map(\.lastPathComponent)
        #expect(Set(files) == ["report.json", "curves.csv", "top1.svg", "firing-rates.svg", "energy.svg", "thresholds.svg", "report.html"])

        // Schema: required keys and types, checked on the parsed JSON rather than by decoding.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report.json"))) as! [String: Any]
        #expect(json["schema_version"] as? Int == RunReport.schemaVersion)
        for key in ["snnkit_version", "created", "command", "model", "conversion", "evaluation"] { #expect(json[key] != nil, "\(key)") }
        let evaluation = try #require(json["evaluation"] as? [String: Any])
        for key in ["images", "time_steps", "ann", "clip_ann", "snn", "layers", "ann_macs_per_image", "analog_macs_per_step_per_image", "reach", "windows", "task", "metric_names"] {
            #expect(evaluation[key] != nil, "evaluation.\(key)")
        }
        let snn = try #require(evaluation["snn"] as? [[String: Any]])
        #expect(snn.count == e.snn.count)
        for (row, score) in zip(snn, e.snn) {
            let values = try #require((row["score"] as? [String: Any])?["values"] as? [String: Double])
            #expect(values["top1"] == score.score["top1"])
            #expect(values["top5"] == score.score["top5"])
            let ops = try #require(row["synaptic_ops_per_image"] as? Double)
            #expect(abs(ops - score.synapticOpsPerImage) <= 1e-9 * score.synapticOpsPerImage)
        }
        // The SOPs in the report are the simulation's own counts.
        let total = e.layers.reduce(0) { $0 + $1.synapticOpsPerImage }
        #expect(abs(total - e.snn.last!.synapticOpsPerImage) <= 1e-6 * total)
        let csv = try String(contentsOf: dir.appendingPathComponent("curves.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == e.snn.count + 1)
        #expect(csv[0].hasPrefix("T,snn_top1,snn_top5,snn_top1_delayed,snn_top5_delayed,window_start,ann_top1"))
        for name in ["top1.svg", "energy.svg"] {
            let svg = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.contains("polyline"))
        }
    }
}
