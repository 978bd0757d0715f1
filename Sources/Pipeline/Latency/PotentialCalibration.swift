import Foundation
import SNNConversion
import SNNGraph
import SNNSimulation
import SNNTensor

/// Initial membrane potentials calibrated per channel for runs of `steps` steps, without
/// training (docs/method.md, "Low latency").
///
/// After T steps a channel's mean output falls short of its clip-ANN activation by an
/// expected amount μ_c: the charge its neurons did not receive while the layers below
/// them were still starting to fire, plus its own rounding. A neuron whose membrane starts
/// T·μ_c higher emits that charge within the T steps, so its mean output matches in
/// expectation; unlike a bias, the extra charge is paid once, so it fades as 1/T in longer
/// runs, which converge to the same clip-ANN. This is the bias calibration of Li et al.
/// (2021, "A free lunch from ANN: towards efficient, accurate spiking neural networks
/// calibration", ICML) moved into v(0).
///
/// μ_c is measured on calibration images (the clip-ANN against the simulated SNN, each
/// channel's mean over images and pixels). The layers are corrected one at a time from the
/// input up, each measured after the ones below it were corrected, by a simulation that
/// stops at it: correcting all layers from one measurement also corrects an upper layer
/// for the shortfall its inputs are about to lose, and overshoots (on a CIFAR ResNet-20 the
/// error grew from 11% to 57% in three rounds). `rounds` passes over the layers.
public struct PotentialCalibration: Sendable, Equatable {
    /// The run length the potentials are calibrated for (T*).
    public var steps: Int
    /// Passes over the layers.
    public var rounds: Int
    /// v(0) / theta stays inside this range: a neuron that starts at or above its threshold
    /// fires with no input at all.
    public static let ratioBounds: ClosedRange<Float> = -1...0.95

    /// Calibration for runs of `steps` steps, in `rounds` passes over the layers.
    public init(steps: Int, rounds: Int = 2) {
        self.steps = steps
        self.rounds = rounds
    }

    /// Checks the settings before any work.
    public func validate() throws {
        guard (1...4096).contains(steps) else { throw PipelineError.setting("the potential calibration's T (--calibrate-potential) must be in 1...4096, not \(steps)") }
        guard (1...20).contains(rounds) else { throw PipelineError.setting("the potential calibration needs 1 to 20 rounds (passes over the layers), not \(rounds)") }
    }

    /// The channels' mean shortfall relative to the clip-ANN, sum_c |μ_c| / sum_c mean
    /// activation_c over all layers, before the first pass or after a pass.
    public struct Round: Sendable, Codable, Equatable {
        /// Relative shortfall.
        public var relativeError: Double
        /// Seconds the pass took (its simulations).
        public var seconds: Double
    }

    /// `model` with calibrated per-channel initial potentials, and the rounds' measurements
    /// (one more than `rounds`: the first is the error before calibration). `batches`: calibration
    /// images the thresholds were not calibrated on.
    public func calibrate(_ model: ConvertedModel, batches: [Tensor], options base: SimulationOptions? = nil) throws -> (ConvertedModel, [Round]) {
        try validate()
        guard let first = batches.first else { throw PipelineError("the potential calibration needs at least one batch of calibration images") }
        let input = model.graph.runtimeInputs[0].name
        let shapes = try ExecutionPlan(graph: model.graph, inputShapes: [input: first.shape]).shapes
        var graph = model.graph
        let probes = LayerProbes(graph, shapes: shapes)
        // The clip-ANN's channel means do not change with the potentials: computed once.
        let target = try clipANNMeans(probes, batches: batches)
        var options = base ?? SimulationOptions(timeSteps: steps)
        options.timeSteps = steps
        options.checkpoints = [steps]
        options.keepEveryStep = false
        options.windowStarts = []
        func measured(only: Int? = nil) throws -> [[Double]] {
            try Self.simulatedMeans(LayerProbes(graph, shapes: shapes, only: only), batches: batches, options: options)
        }
        var clock = Date()
        var report = [Round(relativeError: Self.relativeError(try measured(), target), seconds: Date().timeIntervalSince(clock))]
        for _ in 0..<rounds {
            clock = Date()
            for (l, layer) in probes.layers.enumerated() {
                // Measured after the layers below were corrected, by a simulation up to this one.
                let means = try measured(only: l)[0]
                let node = graph.nodes[layer.node]
                let theta = graph.floatConstant(node.inputs[1])?.storage ?? [1]
                let ratios = graph.initialPotentialRatios(of: node) ?? [0.5]
                let updated = (0..<target[l].count).map { c -> Float in
                    let shortfall = target[l][c] - means[c]
                    let ratio = Double(ratios[ratios.count == 1 ? 0 : c]) + Double(steps) * shortfall / Double(theta[theta.count == 1 ? 0 : c])
                    return min(max(Float(ratio), Self.ratioBounds.lowerBound), Self.ratioBounds.upperBound)
                }
                graph.setInitialPotentials(updated, ofNode: layer.node, name: node.name + ".initial_potential")
            }
            report.append(Round(relativeError: Self.relativeError(try measured(), target), seconds: Date().timeIntervalSince(clock)))
        }
        graph.removeUnusedConstants()
        var calibrated = model
        calibrated.graph = graph
        return (calibrated, report)
    }

    /// Per probed layer and channel, the clip-ANN's mean activation over the images.
    func clipANNMeans(_ probes: LayerProbes, batches: [Tensor]) throws -> [[Double]] {
        let input = probes.graph.runtimeInputs[0].name
        var plans = [[Int]: ExecutionPlan]()
        return try Self.means(over: batches) { batch in
            if plans[batch.shape] == nil { plans[batch.shape] = try ExecutionPlan(graph: probes.graph, inputShapes: [input: batch.shape]) }
            return probes.channelSums(try plans[batch.shape]!.run([input: batch]))
        }
    }

    /// Per probed layer and channel, the SNN's mean output over steps 1...T and the images.
    static func simulatedMeans(_ probes: LayerProbes, batches: [Tensor], options: SimulationOptions) throws -> [[Double]] {
        try means(over: batches) { batch in
            let result = try Simulator(graph: probes.graph, inputShape: batch.shape, options: options).run(batch)
            return probes.channelSums(try result.outputs(from: 0, to: options.timeSteps))
        }
    }

    /// The per-layer, per-channel sums `sums` gives for each batch, added over the batches
    /// and divided by their images.
    static func means(over batches: [Tensor], _ sums: (Tensor) throws -> [[Double]]) rethrows -> [[Double]] {
        var total = [[Double]](), images = 0
        for batch in batches {
            let batchSums = try sums(batch)
            total = total.isEmpty ? batchSums : zip(total, batchSums).map { zip($0, $1).map(+) }
            images += batch.shape[0]
        }
        return total.map { $0.map { $0 / Double(images) } }
    }

    /// sum |target - measured| / sum |target| over every layer's channels.
    static func relativeError(_ measured: [[Double]], _ target: [[Double]]) -> Double {
        var shortfall = 0.0, magnitude = 0.0
        for (clip, snn) in zip(target, measured) {
            for (a, r) in zip(clip, snn) {
                shortfall += abs(a - r)
                magnitude += abs(a)
            }
        }
        return magnitude > 0 ? shortfall / magnitude : 0
    }
}
