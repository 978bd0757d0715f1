import SNNSimulation
import SNNTasks

/// The scores of the SNN at one checkpoint T.
public struct CheckpointScore: Sendable, Codable, Equatable {
    public var steps: Int
    /// Averaging the readout from the first step.
    public var score: TaskScore
    /// Averaging over (windowStart, steps] (delayed evaluation), when a delay is set.
    public var delayed: TaskScore?
    public var windowStart: Int
    /// Mean absolute gap between the SNN readout (delayed window when set) and the clip-ANN
    /// output, relative to the clip-ANN's mean magnitude: how far the simulation still is
    /// from the network it converges to.
    public var gapToClipANN: Double
    /// Synaptic operations per image over steps 1...steps.
    public var synapticOpsPerImage: Double
    public var energy: [EnergyComparison]

    /// The score that counts: delayed when a delay is set.
    public var effective: TaskScore { delayed ?? score }
}

public struct LayerSummary: Sendable, Codable, Equatable {
    public var node: String
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

public struct TargetReach: Sendable, Codable, Equatable {
    /// Fraction of the ANN's headline metric (0.9, 0.95, 0.99).
    public var fraction: Double
    /// First checkpoint T where the SNN (delayed if set) reaches it, or nil.
    public var steps: Int?
    public var synapticOpsPerImage: Double?
    public var energy: [EnergyComparison]
}

/// The headline metric for the readout window (start, end].
public struct WindowScore: Sendable, Codable, Equatable {
    public var start: Int
    public var end: Int
    public var value: Double
}

public struct EvaluationResult: Sendable, Codable {
    /// classification, segmentation or detection.
    public var task: String
    /// Metric names in report order; `primaryMetric` is the first.
    public var metricNames: [String]
    public var primaryMetric: String
    public var images: Int
    public var timeSteps: Int
    public var ann: TaskScore
    public var clipANN: TaskScore
    public var snn: [CheckpointScore]
    public var layers: [LayerSummary]
    public var annMACsPerImage: Double
    public var analogMACsPerStepPerImage: Double
    public var reach: [TargetReach]
    /// The headline metric for readout windows (start, end], start in [0] + checkpoints,
    /// end in checkpoints (classification only: it needs one scoring per window).
    public var windows: [WindowScore]
    public var seconds: Double
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
