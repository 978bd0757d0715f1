import ArgumentParser
import SNNKit

/// The integer form's widths (`QuantizationOptions`): given `--weight-bits`, convert writes
/// an integer SNN.
struct QuantizationFlags: ParsableArguments {
    @Option(name: .customLong("weight-bits"), help: "Quantize to an integer SNN with weights of this many bits (2-8), thresholds folded in (unit spikes, integer thresholds 2^k).")
    var weightBits: Int?

    @Option(name: .customLong("scale-granularity"), help: "With --weight-bits: one scale (and threshold) per output channel or per layer (channel, layer).")
    var granularity: QuantizationOptions.Granularity = .channel

    @Option(name: .customLong("state-bits"), help: "With --weight-bits: membrane width in bits (4-24), saturating.")
    var stateBits: Int = QuantizationOptions.widestState

    func validate() throws {
        guard weightBits != nil || (granularity == .channel && stateBits == QuantizationOptions.widestState) else {
            throw ValidationError("--scale-granularity and --state-bits describe an integer SNN: give --weight-bits too")
        }
        do { _ = try options() } catch let error as ConversionError { throw ValidationError(error.description) }
    }

    /// The options these flags describe, nil without `--weight-bits`.
    func options() throws -> QuantizationOptions? {
        guard let weightBits else { return nil }
        let options = QuantizationOptions(weightBits: weightBits, granularity: granularity, stateBits: stateBits)
        try options.validate()
        return options
    }
}

extension QuantizationOptions.Granularity: ExpressibleByArgument {}
