import Foundation
import SNNGraph
import SNNTensor
import SNNSupport

/// How many calibration batches to use.
public enum CalibrationBudget: Sendable, Equatable {
    /// Exactly this many batches (cycling through the source when it holds fewer).
    case fixed(Int)
    /// Calibrate in doubling stages (25, 50, 100, ...) up to `maximum`, and stop when the
    /// clip-ANN's agreement with the ANN on held-out batches stops improving by `minimumGain`.
    case auto(maximum: Int, minimumGain: Double)
}

/// Settings of a conversion.
public struct ConversionOptions: Sendable {
    /// The threshold rule; channel-wise LTB with step size 1 by default.
    public var method: ThresholdMethod = .channelLTB(eta: 1)
    /// How many calibration batches to run.
    public var budget: CalibrationBudget = .auto(maximum: 1600, minimumGain: 0.001)
    /// Batches kept out of calibration to measure agreement (auto budget only).
    public var heldOutBatches: Int = 4
    /// Membrane potential at t = 0 as a fraction of the threshold: 0.5 (v(0) = theta / 2) centres the
    /// rounding error of the spike count.
    public var initialPotential: Float = 0.5
    /// The defaults: channel-wise LTB, automatic budget up to 1600 batches.
    public init() {}
}

/// Progress of calibration, for progress bars.
public struct CalibrationProgress: Sendable {
    /// Calibration batches finished.
    public var batchesDone: Int
    /// Planned batches (the current stage's end in auto mode).
    public var batchesPlanned: Int
    /// Images calibrated on so far.
    public var images: Int
    /// Seconds since the conversion started.
    public var seconds: Double
}

/// One point of the batches-versus-agreement curve.
public struct AgreementPoint: Sendable, Codable, Equatable {
    /// Calibration batches run when the agreement was measured.
    public var batches: Int
    /// Top-1 agreement of clip-ANN and ANN on held-out batches (classification outputs), or
    /// 1 - relative L2 error of the outputs otherwise.
    public var agreement: Double
}

/// Summary of one neuron layer after calibration.
public struct NeuronLayerReport: Sendable, Codable, Equatable {
    /// Name of the IF neuron node.
    public var node: String
    /// Number of thresholds (channels along axis 1, or neurons of a fully connected layer).
    public var channels: Int
    /// Shape of the layer's activation on a calibration batch.
    public var shape: [Int]
    /// Smallest channel threshold.
    public var thresholdMin: Float
    /// Median channel threshold.
    public var thresholdMedian: Float
    /// Largest channel threshold.
    public var thresholdMax: Float
    /// Fraction of positive activations above the threshold (clipped), on the check batch.
    public var clippedFraction: Double
    /// sum (ReLU(z) - C(z))^2 / sum ReLU(z)^2 on the check batch: what clipping loses.
    public var clippingError: Double
}

/// A converted network and everything measured while converting it.
public struct ConversionResult: Sendable {
    /// The converted graph: IF neurons with their threshold constants, ready to simulate or export.
    public var graph: Graph
    /// One summary per neuron layer, in execution order.
    public var layers: [NeuronLayerReport]
    /// The estimated readout delay.
    public var delay: DelayEstimate
    /// Agreement of the clip-ANN with the ANN on held-out batches after each calibration stage; empty
    /// when none are held out (a fixed budget, or too few batches).
    public var curve: [AgreementPoint]
    /// The threshold rule's name.
    public var method: String
    /// Calibration batches run (a source with fewer batches is cycled through).
    public var batchesUsed: Int
    /// Distinct batches the thresholds were calibrated on (held-out ones excluded); fewer
    /// than `batchesUsed` means batches were reused.
    public var distinctBatches: Int = 0
    /// Images per calibration batch.
    public var batchSize: Int
    /// Wall-clock time of the conversion.
    public var seconds: Double
    /// Calibration images processed per second.
    public var imagesPerSecond: Double
}

/// Converts a ReLU network into a spiking one (docs/method.md: "What each operator
/// becomes", "Threshold balancing", "Readout and delay"):
/// BatchNorm folded, identities removed, max pools moved before the neurons, every ReLU
/// made an IF neuron, thresholds set by the chosen rule on calibration batches (one
/// forward pass per batch), and the readout delay estimated.
public struct Converter {
    /// The rule, budget and neuron settings this converter applies.
    public var options: ConversionOptions
    /// A converter with `options` (the defaults: channel-wise LTB, automatic budget).
    public init(options: ConversionOptions = ConversionOptions()) { self.options = options }

    /// The structural passes, without calibration.
    public static func prepare(_ graph: Graph) throws -> Graph {
        let prepared = try graph.applying([RemoveIdentities(), FoldBatchNormalization(), MoveMaxPoolBeforeNeuron()])
        let blockers = prepared.conversionBlockers()
        guard blockers.isEmpty else {
            throw ConversionError.notConvertible(blockers: blockers.map { "node '\($0.node)' (\($0.op)): \($0.reason)" })
        }
        return prepared
    }

    /// Converts `source` with thresholds from `calibration`; `progress` is called after every batch.
    /// Throws `ConversionError` when the network has a blocker, no ReLU, or calibration data that does not
    /// fit it.
    public func convert(_ source: Graph, calibration: any CalibrationSource,
                        progress: ((CalibrationProgress) -> Void)? = nil) throws -> ConversionResult {
        let start = Date()
        guard calibration.distinctBatches > 0 else { throw ConversionError.noCalibrationData }
        var session = try CalibrationSession(source: source, calibration: calibration, initialPotential: options.initialPotential)
        let (heldOut, plannedStages) = try stages(distinctBatches: calibration.distinctBatches)
        let trainBatches = calibration.distinctBatches - heldOut

        // Held-out reference outputs of the ANN.
        var heldOutBatches = [Tensor](), reference = [Tensor]()
        for h in 0..<heldOut {
            let b = try session.checkedBatch(trainBatches + h)
            heldOutBatches.append(b)
            reference.append(try session.annOutput(b))
        }

        var rule = options.method.makeRule()
        var curve = [AgreementPoint]()
        var done = 0
        var images = 0
        let clock = Date()
        stages: for stage in plannedStages {
            while done < stage {
                let b = try session.checkedBatch(done % trainBatches)
                try session.observe(b, batch: done, rule: &rule)
                done += 1
                images += b.shape[0]
                progress?(CalibrationProgress(batchesDone: done, batchesPlanned: stage, images: images, seconds: Date().timeIntervalSince(clock)))
            }
            guard heldOut > 0 else { continue }
            let thresholds = session.thresholds(of: rule)
            var agreement = 0.0
            for (b, ref) in zip(heldOutBatches, reference) {
                agreement += Self.agreement(try session.clipANNOutput(b, thresholds: thresholds), ref) / Double(heldOut)
            }
            curve.append(AgreementPoint(batches: done, agreement: agreement))
            if case .auto(_, let gain) = options.budget, curve.count >= 2, agreement - curve[curve.count - 2].agreement < gain {
                break stages
            }
        }

        // Final thresholds into the graph; statistics and the delay on the first batch.
        let thresholds = session.thresholds(of: rule)
        var converted = session.setting(thresholds)
        let (reports, means) = try session.layerReports(thresholds)
        let delay = DelayEstimate.estimate(thresholds: thresholds, meanActivation: means, initialPotential: options.initialPotential)
        let seconds = Date().timeIntervalSince(start)
        let batchSize = session.first.shape[0]
        ConvertedModelInfo(method: options.method.description, eta: options.method.eta, calibrationBatches: done,
                           batchSize: batchSize, delay: delay.steps, initialPotential: options.initialPotential).write(into: &converted)
        return ConversionResult(graph: converted, layers: reports, delay: delay, curve: curve, method: options.method.description,
                                batchesUsed: done, distinctBatches: min(done, trainBatches), batchSize: batchSize, seconds: seconds,
                                imagesPerSecond: Double(images) / max(Date().timeIntervalSince(clock), 1e-9))
    }

    /// The held-out batch count and the stage ends of the budget: one stage for a fixed
    /// budget; doubling stages 25, 50, 100, ... up to the maximum for `auto`, with
    /// `heldOutBatches` kept aside when the source has more than twice that many.
    func stages(distinctBatches: Int) throws -> (heldOut: Int, stages: [Int]) {
        switch options.budget {
        case .fixed(let n):
            guard n > 0 else { throw ConversionError.noCalibrationData }
            return (0, [n])
        case .auto(let maximum, _):
            guard maximum > 0 else { throw ConversionError.noCalibrationData }
            var stages = [Int]()
            var n = 25
            while n < maximum { stages.append(n); n *= 2 }
            stages.append(maximum)
            return (distinctBatches > 2 * options.heldOutBatches ? options.heldOutBatches : 0, stages)
        }
    }

    /// Top-1 agreement for [N, K] outputs, else 1 - ||a - b|| / ||b||.
    static func agreement(_ out: Tensor, _ reference: Tensor) -> Double {
        if out.rank == 2, out.shape[1] > 1 {
            let (n, k) = (out.shape[0], out.shape[1])
            var same = 0
            for i in 0..<n {
                let a = (0..<k).max { out.storage[i * k + $0] < out.storage[i * k + $1] }!
                let b = (0..<k).max { reference.storage[i * k + $0] < reference.storage[i * k + $1] }!
                if a == b { same += 1 }
            }
            return Double(same) / Double(max(n, 1))
        }
        var e = 0.0, s = 0.0
        for (x, y) in zip(out.storage, reference.storage) { e += Double(x - y) * Double(x - y); s += Double(y) * Double(y) }
        return 1 - (s > 0 ? (e / s).squareRoot() : e.squareRoot())
    }

    static func layerStatistics(_ z: Tensor, thresholds: [Float]) -> (channelMeans: [Double], clippedFraction: Double, clippingError: Double) {
        let view = ChannelView(z.shape)
        var sums = [Double](repeating: 0, count: view.channels)
        var positive = 0, clipped = 0
        var lost = 0.0, total = 0.0
        z.storage.withUnsafeBufferPointer { x in
            view.forEachPlane { c, base in
                let limit = thresholds[thresholds.count == 1 ? 0 : c]
                for i in base..<(base + view.inner) where x[i] > 0 {
                    let v = Double(x[i])
                    sums[c] += v
                    positive += 1
                    total += v * v
                    if x[i] > limit { clipped += 1; lost += (v - Double(limit)) * (v - Double(limit)) }
                }
            }
        }
        let perChannel = Double(view.batch * view.inner)
        return (sums.map { $0 / perChannel }, positive > 0 ? Double(clipped) / Double(positive) : 0, total > 0 ? lost / total : 0)
    }
}

