import SNNTensor

/// Local threshold balancing (docs/method.md, "Threshold balancing").
///
/// Each ReLU is replaced by the clip function C(z; theta) = min(max(z, 0), theta), and theta
/// takes one gradient step per calibration batch on the local loss ||C(z; theta) - ReLU(z)||^2:
///
///     theta_c <- theta_c + eta * 2 * mean_{i in c} max(z_i - theta_c, 0)
///
/// The derivative of the loss in theta_c is -2 (z_i - theta_c) wherever z_i > theta_c, so
/// the step only ever raises theta: the number of batches is the stopping rule. The mean
/// runs over the batch and every spatial position of the channel (over the batch only for
/// a fully connected layer, whose "channels" are its neurons); layer-wise balancing uses
/// one mean over everything. Sums are accumulated in Double so the result does not depend
/// on the order of a float32 reduction.
public struct ThresholdBalancing: ThresholdRule {
    /// Step size of the update.
    public let eta: Float
    /// One threshold per channel (true) or per layer.
    public let perChannel: Bool
    /// "ltb-channel" or "ltb-layer".
    public var name: String { perChannel ? "ltb-channel" : "ltb-layer" }
    private var theta: [Int: [Float]] = [:]

    /// Balancing with step size `eta`, channel-wise unless `perChannel` is false.
    public init(eta: Float = 1, perChannel: Bool = true) {
        self.eta = eta
        self.perChannel = perChannel
    }

    /// Takes one update step of the layer's thresholds (from 0 on the first batch, capped at `cap`) and
    /// passes on the clipped current.
    public mutating func observe(layer: Int, current z: Tensor, cap: Float?) -> Tensor {
        let view = ChannelView(z.shape)
        var t = theta[layer] ?? [Float](repeating: 0, count: perChannel ? view.channels : 1)
        var excess = [Double](repeating: 0, count: t.count)
        z.storage.withUnsafeBufferPointer { x in
            view.forEachPlane { c, base in
                let slot = perChannel ? c : 0
                let limit = t[slot]
                var sum = 0.0
                for i in base..<(base + view.inner) where x[i] > limit { sum += Double(x[i] - limit) }
                excess[slot] += sum
            }
        }
        let perSlot = Double(view.batch * view.inner * (perChannel ? 1 : view.channels))
        for s in t.indices {
            var updated = Double(t[s]) + Double(eta) * 2 * excess[s] / perSlot
            if let cap { updated = Swift.min(updated, Double(cap)) }
            t[s] = Swift.max(Float(updated), minimumThreshold)
        }
        theta[layer] = t
        return z.clipped(to: t)
    }

    /// The layer's thresholds, one per channel (a layer-wise threshold repeated).
    public func thresholds(layer: Int, channels: Int, cap: Float?) -> [Float] {
        let t = theta[layer] ?? [minimumThreshold]
        return t.count == channels ? t : [Float](repeating: t[0], count: channels)
    }
}
