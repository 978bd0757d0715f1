import Foundation
import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// Spike and synaptic-operation counts of one neuron layer.
public struct LayerActivity: Sendable, Codable, Equatable {
    /// The IF neuron node.
    public var node: String
    /// Neurons per sample.
    public var neurons: Int
    /// Spikes at each step, summed over the batch.
    public var spikesPerStep: [Double]
    /// Synaptic operations the layer's spikes trigger at each step, summed over the batch.
    public var synapticOpsPerStep: [Double]
    /// When clip-ANN activations were given: at each checkpoint, sum over the batch's neurons
    /// of |average output over 1...T - clip-ANN activation|, and the sum of |clip-ANN
    /// activation| to divide it by.
    public var gapToClipANN: [Double] = []
    /// Sum of |clip-ANN activation| over the layer, the denominator of the relative gap.
    public var clipANNMagnitude: Double = 0
}

/// What one simulation run produced: readouts for any evaluated window and the activity.
public struct SimulationResult: Sendable {
    /// Steps simulated.
    public let timeSteps: Int
    /// Samples in the batch.
    public let batch: Int
    /// Spike and operation counts per neuron layer, in execution order.
    public let layers: [LayerActivity]
    /// Multiply-accumulates of the analog part (layers before the first neuron, fed the
    /// image at every step), per step, for the whole batch.
    public let analogMACsPerStep: Int
    /// Running sums of the readout values at stored steps (0 = before the first step).
    let readoutSums: [String: [Int: Tensor]]
    let constantValues: [String: Tensor]
    let tail: ExecutionPlan?
    let outputNames: [String]

    /// Steps at which running sums were kept, i.e. valid window bounds.
    public var storedSteps: [Int] { readoutSums.values.first.map { $0.keys.sorted() } ?? [0, timeSteps] }

    /// The network outputs when the readout is averaged over steps (start, end].
    public func outputs(from start: Int, to end: Int) throws -> [String: Tensor] {
        guard start >= 0, end > start, end <= timeSteps else {
            throw SimulationError.invalidOptions("window (\(start), \(end)] is not inside 1...\(timeSteps)")
        }
        var averaged = constantValues
        for (name, sums) in readoutSums {
            guard let hi = sums[end], let lo = sums[start] else {
                throw SimulationError.invalidOptions("window (\(start), \(end)] was not kept; add the bounds to the checkpoints or window starts")
            }
            let scale = 1 / Float(end - start)
            averaged[name] = Tensor(shape: hi.shape, storage: zip(hi.storage, lo.storage).map { ($0 - $1) * scale })
        }
        var result = [String: Tensor]()
        if let tail {
            let out = try tail.run(averaged.filter { name, _ in tail.graph.runtimeInputs.contains { $0.name == name } })
            result.merge(out) { a, _ in a }
        }
        for name in outputNames where result[name] == nil { result[name] = averaged[name] }
        return result
    }
}
