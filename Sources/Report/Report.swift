import Foundation
import SNNConversion
import SNNEvaluation
import SNNSupport
import SNNTasks

/// Everything a run measured, as written to report.json.
///
/// Schema (version 2): `schema_version`, `snnkit_version`, `created`, `command`, `model`,
/// optional `conversion` (method, batches, batch size, seconds, images per second, delay,
/// per-layer thresholds and clipping, the batches/agreement curve) and optional
/// `evaluation` (`task`, `metric_names`, `primary_metric`, images, T, ANN / clip-ANN / SNN
/// scores per checkpoint with and without delay, each `{"values": {metric: value},
/// "primary": value}`, per-layer firing rates and SOPs, energy against the ANN under each
/// preset, the steps needed for 90/95/99% of the ANN's headline metric, readout windows)
/// optional `baselines` (other forms of the network: threshold rules or integer forms,
/// their headline metric per checkpoint on the same data) and optional `quantization` (the
/// widths and per-layer threshold exponents of an integer SNN, `QuantizationRecord`). Metrics: `top1`/`top5` (classification), `miou`/`pixel_accuracy`
/// (segmentation), `map50`/`map` (detection, mAP@0.5 and COCO mAP@[.5:.95]). Keys are
/// snake_case; every number is a plain JSON number; metrics are fractions in [0, 1].
/// Version 2 replaced version 1's `accuracy`/`top1` fields by task-neutral scores.
public struct RunReport: Codable, Sendable {
    /// The schema version this build writes.
    public static let schemaVersion = 2
    /// The schema version of this report.
    public var schemaVersion = RunReport.schemaVersion
    /// The SNNKit release that wrote the report.
    public var snnkitVersion = SNNKitVersion.current
    /// When the report was made, ISO 8601 in UTC.
    public var created: String
    /// The command that produced it, e.g. "snnkit eval".
    public var command: String
    /// The model file as given.
    public var model: String
    /// The conversion, when the run converted.
    public var conversion: ConversionSummary?
    /// The evaluation, when the run simulated.
    public var evaluation: EvaluationResult?
    /// Other forms of the network on the same evaluation data, when run: threshold rules on
    /// the same calibration data, or integer forms of the SNN.
    public var baselines: [BaselineRun]?
    /// What the simulated SNN's integers are, when it is an integer SNN.
    public var quantization: QuantizationRecord?

    /// A report dated now.
    public init(command: String, model: String, conversion: ConversionSummary? = nil, evaluation: EvaluationResult? = nil,
                baselines: [BaselineRun]? = nil, quantization: QuantizationRecord? = nil) {
        self.command = command
        self.model = model
        self.conversion = conversion
        self.evaluation = evaluation
        self.baselines = baselines
        self.quantization = quantization
        created = ISO8601DateFormatter().string(from: Date())
    }
}

/// The conversion part of a report.
public struct ConversionSummary: Codable, Sendable {
    /// The threshold rule's name.
    public var method: String
    /// Calibration batches run.
    public var calibrationBatches: Int
    /// Images per calibration batch.
    public var batchSize: Int
    /// Wall-clock time of the conversion.
    public var seconds: Double
    /// Calibration images processed per second.
    public var imagesPerSecond: Double
    /// The estimated readout delay and its per-layer terms.
    public var delay: DelayEstimate
    /// Thresholds and clipping of every neuron layer.
    public var layers: [NeuronLayerReport]
    /// Clip-ANN agreement with the ANN against calibration batches.
    public var agreementCurve: [AgreementPoint]
    /// The run length the initial potentials were calibrated for, when they were.
    public var potentialSteps: Int? = nil
    /// The channels' mean shortfall against the clip-ANN before the potential calibration
    /// and after each of its passes.
    public var potentialShortfall: [Double]? = nil
    /// The readout starts chosen on held-out batches ("T:start" pairs), when chosen.
    public var readoutStarts: String? = nil

    /// The summary of conversion result `r`.
    public init(_ r: ConversionResult) {
        method = r.method
        calibrationBatches = r.batchesUsed
        batchSize = r.batchSize
        seconds = r.seconds
        imagesPerSecond = r.imagesPerSecond
        delay = r.delay
        layers = r.layers
        agreementCurve = r.curve
    }
}

/// Writes a report folder: report.json, curves.csv (and, when present, the plots).
/// Every file is written to a temporary name and renamed, so an interrupted run leaves
/// either the previous file or the new one, never half of one.
public enum ReportWriter {
    /// Writes `report` into `directory` (created if missing) and returns the files written: report.json,
    /// and with an evaluation curves.csv, the SVG plots and report.html.
    /// Throws `OutputError` when the folder or a file cannot be written.
    public static func write(_ report: RunReport, to directory: URL) throws -> [URL] {
        try AtomicFile.makeDirectory(directory)
        var written = [URL]()
        let json = directory.appendingPathComponent("report.json")
        try AtomicFile.write(try encode(report), to: json)
        written.append(json)
        if let evaluation = report.evaluation {
            let csv = directory.appendingPathComponent("curves.csv")
            try AtomicFile.write(Data(curvesCSV(evaluation).utf8), to: csv)
            written.append(csv)
            for (name, svg) in Plots.all(report) {
                let url = directory.appendingPathComponent(name)
                try AtomicFile.write(Data(svg.utf8), to: url)
                written.append(url)
            }
            let html = directory.appendingPathComponent("report.html")
            try AtomicFile.write(Data(HTMLReport.render(report).utf8), to: html)
            written.append(html)
        }
        return written
    }

    /// `value` as report.json encodes it: sorted snake_case keys, pretty-printed, non-finite numbers as
    /// "inf", "-inf" or "nan".
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    /// One row per checkpoint: T, the task's metrics (plain and delayed readout, ANN,
    /// clip-ANN), SOPs, energy.
    public static func curvesCSV(_ e: EvaluationResult) -> String {
        let m = e.metricNames
        var header = ["T"] + m.map { "snn_\($0)" } + m.map { "snn_\($0)_delayed" } + ["window_start"]
        header += m.map { "ann_\($0)" } + m.map { "clip_ann_\($0)" } + ["gap_to_clip_ann", "sops_per_image"]
        header += EnergyPresetNames.all.flatMap { ["snn_joules_\($0)", "ann_joules_\($0)"] }
        var lines = [header.joined(separator: ",")]
        func values(_ s: TaskScore?) -> [String] { m.map { name in s?[name].map { "\($0)" } ?? "" } }
        for s in e.snn {
            var row = ["\(s.steps)"] + values(s.score) + values(s.delayed) + ["\(s.windowStart)"]
            row += values(e.ann) + values(e.clipANN) + ["\(s.gapToClipANN)", "\(s.synapticOpsPerImage)"]
            row += s.energy.flatMap { ["\($0.snnJoules)", "\($0.annJoules)"] }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

enum EnergyPresetNames {
    static let all = ["rolls", "cmos45"]
}
