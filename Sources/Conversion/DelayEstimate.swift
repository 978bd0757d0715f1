import SNNTensor

/// The time a converted network needs before its output is worth averaging
/// (docs/method.md, "Readout and delay").
///
/// A neuron starting at v(0) = theta/2 first fires after about (theta - v(0)) / rate steps,
/// where rate is its mean input; delays add up layer after layer. Per layer SNNKit takes
/// 0.5 * max_c theta_c over max_c E[ReLU(z)]_c (E over a calibration batch in the clipped
/// network) and sums over layers, rounding up.
public struct DelayEstimate: Sendable, Codable, Equatable {
    /// Estimated delay in steps; average the output over (t0, T].
    public var steps: Int
    /// The per-layer terms, in layer order.
    public var perLayer: [Double]

    /// An estimate of `steps` from its per-layer terms.
    public init(steps: Int, perLayer: [Double]) {
        self.steps = steps
        self.perLayer = perLayer
    }

    /// - Parameters:
    ///   - thresholds: per layer, per channel thresholds.
    ///   - meanActivation: per layer, per channel mean of ReLU(z) over a calibration batch.
    ///   - initialPotential: v(0) / theta.
    public static func estimate(thresholds: [[Float]], meanActivation: [[Double]], initialPotential: Float = 0.5) -> DelayEstimate {
        var terms = [Double]()
        for (theta, mean) in zip(thresholds, meanActivation) {
            let peakTheta = Double(theta.max() ?? 0)
            let peakMean = mean.max() ?? 0
            terms.append(peakMean > 0 ? (1 - Double(initialPotential)) * peakTheta / peakMean : 0)
        }
        let total = terms.reduce(0, +)
        return DelayEstimate(steps: Int(total.rounded(.up)), perLayer: terms)
    }

    /// The window start for a run of T steps: the estimate, but leaving at least the last
    /// 4 steps to average (t0 = T - 4 when T < t0 + 4).
    public func start(forSteps t: Int) -> Int {
        t < steps + 4 ? Swift.max(0, t - 4) : steps
    }
}
