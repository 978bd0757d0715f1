import Foundation
import Testing
@testable import SNNKit
@testable import SNNDemo

/// The demo path end to end on a tiny budget, and the report it writes.
@Suite struct DemoTests {
    /// Every key of report.json for a run with conversion and evaluation, as the schema
    /// (RunReport's documentation) names them.
    static let expected: Set<String> = [
        "schema_version", "snnkit_version", "created", "command", "model", "conversion", "evaluation",
        // conversion
        "method", "calibration_batches", "batch_size", "seconds", "images_per_second", "delay", "steps", "per_layer", "layers",
        "agreement_curve", "batches", "agreement", "node", "channels", "shape", "threshold_min", "threshold_median",
        "threshold_max", "clipped_fraction", "clipping_error", "potential_steps", "potential_shortfall", "readout_starts",
        // evaluation
        "task", "metric_names", "primary_metric", "images", "time_steps", "ann", "clip_ann", "snn", "ann_macs_per_image",
        "analog_macs_per_step_per_image", "reach", "windows", "values", "primary", "top1", "top5", "score", "delayed",
        "window_start", "gap_to_clip_ann", "synaptic_ops_per_image", "energy", "preset", "snn_joules", "ann_joules",
        "efficiency_gain", "neurons", "firing_rate", "firing_rate_at_checkpoints", "fraction", "start", "end", "value",
    ]

    static func keys(_ value: Any) -> Set<String> {
        switch value {
        case let object as [String: Any]: return Set(object.keys).union(object.values.flatMap { keys($0) })
        case let array as [Any]: return array.reduce(into: Set<String>()) { $0.formUnion(keys($1)) }
        default: return []
        }
    }

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
        // Every key is a documented snake_case name, none mangled by the key conversion
        // (which once turned "MACs" into "ma_cs").
        let found = Self.keys(json)
        #expect(found.subtracting(Self.expected).isEmpty, "unexpected keys: \(found.subtracting(Self.expected).sorted())")
        // A fixed budget measures no agreement curve, so its entries' keys are absent; the
        // demo's tuning calibrates no potentials.
        let missing = Self.expected.subtracting(found).subtracting(["batches", "agreement", "potential_steps", "potential_shortfall"])
        #expect(missing.isEmpty, "missing keys: \(missing.sorted())")
        let evaluation = try #require(json["evaluation"] as? [String: Any])
        #expect(evaluation["ann_macs_per_image"] as? Double == e.annMACsPerImage)
        #expect(evaluation["analog_macs_per_step_per_image"] as? Double == e.analogMACsPerStepPerImage)
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
