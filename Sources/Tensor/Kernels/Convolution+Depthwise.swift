extension Convolution {
    /// Depthwise convolution (each output channel reads one input channel), vectorised over
    /// the pixels of a plane.
    ///
    /// Each input plane is copied once, zero-padded, into `sh x sw` phase planes: phase (a, b)
    /// holds padded pixel (r * sh + a, c * sw + b) at (r, c), in rows of `wq = ceil(wp / sw)`.
    /// Tap (ki, kj) of output pixel (oh, ow) then reads phase ((ki*dh) % sh, (kj*dw) % sw) at
    /// (oh + (ki*dh) / sh, ow + (kj*dw) / sw): every tap is one shifted run of the flattened
    /// phase, so 16 consecutive positions q = oh * wq + ow take 16 consecutive floats, for any
    /// stride and dilation. Positions with ow >= outW are computed and dropped, which keeps the
    /// loop free of borders. Each output is sum over taps in (ki, kj) order, then the bias,
    /// then the clamp: the same order for every position and thread count.
    func depthwise(_ x: UnsafePointer<Float>, inputShape: [Int], _ y: UnsafeMutablePointer<Float>,
                   outShape: [Int], clamp: Clamp?) {
        let (batch, inH, inW) = (inputShape[0], inputShape[2], inputShape[3])
        let (outH, outW) = (outShape[2], outShape[3])
        let multiplier = outputChannels / groups
        let (kh, kw) = window.kernel
        let (sh, sw) = window.stride
        let (dh, dw) = window.dilation
        let hp = inH + window.padTop + window.padBottom, wp = inW + window.padLeft + window.padRight
        let rowsQ = (hp + sh - 1) / sh, wq = (wp + sw - 1) / sw
        // Slack after each phase: the garbage columns of the last output row and the last
        // vector read past the plane (bounded by wq + 15, see the invariant below).
        let phaseStride = rowsQ * wq + wq + 16
        let positions = outH * wq
        let vectors = (positions + 15) / 16
        // Invariant: every read is inside its phase. The largest position read is
        // 16 * vectors - 1 <= positions + 15, plus a tap offset of at most
        // ((kh-1)*dh / sh) * wq + (kw-1)*dw / sw; the window fits the padded input, so
        // outH - 1 + (kh-1)*dh / sh <= rowsQ - 1 and (kw-1)*dw / sw <= wq - 1, hence the read
        // index stays below rowsQ * wq + wq + 15 < phaseStride.
        var tapOffsets = [Int]()
        for ki in 0..<kh {
            for kj in 0..<kw {
                let phase = ((ki * dh) % sh) * sw + (kj * dw) % sw
                tapOffsets.append(phase * phaseStride + ((ki * dh) / sh) * wq + (kj * dw) / sw)
            }
        }
        let taps = kh * kw
        weights.withUnsafeBufferPointer { wBuffer in
            bias.withUnsafeBufferPointer { bBuffer in
                tapOffsets.withUnsafeBufferPointer { offsets in
                    Parallel.forEachRange(batch * inputChannels) { range in
                        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: sh * sw * phaseStride + vectors * 16)
                        defer { scratch.deallocate() }
                        scratch.initialize(repeating: 0, count: sh * sw * phaseStride)
                        let result = scratch + sh * sw * phaseStride
                        for item in range {
                            let ci = item % inputChannels, n = item / inputChannels
                            Self.fillPhases(x + item * inH * inW, inH: inH, inW: inW, window: window, wq: wq,
                                            phaseStride: phaseStride, into: scratch)
                            for m in 0..<multiplier {
                                let co = ci * multiplier + m
                                Self.depthwisePlane(scratch, offsets: offsets.baseAddress!, weights: wBuffer.baseAddress! + co * taps,
                                                    taps: taps, vectors: vectors, bias: bBuffer[co], clamp: clamp, into: result)
                                let out = y + (n * outputChannels + co) * outH * outW
                                for oh in 0..<outH { Self.copyRow(result + oh * wq, to: out + oh * outW, count: outW) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Copies one input plane into its zero-padded phase planes (layout in `depthwise`). Only
    /// the positions that hold input pixels are written; the zeros around them are left from
    /// the scratch's initialisation, which every plane of the same shape shares.
    @inline(__always)
    static func fillPhases(_ plane: UnsafePointer<Float>, inH: Int, inW: Int, window: WindowGeometry, wq: Int,
                           phaseStride: Int, into phases: UnsafeMutablePointer<Float>) {
        let (sh, sw) = window.stride
        if sh == 1 && sw == 1 {
            for h in 0..<inH {
                copyRow(plane + h * inW, to: phases + (h + window.padTop) * wq + window.padLeft, count: inW)
            }
            return
        }
        for h in 0..<inH {
            let r = h + window.padTop
            let source = plane + h * inW
            let row = phases + ((r % sh) * sw) * phaseStride + (r / sh) * wq
            // Column c = w + padLeft goes to phase c % sw at c / sw: walk each phase's columns.
            for b in 0..<sw {
                let firstW = ((b - window.padLeft) % sw + sw) % sw
                guard firstW < inW else { continue }
                let target = row + b * phaseStride + (firstW + window.padLeft) / sw
                var j = 0, w = firstW
                while w < inW { target[j] = source[w]; j += 1; w += sw }
            }
        }
    }

    /// Copies `count` floats inline: the rows of these planes are a few to a few hundred
    /// floats, where a call to memmove per row costs more than the convolution of the row.
    @inline(__always)
    static func copyRow(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count { GEMM.store16(GEMM.load16(source + i), target + i); i += 16 }
        while i + 4 <= count {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
        while i < count { target[i] = source[i]; i += 1 }
    }

    /// `vectors` runs of 16 positions of one output plane: result[q] = clamp(sum over taps t
    /// of weights[t] * phases[offsets[t] + q], plus bias), four runs at a time so that four
    /// independent multiply-add chains hide the instruction's latency.
    @inline(__always)
    static func depthwisePlane(_ phases: UnsafePointer<Float>, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>,
                               taps: Int, vectors: Int, bias: Float, clamp: Clamp?, into result: UnsafeMutablePointer<Float>) {
        // No clamp is the clamp to (-inf, +inf): one branch-free epilogue for both.
        let bounds = clamp ?? Clamp()
        @inline(__always) func finish(_ a: SIMD16<Float>) -> SIMD16<Float> { bounds(a + bias) }
        var v = 0
        while v + 4 <= vectors {
            let q = v * 16
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            for t in 0..<taps {
                let wt = SIMD16<Float>(repeating: weights[t])
                let p = phases + offsets[t] + q
                a0 = a0.addingProduct(GEMM.load16(p), wt)
                a1 = a1.addingProduct(GEMM.load16(p + 16), wt)
                a2 = a2.addingProduct(GEMM.load16(p + 32), wt)
                a3 = a3.addingProduct(GEMM.load16(p + 48), wt)
            }
            GEMM.store16(finish(a0), result + q); GEMM.store16(finish(a1), result + q + 16)
            GEMM.store16(finish(a2), result + q + 32); GEMM.store16(finish(a3), result + q + 48)
            v += 4
        }
        while v < vectors {
            let q = v * 16
            var a = SIMD16<Float>()
            for t in 0..<taps { a = a.addingProduct(GEMM.load16(phases + offsets[t] + q), SIMD16<Float>(repeating: weights[t])) }
            GEMM.store16(finish(a), result + q)
            v += 1
        }
    }
}
