import ArgumentParser
import SNNKit

/// The low-latency calibrations after a conversion (`LatencyTuning`), shared by convert and
/// eval.
struct LatencyFlags: ParsableArguments {
    @Option(name: .customLong("calibrate-potential"), help: "Calibrate every channel's initial potential for runs of this many steps, on the held-out calibration batches (low latency at that T; longer runs converge as before; 16 suits classification, see README). 0 (default): keep v(0) = the --initial-potential ratio.")
    var calibratePotential: Int = 0

    @Option(name: .customLong("potential-rounds"), help: "Passes of the potential calibration over the layers.")
    var potentialRounds: Int = 2

    @Option(name: .customLong("readout-steps"), help: "Choose the readout window's start for runs of up to this many steps on the held-out calibration batches (0: keep only the analytic delay estimate).")
    var readoutSteps: Int = 256

    func validate() throws {
        guard calibratePotential >= 0 else { throw ValidationError("--calibrate-potential is 0 (off) or a number of steps, not \(calibratePotential)") }
        guard (0...4096).contains(readoutSteps) else {
            throw ValidationError("--readout-steps is 0 (keep the analytic delay) or a number of steps up to 4096, not \(readoutSteps)")
        }
        do { try tuning().validate() } catch let error as PipelineError { throw ValidationError(error.description) }
    }

    /// The library's tuning these flags describe.
    func tuning() -> LatencyTuning {
        LatencyTuning(potentials: calibratePotential == 0 ? nil : PotentialCalibration(steps: calibratePotential, rounds: potentialRounds),
                      readout: readoutSteps == 0 ? nil : ReadoutCalibration(maxSteps: readoutSteps))
    }
}
