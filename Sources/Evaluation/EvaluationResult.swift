import SNNSimulation
import SNNTasks

/// The scores of the SNN at one checkpoint T.
public struct CheckpointScore: Sendable, Codable, Equatable {
    /// The checkpoint T: the SNN ran steps 1...T.
    public var steps: Int
    /// Averaging the readout from the first step.
    public var score: TaskScore
    /// Averaging over (windowStart, steps] (delayed evaluation), when a delay is set.
    public var delayed: TaskScore?
    /// Start t0 of the readout window (t0, T] behind `effective`; 0 without delay.
    public var windowStart: Int
    /// Mean absolute gap between the SNN readout (delayed window when set) and the clip-ANN
    /// output, relative to the clip-ANN's mean magnitude: how far the simulation still is
    /// from the network it converges to.
    public var gapToClipANN: Double
    /// Synaptic operations per image over steps 1...steps.
    public var synapticOpsPerImage: Double
    /// SNN against ANN energy per image at this T, one entry per energy preset.
    public var energy: [EnergyComparison]

    /// The score that counts: delayed when a delay is set.
    public var effective: TaskScore { delayed ?? score }
}

/// Activity of one neuron layer over the run.
public struct LayerSummary: Sendable, Codable, Equatable {
    /// Name of the IF neuron node.
    public var node: String
    /// Neurons per image in the layer.
    public var neurons: Int
    /// Spikes per neuron per step, over the whole run.
    public var firingRate: Double
    /// Spikes per neuron per step at each checkpoint (rate over steps 1...T).
    public var firingRateAtCheckpoints: [Double]
    /// Synaptic operations per image over the whole run.
    public var synapticOpsPerImage: Double
    /// At each checkpoint: mean |SNN average output - clip-ANN activation| over mean
    /// |clip-ANN activation| for this layer. Where it stays high, this layer costs accuracy.
    public var gapToClipANN: [Double]
}

/// When the SNN reaches a fraction of the ANN's headline metric, and at what cost.
public struct TargetReach: Sendable, Codable, Equatable {
    /// Fraction of the ANN's headline metric (0.9, 0.95, 0.99).
    public var fraction: Double
    /// First checkpoint T where the SNN (delayed if set) reaches it, or nil.
    public var steps: Int?
    /// SOPs per image up to that checkpoint, or nil when not reached.
    public var synapticOpsPerImage: Double?
    /// Energy comparison at that checkpoint (empty when not reached).
    public var energy: [EnergyComparison]
}

/// The headline metric for the readout window (start, end].
public struct WindowScore: Sendable, Codable, Equatable {
    /// Steps up to and including `start` are left out.
    public var start: Int
    /// The last step averaged (a checkpoint).
    public var end: Int
    /// The headline metric on the window, a fraction in [0, 1].
    public var value: Double
}

/// Everything one evaluation measured: ANN, clip-ANN and SNN scores, activity and cost (written to
/// report.json as `evaluation`).
public struct EvaluationResult: Sendable, Codable {
    /// classification, segmentation or detection.
    public var task: String
    /// Metric names in report order; `primaryMetric` is the first.
    public var metricNames: [String]
    /// The headline metric's name (top1, miou or map50).
    public var primaryMetric: String
    /// Samples evaluated.
    public var images: Int
    /// T_max: steps simulated.
    public var timeSteps: Int
    /// The ANN's scores.
    public var ann: TaskScore
    /// The clip-ANN's scores: what the SNN converges to as T grows.
    public var clipANN: TaskScore
    /// The SNN's scores at each checkpoint, in increasing T.
    public var snn: [CheckpointScore]
    /// Per neuron layer, in execution order.
    public var layers: [LayerSummary]
    /// Multiply-accumulates per image of the ANN (convolutions and matrix products).
    public var annMACsPerImage: Double
    /// MACs per image and step of the layers fed the analog input (the first layer sees pixels, not spikes,
    /// so it pays MACs every step).
    public var analogMACsPerStepPerImage: Double
    /// The first checkpoints reaching 90, 95 and 99% of the ANN's headline metric.
    public var reach: [TargetReach]
    /// The headline metric for readout windows (start, end], start in [0] + checkpoints,
    /// end in checkpoints (classification only: it needs one scoring per window).
    public var windows: [WindowScore]
    /// Wall-clock time of the evaluation.
    public var seconds: Double
    /// Samples evaluated per second.
    public var imagesPerSecond: Double

    // Reports are encoded with snake_case keys, which splits "MACs" into "ma_cs": these
    // names make the conversion yield ann_macs_per_image and analog_macs_per_step_per_image
    // (and the reverse conversion find them again when decoding).
    enum CodingKeys: String, CodingKey {
        case task, metricNames, primaryMetric, images, timeSteps, ann, clipANN, snn, layers
        case annMACsPerImage = "annMacsPerImage"
        case analogMACsPerStepPerImage = "analogMacsPerStepPerImage"
        case reach, windows, seconds, imagesPerSecond
    }
}
