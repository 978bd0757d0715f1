/// Max and average pooling over NCHW planes, with ONNX's padding rules.
public enum Pooling {
    /// 2 x 2 window, stride 2, no dilation or padding.
    static func isPlain2x2(_ w: WindowGeometry) -> Bool {
        w.kernel == (2, 2) && w.stride == (2, 2) && w.dilation == (1, 1) && w.padTop == 0 && w.padLeft == 0
    }

    /// Which reduction the window applies.
    public enum Kind: Sendable, Equatable {
        /// The largest tap; padding never wins.
        case max
        /// `countIncludePad`: divide by the full window (padding counts as zeros) or only
        /// by the taps inside the image. Taps in the extra ceil-mode region never count.
        case average(countIncludePad: Bool)
    }

    /// [N, C, H_out, W_out] for an NCHW input of shape `s`.
    public static func outputShape(_ s: [Int], window: WindowGeometry, ceilMode: Bool) -> [Int] {
        [s[0], s[1], window.outputHeight(s[2], ceil: ceilMode), window.outputWidth(s[3], ceil: ceilMode)]
    }

    /// Pools every NCHW plane of `input` with `window`.
    public static func forward(_ input: Tensor, kind: Kind, window: WindowGeometry, ceilMode: Bool) -> Tensor {
        let outShape = outputShape(input.shape, window: window, ceilMode: ceilMode)
        let (inH, inW) = (input.shape[2], input.shape[3])
        let (outH, outW) = (outShape[2], outShape[3])
        return Tensor(shape: outShape) { out in
            input.storage.withUnsafeBufferPointer { x in
                let xBase = x.baseAddress!, yBase = out.baseAddress!
                Parallel.forEach(outShape[0] * outShape[1], minimumPerThread: 4) { plane in
                    Self.poolPlane(xBase + plane * inH * inW, into: yBase + plane * outH * outW, inH: inH, inW: inW,
                                   outH: outH, outW: outW, kind: kind, window: window)
                }
            }
        }
    }

    /// Pools one [inH, inW] plane into [outH, outW] (sizes from `outputShape`).
    @inline(__always)
    public static func poolPlane(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, inH: Int, inW: Int,
                                 outH: Int, outW: Int, kind: Kind, window: WindowGeometry) {
        let (kh, kw) = window.kernel
        if case .max = kind, Self.isPlain2x2(window), 2 * outH <= inH, 2 * outW <= inW {
            // The common 2 x 2 / stride 2 max pool, with no window straddling a border.
            for oh in 0..<outH {
                let r0 = src + 2 * oh * inW, r1 = r0 + inW, o = dst + oh * outW
                var ow = 0
                // Eight outputs at a time: the max of the two rows, then of adjacent lanes.
                while ow + 8 <= outW {
                    // (not pointwiseMax, whose NaN rules compile to per-lane code)
                    let a = GEMM.load16(r0 + 2 * ow), b = GEMM.load16(r1 + 2 * ow)
                    let rows = b.replacing(with: a, where: a .> b)
                    let even = rows.evenHalf, odd = rows.oddHalf
                    UnsafeMutableRawPointer(o + ow).storeBytes(of: odd.replacing(with: even, where: even .> odd), as: SIMD8<Float>.self)
                    ow += 8
                }
                for ow in ow..<outW {
                    let a = r0[2 * ow] > r0[2 * ow + 1] ? r0[2 * ow] : r0[2 * ow + 1]
                    let b = r1[2 * ow] > r1[2 * ow + 1] ? r1[2 * ow] : r1[2 * ow + 1]
                    o[ow] = a > b ? a : b
                }
            }
            return
        }
        for oh in 0..<outH {
            let h0 = oh * window.stride.h - window.padTop
            for ow in 0..<outW {
                let w0 = ow * window.stride.w - window.padLeft
                // Interior windows (the vast majority) need no bounds tests.
                if case .max = kind, h0 >= 0, w0 >= 0, h0 + (kh - 1) * window.dilation.h < inH,
                   w0 + (kw - 1) * window.dilation.w < inW {
                    var best = -Float.infinity
                    var row = src + h0 * inW + w0
                    for _ in 0..<kh {
                        for kj in 0..<kw { best = max(best, row[kj * window.dilation.w]) }
                        row += window.dilation.h * inW
                    }
                    dst[oh * outW + ow] = best
                    continue
                }
                var best = -Float.infinity
                var sum: Float = 0
                var inside = 0
                var padded = 0
                for ki in 0..<kh {
                    let ih = h0 + ki * window.dilation.h
                    for kj in 0..<kw {
                        let iw = w0 + kj * window.dilation.w
                        if ih >= 0 && ih < inH && iw >= 0 && iw < inW {
                            let v = src[ih * inW + iw]
                            best = max(best, v)
                            sum += v
                            inside += 1
                        } else if ih < inH + window.padBottom && iw < inW + window.padRight {
                            padded += 1  // explicit padding, not the ceil-mode overhang
                        }
                    }
                }
                switch kind {
                case .max:
                    dst[oh * outW + ow] = best
                case .average(let countIncludePad):
                    let divisor = countIncludePad ? inside + padded : inside
                    dst[oh * outW + ow] = divisor > 0 ? sum / Float(divisor) : 0
                }
            }
        }
    }

    /// Mean over each channel's spatial plane: [N, C, H, W] -> [N, C, 1, 1].
    public static func globalAverage(_ input: Tensor) -> Tensor {
        let planes = input.shape[0] * input.shape[1]
        let size = input.count / max(planes, 1)
        var shape = input.shape
        for axis in 2..<shape.count { shape[axis] = 1 }
        return Tensor(shape: shape) { out in
            input.storage.withUnsafeBufferPointer { x in
                for p in 0..<planes {
                    var sum: Float = 0
                    let base = x.baseAddress! + p * size
                    for i in 0..<size { sum += base[i] }
                    out[p] = sum / Float(size)
                }
            }
        }
    }
}
