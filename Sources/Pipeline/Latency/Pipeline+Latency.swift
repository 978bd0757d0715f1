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
