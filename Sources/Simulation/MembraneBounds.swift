/// The range a neuron layer's membrane saturates in, per channel (or one value for all):
/// an integer SNN's state width (`QuantizationRecord`) in the graph's float units.
///
/// The update is v = min(max(v + I, lower), upper) before the compare with the threshold,
/// as a chip with a saturating membrane register computes it.
public struct MembraneBounds: Sendable, Equatable {
    /// The lowest membrane value, per channel.
    public var lower: [Float]
    /// The highest membrane value, per channel.
    public var upper: [Float]

    /// Bounds of `lower`...`upper` per channel (same count, or one value each).
    public init(lower: [Float], upper: [Float]) {
        self.lower = lower
        self.upper = upper
    }
}
