import ArgumentParser
import SNNKit

/// How to convert: the flags convert and eval share, mapped onto `ConversionOptions`. The
/// initial potential is the command's own flag (convert stores it in the model; eval's
/// simulation flag sets it for both steps).
struct ConversionFlags: ParsableArguments {
    @Option(name: .customLong("calib-batches"), help: "Calibration batches: a number, or auto (stop when more batches no longer bring the clip-ANN closer to the ANN).")
    var calibBatches: String = "auto"

    @Option(name: .customLong("max-calib-batches"), help: "Upper bound for --calib-batches auto.")
    var maxCalibBatches: Int = 1600

    @Option(name: .long, help: "Threshold rule: ltb (channel-wise, default), ltb-layer, max-norm, robust-norm[:percentile].")
    var method: String = "ltb"

    @Option(name: .long, help: "LTB step size.")
    var eta: Float = 1

    func validate() throws {
        // The initial potential is checked by the command that owns its flag.
        do { _ = try options(initialPotential: 0.5) } catch let error as PipelineError { throw ValidationError(error.description) }
    }

    /// The library's conversion options these flags describe.
    func options(initialPotential: Float) throws -> ConversionOptions {
        try ConversionOptions(method: method, eta: eta, calibrationBatches: calibBatches, maxCalibrationBatches: maxCalibBatches,
                              initialPotential: initialPotential)
    }
}
