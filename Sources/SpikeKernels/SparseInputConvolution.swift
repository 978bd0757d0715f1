import SNNTensor
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
    /// Input channels.
    public let inputChannels: Int
    /// Output channels.
    public let outputChannels: Int
    /// Kernel size, stride, padding and dilation.
    public let window: WindowGeometry
    /// Per block of output channels (128, then 64, then 16 wide), [tap][C_in][width].
    /// 64-byte aligned, so no 16-float load of a row straddles two cache lines (a row
    /// offset is a multiple of 64 bytes).
    let weights: UnsafeMutablePointer<Float>
    let bias: [Float]
    /// First output channel, width and offset into `weights` of each block.
    let blocks: [(start: Int, width: Int, offset: Int)]
    /// Set when the weights were scaled by the amplitudes of the spikes they will read:
    /// such a kernel takes packed spikes only, and every event then carries the value 1.
    public let spikeAmplitudes: [Float]?

    /// Groups other than 1, or output channels not a multiple of 16, are not handled (nil).
    /// `spikeAmplitudes` (one per input channel, or one for all): build the kernel for
    /// packed spikes of these amplitudes, folded into the weights.
    public init?(weights onnxWeights: [Float], bias: [Float]?, inputChannels: Int, outputChannels: Int, groups: Int,
                 window: WindowGeometry, spikeAmplitudes: [Float]? = nil) {
        guard groups == 1, outputChannels % 16 == 0 else { return nil }
        if let a = spikeAmplitudes, a.count != 1 && a.count != inputChannels { return nil }
        self.spikeAmplitudes = spikeAmplitudes
        let scale = { (c: Int) -> Float in spikeAmplitudes.map { $0[$0.count == 1 ? 0 : c] } ?? 1 }
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
                    for t in 0..<taps {
                        w[offset + (t * inputChannels + ci) * width + j] = scale(ci) * onnxWeights[((start + j) * inputChannels + ci) * taps + t]
                    }
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

    /// The convolution of a float `[N, C, H, W]` map, visiting only its non-zero values.
    public func forward(_ input: Tensor) -> Tensor {
        precondition(spikeAmplitudes == nil, "this kernel's weights carry spike amplitudes: give it packed spikes")
        let (inH, inW) = (input.shape[2], input.shape[3])
        let cin = inputChannels, pixels = inH * inW
        return input.storage.withUnsafeBufferPointer { x in
            let xp = x.baseAddress!
            return convolve(images: input.shape[0], inH: inH, inW: inW, unitValues: false) { n, count, channel, value in
                Self.gatherEvents(xp + n * cin * pixels, channels: cin, pixels: pixels, count: count, channel: channel, value: value)
            }
        }
    }

    /// The convolution of packed spikes: each set bit is an event. With the amplitudes in
    /// the weights every event's value is 1 and only its channel is listed, eight bits at
    /// a time; otherwise each event carries its channel's amplitude.
    public func forward(_ input: SpikePatterns) -> Tensor {
        let (inH, inW) = (input.shape[2], input.shape[3])
        let cin = inputChannels, pixels = inH * inW, groups = input.groups
        if spikeAmplitudes != nil {
            return input.bytes.withUnsafeBufferPointer { x in
                let xp = x.baseAddress!
                return convolve(images: input.images, inH: inH, inW: inW, unitValues: true) { n, count, channel, _ in
                    Self.gatherChannels(xp + n * groups * pixels, groups: groups, pixels: pixels, channels: cin, count: count, channel: channel)
                }
            }
        }
        let amplitudes = input.amplitudes.count == cin ? input.amplitudes : [Float](repeating: input.amplitudes[0], count: cin)
        return input.bytes.withUnsafeBufferPointer { x in
            amplitudes.withUnsafeBufferPointer { a in
                let xp = x.baseAddress!, ap = a.baseAddress!
                return convolve(images: input.images, inH: inH, inW: inW, unitValues: false) { n, count, channel, value in
                    Self.gatherEvents(xp + n * groups * pixels, groups: groups, channels: cin, pixels: pixels, amplitudes: ap,
                                      count: count, channel: channel, value: value)
                }
            }
        }
    }

    /// Packed spikes listed as events for every image: per input pixel, the count and the
    /// channels of its spikes (at a fixed stride of C_in, 8 spare slots at the end).
    public struct Events: Sendable {
        let count: [Int32]
        let channel: [Int32]
        let inH: Int, inW: Int
        /// The output map's height and width.
        public let outH: Int, outW: Int
    }

    /// Lists the events of every image of `input` (the kernel must carry the amplitudes).
    public func events(_ input: SpikePatterns) -> Events {
        precondition(spikeAmplitudes != nil, "events are listed for kernels that carry the spike amplitudes")
        let (images, inH, inW, pixels, groups, cin) = (input.images, input.shape[2], input.shape[3], input.pixels, input.groups, inputChannels)
        var count = [Int32](repeating: 0, count: images * pixels)
        var channel = [Int32](repeating: 0, count: images * pixels * cin + 8)
        input.bytes.withUnsafeBufferPointer { x in
            count.withUnsafeMutableBufferPointer { c in
                channel.withUnsafeMutableBufferPointer { ch in
                    let xp = x.baseAddress!, cp = c.baseAddress!, chp = ch.baseAddress!
                    Parallel.forEach(images) { n in
                        Self.gatherChannels(xp + n * groups * pixels, groups: groups, pixels: pixels, channels: cin,
                                            count: cp + n * pixels, channel: chp + n * pixels * cin)
                    }
                }
            }
        }
        return Events(count: count, channel: channel, inH: inH, inW: inW, outH: window.outputHeight(inH), outW: window.outputWidth(inW))
    }

    /// Output pixels `pixels` (row-major indices) of one image as rows, bias included:
    /// rows[(o - pixels.lowerBound) * rowStride + channel].
    public func accumulate(_ events: Events, image: Int, pixels: Range<Int>, into rows: UnsafeMutablePointer<Float>, rowStride: Int) {
        withUnsafePointer(to: image) { accumulate(events, images: UnsafeBufferPointer(start: $0, count: 1), pixels: pixels, into: rows,
                                                  imageStride: 0, rowStride: rowStride) }
    }

    /// The same pixels of several images (the steps of a chunk), image k's rows at
    /// `rows + k * imageStride`. Each tap's weight rows serve every image before the next
    /// tap's are read, so a layer whose weights overflow L2 reads them once per call rather
    /// than once per image; sums per output are formed in the same order as one at a time.
    public func accumulate(_ events: Events, images: UnsafeBufferPointer<Int>, pixels: Range<Int>, into rows: UnsafeMutablePointer<Float>,
                           imageStride: Int, rowStride: Int) {
        let inPixels = events.inH * events.inW, cin = inputChannels
        events.count.withUnsafeBufferPointer { c in
            events.channel.withUnsafeBufferPointer { ch in
                bias.withUnsafeBufferPointer { b in
                    outputRows(UnitValues(), ch: ch.baseAddress!, count: c.baseAddress!, images: images, imageChannels: inPixels * cin,
                               imagePixels: inPixels, w: UnsafePointer(weights), bias: b.baseAddress!, rows: rows, imageStride: imageStride,
                               rowStride: rowStride, inH: events.inH, inW: events.inW, outW: events.outW, pixels: pixels)
                }
            }
        }
    }

    /// For each byte value, the positions of its set bits in ascending order (padded).
    /// Written once when first used, then only read.
    nonisolated(unsafe) static let bitPositions: UnsafePointer<SIMD8<Int32>> = {
        let table = UnsafeMutablePointer<SIMD8<Int32>>.allocate(capacity: 256)
        for byte in 0..<256 {
            var row = SIMD8<Int32>()
            var k = 0
            for j in 0..<8 where byte >> j & 1 == 1 { row[k] = Int32(j); k += 1 }
            table[byte] = row
        }
        return UnsafePointer(table)
    }()

    /// Lists the channels of one image's set bits per pixel: per byte, the positions of its
    /// bits from `bitPositions` are written as one 8-wide store and the slot advances by
    /// the byte's population count. Slots past the pixel's last event are scratch.
    @inline(__always)
    static func gatherChannels(_ image: UnsafePointer<UInt8>, groups: Int, pixels: Int, channels cin: Int,
                               count: UnsafeMutablePointer<Int32>, channel: UnsafeMutablePointer<Int32>) {
        let positions = bitPositions
        for p in 0..<pixels {
            let slots = channel + p * cin
            var k = 0
            for g in 0..<groups {
                let byte = Int(image[g * pixels + p])
                UnsafeMutableRawPointer(slots + k).storeBytes(of: positions[byte] &+ SIMD8(repeating: Int32(8 * g)), as: SIMD8<Int32>.self)
                k += byte.nonzeroBitCount
            }
            count[p] = Int32(truncatingIfNeeded: k)
        }
    }

    /// Per image: `gather` lists its events per input pixel (count, channels, values at a
    /// fixed stride of C_in), then every output pixel accumulates them.
    private func convolve(images: Int, inH: Int, inW: Int, unitValues: Bool,
                          gather: (Int, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let outH = window.outputHeight(inH), outW = window.outputWidth(inW)
        let cin = inputChannels, cout = outputChannels
        let pixels = inH * inW, outPixels = outH * outW
        return Tensor(shape: [images, cout, outH, outW]) { out in
            bias.withUnsafeBufferPointer { bBuffer in
                let w = UnsafePointer(weights), b = bBuffer.baseAddress!, y = out.baseAddress!
                Parallel.forEachRange(images) { range in
                    let count = UnsafeMutablePointer<Int32>.allocate(capacity: pixels)
                    // 8 spare slots: the 8-wide stores of the last pixel may run past its own.
                    let channel = UnsafeMutablePointer<Int32>.allocate(capacity: pixels * cin + 8)
                    let value = UnsafeMutablePointer<Float>.allocate(capacity: unitValues ? 1 : pixels * cin + 8)
                    // Output pixel-major, [outPixels][C_out]: each pixel's channels are
                    // stored as whole vectors, then transposed to NCHW once.
                    let rows = UnsafeMutableRawPointer.allocate(byteCount: outPixels * cout * 4, alignment: 64)
                        .bindMemory(to: Float.self, capacity: outPixels * cout)
                    defer { count.deallocate(); channel.deallocate(); value.deallocate(); rows.deallocate() }
                    for n in range {
                        gather(n, count, channel, value)
                        if unitValues {
                            self.outputRows(UnitValues(), ch: channel, count: count, w: w, bias: b, rows: rows, rowStride: cout,
                                            inH: inH, inW: inW, outW: outW, pixels: 0..<outPixels)
                        } else {
                            self.outputRows(ListedValues(values: value), ch: channel, count: count, w: w, bias: b, rows: rows,
                                            rowStride: cout, inH: inH, inW: inW, outW: outW, pixels: 0..<outPixels)
                        }
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
    private func outputRows<V: EventValues>(_ values: V, ch: UnsafePointer<Int32>, count: UnsafePointer<Int32>,
                                            images: UnsafeBufferPointer<Int> = UnsafeBufferPointer(start: nil, count: 0),
                                            imageChannels: Int = 0, imagePixels: Int = 0, w: UnsafePointer<Float>,
                                            bias: UnsafePointer<Float>, rows: UnsafeMutablePointer<Float>, imageStride: Int = 0, rowStride: Int,
                                            inH: Int, inW: Int, outW: Int, pixels: Range<Int>) {
        let cin = inputChannels
        let (kh, kw) = window.kernel
        let (sh, sw) = window.stride, (dh, dw) = window.dilation
        let (top, left) = (window.padTop, window.padLeft)
        // No list: one image, at `ch`, `count` and `rows` themselves.
        let imageCount = max(images.count, 1)
        for (block, width, offset) in blocks {
            for k in 0..<imageCount {
                for o in 0..<pixels.count {
                    let row = rows + k * imageStride + o * rowStride + block
                    for j in stride(from: 0, to: width, by: 16) { GEMM.store16(GEMM.load16(bias + block + j), row + j) }
                }
            }
            for ki in 0..<kh {
                for kj in 0..<kw {
                    let tapBase = w + offset + (ki * kw + kj) * cin * width
                    for k in 0..<imageCount {
                        let image = images.isEmpty ? 0 : images[k]
                        let chs0 = ch + image * imageChannels, counts = count + image * imagePixels, rowsOfImage = rows + k * imageStride
                        var oh = pixels.lowerBound / outW, ow = pixels.lowerBound % outW
                        for o in 0..<pixels.count {
                            defer { ow += 1; if ow == outW { ow = 0; oh += 1 } }
                            let ih = oh * sh - top + ki * dh, iw = ow * sw - left + kj * dw
                            if ih < 0 || ih >= inH || iw < 0 || iw >= inW { continue }
                            let p = ih * inW + iw
                            let events = Int(counts[p])
                            if events == 0 { continue }
                            let chs = chs0 + p * cin, vals = values.at(image * imageChannels + p * cin)
                            let row = rowsOfImage + o * rowStride + block
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
    static func accumulate128<V: EventValues>(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: V,
                              _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = GEMM.load16(row + 16), a2 = GEMM.load16(row + 32), a3 = GEMM.load16(row + 48)
        var a4 = GEMM.load16(row + 64), a5 = GEMM.load16(row + 80), a6 = GEMM.load16(row + 96), a7 = GEMM.load16(row + 112)
        for k in 0..<events {
            let r = tapBase + Int(chs[k]) &* 128
            a0 = vals.add(a0, k, GEMM.load16(r)); a1 = vals.add(a1, k, GEMM.load16(r + 16))
            a2 = vals.add(a2, k, GEMM.load16(r + 32)); a3 = vals.add(a3, k, GEMM.load16(r + 48))
            a4 = vals.add(a4, k, GEMM.load16(r + 64)); a5 = vals.add(a5, k, GEMM.load16(r + 80))
            a6 = vals.add(a6, k, GEMM.load16(r + 96)); a7 = vals.add(a7, k, GEMM.load16(r + 112))
        }
        GEMM.store16(a0, row); GEMM.store16(a1, row + 16); GEMM.store16(a2, row + 32); GEMM.store16(a3, row + 48)
        GEMM.store16(a4, row + 64); GEMM.store16(a5, row + 80); GEMM.store16(a6, row + 96); GEMM.store16(a7, row + 112)
    }

    /// Odd events go to a second set of registers: eight independent chains.
    @inline(__always)
    static func accumulate64<V: EventValues>(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: V,
                             _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = GEMM.load16(row + 16), a2 = GEMM.load16(row + 32), a3 = GEMM.load16(row + 48)
        var a4 = SIMD16<Float>(), a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>()
        var k = 0
        while k + 2 <= events {
            let r = tapBase + Int(chs[k]) &* 64, q = tapBase + Int(chs[k + 1]) &* 64
            a0 = vals.add(a0, k, GEMM.load16(r)); a1 = vals.add(a1, k, GEMM.load16(r + 16))
            a2 = vals.add(a2, k, GEMM.load16(r + 32)); a3 = vals.add(a3, k, GEMM.load16(r + 48))
            a4 = vals.add(a4, k + 1, GEMM.load16(q)); a5 = vals.add(a5, k + 1, GEMM.load16(q + 16))
            a6 = vals.add(a6, k + 1, GEMM.load16(q + 32)); a7 = vals.add(a7, k + 1, GEMM.load16(q + 48))
            k += 2
        }
        if k < events {
            let r = tapBase + Int(chs[k]) &* 64
            a0 = vals.add(a0, k, GEMM.load16(r)); a1 = vals.add(a1, k, GEMM.load16(r + 16))
            a2 = vals.add(a2, k, GEMM.load16(r + 32)); a3 = vals.add(a3, k, GEMM.load16(r + 48))
        }
        GEMM.store16(a0 + a4, row); GEMM.store16(a1 + a5, row + 16); GEMM.store16(a2 + a6, row + 32); GEMM.store16(a3 + a7, row + 48)
    }

    /// Events round-robin over four chains.
    @inline(__always)
    static func accumulate16<V: EventValues>(_ row: UnsafeMutablePointer<Float>, _ events: Int, _ chs: UnsafePointer<Int32>, _ vals: V,
                             _ tapBase: UnsafePointer<Float>) {
        var a0 = GEMM.load16(row), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var k = 0
        while k + 4 <= events {
            a0 = vals.add(a0, k, GEMM.load16(tapBase + Int(chs[k]) &* 16))
            a1 = vals.add(a1, k + 1, GEMM.load16(tapBase + Int(chs[k + 1]) &* 16))
            a2 = vals.add(a2, k + 2, GEMM.load16(tapBase + Int(chs[k + 2]) &* 16))
            a3 = vals.add(a3, k + 3, GEMM.load16(tapBase + Int(chs[k + 3]) &* 16))
            k += 4
        }
        while k < events {
            a0 = vals.add(a0, k, GEMM.load16(tapBase + Int(chs[k]) &* 16))
            k += 1
        }
        GEMM.store16((a0 + a1) + (a2 + a3), row)
    }
}

/// What an event adds: its weight row times its listed value, or (when the amplitudes are
/// in the weights) the row itself, which saves the broadcast and the multiply.
protocol EventValues {
    /// The values of the events listed from slot `offset` on.
    func at(_ offset: Int) -> Self
    func add(_ sum: SIMD16<Float>, _ k: Int, _ row: SIMD16<Float>) -> SIMD16<Float>
}

struct UnitValues: EventValues {
    @inline(__always) func at(_ offset: Int) -> Self { self }
    @inline(__always) func add(_ sum: SIMD16<Float>, _ k: Int, _ row: SIMD16<Float>) -> SIMD16<Float> { sum + row }
}

struct ListedValues: EventValues {
    let values: UnsafePointer<Float>
    @inline(__always) func at(_ offset: Int) -> Self { ListedValues(values: values + offset) }
    @inline(__always) func add(_ sum: SIMD16<Float>, _ k: Int, _ row: SIMD16<Float>) -> SIMD16<Float> {
        sum.addingProduct(SIMD16(repeating: values[k]), row)
    }
}
