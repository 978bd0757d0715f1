import SNNGraph
import SNNTensor

/// The integers of one neuron layer: its exponents, and the weights, biases and residual
/// scales that feed it rewritten on the grid 2^-k.
extension Quantization {
    /// A weight tensor of one contribution, seen per output channel.
    struct Weights {
        let node: Int
        /// Input index of the tensor on the node (1: weights, or the Mul's constant).
        let input: Int
        let tensor: Tensor
        /// The axis of output channels (0 for Conv and transposed Gemm, 1 for [K, N]).
        let axis: Int
        let bias: Tensor?
        /// A residual shortcut's per-channel scale rather than a layer's weights.
        var shortcut = false

        var channels: Int { tensor.count == 1 ? 1 : tensor.shape[axis] }

        /// The flat indices of output channel `c`.
        func indices(of c: Int) -> [Int] {
            if tensor.count == 1 { return [0] }
            let inner = tensor.shape.dropFirst(axis + 1).reduce(1, *)
            let outer = tensor.shape.prefix(axis).reduce(1, *)
            let n = tensor.shape[axis]
            var result = [Int]()
            result.reserveCapacity(outer * inner)
            for o in 0..<outer {
                let start = (o * n + c) * inner
                result.append(contentsOf: start..<(start + inner))
            }
            return result
        }
    }

    func weights(of part: Contribution) throws -> Weights {
        switch part {
        case .weighted(let p), .analog(let p):
            let node = source.nodes[p]
            guard let w = source.floatConstant(node.inputs[1]) else {
                throw ConversionError.badQuantization("node '\(node.name)': its weights '\(node.inputs[1])' are not a float constant")
            }
            var axis = 0
            switch node.op {
            case .convTranspose(let a):
                // Weights [Cin, Cout / group, k...]: output channels along axis 1.
                guard a.group == 1 else {
                    throw ConversionError.badQuantization("ConvTranspose '\(node.name)' has \(a.group) groups; only one group has an integer form here")
                }
                axis = 1
            case .gemm(let a):
                guard a.alpha == 1, a.beta == 1, !a.transA, w.shape.count == 2 else {
                    throw ConversionError.badQuantization("Gemm '\(node.name)' scales or transposes its input (alpha, beta, transA); re-export it as a plain Linear layer")
                }
                axis = a.transB ? 0 : 1
            case .matMul:
                guard w.shape.count == 2 else { throw ConversionError.badQuantization("MatMul '\(node.name)' has weights of rank \(w.shape.count), not 2") }
                axis = 1
            default: break
            }
            let bias = try node.input(2).map { name -> Tensor in
                guard let b = source.floatConstant(name) else {
                    throw ConversionError.badQuantization("node '\(node.name)': its bias '\(name)' is not a float constant")
                }
                return b
            }
            return Weights(node: p, input: 1, tensor: w, axis: axis, bias: bias)
        case .scaled(let p, let constant):
            let node = source.nodes[p]
            let t = source.floatConstant(node.inputs[constant])!
            guard t.count == 1 || t.shape.filter({ $0 != 1 }).count == 1 else {
                throw ConversionError.badQuantization("Mul '\(node.name)' scales spikes by a tensor of shape \(t.shape), not one value per channel")
            }
            let axis = t.count == 1 ? 0 : t.shape.firstIndex(where: { $0 != 1 })!
            return Weights(node: p, input: constant, tensor: t, axis: axis, bias: nil, shortcut: true)
        }
    }

    /// The exponent with the least squared rounding error for `values`, within `range`.
    func exponent(for values: [Float], in range: ClosedRange<Int>) -> Int {
        let largest = values.reduce(Float(0)) { max($0, abs($1)) }
        guard largest > 0 else { return range.lowerBound }
        let top = Float(options.largestWeight)
        // k0: the largest exponent that keeps every weight within the range unclipped.
        var k0 = 0
        while k0 < range.upperBound && largest * Float(1 << (k0 + 1)) <= top { k0 += 1 }
        let candidates = Set([k0, k0 + 1].map { min(max($0, range.lowerBound), range.upperBound) }).sorted()
        func error(_ k: Int) -> Double {
            values.reduce(0) { sum, w in let d = Double(w) - Double(quantized(w, k).value); return sum + d * d }
        }
        return candidates.min { error($0) < error($1) }!
    }

    /// `w` on the grid 2^-k, clipped to ±`largest` (default: the weight range); `clipped`
    /// when it was clipped.
    func quantized(_ w: Float, _ k: Int, largest: Int? = nil) -> (value: Float, integer: Int, clipped: Bool) {
        let top = largest ?? options.largestWeight
        let exact = (Double(w) * Double(1 << k)).rounded()
        let integer = Int(min(max(exact, Double(-top)), Double(top)))
        return (Float(integer) * QuantizationRecord.unit(exponent: k), integer, abs(exact) > Double(top))
    }

    /// The smallest exponent that makes v(0) = ratio x 2^k an integer.
    func smallestExponent(ratio: Float, neuron: String) throws -> Int {
        for k in 0...(options.stateBits - 2) where QuantizationRecord.isWhole(ratio: ratio, exponent: k) { return k }
        throw ConversionError.badQuantization("neuron '\(neuron)': its initial potential \(ratio) x threshold is not a whole number for any threshold " +
                                              "up to 2^\(options.stateBits - 2); use a ratio such as 0.5, 0.25 or 0")
    }

    /// `calibrated`: the neuron's per-channel v(0) / theta, when calibrated; each becomes the
    /// nearest whole number of its channel's units (a chip's initial state is an integer).
    mutating func quantizeLayer(_ index: Int, ratio: Float, calibrated: [Float]?, parts: [Contribution]) throws {
        let neuron = source.nodes[index].name
        let all = try parts.map { try weights(of: $0) }
        let channels = all.map(\.channels).max() ?? 1
        if let odd = all.first(where: { $0.channels != 1 && $0.channels != channels }) {
            throw ConversionError.badQuantization("node '\(source.nodes[odd.node].name)' has \(odd.channels) output channels where neuron '\(neuron)' has \(channels)")
        }
        for w in all {
            if let other = claimed[w.node] {
                throw ConversionError.badQuantization("node '\(source.nodes[w.node].name)' feeds both '\(other)' and '\(neuron)'; each needs its own scale")
            }
            claimed[w.node] = neuron
        }
        let range = try (calibrated == nil ? smallestExponent(ratio: ratio, neuron: neuron) : 1)...(options.stateBits - 2)
        // The exponent serves the synapses. A shortcut adds about one threshold per spike
        // (the ratio of two layers' thresholds), so it needs the threshold's range, not the
        // weights': letting it set k left half of a residual layer's weights at zero.
        func channelValues(_ c: Int) -> [Float] {
            all.filter { !$0.shortcut }.flatMap { w in w.indices(of: w.channels == 1 ? 0 : c).map { w.tensor.storage[$0] } }
        }
        let exponents: [Int] = options.granularity == .layer
            ? [exponent(for: (0..<channels).flatMap(channelValues), in: range)]
            : (0..<channels).map { exponent(for: channelValues($0), in: range) }
        func k(_ c: Int) -> Int { exponents[exponents.count == 1 ? 0 : c] }
        if let calibrated {
            if let problem = Graph.initialPotentialProblem(calibrated, channels: channels) {
                throw ConversionError.badQuantization("neuron '\(neuron)': its initial potentials: \(problem); calibrate them again")
            }
            graph.setInitialPotentials((0..<channels).map { c in
                let units = (Double(calibrated[calibrated.count == 1 ? 0 : c]) * Double(1 << k(c))).rounded()
                return Float(units) * QuantizationRecord.unit(exponent: k(c))
            }, ofNode: index, name: neuron + ".initial_potential_int")
        }
        var clipped = 0, total = 0
        var largestInput = [Int](repeating: 0, count: channels)
        for w in all {
            let node = source.nodes[w.node]
            var values = w.tensor.storage
            for c in 0..<w.channels {
                // A single residual scale serves every channel: it must be exact on each grid.
                let kc = w.channels == 1 ? exponents.max()! : k(c)
                for i in w.indices(of: c) {
                    let q = quantized(values[i], kc, largest: w.shortcut ? options.stateRange.upperBound : nil)
                    values[i] = q.value
                    if !w.shortcut {
                        clipped += q.clipped ? 1 : 0
                        total += 1
                    }
                    for target in (w.channels == 1 ? Array(0..<channels) : [c]) {
                        largestInput[target] = max(largestInput[target], abs(q.integer) << (k(target) - kc))
                    }
                }
            }
            if w.channels == 1 && channels > 1 && Set(exponents).count > 1 {
                throw ConversionError.badQuantization("Mul '\(node.name)' scales every channel by one value but neuron '\(neuron)' has per-channel " +
                                                      "thresholds; quantize with per-layer scales (--scale-granularity layer)")
            }
            let scales = (0..<w.channels).map { QuantizationRecord.unit(exponent: w.channels == 1 ? exponents.max()! : k($0)) }
            let name = node.name + (w.shortcut ? ".scale_int" : ".weight_int")
            graph.constants[name] = .float(Tensor(shape: w.tensor.shape, storage: values))
            graph.integerConstants[name] = IntegerEncoding(axis: w.axis, scales: scales, storageBits: w.shortcut ? 32 : 8)
            graph.nodes[w.node].inputs[w.input] = name
            if let bias = w.bias {
                let integers = try (0..<channels).map { c -> Int in
                    let b = Double(bias.storage[bias.count == 1 ? 0 : c]) * Double(1 << k(c))
                    guard abs(b.rounded()) <= Double(options.stateRange.upperBound) else {
                        throw ConversionError.badQuantization("neuron '\(neuron)': the bias of channel \(c) is \(Int(b.rounded())) in threshold units of 2^-\(k(c)), " +
                                                              "beyond the \(options.stateBits)-bit state; use more state bits")
                    }
                    return Int(b.rounded())
                }
                for c in 0..<channels { largestInput[c] = max(largestInput[c], abs(integers[c])) }
                let biasName = node.name + ".bias_int"
                graph.constants[biasName] = .float(Tensor(shape: [channels], storage: integers.enumerated().map { Float($1) * QuantizationRecord.unit(exponent: k($0)) }))
                graph.integerConstants[biasName] = IntegerEncoding(axis: 0, scales: (0..<channels).map { QuantizationRecord.unit(exponent: k($0)) }, storageBits: 32)
                graph.nodes[w.node].inputs[2] = biasName
            }
        }
        // A neuron just below threshold that takes one event must not saturate.
        for c in 0..<channels where (1 << k(c)) + largestInput[c] > options.stateRange.upperBound {
            let needed = ((1 << k(c)) + largestInput[c]).bitWidth - ((1 << k(c)) + largestInput[c]).leadingZeroBitCount + 1
            throw ConversionError.badQuantization("\(options.stateBits) state bits are too few for neuron '\(neuron)': its threshold 2^\(k(c)) plus its largest " +
                                                  "single weight or bias (\(largestInput[c]) units) needs \(needed) bits; use --state-bits \(needed) or more")
        }
        layers.append(QuantizationRecord.Layer(neuron: neuron, exponents: exponents, clippedWeights: clipped, weights: total))
    }
}
