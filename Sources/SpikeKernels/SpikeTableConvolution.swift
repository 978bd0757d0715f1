import SNNTensor
import SNNAMX

/// A 2-D convolution of spike maps by table lookup: the dense form for binary inputs.
///
/// A spiking layer's output is binary per neuron, 0 or the channel's amplitude a_c. So
/// under one kernel tap, a group of k input channels of a pixel (k = 4 or 8) can only
/// contribute one of 2^k sums, sum_{j in S} a_{c+j} W[:, c+j, tap] for the subset S that
/// fired. Those vectors (over the output channels) are computed once per layer; the
/// convolution then reads, per output pixel, tap and group, the k-bit spike pattern and
/// adds one table row: C_in/k vector adds per tap instead of the C_in multiply-adds of a
/// dense convolution, whatever the firing rate, and no data-dependent branches. The
/// event-driven kernel still wins on wide layers that fire sparsely (it does
/// density x C_in adds, each about as cheap as a lookup there).
///
/// Tables are [block][tap][group][2^k][width] for output-channel blocks of 64, 32 or 16
/// (the channel count padded to a multiple of 16), 64-byte aligned. Kernels three columns
/// wide at stride 1 (most 3x3 layers) instead slide along output rows
/// (`slidesAlongRows`): tables [block][kernel row][group][2^k][3][16], one lookup serving
/// three neighbouring outputs. 8-bit groups halve the
/// lookups but make tables 32x the weights' size, so they are used only while the tables
/// stay well inside L2; otherwise 4-bit groups (4x the weights). Entry sums are formed
/// once in a fixed order, and each output adds bias, then taps in order with lookups spread
/// over two chains (even, odd), so results agree with the dense convolution to float rounding, not
/// bit for bit.
///
/// Unchecked Sendable: the tables are written once in `init` and only read.
public final class SpikeTableConvolution: @unchecked Sendable {
    /// Input channels (spike maps read).
    public let inputChannels: Int
    /// Output channels (currents written).
    public let outputChannels: Int
    /// Kernel size, stride, padding and dilation.
    public let window: WindowGeometry
    /// Input channels per group (4 or 8): the bits of one spike pattern.
    public let groupBits: Int
    /// Input channel groups (the last one may be partial).
    let groups: Int
    /// Output channels rounded up to a multiple of 16: the row stride of the accumulators.
    public let paddedOutputs: Int
    let tables: UnsafeMutablePointer<Float>
    let bias: [Float]
    /// First output channel, width and offset into `tables` of each block.
    let blocks: [(start: Int, width: Int, offset: Int)]
    /// Whether lookups slide along output rows: at stride 1 with three undilated kernel
    /// columns, input column c feeds outputs c, c-1 and c-2 (padded coordinates) through
    /// kernel columns 0, 1 and 2, so one pattern read per (kernel row, group) and input
    /// pixel fetches an entry of all three columns' sums, added to three running outputs.
    /// A pixel then costs (kernel rows x groups) pattern reads instead of (taps x groups),
    /// and the vector adds are the same: on ResNet-20's 16-channel layers (16 outputs, the
    /// adds 16 lanes wide) the index work had been most of the loop, 8.1 -> 5.1 ns per
    /// output pixel in a C model of both loops.
    public let slidesAlongRows: Bool
    /// Whether the sliding runs take the unrolled loops in C (`snn_slide_rows`, and
    /// `snn_slide_fire` for a fused neuron layer). In Swift, inlined into its caller, such a
    /// loop ran out of registers and reloaded its row pointers from the stack every column;
    /// and handing each output to the neuron step there made the compiler keep the
    /// step's state in memory, which cost more than the step saved.
    let slidesUnrolled: Bool

    /// Whether lookups for `window` slide along rows (`slidesAlongRows`).
    public static func slidesAlongRows(_ window: WindowGeometry) -> Bool {
        window.stride == (1, 1) && window.dilation == (1, 1) && window.kernel.w == 3
    }

    /// Whether they also take the unrolled loops: three kernel rows of two or four 8-bit
    /// groups (16 or 32 input channels, ResNet's narrow 3x3 layers). The kernel choice's
    /// cost model is fitted on these loops only.
    public static func slidesUnrolled(_ window: WindowGeometry, inputChannels: Int, groupBits: Int) -> Bool {
        let groups = (inputChannels + groupBits - 1) / groupBits
        return slidesAlongRows(window) && window.kernel.h == 3 && groupBits == 8 && (groups == 2 || groups == 4)
    }

    /// Largest table set built with 8-bit groups. Measured on a CPU with 2 MB of L2: a 4.7 MB
    /// set (64 -> 64 channels) still ran 1.5x faster than its 4-bit form and a 19 MB one
    /// (128 -> 128) about as fast; above that the 32x growth over the weights buys nothing.
    public static let byteTableLimit = 8 << 20

    /// Channels per spike pattern for a layer: 8 while its tables fit `byteTableLimit`, else 4.
    public static func groupBits(inputChannels: Int, outputChannels: Int, taps: Int) -> Int {
        tableBytes(inputChannels: inputChannels, outputChannels: outputChannels, taps: taps, groupBits: 8) <= byteTableLimit ? 8 : 4
    }

    /// Bytes of a layer's tables with `groupBits`-channel patterns, known before building them.
    public static func tableBytes(inputChannels: Int, outputChannels: Int, taps: Int, groupBits: Int) -> Int {
        taps * ((inputChannels + groupBits - 1) / groupBits) << groupBits * ((outputChannels + 15) / 16 * 16) * MemoryLayout<Float>.stride
    }

    /// `amplitudes`: the value a spike of each input channel carries (one value for all
    /// channels, or one per channel). `groupBits` 4 or 8, or nil to choose by table size.
    /// Groups other than 1 are not handled (nil).
    public init?(weights: [Float], bias: [Float]?, amplitudes: [Float], inputChannels: Int, outputChannels: Int, groups: Int,
                 window: WindowGeometry, groupBits: Int? = nil) {
        let taps = window.kernel.h * window.kernel.w
        guard groups == 1, inputChannels > 0, outputChannels > 0, amplitudes.count == 1 || amplitudes.count == inputChannels,
              weights.count == outputChannels * inputChannels * taps, groupBits == nil || groupBits == 4 || groupBits == 8 else { return nil }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.window = window
        paddedOutputs = (outputChannels + 15) / 16 * 16
        let bits = groupBits ?? Self.groupBits(inputChannels: inputChannels, outputChannels: outputChannels, taps: taps)
        self.groupBits = bits
        self.groups = (inputChannels + bits - 1) / bits
        var padded = bias ?? []
        padded += [Float](repeating: 0, count: paddedOutputs - padded.count)
        self.bias = padded

        let entries = 1 << bits
        let slides = Self.slidesAlongRows(window)
        slidesAlongRows = slides
        slidesUnrolled = Self.slidesUnrolled(window, inputChannels: inputChannels, groupBits: bits)
        var blocks = [(start: Int, width: Int, offset: Int)]()
        var start = 0, size = 0
        while start < paddedOutputs {
            let width = slides ? 16 : (paddedOutputs - start >= 64 ? 64 : (paddedOutputs - start >= 32 ? 32 : 16))
            blocks.append((start, width, size))
            size += taps * self.groups * entries * width
            start += width
        }
        self.blocks = blocks
        tables = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1) * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(size, 1))
        tables.initialize(repeating: 0, count: max(size, 1))
        let kw = window.kernel.w
        for (start, width, offset) in blocks {
            for tap in 0..<taps {
                for g in 0..<self.groups {
                    // Where entry s of this (tap, group) starts, and the stride between entries:
                    // per tap and group, or (sliding) per kernel row and group with the row's
                    // columns side by side in each entry.
                    let (table, entryStride) = slides
                        ? (tables + offset + ((tap / kw * self.groups + g) * entries * kw + tap % kw) * width, kw * width)
                        : (tables + offset + (tap * self.groups + g) * entries * width, width)
                    // Entry s = entry (s without its lowest bit) + that bit's scaled weight row.
                    for s in 1..<entries {
                        let c = bits * g + s.trailingZeroBitCount
                        let row = table + s * entryStride, base = table + (s & (s - 1)) * entryStride
                        let amplitude = amplitudes[amplitudes.count == 1 ? 0 : min(c, inputChannels - 1)]
                        for j in 0..<width {
                            let o = start + j
                            let w = c < inputChannels && o < outputChannels ? weights[(o * inputChannels + c) * taps + tap] : 0
                            row[j] = base[j] + amplitude * w
                        }
                    }
                }
            }
        }
    }

    deinit { tables.deallocate() }

    /// `input` holds spikes: every value is 0 or its channel's amplitude (only "non-zero"
    /// is read, so a value other than the amplitude counts as the amplitude).
    public func forward(_ input: Tensor) -> Tensor {
        forward(SpikePatterns(packing: input, amplitudes: [1]))
    }

    /// The convolution of packed spikes (their amplitudes are already in the tables).
    public func forward(_ input: SpikePatterns) -> Tensor {
        let spikes = padded(input)
        let (images, outPixels, stride, cout) = (input.images, spikes.outH * spikes.outW, paddedOutputs, outputChannels)
        return Tensor(shape: [images, cout, spikes.outH, spikes.outW]) { out in
            let y = out.baseAddress!
            Parallel.forEachRange(images) { range in
                let rows = UnsafeMutableRawPointer.allocate(byteCount: outPixels * stride * 4, alignment: 64)
                    .bindMemory(to: Float.self, capacity: outPixels * stride)
                defer { rows.deallocate() }
                for n in range {
                    self.accumulate(spikes, image: n, pixels: 0..<outPixels, into: rows)
                    PixelMajor.toPlanes(rows, pixels: outPixels, rowStride: stride, channels: cout, into: y + n * cout * outPixels)
                }
            }
        }
    }

    /// Packed spikes laid out for the lookups: per image, one byte plane per group (4 or 8
    /// channels) carrying the zero padding, so every tap of every output pixel reads a valid
    /// byte (pattern 0 adds the zero row) and the inner loop has no bounds checks.
    public struct PaddedSpikes: Sendable {
        let bytes: [UInt8]
        /// Bytes per image, padded plane width, output size.
        let imageBytes: Int, paddedWidth: Int
        /// The output map's height and width.
        public let outH: Int, outW: Int
        /// Where each (tap, group) lookup reads its pattern, relative to the output pixel's
        /// top-left input position, in the order of the tables.
        let offsets: [Int]
    }

    /// The spike bytes of `input` with the padding around each map, as the sliding lookups read them.
    public func padded(_ input: SpikePatterns) -> PaddedSpikes {
        let (images, inH, inW, pixels, inputGroups) = (input.images, input.shape[2], input.shape[3], input.pixels, input.groups)
        let (top, left) = (window.padTop, window.padLeft)
        let paddedW = left + inW + window.padRight, paddedH = top + inH + window.padBottom
        let plane = paddedH * paddedW
        let (groups, bits) = (self.groups, groupBits)
        var offsets = [Int]()
        for ki in 0..<window.kernel.h {
            for kj in 0..<window.kernel.w {
                for g in 0..<groups { offsets.append(g * plane + ki * window.dilation.h * paddedW + kj * window.dilation.w) }
            }
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: images * groups * plane) { out, initialized in
            input.bytes.withUnsafeBufferPointer { x in
                let xp = x.baseAddress!, op = out.baseAddress!
                Parallel.forEach(images) { n in
                    let image = xp + n * inputGroups * pixels, target = op + n * groups * plane
                    target.initialize(repeating: 0, count: groups * plane)
                    for g in 0..<groups {
                        for h in 0..<inH {
                            let row = target + g * plane + (h + top) * paddedW + left
                            if bits == 8 {
                                row.update(from: image + g * pixels + h * inW, count: inW)
                            } else {
                                // A 4-bit group is one half of an 8-channel byte.
                                let source = image + (g / 2) * pixels + h * inW, shift = UInt8(4 * (g % 2))
                                for i in 0..<inW { row[i] = (source[i] >> shift) & 15 }
                            }
                        }
                    }
                }
            }
            initialized = images * groups * plane
        }
        return PaddedSpikes(bytes: bytes, imageBytes: groups * plane, paddedWidth: paddedW,
                            outH: window.outputHeight(inH), outW: window.outputWidth(inW), offsets: offsets)
    }

    /// Output pixels `pixels` (row-major indices) of one image as rows of `paddedOutputs`
    /// values, bias included: rows[(o - pixels.lowerBound) * paddedOutputs + channel].
    public func accumulate(_ input: PaddedSpikes, image: Int, pixels: Range<Int>, into rows: UnsafeMutablePointer<Float>) {
        if slidesUnrolled {
            return forEachSlidingRun(input, image: image, pixels: pixels) { run, pixel, channel in
                snn_slide_rows(&run, rows + (pixel - pixels.lowerBound) * paddedOutputs + channel, paddedOutputs)
            }
        }
        input.bytes.withUnsafeBufferPointer { x in
            input.offsets.withUnsafeBufferPointer { o in
                bias.withUnsafeBufferPointer { b in
                    let patterns = x.baseAddress! + image * input.imageBytes, offsets = o.baseAddress!, bias = b.baseAddress!
                    for (start, width, offset) in blocks {
                        let table = UnsafePointer(tables + offset)
                        if slidesAlongRows {
                            slide(patterns, planeBytes: input.imageBytes / groups, table, bias + start, rows + start, input.paddedWidth,
                                  input.outW, pixels)
                            continue
                        }
                        switch width {
                        case 64: lookup(Lanes64.self, patterns, offsets, table, bias + start, rows + start, input.paddedWidth, input.outW, pixels)
                        case 32: lookup(Lanes32.self, patterns, offsets, table, bias + start, rows + start, input.paddedWidth, input.outW, pixels)
                        default: lookup(Lanes16.self, patterns, offsets, table, bias + start, rows + start, input.paddedWidth, input.outW, pixels)
                        }
                    }
                }
            }
        }
    }

    /// Output pixels `pixels` of one image for one block of output channels. Each pixel
    /// sums bias and the even-numbered (tap, group) rows in one chain and the odd ones in
    /// another, then adds the two: the same order whether it runs alone or in a run of
    /// four, so results do not depend on how pixels are grouped.
    ///
    /// Narrow blocks (16 or 32 lanes) run four neighbouring pixels of a row together: one
    /// pixel has only two or four registers of accumulators, and an add waits 4 cycles for
    /// the previous one in its chain, so alone it leaves the adders idle; four pixels give
    /// 8 or 16 independent chains and share the offset loads.
    @inline(__always)
    private func lookup<Row: SpikeTableRow>(_: Row.Type, _ patterns: UnsafePointer<UInt8>, _ offsets: UnsafePointer<Int>,
                                            _ table: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                            _ rows: UnsafeMutablePointer<Float>, _ paddedW: Int, _ outW: Int, _ pixels: Range<Int>) {
        let width = Row.width, stride = paddedOutputs, count = window.kernel.h * window.kernel.w * groups
        let (sh, sw) = window.stride
        let entryStride = width << groupBits
        var oh = pixels.lowerBound / outW, ow = pixels.lowerBound % outW
        var o = pixels.lowerBound
        while o < pixels.upperBound {
            let source = patterns + (oh &* sh &* paddedW &+ ow &* sw)
            let out = rows + (o &- pixels.lowerBound) &* stride
            if width <= 32 && ow + 4 <= outW && o + 4 <= pixels.upperBound {
                lookupFour(Row.self, source, sw, offsets, table, bias, out, count, entryStride)
                o += 4
                ow += 4
            } else {
                var even = Row(bias), odd = Row()
                var entries = table
                var l = 0
                while l + 2 <= count {
                    even.add(entries + Int(source[offsets[l]]) &* width)
                    odd.add(entries + entryStride + Int(source[offsets[l + 1]]) &* width)
                    entries += 2 &* entryStride
                    l += 2
                }
                if l < count { even.add(entries + Int(source[offsets[l]]) &* width) }
                even.merge(odd, into: out)
                o += 1
                ow += 1
            }
            if ow == outW { ow = 0; oh += 1 }
        }
    }

    /// Four pixels of one output row (`step` input columns apart), in the order of `lookup`.
    @inline(__always)
    private func lookupFour<Row: SpikeTableRow>(_: Row.Type, _ source: UnsafePointer<UInt8>, _ step: Int, _ offsets: UnsafePointer<Int>,
                                                _ table: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                                                _ out: UnsafeMutablePointer<Float>, _ count: Int, _ entryStride: Int) {
        let width = Row.width, stride = paddedOutputs
        var e0 = Row(bias), e1 = Row(bias), e2 = Row(bias), e3 = Row(bias)
        var d0 = Row(), d1 = Row(), d2 = Row(), d3 = Row()
        var entries = table
        var l = 0
        while l < count {
            let s = source + offsets[l]
            e0.add(entries + Int(s[0]) &* width)
            e1.add(entries + Int(s[step]) &* width)
            e2.add(entries + Int(s[2 &* step]) &* width)
            e3.add(entries + Int(s[3 &* step]) &* width)
            if l + 1 < count {
                let t = source + offsets[l + 1], next = entries + entryStride
                d0.add(next + Int(t[0]) &* width)
                d1.add(next + Int(t[step]) &* width)
                d2.add(next + Int(t[2 &* step]) &* width)
                d3.add(next + Int(t[3 &* step]) &* width)
            }
            entries += 2 &* entryStride
            l += 2
        }
        e0.merge(d0, into: out)
        e1.merge(d1, into: out + stride)
        e2.merge(d2, into: out + 2 &* stride)
        e3.merge(d3, into: out + 3 &* stride)
    }
}

extension SpikeTableConvolution {
    /// Output pixels `pixels` of one image for one 16-lane block, sliding along each row
    /// (`slidesAlongRows`, shapes the C loops of `slidesUnrolled` do not take). Sweeping input column c, the outputs c, c-1 and c-2 are live
    /// in registers and take kernel columns 0, 1 and 2 of each entry; output c-2 is then
    /// complete. Each output sums bias, then by kernel column, row and group, even groups
    /// in one chain and odd ones in another: a fixed order whatever run of pixels it is
    /// computed in. A run starting mid-row also computes the two outputs before it, and
    /// discards them.
    @inline(__always)
    func slide(_ patterns: UnsafePointer<UInt8>, planeBytes: Int, _ table: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
               _ rows: UnsafeMutablePointer<Float>, _ paddedW: Int, _ outW: Int, _ pixels: Range<Int>) {
        let stride = paddedOutputs, kh = window.kernel.h, groups = self.groups
        // Floats per (kernel row, group) table.
        let tableFloats = 48 << groupBits
        var o = pixels.lowerBound
        while o < pixels.upperBound {
            let oh = o / outW, first = o % outW
            let last = min(outW, first + (pixels.upperBound - o))
            let out = rows + (o &- pixels.lowerBound) &* stride
            let top = patterns + oh &* paddedW
            var live = SlidingOutputs(bias)
            for c in first..<(last + 2) {
                var t = table
                for ky in 0..<kh {
                    let row = top + (ky &* paddedW &+ c)
                    var g = 0
                    while g &+ 2 <= groups {
                        live.add(pair: row + g &* planeBytes, planeBytes, t, tableFloats)
                        t += 2 &* tableFloats
                        g &+= 2
                    }
                    if g < groups {
                        live.add(single: t + Int(row[g &* planeBytes]) &* 48)
                        t += tableFloats
                    }
                }
                if c >= first &+ 2 { GEMM.store16(live.finished, out + (c &- 2 &- first) &* stride) }
                live.shift()
            }
            o += last - first
        }
    }

    /// Whether `accumulate(_:image:pixels:firing:weighted:)` runs: the loops of `slidesUnrolled`.
    public var firesWhileSliding: Bool { slidesUnrolled }

    /// `accumulate`, with the neuron step of a fused layer (`neuron`, whose pixel q is
    /// output pixel `pixels.lowerBound` + q) run on each output as it completes
    /// (`snn_slide_fire`): the values of `accumulate` then `snn_fire_rows`, without storing
    /// the rows and loading them back, and the neuron's loads overlap the lookups'. Only
    /// with `firesWhileSliding`. Returns the spikes fired; the fired neurons' fan-out adds
    /// to weighted[0..15].
    public func accumulate(_ input: PaddedSpikes, image: Int, pixels: Range<Int>, firing neuron: UnsafePointer<snn_fire_rows_args>,
                           weighted: UnsafeMutablePointer<Float>) -> Int {
        precondition(firesWhileSliding, "the neuron step runs inside the unrolled sliding loops only")
        var fired = 0
        forEachSlidingRun(input, image: image, pixels: pixels) { run, pixel, channel in
            fired += snn_slide_fire(&run, neuron, pixel - pixels.lowerBound, Int32(channel), weighted)
        }
        return fired
    }

    /// The runs of the unrolled sliding loops (`snn_slide_args`) for output pixels `pixels`
    /// of one image: per block of 16 outputs and per output row, with the run's first pixel
    /// and the block's first channel.
    private func forEachSlidingRun(_ input: PaddedSpikes, image: Int, pixels: Range<Int>,
                                   _ body: (inout snn_slide_args, _ pixel: Int, _ channel: Int) -> Void) {
        input.bytes.withUnsafeBufferPointer { x in
            bias.withUnsafeBufferPointer { b in
                let patterns = x.baseAddress! + image * input.imageBytes, planeBytes = input.imageBytes / groups
                for (start, _, offset) in blocks {
                    var o = pixels.lowerBound
                    while o < pixels.upperBound {
                        let first = o % input.outW, last = min(input.outW, first + (pixels.upperBound - o))
                        var run = snn_slide_args(top: patterns + (o / input.outW) * input.paddedWidth, padded_width: input.paddedWidth,
                                                 plane_bytes: planeBytes, table: tables + offset, bias: b.baseAddress! + start,
                                                 groups: Int32(groups), first: Int32(first), last: Int32(last))
                        body(&run, o, start)
                        o += last - first
                    }
                }
            }
        }
    }
}

/// The three outputs live while sliding along a row (`SpikeTableConvolution.slide`):
/// outputs c, c-1 and c-2 take kernel columns 0, 1 and 2 of each entry, even groups in the
/// `a` chain (which starts at the bias) and odd ones in `b`.
struct SlidingOutputs {
    let bias: SIMD16<Float>
    var a0: SIMD16<Float>, b0 = SIMD16<Float>(), a1: SIMD16<Float>, b1 = SIMD16<Float>(), a2: SIMD16<Float>, b2 = SIMD16<Float>()

    @inline(__always) init(_ bias: UnsafePointer<Float>) {
        self.bias = GEMM.load16(bias)
        (a0, a1, a2) = (self.bias, self.bias, self.bias)
    }

    /// The entries of two groups: the patterns at `column` and `planeBytes` after it, in
    /// the tables at `table` and `tableFloats` after it.
    @inline(__always) mutating func add(pair column: UnsafePointer<UInt8>, _ planeBytes: Int, _ table: UnsafePointer<Float>, _ tableFloats: Int) {
        add(table + Int(column[0]) &* 48, table + tableFloats + Int(column[planeBytes]) &* 48)
    }

    /// Entry `e` of an even group and `f` of an odd one.
    @inline(__always) mutating func add(_ e: UnsafePointer<Float>, _ f: UnsafePointer<Float>) {
        a0 += GEMM.load16(e); b0 += GEMM.load16(f)
        a1 += GEMM.load16(e + 16); b1 += GEMM.load16(f + 16)
        a2 += GEMM.load16(e + 32); b2 += GEMM.load16(f + 32)
    }

    @inline(__always) mutating func add(single e: UnsafePointer<Float>) {
        a0 += GEMM.load16(e); a1 += GEMM.load16(e + 16); a2 += GEMM.load16(e + 32)
    }

    /// Output c-2, complete.
    @inline(__always) var finished: SIMD16<Float> { a2 + b2 }

    /// On to the next column: c-1 becomes c-2, c becomes c-1, a new output starts.
    @inline(__always) mutating func shift() {
        (a2, b2, a1, b1, a0, b0) = (a1, b1, a0, b0, bias, SIMD16<Float>())
    }
}

/// Accumulators for one output pixel's block of channels, 16 lanes per register.
protocol SpikeTableRow {
    static var width: Int { get }
    init()
    init(_ values: UnsafePointer<Float>)
    mutating func add(_ row: UnsafePointer<Float>)
    /// Stores self + b.
    func merge(_ b: Self, into out: UnsafeMutablePointer<Float>)
}

struct Lanes16: SpikeTableRow {
    var a = SIMD16<Float>()
    static var width: Int { 16 }
    @inline(__always) init() {}
    @inline(__always) init(_ p: UnsafePointer<Float>) { a = GEMM.load16(p) }
    @inline(__always) mutating func add(_ p: UnsafePointer<Float>) { a += GEMM.load16(p) }
    @inline(__always) func merge(_ b: Self, into out: UnsafeMutablePointer<Float>) { GEMM.store16(a + b.a, out) }
}

/// Two halves side by side: 32 lanes from two 16s, 64 from two 32s.
struct LanePair<Half: SpikeTableRow>: SpikeTableRow {
    var a = Half(), b = Half()
    static var width: Int { 2 * Half.width }
    @inline(__always) init() {}
    @inline(__always) init(_ p: UnsafePointer<Float>) { a = Half(p); b = Half(p + Half.width) }
    @inline(__always) mutating func add(_ p: UnsafePointer<Float>) { a.add(p); b.add(p + Half.width) }
    @inline(__always) func merge(_ x: Self, into out: UnsafeMutablePointer<Float>) {
        a.merge(x.a, into: out)
        b.merge(x.b, into: out + Half.width)
    }
}

typealias Lanes32 = LanePair<Lanes16>
typealias Lanes64 = LanePair<Lanes32>
