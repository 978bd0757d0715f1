import SNNConversion
import SNNEvaluation
import SNNGraph
import SNNSimulation
import SNNTasks

extension ConvertedModel {
    /// The evaluator's options for simulating this model with `settings`: the stored
    /// readout delay for `.auto` and, for an integer SNN, its saturating membranes. Throws
    /// when an initial potential asked for is not a whole number of the integer layers'
    /// units (the simulation would no longer be the integer machine's).
    public func evaluationOptions(_ settings: SimulationSettings) throws -> EvaluationOptions {
        var options = try settings.evaluationOptions(storedDelay: info?.delay, schedule: info?.readoutSchedule)
        guard let quantization else { return options }
        if let ratio = settings.initialPotential {
            for layer in quantization.layers {
                for k in Set(layer.exponents) where !QuantizationRecord.isWhole(ratio: ratio, exponent: k) {
                    throw PipelineError.setting("the initial potential \(ratio) x threshold 2^\(k) of integer layer '\(layer.neuron)' is not a whole number; " +
                                                "use a ratio such as 0.5, 0.25 or 0")
                }
            }
        }
        options.simulation.membraneBounds = membraneBounds
        return options
    }

    /// The evaluator that simulates this model with `settings` and scores it for `task`
    /// against `ann` (default: its own ANN, the neurons back to ReLU).
    public func evaluator(_ settings: SimulationSettings, task: EvaluationTask, ann: Graph? = nil) throws -> Evaluator {
        var options = try evaluationOptions(settings)
        options.task = task
        return Evaluator(ann: ann ?? self.ann, converted: try settings.simulated(graph), options: options)
    }

    /// The saturating membranes of an integer SNN (its state width in the graph's float
    /// units), by IF node; empty for a float SNN. Simulator options for this model need them.
    public var membraneBounds: [String: MembraneBounds] {
        (quantization?.membraneBounds ?? [:]).mapValues { MembraneBounds(lower: $0.lower, upper: $0.upper) }
    }
}
