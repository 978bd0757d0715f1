import Foundation
import Testing
@testable import SNNDemo
@testable import SNNKit

/// report.json keys are the documented snake_case names: none mangled by the key
/// conversion (which once turned "MACs" into "ma_cs").
@Suite struct ReportKeyTests {
    /// Every key of report.json for a run with conversion and evaluation, as the schema
    /// (RunReport's documentation) names them.
    static let expected: Set<String> = [
        "schema_version", "snnkit_version", "created", "command", "model", "conversion", "evaluation",
        // conversion
        "method", "calibration_batches", "batch_size", "seconds", "images_per_second", "delay", "steps", "per_layer", "layers",
        "agreement_curve", "batches", "agreement", "node", "channels", "shape", "threshold_min", "threshold_median",
        "threshold_max", "clipped_fraction", "clipping_error",
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

    @Test func reportKeysAreTheDocumentedOnes() throws {
        var budget = Demo.Budget()
        budget.calibration = .fixed(2)
        budget.timeSteps = 8
        budget.testImages = 100
        let run = try Demo.run(budget: budget)
        let json = try JSONSerialization.jsonObject(with: try ReportWriter.encode(run.report))
        let found = Self.keys(json)
        #expect(found.subtracting(Self.expected).isEmpty, "unexpected keys: \(found.subtracting(Self.expected).sorted())")
        #expect(Self.expected.subtracting(found).isEmpty, "missing keys: \(Self.expected.subtracting(found).sorted())")
        let evaluation = try #require((json as? [String: Any])?["evaluation"] as? [String: Any])
        #expect(evaluation["ann_macs_per_image"] as? Double == run.evaluation.annMACsPerImage)
        #expect(evaluation["analog_macs_per_step_per_image"] as? Double == run.evaluation.analogMACsPerStepPerImage)
    }
}
