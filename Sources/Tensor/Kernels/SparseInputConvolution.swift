/// A 2-D convolution that visits only the non-zero inputs: the event-driven form for
/// spike maps.
///
/// A layer fed by spikes has mostly zero inputs (converted CNNs fire at 2-30% per step),
/// and every zero contributes nothing. Per image, the non-zero inputs are first listed per
/// input pixel (channel and value). Then, for each block of output channels (128, 64 or
/// 16 wide, held in registers while a pixel is worked on) and each kernel tap, every
/// output pixel adds value x weight-row for the events of the input pixel under that tap.
/// Weights are stored per block as [tap][C_in][width], 64-byte aligned, so a row is
/// contiguous, no load straddles two cache lines, and one tap's rows stay in L1 across
/// all pixels. Work is proportional to the number of events times the taps (the synaptic
/// operations), not to the number of inputs. Sums per output run bias, then taps in
/// order, channels ascending (narrow blocks split them over independent chains), a
/// different order than the dense GEMM's, so results agree with it to float rounding.
///
/// Unchecked Sendable: the aligned weight buffer is written once in `init` and only read.
public final class SparseInputConvolution: @unchecked Sendable {
    public let inputChannels: Int
    public let outputChannels: Int
    public let window: WindowGeometry
    /// Per block of output channels (128, then 64, then 16 wide), [tap][C_in][width].
    /// 64-byte aligned, so no 16-float load of a row straddles two cache lines (a row
    /// offset is a multiple of 64 bytes).
    let weights: UnsafeMutablePointer<Float>
    let bias: [Float]
    /// First output channel, width and offset into `weights` of each block.
    let blocks: [(start: Int, width: Int, offset: Int)]

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
        var blocks = [(start: Int, width: Int, offset: Int)]()
        var start = 0
        while start < outputChannels {
            let width = outputChannels - start >= 128 ? 128 : (outputChannels - start >= 64 ? 64 : 16)
            let offset = start * taps * inputChannels
            for j in 0..<width {
                for ci in 0..<inputChannels {
                    for t in 0..<taps { w[offset + (t * inputChannels + ci) * width + j] = onnxWeights[((start + j) * inputChannels + ci) * taps + t] }
                }
            }
            blocks.append((start, width, offset))
            start += width
        }
        self.blocks = blocks
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(w.count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        weights = raw.bindMemory(to: Float.self, capacity: max(w.count, 1))
        weights.initialize(from: w, count: w.count)
    }

    deinit { weights.deallocate() }

    /// Fraction of non-zero values: the work this kernel does relative to the dense one.
    public static func density(_ x: Tensor) -> Double {
        var nonzero = 0
        x.storage.withUnsafeBufferPointer { p in
            // 16 lanes at a time; lane counts stay far below Int32's range per call.
            var lanes = SIMD16<Int32>()
            let zero = SIMD16<Float>(), one = SIMD16<Int32>(repeating: 1)
            var i = 0
            let base = p.baseAddress!
            while i + 16 <= p.count {
                lanes &+= SIMD16<Int32>().replacing(with: one, where: GEMM.load16(base + i) .!= zero)
                i += 16
                if i & 0xFFFFF == 0 { nonzero += Int(lanes.wrappedSum()); lanes = SIMD16<Int32>() }
            }
            nonzero += Int(lanes.wrappedSum())
            while i < p.count { nonzero += p[i] != 0 ? 1 : 0; i += 1 }
        }
        return x.count > 0 ? Double(nonzero) / Double(x.count) : 0
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (inH, inW) = (input.shape[2], input.shape[3])
        let cin = inputChannels, pixels = inH * inW
        return input.storage.withUnsafeBufferPointer { x in
            let xp = x.baseAddress!
            return convolve(images: input.shape[0], inH: inH, inW: inW) { n, count, channel, value in
                Self.gatherEvents(xp + n * cin * pixels, channels: cin, pixels: pixels, count: count, channel: channel, value: value)
            }
        }
    }

    /// The convolution of packed spikes: each set bit is an event carrying its channel's
    /// amplitude, listed straight from the bytes.
    public func forward(_ input: SpikePatterns) -> Tensor {
        let (inH, inW) = (input.shape[2], input.shape[3])
        let cin = inputChannels, pixels = inH * inW, groups = input.groups
        let amplitudes = input.amplitudes.count == cin ? input.amplitudes : [Float](repeating: input.amplitudes[0], count: cin)
        return input.bytes.withUnsafeBufferPointer { x in
            amplitudes.withUnsafeBufferPointer { a in
                let xp = x.baseAddress!, ap = a.baseAddress!
                return convolve(images: input.images, inH: inH, inW: inW) { n, count, channel, value in
                    Self.gatherEvents(xp + n * groups * pixels, groups: groups, channels: cin, pixels: pixels, amplitudes: ap,
                                      count: count, channel: channel, value: value)
                }
            }
        }
    }

    /// Per image: `gather` lists its events per input pixel (count, channels, values at a
    /// fixed stride of C_in), then every output pixel accumulates them.
    private func convolve(images: Int, inH: Int, inW: Int,
                          gather: (Int, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let outH = window.outputHeight(inH), outW = window.outputWidth(inW)
        let cin = inputChannels, cout = outputChannels
        let pixels = inH * inW, outPixels = outH * outW
        return Tensor(shape: [images, cout, outH, outW]) { out in
            bias.withUnsafeBufferPointer { bBuffer in
                let w = UnsafePointer(weights), b = bBuffer.baseAddress!, y = out.baseAddress!
                Parallel.forEachRange(images) { range in
                    let count = UnsafeMutablePointer<Int32>.allocate(capacity: pixels)
                    let channel = UnsafeMutablePointer<Int32>.allocate(capacity: pixels * cin)
                    let value = UnsafeMutablePointer<Float>.allocate(capacity: pixels * cin)
                    // Output pixel-major, [outPixels][C_out]: each pixel's channels are
                    // stored as whole vectors, then transposed to NCHW once.
                    let rows = UnsafeMutableRawPointer.allocate(byteCount: outPixels * cout * 4, alignment: 64)
                        .bindMemory(to: Float.self, capacity: outPixels * cout)
                    defer { count.deallocate(); channel.deallocate(); value.deallocate(); rows.deallocate() }
                    for n in range {
                        gather(n, count, channel, value)
                        self.outputRows(ch: channel, val: value, count: count, w: w, bias: b, rows: rows,
                                        inH: inH, inW: inW, outH: outH, outW: outW)
                        PixelMajor.toPlanes(rows, pixels: outPixels, rowStride: cout, channels: cout, into: y + n * cout * outPixels)
                    }
                }
            }
        }
    }

    /// Lists the set bits of one image's spike bytes per pixel, branch-free like the float
    /// form: every channel is written at the pixel's next slot, which advances on a 1 bit.
    @inline(__always)
    static func gatherEvents(_ image: UnsafePointer<UInt8>, groups: Int, channels cin: Int, pixels: Int, amplitudes: UnsafePointer<Float>,
                             count: UnsafeMutablePointer<Int32>, channel: UnsafeMutablePointer<Int32>, value: UnsafeMutablePointer<Float>) {
        for p in 0..<pixels {
            let slots = p * cin
            var k = 0
            for g in 0..<groups {
                let byte = Int(image[g * pixels + p]), first = 8 * g
                for j in 0..<min(8, cin - first) {
                    channel[slots + k] = Int32(truncatingIfNeeded: first + j)
                    value[slots + k] = amplitudes[first + j]
                    k += (byte >> j) & 1
                }
            }
            count[p] = Int32(truncatingIfNeeded: k)
        }
    }

    /// Lists the non-zero inputs of one image per pixel, branch-free: every value is written
    /// at the pixel's next slot and the slot advances only for a non-zero one.
    @inline(__always)
    static func gatherEvents(_ image: UnsafePointer<Float>, channels cin: Int, pixels: Int, count: UnsafeMutablePointer<Int32>,
                             channel: UnsafeMutablePointer<Int32>, value: UnsafeMutablePointer<Float>) {
        count.initialize(repeating: 0, count: pixels)
        for c in 0..<cin {
            let plane = image + c * pixels
            for p in 0..<pixels {
                let v = plane[p]
                let k = p * cin + Int(count[p])
                channel[k] = Int32(truncatingIfNeeded: c)
                value[k] = v
                count[p] += v != 0 ? 1 : 0
            }
        }
    }

    /// Every output pixel of one image, block by block of output channels (128, then 64
    /// and 16) and tap by tap: one tap's weight rows of one block (C_in x block floats, at
    /// most 64 KB) stay in L1 while every output pixel adds the rows of its events under
    /// that tap, so each event's row is an L1 hit rather than an L2 round trip whose latency
    /// the short per-tap loops cannot hide. Accumulators live in `rows` between taps; the
    /// sum per output is still bias, then taps in order, channels ascending within a tap.
    @inline(__always)
    private func outputRows(ch: UnsafePointer<Int32>, val: UnsafePointer<Float>, count: UnsafePointer<Int32>, w: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>, rows: UnsafeMutablePointer<Float>, inH: Int, inW: Int, outH: Int, outW: Int) {
        let cin = inputChannels, cout = outputChannels
        let (kh, kw) = window.kernel
        let (sh, sw) = window.stride, (dh, dw) = window.dilation
        let (top, left) = (window.padTop, window.padLeft)
        for (block, width, offset) in blocks {
            for o in 0..<(outH * outW) {
                for j in stride(from: 0, to: width, by: 16) { GEMM.store16(GEMM.load16(bias + block + j), rows + o * cout + block + j) }
            }
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let tapBase = w + offset + (ki * kw + kj) * cin * width
                    for oh in 0..<outH {
                        let ih = oh * sh - top + ki * dh
                        if ih < 0 || ih >= inH { continue }
                        for ow in 0..<outW {
                            let iw = ow * sw - left + kj * dw
                            if iw < 0 || iw >= inW { continue }
                            let p = ih * inW + iw
                            let events = Int(count[p])
                            if events == 0 { continue }
                            let chs = ch + p * cin, vals = val + p * cin
                            let row = rows + (oh * outW + ow) * cout + block
                            switch width {
                            case 128: Self.accumulate128(row, events, chs, vals, tapBase)
                            case 64: Self.accumulate64(row, events, chs, vals, tapBase)
                            default: Self.accumulate16(row, events, chs, vals, tapBase)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    static func accumulate128(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>,
                              _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = GEMM.load16(row + 16), a2 = GEMM.load16(row + 32), a3 = GEMM.load16(row + 48)
        var a4 = GEMM.load16(row + 64), a5 = GEMM.load16(row + 80), a6 = GEMM.load16(row + 96), a7 = GEMM.load16(row + 112)
        for k in 0..<events {
            let r = tapBase + Int(chs[k]) &* 128
            let s = SIMD16<Float>(repeating: vals[k])
            a0 = a0.addingProduct(s, GEMM.load16(r)); a1 = a1.addingProduct(s, GEMM.load16(r + 16))
            a2 = a2.addingProduct(s, GEMM.load16(r + 32)); a3 = a3.addingProduct(s, GEMM.load16(r + 48))
            a4 = a4.addingProduct(s, GEMM.load16(r + 64)); a5 = a5.addingProduct(s, GEMM.load16(r + 80))
            a6 = a6.addingProduct(s, GEMM.load16(r + 96)); a7 = a7.addingProduct(s, GEMM.load16(r + 112))
        }
        GEMM.store16(a0, row); GEMM.store16(a1, row + 16); GEMM.store16(a2, row + 32); GEMM.store16(a3, row + 48)
        GEMM.store16(a4, row + 64); GEMM.store16(a5, row + 80); GEMM.store16(a6, row + 96); GEMM.store16(a7, row + 112)
    }

    /// Odd events go to a second set of registers: eight independent FMA chains.
    @inline(__always)
    static func accumulate64(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>,
                             _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = GEMM.load16(row + 16), a2 = GEMM.load16(row + 32), a3 = GEMM.load16(row + 48)
        var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
        var k = 0
        while k + 2 <= events {
            let r = tapBase + Int(chs[k]) &* 64, q = tapBase + Int(chs[k + 1]) &* 64
            let s = SIMD16<Float>(repeating: vals[k]), u = SIMD16<Float>(repeating: vals[k + 1])
            a0 = a0.addingProduct(s, GEMM.load16(r)); a1 = a1.addingProduct(s, GEMM.load16(r + 16))
            a2 = a2.addingProduct(s, GEMM.load16(r + 32)); a3 = a3.addingProduct(s, GEMM.load16(r + 48))
            a4 = a4.addingProduct(u, GEMM.load16(q)); a5 = a5.addingProduct(u, GEMM.load16(q + 16))
            a6 = a6.addingProduct(u, GEMM.load16(q + 32)); a7 = a7.addingProduct(u, GEMM.load16(q + 48))
            k += 2
        }
        if k < events {
            let r = tapBase + Int(chs[k]) &* 64
            let s = SIMD16<Float>(repeating: vals[k])
            a0 = a0.addingProduct(s, GEMM.load16(r)); a1 = a1.addingProduct(s, GEMM.load16(r + 16))
            a2 = a2.addingProduct(s, GEMM.load16(r + 32)); a3 = a3.addingProduct(s, GEMM.load16(r + 48))
        }
        GEMM.store16(a0 + a4, row); GEMM.store16(a1 + a5, row + 16); GEMM.store16(a2 + a6, row + 32); GEMM.store16(a3 + a7, row + 48)
    }

    /// Events round-robin over four chains.
    @inline(__always)
    static func accumulate16(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: UnsafePointer<Float>,
                             _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var k = 0
        while k + 4 <= events {
            a0 = a0.addingProduct(SIMD16<Float>(repeating: vals[k]), GEMM.load16(tapBase + Int(chs[k]) &* 16))
            a1 = a1.addingProduct(SIMD16<Float>(repeating: vals[k + 1]), GEMM.load16(tapBase + Int(chs[k + 1]) &* 16))
            a2 = a2.addingProduct(SIMD16<Float>(repeating: vals[k + 2]), GEMM.load16(tapBase + Int(chs[k + 2]) &* 16))
            a3 = a3.addingProduct(SIMD16<Float>(repeating: vals[k + 3]), GEMM.load16(tapBase + Int(chs[k + 3]) &* 16))
            k += 4
        }
        while k < events {
            a0 = a0.addingProduct(SIMD16<Float>(repeating: vals[k]), GEMM.load16(tapBase + Int(chs[k]) &* 16))
            k += 1
        }
        GEMM.store16((a0 + a1) + (a2 + a3), row)
    }
}
