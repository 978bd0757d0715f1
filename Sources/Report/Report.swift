import Foundation
import SNNConversion
import SNNEvaluation
import SNNONNX

/// Everything a run measured, as written to report.json.
///
/// Schema (version 1): `schema_version`, `snnkit_version`, `created`, `command`, `model`,
/// optional `conversion` (method, batches, batch size, seconds, images per second, delay,
/// per-layer thresholds and clipping, the batches/agreement curve) and optional
/// `evaluation` (images, T, ANN / clip-ANN / SNN accuracies per checkpoint with and without
/// delay, per-layer firing rates and SOPs, energy against the ANN under each preset, the
/// steps needed for 90/95/99% of the ANN, readout windows) and optional `baselines` (other
/// threshold rules' top-1 per checkpoint on the same data). Keys are snake_case; every
/// number is a plain JSON number; accuracies are fractions in [0, 1]. Later versions only
/// add keys.
public struct RunReport: Codable, Sendable {
    public static let schemaVersion = 1
    public var schemaVersion = RunReport.schemaVersion
    public var snnkitVersion = SNNKitVersion.current
    public var created: String
    public var command: String
    public var model: String
    public var conversion: ConversionSummary?
    public var evaluation: EvaluationResult?
    /// Other threshold rules on the same calibration and evaluation data, when run.
    public var baselines: [BaselineRun]?

    public init(command: String, model: String, conversion: ConversionSummary? = nil, evaluation: EvaluationResult? = nil,
                baselines: [BaselineRun]? = nil) {
        self.command = command
        self.model = model
        self.conversion = conversion
        self.evaluation = evaluation
        self.baselines = baselines
        created = ISO8601DateFormatter().string(from: Date())
    }
}

/// The conversion part of a report.
public struct ConversionSummary: Codable, Sendable {
    public var method: String
    public var calibrationBatches: Int
    public var batchSize: Int
    public var seconds: Double
    public var imagesPerSecond: Double
    public var delay: DelayEstimate
    public var layers: [NeuronLayerReport]
    public var agreementCurve: [AgreementPoint]

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
    public static func write(_ report: RunReport, to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ONNXError.unwritable(file: directory.path, reason: (error as NSError).localizedDescription)
        }
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

    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    /// One row per checkpoint: T, accuracies, SOPs, energy ratios.
    public static func curvesCSV(_ e: EvaluationResult) -> String {
        var header = ["T", "snn_top1", "snn_top5", "snn_top1_delayed", "window_start", "ann_top1", "clip_ann_top1", "gap_to_clip_ann", "sops_per_image"]
        header += EnergyPresetNames.all.flatMap { ["snn_joules_\($0)", "ann_joules_\($0)"] }
        var lines = [header.joined(separator: ",")]
        for s in e.snn {
            var row = ["\(s.steps)", "\(s.accuracy.top1)", "\(s.accuracy.top5)", s.delayed.map { "\($0.top1)" } ?? "", "\(s.windowStart)",
                       "\(e.ann.top1)", "\(e.clipANN.top1)", "\(s.gapToClipANN)", "\(s.synapticOpsPerImage)"]
            row += s.energy.flatMap { ["\($0.snnJoules)", "\($0.annJoules)"] }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

enum EnergyPresetNames {
    static let all = ["rolls", "cmos45"]
}
