import ArgumentParser
import SNNKit

/// Flags of a simulation run, shared by simulate and eval, mapped onto `SimulationSettings`
/// (which checks the values).
struct SimulationFlags: ParsableArguments {
    @Option(name: [.customShort("T"), .long], help: "Time steps to simulate (T_max).")
    var timeSteps: Int = 256

    @Option(name: .long, help: "Checkpoints to evaluate, e.g. 1,2,4,8 (default: powers of two up to T).")
    var checkpoints: String?

    @Option(name: .long, help: "Readout delay: auto (the converted model's readout starts chosen on data, else its estimate), estimated (its estimate), none, half (t0 = T/2) or a number of steps.")
    var delay: String = "auto"

    @Option(name: .long, help: "Max pooling in the SNN: running-sum (exact) or per-step (the paper's).")
    var maxpool: String = "running-sum"

    @Option(name: .long, help: "Steps simulated per layer at a time.")
    var chunk: Int = 16

    @Option(name: .customLong("samples-per-core"), help: "Samples one core carries through the whole network at a time (a batch is cut into such groups). Kernels follow each group's firing density, so this (not --threads) is part of what fixes the result.")
    var samplesPerCore: Int = SimulationOptions(timeSteps: 1).shardSize

    @Option(name: .long, help: "Convolution kernel in the spiking part: auto (by spike density), dense, events, tables or matrix (AMX int8 tiles, on CPUs that have them; tables elsewhere). All give the same result up to float rounding.")
    var kernel: ConvolutionKernel = .auto

    @Option(name: .long, help: "Neuron reset: subtract (v -= threshold, the default) or zero (v = 0, NIR's IF and most hardware).")
    var reset: ResetMode = .subtract

    @Option(name: .long, help: "Burst neurons: spikes a neuron may emit per step (1-16; 1 is the plain IF neuron). Each spike of a burst counts as a spike and as synaptic operations; hardware must support graded spikes.")
    var burst: Int = 1

    @Option(name: .customLong("initial-potential"), help: "v(0) as a fraction of the threshold, for every neuron (default: the converted model's, 0.5; 0 is what an NIR consumer runs). eval also converts with it.")
    var initialPotential: Float?

    @Flag(name: .customLong("fold-thresholds"), help: "Simulate with the thresholds folded into the weights (unit thresholds and spikes, as exported to NIR).")
    var foldThresholds = false

    func validate() throws {
        let s = try settings()
        do { try s.validate() } catch let error as PipelineError { throw ValidationError(error.description) }
    }

    /// The library's settings; throws only for flags that do not parse.
    func settings() throws -> SimulationSettings {
        var points: [Int]? = nil
        if let checkpoints {
            let parsed = checkpoints.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--checkpoints takes numbers separated by commas") }
            points = parsed.map { $0! }
        }
        var s = SimulationSettings(timeSteps: timeSteps, checkpoints: points)
        guard let mode = MaxPoolMode(rawValue: maxpool) else { throw ValidationError("--maxpool is running-sum or per-step") }
        s.maxPooling = mode
        s.chunk = chunk
        s.shardSize = samplesPerCore
        s.convolutionKernel = kernel
        s.reset = reset
        s.burst = burst
        s.initialPotential = initialPotential
        s.foldThresholds = foldThresholds
        switch delay {
        case "auto": s.delay = .auto
        case "estimated": s.delay = .estimated
        case "none": s.delay = .none
        case "half": s.delay = .half
        default:
            guard let d = Int(delay) else { throw ValidationError("--delay is auto, estimated, none, half or a non-negative number") }
            s.delay = .steps(d)
        }
        return s
    }
}

extension ConvolutionKernel: ExpressibleByArgument {}
extension ResetMode: ExpressibleByArgument {}
