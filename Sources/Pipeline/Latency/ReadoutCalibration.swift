import Foundation
import SNNConversion
import SNNGraph
import SNNSimulation
import SNNTensor

/// Chooses the readout window's start for every run length from data (docs/method.md,
/// "Readout and delay").
///
/// The analytic delay estimate sums per-layer first-spike delays and ignores that neurons
/// fire before their mean input would make them: on a deep residual network it exceeds
/// the run lengths worth running (83 steps on a CIFAR ResNet-20). The data knows better:
/// one simulation of held-out calibration images to `maxSteps` keeps the readout's running
/// sum at every step, so the output of every window (t0, T] is a subtraction away. For
/// each T = 1, 2, 4, ..., `maxSteps` the start whose outputs are nearest the ANN's (sum of
/// squared differences over the images) is kept, the earliest among equals. No label is
/// needed: the ANN is the reference. The distance rather than top-1 agreement, because on
/// 400 images agreement moves in steps of 0.25 points and its best start jumps from one
/// window to another on noise (measured on CIFAR VGG-11: start 40 of 64, 0.7 points below
/// the whole window on the test set; the distance chose 19); the distance serves
/// segmentation and detection outputs alike.
public struct ReadoutCalibration: Sendable, Equatable {
    /// The longest run length a start is chosen for; longer runs use its start.
    public var maxSteps: Int

    /// Starts for run lengths up to `maxSteps`.
    public init(maxSteps: Int = 256) { self.maxSteps = maxSteps }

    /// Checks the settings before any work.
    public func validate() throws {
        guard (1...4096).contains(maxSteps) else { throw PipelineError.setting("the readout calibration's T (--readout-steps) must be in 1...4096, not \(maxSteps)") }
    }

    /// Sum of squared differences.
    static func squaredDistance(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.storage, b.storage).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
    }

    /// The schedule chosen on `batches` for `model` simulated with `options` (T, checkpoints
    /// and windows are set here; the neuron and kernel settings are kept).
    public func calibrate(_ model: ConvertedModel, batches: [Tensor], options base: SimulationOptions? = nil) throws -> ReadoutSchedule {
        try validate()
        let lengths = SimulationOptions.powersOfTwo(upTo: maxSteps)
        var scores = lengths.map { [Double](repeating: 0, count: $0) }
        let ann = model.ann, input = model.graph.runtimeInputs[0].name
        var options = base ?? SimulationOptions(timeSteps: maxSteps)
        options.timeSteps = maxSteps
        options.checkpoints = lengths
        options.keepEveryStep = true
        options.windowStarts = Set(0..<maxSteps)
        var plans = [[Int]: ExecutionPlan]()
        for batch in batches {
            if plans[batch.shape] == nil { plans[batch.shape] = try ExecutionPlan(graph: ann, inputShapes: [input: batch.shape]) }
            let reference = try plans[batch.shape]!.run([input: batch])
            let result = try Simulator(graph: model.graph, inputShape: batch.shape, options: options).run(batch)
            for (k, t) in lengths.enumerated() {
                for start in 0..<t {
                    let out = try result.outputs(from: start, to: t)
                    let names = model.graph.outputs.map(\.name).filter { out[$0] != nil && reference[$0] != nil }
                    scores[k][start] -= names.reduce(0.0) { $0 + Self.squaredDistance(out[$1]!, reference[$1]!) }
                }
            }
        }
        var starts = [Int: Int]()
        for (k, t) in lengths.enumerated() {
            let best = scores[k].max() ?? 0
            starts[t] = scores[k].firstIndex(of: best) ?? 0
        }
        return ReadoutSchedule(starts: starts)
    }
}
