import Foundation
import SNNConversion

/// The training-free calibrations for short runs that follow a conversion (docs/method.md,
/// "Low latency"): per-channel initial potentials for a chosen T, then readout starts for
/// every run length. Both use the calibration batches the thresholds were not fitted on.
public struct LatencyTuning: Sendable, Equatable, CustomStringConvertible {
    /// Calibrate the initial potentials (nil: keep v(0) = the conversion's ratio x theta).
    public var potentials: PotentialCalibration?
    /// Choose the readout starts on data (nil: keep only the analytic delay estimate).
    public var readout: ReadoutCalibration?

    /// A tuning that runs the calibrations given.
    public init(potentials: PotentialCalibration? = nil, readout: ReadoutCalibration? = nil) {
        self.potentials = potentials
        self.readout = readout
    }

    /// What `snnkit convert` and `eval` run unless told otherwise: readout starts for runs of
    /// up to 256 steps. On the full test sets of the README's CIFAR ResNet-20 and VGG-11 and
    /// shapes tasks it is never more than 0.2 points below the paper's analytic delay at any
    /// T from 64, and up to 12 points above it below.
    /// The potential calibration is not part of it: it lifts classification at every T up
    /// to 32, but on the shapes detector it costs 31 points of mAP@0.5 at T = 4 and 0.4 at
    /// T = 64, so it is asked for with the T it serves.
    public static let standard = LatencyTuning(readout: ReadoutCalibration())

    /// Whether there is nothing to calibrate.
    public var isEmpty: Bool { potentials == nil && readout == nil }

    /// Checks the settings before any work.
    public func validate() throws {
        try potentials?.validate()
        try readout?.validate()
    }

    /// The settings in words (for part files and reports).
    public var description: String {
        let p = potentials.map { "potentials for T = \($0.steps) (\($0.rounds) passes)" } ?? "no potential calibration"
        let r = readout.map { "readout starts up to T = \($0.maxSteps)" } ?? "analytic readout delay"
        return p + ", " + r
    }
}

/// What a `LatencyTuning` measured and chose.
public struct LatencyTuningReport: Sendable, Codable, Equatable {
    /// The run length the potentials were calibrated for, when they were.
    public var potentialSteps: Int?
    /// The channels' mean shortfall before calibration and after each pass.
    public var potentialRounds: [PotentialCalibration.Round]?
    /// The readout starts chosen ("T:start" pairs), when chosen.
    public var readoutStarts: String?
    /// Seconds of the readout calibration.
    public var readoutSeconds: Double?
}

extension Pipeline {
    /// `model` tuned for short runs as `tuning` says, on the held-out batches of
    /// `calibration` (`heldOutBatches`, read once); the potentials first, since the readout
    /// starts depend on them. What was chosen is recorded in the model's settings
    /// (`ConvertedModelInfo.potentialSteps`, `.readoutSchedule`).
    public static func tune(_ model: ConvertedModel, calibration: any CalibrationSource, tuning: LatencyTuning,
                            options: ConversionOptions = ConversionOptions()) throws -> (ConvertedModel, LatencyTuningReport) {
        try tuning.validate()
        guard !tuning.isEmpty else { return (model, LatencyTuningReport()) }
        try refuseInteger(model)
        guard var info = model.info else {
            let name = model.graph.source.isEmpty ? "the model" : model.graph.source
            throw PipelineError("\(name) carries no SNNKit conversion settings to record its tuning in; convert it with snnkit")
        }
        let batches = try heldOutBatches(calibration, options: options)
        var tuned = model, report = LatencyTuningReport()
        if let potentials = tuning.potentials {
            let (calibrated, rounds) = try potentials.calibrate(tuned, batches: batches)
            tuned = calibrated
            info.potentialSteps = potentials.steps
            report.potentialSteps = potentials.steps
            report.potentialRounds = rounds
        }
        if let readout = tuning.readout {
            let clock = Date()
            info.readoutSchedule = try readout.calibrate(tuned, batches: batches)
            report.readoutStarts = info.readoutSchedule?.description
            report.readoutSeconds = Date().timeIntervalSince(clock)
        }
        info.write(into: &tuned.graph)
        tuned.info = info
        return (tuned, report)
    }
}
