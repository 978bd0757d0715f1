import SNNConversion
import SNNTensor

extension Pipeline {
    /// The calibration batches the thresholds were not fitted on: the converter's held-out
    /// batches (the last `ConversionOptions.heldOutBatches` when the source has more than
    /// twice as many), else every batch.
    public static func heldOutBatches(_ calibration: any CalibrationSource, options: ConversionOptions = ConversionOptions()) throws -> [Tensor] {
        let n = calibration.distinctBatches, held = options.heldOutBatches
        let range = n > 2 * held ? (n - held)..<n : 0..<n
        return try range.map { try calibration.batch($0) }
    }

    /// `model` with its initial potentials calibrated for runs of `potentials.steps` steps
    /// on the held-out calibration batches (`PotentialCalibration`), and the rounds' errors.
    public static func calibratePotentials(_ model: ConvertedModel, calibration: any CalibrationSource, potentials: PotentialCalibration,
                                           options: ConversionOptions = ConversionOptions()) throws -> (ConvertedModel, [PotentialCalibration.Round]) {
        try refuseInteger(model)
        var (calibrated, rounds) = try potentials.calibrate(model, batches: try heldOutBatches(calibration, options: options))
        if var info = calibrated.info {
            info.potentialSteps = potentials.steps
            info.write(into: &calibrated.graph)
            calibrated.info = info
        }
        return (calibrated, rounds)
    }
}

extension Pipeline {
    /// `model` with readout starts chosen on the held-out calibration batches for run
    /// lengths up to `readout.maxSteps` (`ReadoutCalibration`), stored in its settings.
    public static func calibrateReadout(_ model: ConvertedModel, calibration: any CalibrationSource, readout: ReadoutCalibration,
                                        options: ConversionOptions = ConversionOptions()) throws -> ConvertedModel {
        try refuseInteger(model)
        let schedule = try readout.calibrate(model, batches: try heldOutBatches(calibration, options: options))
        var tuned = model
        guard var info = model.info else {
            throw PipelineError("\(model.graph.source.isEmpty ? "the model" : model.graph.source) carries no SNNKit conversion settings to store readout starts in; convert it with snnkit")
        }
        info.readoutSchedule = schedule
        info.write(into: &tuned.graph)
        tuned.info = info
        return tuned
    }
}

extension Pipeline {
    /// Calibrations run on the float SNN; its integer forms are made from it afterwards
    /// (which also keeps the quantization record, which `ConvertedModelInfo.write` would
    /// drop with the other `snnkit.*` entries).
    static func refuseInteger(_ model: ConvertedModel) throws {
        guard model.quantization == nil else {
            let name = model.graph.source.isEmpty ? "the model" : model.graph.source
            throw PipelineError("\(name) is an integer SNN: calibrate the float SNN it was quantized from, then quantize it again (--weight-bits)")
        }
    }
}
