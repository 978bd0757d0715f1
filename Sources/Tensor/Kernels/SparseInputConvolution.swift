/// A 2-D convolution that visits only the non-zero inputs: the event-driven form for
/// spike maps.
///
/// A layer fed by spikes has mostly zero inputs (converted CNNs fire at 2-30% per step),
/// and every zero contributes nothing. This kernel is output-stationary: for each output
/// pixel it keeps a block of 64 output channels in four 16-lane registers and, for every
/// kernel tap, adds value x weight-row for each active input channel of the input pixel
/// under that tap. Weights are stored [tap][C_in][C_out] so a weight row is contiguous.
/// Work is proportional to the number of active inputs (the synaptic operations), not to
/// the number of inputs. Sums run in a different order than the dense GEMM, so results
/// agree with it to float rounding.
public final class SparseInputConvolution: Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let window: WindowGeometry
    /// [tap][C_in][C_out]
    let weights: [Float]
    let bias: [Float]

    /// Groups other than 1, or output channels not a multiple of 16, are not handled (nil).
    public init?(weights onnxWeights: [Float], bias: [Float]?, inputChannels: Int, outputChannels: Int, groups: Int,
                 window: WindowGeometry) {
        guard groups == 1, outputChannels % 16 == 0 else { return nil }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.window = window
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        let taps = window.kernel.h * window.kernel.w
        var w = [Float](repeating: 0, count: taps * inputChannels * outputChannels)
        for co in 0..<outputChannels {
            for ci in 0..<inputChannels {
                for t in 0..<taps { w[(t * inputChannels + ci) * outputChannels + co] = onnxWeights[(co * inputChannels + ci) * taps + t] }
            }
        }
        weights = w
    }

    /// Fraction of non-zero values: the work this kernel does relative to the dense one.
    public static func density(_ x: Tensor) -> Double {
        var nonzero = 0
        x.storage.withUnsafeBufferPointer { p in for v in p where v != 0 { nonzero += 1 } }
        return x.count > 0 ? Double(nonzero) / Double(x.count) : 0
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (batch, inH, inW) = (input.shape[0], input.shape[2], input.shape[3])
        let outH = window.outputHeight(inH), outW = window.outputWidth(inW)
        let cin = inputChannels, cout = outputChannels
        let pixels = inH * inW
        return Tensor(shape: [batch, cout, outH, outW]) { out in
            input.storage.withUnsafeBufferPointer { xBuffer in
                weights.withUnsafeBufferPointer { wBuffer in
                    bias.withUnsafeBufferPointer { bBuffer in
                        let x = xBuffer.baseAddress!, w = wBuffer.baseAddress!, b = bBuffer.baseAddress!, y = out.baseAddress!
                        Parallel.forEachRange(batch) { range in
                            // Per input pixel, the active channels and their values (CSR).
                            var start = [Int32](repeating: 0, count: pixels + 1)
                            var channel = [Int32]()
                            var value = [Float]()
                            var accumulator = [Float](repeating: 0, count: cout)
                            for n in range {
                                let image = x + n * cin * pixels
                                for i in 0...pixels { start[i] = 0 }
                                for c in 0..<cin { for p in 0..<pixels where image[c * pixels + p] != 0 { start[p + 1] += 1 } }
                                for p in 0..<pixels { start[p + 1] += start[p] }
                                let active = Int(start[pixels])
                                if channel.count < active {
                                    channel = [Int32](repeating: 0, count: active)
                                    value = [Float](repeating: 0, count: active)
                                }
                                var fill = Array(start[0..<pixels])
                                for c in 0..<cin {
                                    for p in 0..<pixels {
                                        let v = image[c * pixels + p]
                                        if v != 0 {
                                            let k = Int(fill[p])
                                            channel[k] = Int32(c)
                                            value[k] = v
                                            fill[p] += 1
                                        }
                                    }
                                }
                                let outImage = y + n * cout * outH * outW
                                channel.withUnsafeBufferPointer { chBuffer in
                                    value.withUnsafeBufferPointer { valBuffer in
                                        accumulator.withUnsafeMutableBufferPointer { accBuffer in
                                            start.withUnsafeBufferPointer { stBuffer in
                                                self.outputImage(ch: chBuffer.baseAddress!, val: valBuffer.baseAddress!, start: stBuffer.baseAddress!,
                                                                 w: w, bias: b, acc: accBuffer.baseAddress!, y: outImage,
                                                                 inH: inH, inW: inW, outH: outH, outW: outW)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func outputImage(ch: UnsafePointer<Int32>, val: UnsafePointer<Float>, start: UnsafePointer<Int32>, w: UnsafePointer<Float>,
                             bias: UnsafePointer<Float>, acc: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                             inH: Int, inW: Int, outH: Int, outW: Int) {
        let cin = inputChannels, cout = outputChannels
        let (kh, kw) = window.kernel
        let plane = outH * outW
        for oh in 0..<outH {
            for ow in 0..<outW {
                var block = 0
                while block < cout {
                    let wide = cout - block >= 64
                    var a0 = GEMM.load16(bias + block)
                    var a1 = wide ? GEMM.load16(bias + block + 16) : SIMD16<Float>()
                    var a2 = wide ? GEMM.load16(bias + block + 32) : SIMD16<Float>()
                    var a3 = wide ? GEMM.load16(bias + block + 48) : SIMD16<Float>()
                    for ki in 0..<kh {
                        let ih = oh * window.stride.h - window.padTop + ki * window.dilation.h
                        if ih < 0 || ih >= inH { continue }
                        for kj in 0..<kw {
                            let iw = ow * window.stride.w - window.padLeft + kj * window.dilation.w
                            if iw < 0 || iw >= inW { continue }
                            let p = ih * inW + iw
                            let tapBase = w + (ki * kw + kj) * cin * cout + block
                            var k = Int(start[p])
                            let end = Int(start[p + 1])
                            if wide {
                                while k < end {
                                    let row = tapBase + Int(ch[k]) * cout
                                    let s = SIMD16<Float>(repeating: val[k])
                                    a0 = a0.addingProduct(s, GEMM.load16(row))
                                    a1 = a1.addingProduct(s, GEMM.load16(row + 16))
                                    a2 = a2.addingProduct(s, GEMM.load16(row + 32))
                                    a3 = a3.addingProduct(s, GEMM.load16(row + 48))
                                    k += 1
                                }
                            } else {
                                while k < end {
                                    a0 = a0.addingProduct(SIMD16<Float>(repeating: val[k]), GEMM.load16(tapBase + Int(ch[k]) * cout))
                                    k += 1
                                }
                            }
                        }
                    }
                    GEMM.store16(a0, acc + block)
                    if wide {
                        GEMM.store16(a1, acc + block + 16)
                        GEMM.store16(a2, acc + block + 32)
                        GEMM.store16(a3, acc + block + 48)
                    }
                    block += wide ? 64 : 16
                }
                let o = oh * outW + ow
                for co in 0..<cout { y[co * plane + o] = acc[co] }
            }
        }
    }
}
