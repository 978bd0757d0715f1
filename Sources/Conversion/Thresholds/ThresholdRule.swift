import SNNTensor

/// How thresholds are chosen from calibration activations.
///
/// Calibration runs batches front to back through the network. At every neuron layer
/// the rule sees the layer's input current z for the batch, updates its thresholds, and
/// returns the activation the next layers should see: LTB passes on the clipped
/// activation (so later layers calibrate on what they will really receive), the
/// normalisation baselines pass on the plain ReLU (they describe the ANN).
public protocol ThresholdRule: Sendable {
    /// Short name for reports ("ltb-channel", "max-norm", ...).
    var name: String { get }
    /// Updates the thresholds of `layer` from its input current `z` on one batch (never above `cap`, a
    /// ReLU6-style bound) and returns the activation the next layers see.
    mutating func observe(layer: Int, current z: Tensor, cap: Float?) -> Tensor
    /// The thresholds of `layer` after everything observed so far (channel-wise; a layer-wise
    /// rule repeats its value).
    func thresholds(layer: Int, channels: Int, cap: Float?) -> [Float]
}

/// Thresholds are kept at least this large: a zero threshold would fire on any input.
public let minimumThreshold: Float = 1e-6

/// The available rules, by command-line name.
public enum ThresholdMethod: Sendable, Equatable, CustomStringConvertible {
    /// Local threshold balancing, one threshold per channel (the method).
    case channelLTB(eta: Float)
    /// Local threshold balancing with one threshold per layer (the ablation baseline).
    case layerLTB(eta: Float)
    /// theta = the layer's largest ANN activation.
    case maxNorm
    /// theta = a percentile (e.g. 99.9) of the layer's positive ANN activations.
    case robustNorm(percentile: Double)

    /// A fresh rule with no observations.
    public func makeRule() -> any ThresholdRule {
        switch self {
        case .channelLTB(let eta): ThresholdBalancing(eta: eta, perChannel: true)
        case .layerLTB(let eta): ThresholdBalancing(eta: eta, perChannel: false)
        case .maxNorm: ActivationNorm(percentile: nil)
        case .robustNorm(let p): ActivationNorm(percentile: p)
        }
    }

    /// The command-line name ("ltb", "ltb-layer", "max-norm", "robust-norm(p)").
    public var description: String {
        switch self {
        case .channelLTB: "ltb"
        case .layerLTB: "ltb-layer"
        case .maxNorm: "max-norm"
        case .robustNorm(let p): "robust-norm(\(p))"
        }
    }

    /// The LTB step size, for the LTB rules; nil for the others.
    public var eta: Float? {
        switch self {
        case .channelLTB(let eta), .layerLTB(let eta): eta
        case .maxNorm, .robustNorm: nil
        }
    }

    /// Parses "ltb", "ltb-layer", "max-norm", "robust-norm" or "robust-norm:99.9".
    public init?(name: String, eta: Float = 1) {
        let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
        switch parts[0] {
        case "ltb", "ltb-channel": self = .channelLTB(eta: eta)
        case "ltb-layer": self = .layerLTB(eta: eta)
        case "max", "max-norm": self = .maxNorm
        case "robust", "robust-norm", "percentile":
            let p = parts.count > 1 ? Double(parts[1]) : 99.9
            guard let p, p > 0, p <= 100 else { return nil }
            self = .robustNorm(percentile: p)
        default: return nil
        }
    }
}

/// Channel layout of a neuron layer's input: `channels` along axis 1, each spanning
/// `inner` contiguous values per sample.
struct ChannelView {
    let batch: Int
    let channels: Int
    let inner: Int

    init(_ shape: [Int]) {
        batch = shape[0]
        channels = shape.count > 1 ? shape[1] : 1
        inner = shape.count > 2 ? shape[2...].reduce(1, *) : 1
    }

    /// Calls body(channel, base offset) for each (sample, channel) plane.
    @inline(__always)
    func forEachPlane(_ body: (Int, Int) -> Void) {
        for n in 0..<batch { for c in 0..<channels { body(c, (n * channels + c) * inner) } }
    }
}

extension Tensor {
    /// min(max(x, 0), theta_c) per channel along axis 1.
    func clipped(to thresholds: [Float]) -> Tensor {
        let view = ChannelView(shape)
        var out = self
        out.storage.withUnsafeMutableBufferPointer { y in
            view.forEachPlane { c, base in
                let limit = thresholds[thresholds.count == 1 ? 0 : c]
                for i in base..<(base + view.inner) { y[i] = Swift.min(Swift.max(y[i], 0), limit) }
            }
        }
        return out
    }
}
