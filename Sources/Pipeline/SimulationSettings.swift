import SNNEvaluation
import SNNGraph
import SNNNIR
import SNNConversion
import SNNSimulation

/// Where the readout average starts, as asked for: the converted model's own estimate, or
/// an explicit rule.
public enum ReadoutDelay: Sendable, Equatable {
    /// The readout starts chosen at conversion (`ConvertedModelInfo.readoutSchedule`), else
    /// the delay estimated then (`ConvertedModelInfo.delay`); none if neither is stored.
    case auto
    /// The delay estimated at conversion even when starts were chosen on data.
    case estimated
    case none
    /// t0 = T/2.
    case half
    /// A fixed t0 in steps.
    case steps(Int)
}

/// A simulation run: T, the checkpoints, the readout delay and the simulator's settings.
/// `validate()` is the one check of these values; the pipeline calls it before any work.
public struct SimulationSettings: Sendable, Equatable {
    /// Steps to simulate (T_max).
    public var timeSteps: Int
    /// Checkpoints to score; nil: powers of two up to T.
    public var checkpoints: [Int]?
    /// Where the readout average starts.
    public var delay: ReadoutDelay = .auto
    /// Max pooling inside the SNN.
    public var maxPooling: MaxPoolMode = .runningSum
    /// Steps simulated per layer at a time.
    public var chunk: Int = 16
    /// Samples per shard (part of what fixes the result; see `SimulationOptions.shardSize`).
    public var shardSize: Int = SimulationOptions(timeSteps: 1).shardSize
    /// The kernel of the spiking convolutions (all agree up to float rounding).
    public var convolutionKernel: ConvolutionKernel = .auto
    /// v(0) as a fraction of the threshold for every neuron; nil keeps the converted
    /// model's (0.5). 0 is what an NIR consumer runs.
    public var initialPotential: Float? = nil
    /// How a neuron resets after a spike: subtract the threshold (exact) or go to zero
    /// (NIR's IF, and most hardware).
    public var reset: ResetMode = .subtract
    /// Spikes a neuron may emit per step (burst neurons; 1: the plain IF neuron).
    public var burst: Int = 1
    /// Simulate with the thresholds folded into the weights (unit thresholds and spikes,
    /// as exported to NIR): the same spikes up to float rounding at exact ties.
    public var foldThresholds = false
    /// The memory a batch may take; nil: what the machine has available when the run starts.
    public var memoryBudget: MemoryBudget? = nil

    /// Settings for `timeSteps` steps, scored at `checkpoints` (default: powers of two).
    public init(timeSteps: Int = 256, checkpoints: [Int]? = nil) {
        self.timeSteps = timeSteps
        self.checkpoints = checkpoints
    }

    /// Throws `PipelineError` for the first value out of range.
    public func validate() throws {
        guard timeSteps > 0 else { throw PipelineError.setting("T (time steps) must be positive, not \(timeSteps)") }
        if let checkpoints {
            guard !checkpoints.isEmpty else { throw PipelineError.setting("give at least one checkpoint") }
            if let bad = checkpoints.first(where: { $0 < 1 || $0 > timeSteps }) {
                throw PipelineError.setting("checkpoint \(bad) is outside 1...\(timeSteps); raise T or drop it")
            }
        }
        if case .steps(let d) = delay, d < 0 { throw PipelineError.setting("the readout delay must be 0 or more steps, not \(d)") }
        guard chunk > 0 else { throw PipelineError.setting("the chunk must be at least 1 step, not \(chunk)") }
        guard shardSize > 0 else { throw PipelineError.setting("a shard must hold at least 1 sample, not \(shardSize)") }
        guard (1...16).contains(burst) else { throw PipelineError.setting("a burst is 1 to 16 spikes per step (--burst), not \(burst)") }
        if let v0 = initialPotential, !(v0.isFinite && v0 >= 0 && v0 < 1) {
            throw PipelineError.setting("the initial potential is a fraction of the threshold in [0, 1), not \(v0)")
        }
    }

    /// The converted graph as these settings simulate it: the initial potential set and
    /// the thresholds folded, where asked for.
    public func simulated(_ converted: Graph) throws -> Graph {
        var g = converted
        if let initialPotential { g = g.settingInitialPotential(initialPotential) }
        if foldThresholds { g = try g.foldingThresholds(shapes: NIRExporter.plannedShapes(g)) }
        return g
    }

    /// The evaluator's options, with `storedDelay` (the converted model's estimate) and
    /// `schedule` (its readout starts chosen on data) for `.auto`.
    public func evaluationOptions(storedDelay: Int?, schedule: ReadoutSchedule? = nil) throws -> EvaluationOptions {
        try validate()
        var o = EvaluationOptions(timeSteps: timeSteps, checkpoints: checkpoints.map { Array(Set($0)).sorted() })
        o.simulation.maxPooling = maxPooling
        o.simulation.chunk = chunk
        o.simulation.shardSize = shardSize
        o.simulation.convolutionKernel = convolutionKernel
        o.simulation.reset = reset
        o.simulation.burst = burst
        switch delay {
        case .auto: o.delay = schedule.map { .calibrated($0) } ?? storedDelay.map { .estimated($0) } ?? .none
        case .estimated: o.delay = storedDelay.map { .estimated($0) } ?? .none
        case .none: o.delay = .none
        case .half: o.delay = .half
        case .steps(let d): o.delay = .fixed(d)
        }
        return o
    }
}
