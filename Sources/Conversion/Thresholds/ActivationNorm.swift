import SNNTensor

/// Data-based normalisation baselines: one threshold per layer from the ANN's activations.
///
/// max-norm takes the largest activation seen; robust-norm a high percentile (99.9 by
/// default) of the positive activations, which ignores rare outliers at the cost of
/// clipping them. Both see the plain ReLU network (they pass ReLU(z) on), as in the
/// original data-based normalisation methods. Percentiles are computed on a
/// deterministic strided subsample of at most `budget` positive values per layer.
public struct ActivationNorm: ThresholdRule {
    /// The percentile (0-100) for robust-norm, nil for max-norm.
    public let percentile: Double?
    /// "max-norm" or "robust-norm(p)".
    public var name: String { percentile.map { "robust-norm(\($0))" } ?? "max-norm" }
    let budget = 2_000_000
    let perBatch = 50_000
    private var maximum: [Int: Float] = [:]
    private var samples: [Int: [Float]] = [:]

    /// max-norm for a nil `percentile`, else robust-norm at that percentile.
    public init(percentile: Double?) { self.percentile = percentile }

    /// Records the layer's largest (and sampled) positive activations; passes on ReLU(z).
    public mutating func observe(layer: Int, current z: Tensor, cap: Float?) -> Tensor {
        var relu = z
        var peak = maximum[layer] ?? 0
        var positives = 0
        relu.storage.withUnsafeMutableBufferPointer { y in
            for i in y.indices {
                y[i] = Swift.max(y[i], 0)
                if y[i] > 0 { positives += 1; peak = Swift.max(peak, y[i]) }
            }
        }
        maximum[layer] = peak
        if percentile != nil, positives > 0 {
            var kept = samples[layer] ?? []
            if kept.count < budget {
                let step = Swift.max(1, positives / perBatch)
                var seen = 0
                for v in relu.storage where v > 0 {
                    if seen % step == 0 { kept.append(v) }
                    seen += 1
                }
                samples[layer] = kept
            }
        }
        return relu
    }

    /// One value for every channel: the maximum or percentile seen, at most `cap`, at least
    /// `minimumThreshold`.
    public func thresholds(layer: Int, channels: Int, cap: Float?) -> [Float] {
        var value = maximum[layer] ?? minimumThreshold
        if let p = percentile, var s = samples[layer], !s.isEmpty {
            s.sort()
            let rank = Swift.min(s.count - 1, Swift.max(0, Int((p / 100 * Double(s.count)).rounded(.up)) - 1))
            value = s[rank]
        }
        if let cap { value = Swift.min(value, cap) }
        return [Float](repeating: Swift.max(value, minimumThreshold), count: channels)
    }
}
