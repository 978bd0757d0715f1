import Testing
@testable import SNNKit

/// The integer machine's neuron update, for `ReferenceSimulator`: Int64 membranes of an
/// integer layer (threshold 2^k, v(0) = ratio x 2^k, saturation at the state width, unit
/// spikes), and float32 membranes for a float layer of an integer SNN (the analog first
/// layer, added in float32 as the engine does). The float current an integer layer
/// receives must be a whole number of 2^-k units: anything else is a failed test.
enum IntegerNeurons {
    struct State {
        var integer = [String: [Int64]]()
        var float = [String: [Float]]()
        /// Updates that hit a bound, per layer.
        var saturated = [String: Int]()
    }

    /// Where a reference run leaves its saturation counts.
    final class Log: @unchecked Sendable {
        var counts = [String: Int]()
    }

    struct Inexact: Error, CustomStringConvertible {
        let description: String
    }

    /// One step of IF node `node` on current `z`; nil for a node that is not a neuron.
    /// `ratios`: v(0) / theta per channel when calibrated, else nil (the node's attribute).
    static func step(_ node: Node, _ z: Tensor, _ record: QuantizationRecord, reset: ResetMode, ratios: [Float]? = nil,
                     state: inout State) throws -> Tensor? {
        guard case .ifNeuron(let attribute) = node.op else { return nil }
        let c = z.shape[1], inner = z.shape[2...].reduce(1, *)
        func channel(_ i: Int) -> Int { (i / inner) % c }
        let perChannel = ratios ?? [attribute]
        func ratio(_ i: Int) -> Float { perChannel[perChannel.count == 1 ? 0 : channel(i)] }
        var y = Tensor(zeros: z.shape)
        guard let layer = record.layers.first(where: { $0.neuron == node.name }) else {
            // A float layer: threshold 1 after folding, float32 adds.
            var v = state.float[node.name] ?? (0..<z.count).map(ratio)
            for i in 0..<z.count {
                v[i] += z.storage[i]
                if v[i] > 1 { v[i] = reset == .zero ? 0 : v[i] - 1; y.storage[i] = 1 }
            }
            state.float[node.name] = v
            return y
        }
        let range = record.options.stateRange
        func k(_ i: Int) -> Int { layer.exponents[layer.exponents.count == 1 ? 0 : channel(i)] }
        var v = try state.integer[node.name] ?? (0..<z.count).map { i -> Int64 in
            let units = Double(ratio(i)) * Double(1 << k(i))
            guard units == units.rounded() else { throw Inexact(description: "\(node.name)[\(i)]: v(0) \(ratio(i)) is not a whole number of 2^-\(k(i))") }
            return Int64(units)
        }
        for i in 0..<z.count {
            let units = Double(z.storage[i]) * Double(1 << k(i))
            guard units == units.rounded() else {
                throw Inexact(description: "\(node.name)[\(i)]: current \(z.storage[i]) is not a whole number of 2^-\(k(i))")
            }
            var potential = v[i] + Int64(units)
            if potential > Int64(range.upperBound) || potential < Int64(range.lowerBound) {
                potential = min(max(potential, Int64(range.lowerBound)), Int64(range.upperBound))
                state.saturated[node.name, default: 0] += 1
            }
            let threshold = Int64(1) << Int64(k(i))
            if potential > threshold {
                potential = reset == .zero ? 0 : potential - threshold
                y.storage[i] = 1
            }
            v[i] = potential
        }
        state.integer[node.name] = v
        return y
    }
}
