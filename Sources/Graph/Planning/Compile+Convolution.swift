import SNNTensor

extension NodeCompiler {
    /// Resolves ONNX padding (explicit pads or auto_pad) into a 2-D window.
    func window(kernel: [Int], strides: [Int], dilations: [Int], pads: [Int], autoPad: Operator.AutoPad,
                inputSpatial: [Int]) throws -> WindowGeometry {
        try WindowGeometry.resolve(node: node.name, kernel: kernel, strides: strides, dilations: dilations, pads: pads,
                                   autoPad: autoPad, inputSpatial: inputSpatial)
    }

    /// Views a rank-3 (1-D spatial) tensor as rank 4 with height 1 so one 2-D kernel serves both.
    func spatial2D(_ shape: [Int], _ attribute: [Int], fill: Int) -> [Int] {
        shape.count == 3 ? [fill] + attribute : attribute
    }

    func conv(_ a: Operator.ConvAttributes) throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        let w = try floatConstant(1, "weights")
        let bias = try optional(2).map { _ in try floatConstant(2, "bias") }
        guard x.shape.count == 4 || x.shape.count == 3 else {
            throw fail("Conv input must be 3-D or 4-D (N, C, [H,] W), got \(x.shape)")
        }
        let oneD = x.shape.count == 3
        let xShape = oneD ? [x.shape[0], x.shape[1], 1, x.shape[2]] : x.shape
        let wShape = oneD && w.rank == 3 ? [w.shape[0], w.shape[1], 1, w.shape[2]] : w.shape
        guard wShape.count == 4 else { throw fail("weights must be 4-D [C_out, C_in/group, kH, kW], got \(w.shape)") }
        let group = a.group
        guard group > 0, xShape[1] % group == 0, wShape[0] % group == 0, wShape[1] * group == xShape[1] else {
            throw fail("input has \(xShape[1]) channels but weights \(w.shape) with group=\(group) expect \(wShape[1] * group)")
        }
        if let k = a.kernelShape, k != Array(wShape[2...]) && k != [wShape[3]] {
            throw fail("kernel_shape \(k) disagrees with weights \(w.shape)")
        }
        if let b = bias, b.count != wShape[0] { throw fail("bias has \(b.count) values for \(wShape[0]) output channels") }
        let geometry = try window(kernel: Array(wShape[2...]), strides: spatial2D(x.shape, a.strides, fill: 1),
                                  dilations: spatial2D(x.shape, a.dilations, fill: 1),
                                  pads: oneD && a.pads.count == 2 ? [0, a.pads[0], 0, a.pads[1]] : a.pads,
                                  autoPad: a.autoPad, inputSpatial: [xShape[2], xShape[3]])
        let kernel = Convolution(weights: w.storage, bias: bias?.storage, inputChannels: xShape[1],
                                 outputChannels: wShape[0], groups: group, window: geometry)
        let out4 = kernel.outputShape(inputShape: xShape)
        guard out4[2] > 0, out4[3] > 0 else { throw fail("output would be empty: input \(x.shape), window too large") }
        let outShape = oneD ? [out4[0], out4[1], out4[3]] : out4
        let clamp = fusedClamp
        return single(outShape) { inputs in
            let input = oneD ? inputs[0]!.reshaped(xShape) : inputs[0]!
            return kernel.forward(input, clamp: clamp).reshaped(outShape)
        }
    }

    func convTranspose(_ a: Operator.ConvAttributes) throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        let w = try floatConstant(1, "weights")
        let bias = try optional(2).map { _ in try floatConstant(2, "bias") }
        guard x.shape.count == 4, w.rank == 4 else {
            throw fail("ConvTranspose supports 2-D inputs: input \(x.shape), weights \(w.shape)")
        }
        let group = a.group
        guard group > 0, w.shape[0] == x.shape[1], x.shape[1] % group == 0 else {
            throw fail("input has \(x.shape[1]) channels but weights \(w.shape) expect \(w.shape[0]) (group=\(group))")
        }
        let outChannels = w.shape[1] * group
        if let b = bias, b.count != outChannels { throw fail("bias has \(b.count) values for \(outChannels) output channels") }
        let strides = a.strides.isEmpty ? [1, 1] : a.strides
        let dilations = a.dilations.isEmpty ? [1, 1] : a.dilations
        let outputPadding = a.outputPadding.isEmpty ? [0, 0] : a.outputPadding
        var pads = a.pads.isEmpty ? [0, 0, 0, 0] : a.pads
        guard strides.count == 2, dilations.count == 2, outputPadding.count == 2, pads.count == 4,
              strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }),
              zip(outputPadding, strides).allSatisfy({ $0 >= 0 && $0 < max($1, dilations.max()!) }) else {
            throw fail("strides \(strides) and dilations \(dilations) must be positive pairs, pads \(pads) 4 values >= 0, "
                       + "output_padding \(outputPadding) a pair below the strides")
        }
        try WindowGeometry.checkBounded(node: node.name, ["strides": strides, "dilations": dilations, "pads": pads,
                                                          "output_shape": a.outputShape ?? []])
        var explicit: (Int, Int)? = nil
        if let shape = a.outputShape {
            guard shape.count >= 2, shape.suffix(2).allSatisfy({ $0 > 0 }) else { throw fail("output_shape \(shape) must end in 2 positive sizes") }
            let target = Array(shape.suffix(2))
            explicit = (target[0], target[1])
            pads = [0, 0, 0, 0]
            for axis in 0..<2 {
                let full = strides[axis] * (x.shape[2 + axis] - 1) + outputPadding[axis] + (w.shape[2 + axis] - 1) * dilations[axis] + 1
                let total = max(full - target[axis], 0)
                let upper = a.autoPad != .sameLower
                pads[axis] = upper ? total / 2 : total - total / 2
                pads[axis + 2] = total - pads[axis]
            }
        } else if a.autoPad == .sameUpper || a.autoPad == .sameLower {
            for axis in 0..<2 {
                let target = x.shape[2 + axis] * strides[axis]
                let full = strides[axis] * (x.shape[2 + axis] - 1) + outputPadding[axis] + (w.shape[2 + axis] - 1) * dilations[axis] + 1
                let total = max(full - target, 0)
                pads[axis] = a.autoPad == .sameUpper ? total / 2 : total - total / 2
                pads[axis + 2] = total - pads[axis]
            }
        }
        let geometry = WindowGeometry(kernel: (w.shape[2], w.shape[3]), stride: (strides[0], strides[1]),
                                      dilation: (dilations[0], dilations[1]),
                                      pads: (top: pads[0], left: pads[1], bottom: pads[2], right: pads[3]))
        let kernel = TransposedConvolution(weights: w.storage, bias: bias?.storage, inputChannels: x.shape[1],
                                           outputChannels: outChannels, groups: group, window: geometry,
                                           outputPadding: (outputPadding[0], outputPadding[1]), explicitOutputSize: explicit)
        let outShape = kernel.outputShape(inputShape: x.shape)
        guard outShape[2] > 0, outShape[3] > 0 else { throw fail("output would be empty for input \(x.shape)") }
        return single(outShape) { kernel.forward($0[0]!) }
    }

    func pool(_ a: Operator.PoolAttributes, kind: Pooling.Kind) throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        guard x.shape.count == 4 else { throw fail("\(node.op.onnxType) supports 4-D NCHW inputs, got \(x.shape)") }
        let geometry = try window(kernel: a.kernelShape, strides: a.strides, dilations: a.dilations, pads: a.pads,
                                  autoPad: a.autoPad, inputSpatial: [x.shape[2], x.shape[3]])
        let ceilMode = a.ceilMode
        let outShape = Pooling.outputShape(x.shape, window: geometry, ceilMode: ceilMode)
        guard outShape[2] > 0, outShape[3] > 0 else { throw fail("pooling window larger than the input \(x.shape)") }
        return single(outShape) { Pooling.forward($0[0]!, kind: kind, window: geometry, ceilMode: ceilMode) }
    }

    func globalPool() throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        guard x.shape.count >= 3 else { throw fail("global pooling needs N, C and spatial axes, got \(x.shape)") }
        let outShape = Array(x.shape[..<2]) + [Int](repeating: 1, count: x.shape.count - 2)
        if case .globalMaxPool = node.op {
            let spatial = x.shape[2...].reduce(1, *)
            return single(outShape) { inputs in
                let t = inputs[0]!
                return Tensor(shape: outShape) { out in
                    for p in 0..<out.count {
                        var best = -Float.infinity
                        for i in 0..<spatial { best = max(best, t.storage[p * spatial + i]) }
                        out[p] = best
                    }
                }
            }
        }
        return single(outShape) { Pooling.globalAverage($0[0]!) }
    }

    func batchNormalization(epsilon: Float) throws -> CompiledNode {
        let x = try required(0, "input")
        try requireFloat(x)
        let scale = try floatConstant(1, "scale"), bias = try floatConstant(2, "bias")
        let mean = try floatConstant(3, "mean"), variance = try floatConstant(4, "variance")
        guard x.shape.count >= 2 else { throw fail("BatchNormalization input must have a channel axis, got \(x.shape)") }
        let channels = x.shape[1]
        for (t, role) in [(scale, "scale"), (bias, "bias"), (mean, "mean"), (variance, "variance")] where t.count != channels {
            throw fail("\(role) has \(t.count) values for \(channels) channels")
        }
        // y = (x - mean) / sqrt(var + eps) * scale + bias, as one multiply-add per element.
        var multiplier = [Float](repeating: 0, count: channels), shift = multiplier
        for c in 0..<channels {
            let m = Double(scale.storage[c]) / (Double(variance.storage[c]) + Double(epsilon)).squareRoot()
            multiplier[c] = Float(m)
            shift[c] = Float(Double(bias.storage[c]) - Double(mean.storage[c]) * m)
        }
        let inner = x.shape[2...].reduce(1, *)
        let outShape = x.shape
        let (m, s) = (multiplier, shift)
        return try foldingIfConstant(single(outShape) { inputs in
            var t = inputs[0]!
            t.storage.withUnsafeMutableBufferPointer { y in
                for plane in 0..<(y.count / max(inner, 1)) {
                    let c = plane % channels
                    let base = plane * inner
                    for i in 0..<inner { y[base + i] = y[base + i] * m[c] + s[c] }
                }
            }
            return t
        })
    }
}
