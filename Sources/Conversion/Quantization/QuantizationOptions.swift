/// The widths of an integer SNN: weights in `weightBits`-bit integers, one power-of-two
/// scale per output channel or per layer, membranes in `stateBits`-bit saturating integers.
public struct QuantizationOptions: Sendable, Equatable, Codable {
    /// Whether each output channel of a layer has its own scale (and threshold) or the layer shares one.
    public enum Granularity: String, Sendable, Equatable, Codable, CaseIterable {
        /// One scale per output channel: the smallest rounding error, one threshold per channel.
        case channel
        /// One scale per layer: one threshold per layer, as chips with per-core thresholds need.
        case layer
    }

    /// Bits of a weight, sign included (2 to 8): weights are integers in ±(2^(bits-1) - 1).
    public var weightBits: Int
    /// Per-channel or per-layer scales.
    public var granularity: Granularity
    /// Bits of a membrane, sign included (4 to 24). The membrane saturates at
    /// ±2^(stateBits-1); 24 is the default and the widest, the range a float32 holds exactly.
    public var stateBits: Int

    /// The widest state the simulator computes exactly: float32 holds every integer up to 2^24.
    public static let widestState = 24
    /// Weight widths a quantized SNN can have.
    public static let weightBitRange = 2...8
    /// State widths a quantized SNN can have.
    public static let stateBitRange = 4...widestState

    /// Options for `weightBits`-bit weights with `granularity` scales and `stateBits`-bit membranes.
    public init(weightBits: Int, granularity: Granularity = .channel, stateBits: Int = widestState) {
        self.weightBits = weightBits
        self.granularity = granularity
        self.stateBits = stateBits
    }

    /// The largest weight magnitude, 2^(bits-1) - 1.
    public var largestWeight: Int { (1 << (weightBits - 1)) - 1 }
    /// The membrane's range, [-2^(stateBits-1), 2^(stateBits-1) - 1].
    public var stateRange: ClosedRange<Int> { -(1 << (stateBits - 1))...((1 << (stateBits - 1)) - 1) }

    /// Throws `ConversionError.badQuantization` for a width out of range.
    public func validate() throws {
        guard Self.weightBitRange.contains(weightBits) else {
            throw ConversionError.badQuantization("weight bits must be 2 to 8, not \(weightBits)")
        }
        guard Self.stateBitRange.contains(stateBits) else {
            throw ConversionError.badQuantization("state bits must be 4 to \(Self.widestState), not \(stateBits) " +
                                                  "(the simulator holds membranes exactly up to 24 bits)")
        }
    }
}
