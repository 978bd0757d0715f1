import SNNGraph
import SNNTensor

/// How many synaptic operations one spike of each neuron triggers.
///
/// A spike of a neuron feeding a k x k convolution with C_out outputs reaches every output
/// position whose window covers it, times the group's output channels: counted exactly
/// here, borders and strides included, by walking the windows once. A fully connected
/// layer's input reaches all its outputs. Operators that only route spikes (Add, Concat,
/// Flatten, Reshape, pooling by average) pass the fan-out of their readers back to their
/// inputs; a spike that reaches a neuron directly (an identity shortcut) costs one
/// accumulate.
struct SynapticFanout {
    let graph: Graph
    let shapes: [String: [Int]]
    let consumers: [String: [Int]]
    private var memo: [String: [Float]] = [:]

    init(graph: Graph, shapes: [String: [Int]]) {
        self.graph = graph
        self.shapes = shapes
        self.consumers = graph.consumers()
    }

    /// Per-sample fan-out map of `value` (shape without the batch axis, flattened).
    mutating func fanout(of value: String) -> [Float] {
        if let m = memo[value] { return m }
        let shape = shapes[value] ?? [1]
        let perSample = shape.dropFirst().reduce(1, *)
        var total = [Float](repeating: 0, count: perSample)
        for c in consumers[value] ?? [] {
            let node = graph.nodes[c]
            let contribution = contributionThrough(node, input: value, inputShape: shape)
            for i in 0..<perSample { total[i] += contribution[i] }
        }
        memo[value] = total
        return total
    }

    private mutating func contributionThrough(_ node: Node, input: String, inputShape: [Int]) -> [Float] {
        let perSample = inputShape.dropFirst().reduce(1, *)
        let out = node.outputs.first ?? ""
        switch node.op {
        case .conv(let a):
            return convolutionFanout(node, a, inputShape: inputShape)
        case .convTranspose:
            guard let w = node.input(1).flatMap({ graph.floatConstant($0) }), w.rank == 4 else { return [Float](repeating: 0, count: perSample) }
            return [Float](repeating: Float(w.shape[1] * w.shape[2] * w.shape[3]), count: perSample)
        case .gemm:
            guard let outShape = shapes[out], outShape.count == 2 else { return [Float](repeating: 0, count: perSample) }
            return [Float](repeating: Float(outShape[1]), count: perSample)
        case .matMul:
            guard let outShape = shapes[out], let n = outShape.last else { return [Float](repeating: 0, count: perSample) }
            return [Float](repeating: Float(n), count: perSample)
        case .ifNeuron, .maxPool, .globalMaxPool:
            return [Float](repeating: 1, count: perSample)
        case .binary(let op) where op == .add || op == .sub:
            let downstream = fanout(of: out)
            let outShape = shapes[out] ?? inputShape
            if outShape == inputShape { return downstream }
            return broadcastBack(downstream, outShape: outShape, inputShape: inputShape)
        case .flatten, .reshape, .identity, .dropout, .squeeze, .unsqueeze:
            let downstream = fanout(of: out)
            return downstream.count == perSample ? downstream : [Float](repeating: downstream.first ?? 0, count: perSample)
        case .concat(let axis):
            return concatFanout(node, axis: axis, input: input, inputShape: inputShape, downstream: fanout(of: out))
        case .globalAveragePool:
            let downstream = fanout(of: out)
            let spatial = inputShape.count > 2 ? inputShape[2...].reduce(1, *) : 1
            var result = [Float](repeating: 0, count: perSample)
            for i in 0..<perSample { result[i] = downstream[i / spatial] }
            return result
        case .averagePool(let a, _):
            return averagePoolFanout(node, a, inputShape: inputShape, downstream: fanout(of: out))
        default:
            // Other routing ops (pad, resize, slice, transpose): charge the mean fan-out downstream.
            let downstream = fanout(of: out)
            let mean = downstream.isEmpty ? 0 : downstream.reduce(0, +) / Float(downstream.count)
            return [Float](repeating: mean, count: perSample)
        }
    }

    /// Through a convolution: each input pixel's count of output windows covering it (borders
    /// and strides included), times the group's output channels.
    private func convolutionFanout(_ node: Node, _ a: Operator.ConvAttributes, inputShape: [Int]) -> [Float] {
        let perSample = inputShape.dropFirst().reduce(1, *)
        let out = node.outputs.first ?? ""
        guard let w = node.input(1).flatMap({ graph.floatConstant($0) }), w.rank == 4, inputShape.count == 4,
              let outShape = shapes[out] else { return [Float](repeating: 0, count: perSample) }
        let (cin, h, wd) = (inputShape[1], inputShape[2], inputShape[3])
        let (kh, kw) = (w.shape[2], w.shape[3])
        let strides = a.strides.isEmpty ? [1, 1] : a.strides
        let dil = a.dilations.isEmpty ? [1, 1] : a.dilations
        let pads = Self.resolvedPads(a.pads, a.autoPad, input: [h, wd], output: [outShape[2], outShape[3]],
                                     kernel: [kh, kw], strides: strides, dilations: dil)
        var count = [Float](repeating: 0, count: h * wd)
        for oh in 0..<outShape[2] {
            for ow in 0..<outShape[3] {
                for ki in 0..<kh {
                    let ih = oh * strides[0] - pads[0] + ki * dil[0]
                    guard ih >= 0 && ih < h else { continue }
                    for kj in 0..<kw {
                        let iw = ow * strides[1] - pads[1] + kj * dil[1]
                        if iw >= 0 && iw < wd { count[ih * wd + iw] += 1 }
                    }
                }
            }
        }
        let perGroupOut = Float(w.shape[0] / max(a.group, 1))
        var result = [Float](repeating: 0, count: perSample)
        for c in 0..<cin { for p in 0..<(h * wd) { result[c * h * wd + p] = count[p] * perGroupOut } }
        return result
    }

    /// Through a Concat: the slice of the output's fan-out that `input` fills.
    private func concatFanout(_ node: Node, axis: Int, input: String, inputShape: [Int], downstream: [Float]) -> [Float] {
        let perSample = inputShape.dropFirst().reduce(1, *)
        let out = node.outputs.first ?? ""
        guard let outShape = shapes[out] else { return [Float](repeating: 0, count: perSample) }
        let a = axis < 0 ? axis + outShape.count : axis
        var offset = 0
        for name in node.inputs {
            if name == input { break }
            offset += shapes[name]?[a] ?? 0
        }
        let outer = inputShape[1..<a].reduce(1, *)
        let inner = inputShape[(a + 1)...].reduce(1, *)
        let outAxis = outShape[a]
        var result = [Float](repeating: 0, count: perSample)
        for o in 0..<outer {
            for i in 0..<inputShape[a] {
                for j in 0..<inner { result[(o * inputShape[a] + i) * inner + j] = downstream[(o * outAxis + offset + i) * inner + j] }
            }
        }
        return result
    }

    /// Through an average pool: each input feeds the pooled outputs whose window covers it,
    /// so it takes the sum of their fan-out.
    private func averagePoolFanout(_ node: Node, _ a: Operator.PoolAttributes, inputShape: [Int], downstream: [Float]) -> [Float] {
        let perSample = inputShape.dropFirst().reduce(1, *)
        let out = node.outputs.first ?? ""
        guard inputShape.count == 4, let outShape = shapes[out] else { return [Float](repeating: 0, count: perSample) }
        let (c, h, wd) = (inputShape[1], inputShape[2], inputShape[3])
        let (oh, ow) = (outShape[2], outShape[3])
        let strides = a.strides.isEmpty ? [1, 1] : a.strides
        let pads = Self.resolvedPads(a.pads, a.autoPad, input: [h, wd], output: [oh, ow], kernel: a.kernelShape, strides: strides, dilations: [1, 1])
        var result = [Float](repeating: 0, count: perSample)
        for ch in 0..<c {
            for y in 0..<oh {
                for x in 0..<ow {
                    let f = downstream[(ch * oh + y) * ow + x]
                    for ki in 0..<a.kernelShape[0] {
                        let ih = y * strides[0] - pads[0] + ki
                        guard ih >= 0 && ih < h else { continue }
                        for kj in 0..<a.kernelShape[1] {
                            let iw = x * strides[1] - pads[1] + kj
                            if iw >= 0 && iw < wd { result[(ch * h + ih) * wd + iw] += f }
                        }
                    }
                }
            }
        }
        return result
    }

    private func broadcastBack(_ map: [Float], outShape: [Int], inputShape: [Int]) -> [Float] {
        // Sum the output fan-out over the axes this input was broadcast along.
        let perSample = inputShape.dropFirst().reduce(1, *)
        var result = [Float](repeating: 0, count: perSample)
        let outSample = Array(outShape.dropFirst())
        let inSample = Array(([Int](repeating: 1, count: outShape.count - inputShape.count) + inputShape).dropFirst())
        let outStrides = Tensor.strides(of: outSample)
        let inStrides = Tensor.strides(of: inSample)
        for o in 0..<map.count {
            var idx = 0
            for axis in 0..<outSample.count where inSample[axis] != 1 { idx += ((o / outStrides[axis]) % outSample[axis]) * inStrides[axis] }
            result[idx] += map[o]
        }
        return result
    }

    /// Begin paddings (top, left) of a window, resolved the way planning resolves them.
    static func resolvedPads(_ pads: [Int], _ autoPad: Operator.AutoPad, input: [Int], output: [Int], kernel: [Int],
                             strides: [Int], dilations: [Int]) -> [Int] {
        guard let w = try? WindowGeometry.resolve(node: "", kernel: kernel, strides: strides, dilations: dilations, pads: pads,
                                                  autoPad: autoPad, inputSpatial: input) else { return [0, 0, 0, 0] }
        return [w.padTop, w.padLeft, w.padBottom, w.padRight]
    }
}
