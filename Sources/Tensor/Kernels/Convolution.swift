/// Geometry of a 2-D convolution or pooling window, in ONNX terms.
public struct WindowGeometry: Sendable, Equatable, Hashable {
    /// Kernel height and width.
    public var kernel: (h: Int, w: Int)
    /// Step between windows, vertically and horizontally.
    public var stride: (h: Int, w: Int)
    /// Spacing between kernel taps (1: adjacent).
    public var dilation: (h: Int, w: Int)
    /// Padding before and after each spatial axis.
    public var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int

    /// A window of `kernel` taps with the given stride, dilation and padding.
    public init(kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                pads: (top: Int, left: Int, bottom: Int, right: Int) = (0, 0, 0, 0)) {
        self.kernel = (kernel.0, kernel.1)
        self.stride = (stride.0, stride.1)
        self.dilation = (dilation.0, dilation.1)
        padTop = pads.top; padLeft = pads.left; padBottom = pads.bottom; padRight = pads.right
    }

    /// Output size along one axis; `ceil` rounds a partial last window up (pooling's ceil_mode),
    /// dropping a window that would start entirely inside the end padding, as ONNX does.
    public static func outputSize(input: Int, kernel: Int, stride: Int, dilation: Int,
                                  padBegin: Int, padEnd: Int, ceil: Bool = false) -> Int {
        let span = dilation * (kernel - 1) + 1
        let room = input + padBegin + padEnd - span
        if room < 0 { return 0 }
        var out = (ceil ? (room + stride - 1) / stride : room / stride) + 1
        if ceil && (out - 1) * stride >= input + padBegin { out -= 1 }
        return out
    }

    /// Output rows for an input of `input` rows.
    public func outputHeight(_ input: Int, ceil: Bool = false) -> Int {
        Self.outputSize(input: input, kernel: kernel.h, stride: stride.h, dilation: dilation.h,
                        padBegin: padTop, padEnd: padBottom, ceil: ceil)
    }

    /// Output columns for an input of `input` columns.
    public func outputWidth(_ input: Int, ceil: Bool = false) -> Int {
        Self.outputSize(input: input, kernel: kernel.w, stride: stride.w, dilation: dilation.w,
                        padBegin: padLeft, padEnd: padRight, ceil: ceil)
    }

    /// The input pixel kernel tap (`ki`, `kj`) of output pixel (`oh`, `ow`) reads, or nil
    /// where that tap falls on the padding of an input of `inputSize`.
    public func inputPixel(output oh: Int, _ ow: Int, tap ki: Int, _ kj: Int, inputSize: (h: Int, w: Int)) -> (h: Int, w: Int)? {
        let ih = oh * stride.h - padTop + ki * dilation.h, iw = ow * stride.w - padLeft + kj * dilation.w
        return ih >= 0 && ih < inputSize.h && iw >= 0 && iw < inputSize.w ? (ih, iw) : nil
    }

    /// Windows are equal when every size, step and padding is.
    public static func == (a: Self, b: Self) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.dilation == b.dilation &&
            a.padTop == b.padTop && a.padLeft == b.padLeft && a.padBottom == b.padBottom && a.padRight == b.padRight
    }

    /// Hashes every size, step and padding (tuples are not Hashable).
    public func hash(into hasher: inout Hasher) {
        for v in [kernel.h, kernel.w, stride.h, stride.w, dilation.h, dilation.w, padTop, padLeft, padBottom, padRight] {
            hasher.combine(v)
        }
    }
}

/// A 2-D convolution (NCHW, ONNX semantics) with its weights packed for the GEMM.
///
/// Each group is one GEMM: output[co][pixel] = sum_k W[co][k] * column[k][pixel], with
/// k running over (input channel, kernel row, kernel column). The column matrix
/// (im2col) is never materialised whole: every worker gathers one 32-pixel panel at a
/// time straight into the micro-kernel's packed layout and multiplies it by all output
/// channels while it is hot in L1. Stride-1 convolutions skip even that gather: the
/// input is zero-padded once and the micro-kernel reads each tap's shifted rows in place
/// (see `viaShiftedRows`). Depthwise convolutions, where a GEMM would have a single row,
/// use a direct loop instead.
public final class Convolution: Sendable {
    /// Input channels.
    public let inputChannels: Int
    /// Output channels.
    public let outputChannels: Int
    /// Channel groups, each an independent convolution over inputChannels / groups channels.
    public let groups: Int
    /// Kernel, stride, dilation and padding.
    public let window: WindowGeometry
    let packedWeights: [PackedLHS]
    /// Weights packed with k = (tap, input channel) for the in-place stride-1 path, or empty.
    let tapPackedWeights: [PackedLHS]
    let weights: [Float]
    let bias: [Float]

    /// - Parameters:
    ///   - weights: ONNX layout [outputChannels, inputChannels / groups, kernelH, kernelW].
    ///   - bias: one value per output channel, or nil.
    public init(weights: [Float], bias: [Float]?, inputChannels: Int, outputChannels: Int, groups: Int,
                window: WindowGeometry) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.window = window
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        let depth = (inputChannels / groups) * window.kernel.h * window.kernel.w
        let perGroup = outputChannels / groups
        let taps = window.kernel.h * window.kernel.w
        let cinG = inputChannels / groups
        let depthwise = Self.isDepthwise(inputChannels: inputChannels, outputChannels: outputChannels, groups: groups)
        let unpaddedPointwise = taps == 1 && window.padTop == 0 && window.padLeft == 0 && window.padBottom == 0 && window.padRight == 0
        if !depthwise && window.stride == (1, 1) && !unpaddedPointwise {
            // [co][ci][tap] -> [co][tap][ci]
            var permuted = [Float](repeating: 0, count: weights.count)
            for co in 0..<outputChannels {
                for ci in 0..<cinG {
                    for t in 0..<taps { permuted[(co * taps + t) * cinG + ci] = weights[(co * cinG + ci) * taps + t] }
                }
            }
            tapPackedWeights = permuted.withUnsafeBufferPointer { w in
                (0..<groups).map { g in
                    PackedLHS(rows: perGroup, depth: depth, source: w.baseAddress! + g * perGroup * depth, rowStride: depth, depthStride: 1)
                }
            }
        } else {
            tapPackedWeights = []
        }
        if depthwise || !tapPackedWeights.isEmpty {
            packedWeights = []
        } else {
            packedWeights = weights.withUnsafeBufferPointer { w in
                (0..<groups).map { g in
                    PackedLHS(rows: perGroup, depth: depth, source: w.baseAddress! + g * perGroup * depth,
                              rowStride: depth, depthStride: 1)
                }
            }
        }
    }

    static func isDepthwise(inputChannels: Int, outputChannels: Int, groups: Int) -> Bool {
        groups > 1 && groups == inputChannels && outputChannels % groups == 0 && outputChannels / groups <= 4
    }

    /// [N, outputChannels, H_out, W_out] for an NCHW input of shape `s`.
    public func outputShape(inputShape s: [Int]) -> [Int] {
        [s[0], outputChannels, window.outputHeight(s[2]), window.outputWidth(s[3])]
    }

    /// Runs the convolution on an NCHW input; `clamp` (a ReLU or ReLU6) is applied in the store.
    public func forward(_ input: Tensor, clamp: Clamp? = nil) -> Tensor {
        let outShape = outputShape(inputShape: input.shape)
        return Tensor(shape: outShape) { out in
            input.storage.withUnsafeBufferPointer { x in
                if !tapPackedWeights.isEmpty {
                    viaShiftedRows(x.baseAddress!, inputShape: input.shape, out.baseAddress!, outShape: outShape, clamp: clamp)
                } else if packedWeights.isEmpty {
                    depthwise(x.baseAddress!, inputShape: input.shape, out.baseAddress!, outShape: outShape, clamp: clamp)
                } else {
                    viaGEMM(x.baseAddress!, inputShape: input.shape, out.baseAddress!, outShape: outShape, clamp: clamp)
                }
            }
        }
    }

    private func viaGEMM(_ x: UnsafePointer<Float>, inputShape: [Int], _ y: UnsafeMutablePointer<Float>,
                         outShape: [Int], clamp: Clamp?) {
        let (batch, inH, inW) = (inputShape[0], inputShape[2], inputShape[3])
        let (outH, outW) = (outShape[2], outShape[3])
        let pixels = outH * outW
        let nr = GEMM.tileColumns
        let panels = (pixels + nr - 1) / nr
        let cinG = inputChannels / groups
        let coutG = outputChannels / groups
        let depth = cinG * window.kernel.h * window.kernel.w
        let items = batch * groups * panels
        let pointwise = window.kernel == (1, 1) && window.stride == (1, 1) && window.padTop == 0 &&
            window.padLeft == 0 && window.padBottom == 0 && window.padRight == 0
        if pointwise && groups == 1 && Self.batchesColumns(pixels: pixels, batch: batch) {
            return pointwiseOverBatch(x, inputShape: inputShape, y, clamp: clamp)
        }
        bias.withUnsafeBufferPointer { biasBuffer in
            Parallel.forEachRange(items) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: depth * nr) { scratch in
                    let panelBuffer = scratch.baseAddress!
                    for item in range {
                        let panel = item % panels
                        let g = (item / panels) % groups
                        let n = item / (panels * groups)
                        let image = x + (n * inputChannels + g * cinG) * inH * inW
                        if pointwise {
                            PackedRHS.packPanel(panel: panel, depth: depth, columns: pixels, source: image,
                                                depthStride: inH * inW, columnStride: 1, into: panelBuffer)
                        } else {
                            gatherPanel(image, inH: inH, inW: inW, outW: outW, pixels: pixels, channels: cinG,
                                        firstPixel: panel * nr, into: panelBuffer)
                        }
                        let epilogue = GEMM.Epilogue(rowBias: biasBuffer.baseAddress! + g * coutG, clamp: clamp)
                        let c = y + (n * outputChannels + g * coutG) * pixels + panel * nr
                        GEMM.multiplyPanel(lhs: packedWeights[g], rowPanels: 0..<packedWeights[g].panels,
                                           rhsPanel: panelBuffer, columns: min(nr, pixels - panel * nr),
                                           columnOffset: 0, c: c, ldc: pixels, epilogue: epilogue)
                    }
                }
            }
        }
    }

    /// Stride-1 convolution without im2col. The input is copied once into zero-padded planes
    /// of width Wp, where tap (ki, kj) of output pixel (oh, ow) reads position
    /// (oh + ki*dh) * Wp + ow + kj*dw: a run of pixels along an output row reads a run of
    /// consecutive floats, which the micro-kernel reads in place or from a packed copy.
    /// Either way each output is the same left-to-right sum over k = (tap, channel), so the
    /// two paths agree bit for bit and are chosen for speed alone.
    private func viaShiftedRows(_ x: UnsafePointer<Float>, inputShape: [Int], _ y: UnsafeMutablePointer<Float>,
                                outShape: [Int], clamp: Clamp?) {
        let (batch, inH, inW) = (inputShape[0], inputShape[2], inputShape[3])
        let (outH, outW) = (outShape[2], outShape[3])
        let hp = inH + window.padTop + window.padBottom
        let wp = inW + window.padLeft + window.padRight
        let plane = hp * wp
        let nr = GEMM.tileColumns
        let (kh, kw) = window.kernel
        let planes = batch * inputChannels
        // Slack after the last plane: the in-place path's last panel of the last channel
        // reads past its end.
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: planes * plane + nr + plane)
        defer { padded.deallocate() }
        (padded + planes * plane).initialize(repeating: 0, count: nr + plane)
        Parallel.forEach(planes, minimumPerThread: 8) { p in
            let dst = padded + p * plane
            let src = x + p * inH * inW
            dst.initialize(repeating: 0, count: window.padTop * wp)
            for h in 0..<inH {
                let row = dst + (h + window.padTop) * wp
                row.initialize(repeating: 0, count: window.padLeft)
                (row + window.padLeft).initialize(from: src + h * inW, count: inW)
                (row + window.padLeft + inW).initialize(repeating: 0, count: window.padRight)
            }
            (dst + (inH + window.padTop) * wp).initialize(repeating: 0, count: window.padBottom * wp)
        }
        var taps = [Int]()
        for ki in 0..<kh { for kj in 0..<kw { taps.append(ki * window.dilation.h * wp + kj * window.dilation.w) } }
        if tapPackedWeights[0].panels >= Self.packingRowPanels {
            packedShiftedRows(padded, taps: taps, batch: batch, plane: plane, wp: wp, outH: outH, outW: outW, y: y, clamp: clamp)
        } else {
            inPlaceShiftedRows(padded, taps: taps, batch: batch, plane: plane, wp: wp, outH: outH, outW: outW, y: y, clamp: clamp)
        }
    }

    /// Row panels of A (8 output channels each) from which packing a panel pays: with one or
    /// two, copying 32 floats per k costs about what the one or two tiles that read them
    /// save (CIFAR ResNet-20's 16-channel layers measured no faster packed, within this
    /// host's noise); VGG-11's 256-channel 2x2 and 4x4 layers run 2-2.4x faster packed.
    static let packingRowPanels = 4

    /// Few output channels: the panel's B rows are read in place, a plane apart, over the
    /// padded positions (those with ow >= outW computed and dropped), per image; packing
    /// them would cost more than the one or two row panels that read them.
    private func inPlaceShiftedRows(_ padded: UnsafePointer<Float>, taps: [Int], batch: Int, plane: Int, wp: Int, outH: Int, outW: Int,
                                    y: UnsafeMutablePointer<Float>, clamp: Clamp?) {
        let nr = GEMM.tileColumns
        let cinG = inputChannels / groups, coutG = outputChannels / groups
        let positions = outH * wp
        let panels = (positions + nr - 1) / nr
        let tapCount = taps.count
        bias.withUnsafeBufferPointer { biasBuffer in
            taps.withUnsafeBufferPointer { tapOffsets in
                Parallel.forEachRange(batch * groups * panels) { range in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: GEMM.tileRows * nr) { tileBuffer in
                        let tile = tileBuffer.baseAddress!
                        for item in range {
                            let panel = item % panels
                            let g = (item / panels) % groups
                            let n = item / (panels * groups)
                            let b = padded + (n * inputChannels + g * cinG) * plane + panel * nr
                            let lhs = tapPackedWeights[g]
                            let first = panel * nr
                            let count = min(nr, positions - first)
                            lhs.storage.withUnsafeBufferPointer { packedA in
                                for rowPanel in 0..<lhs.panels {
                                    GEMM.kernelTaps(taps: tapOffsets.baseAddress!, tapCount: tapCount, channels: cinG, planeStride: plane,
                                                    a: packedA.baseAddress! + rowPanel * lhs.depth * GEMM.tileRows, b: b, tile: tile)
                                    let rows = min(GEMM.tileRows, coutG - rowPanel * GEMM.tileRows)
                                    for r in 0..<rows {
                                        let co = g * coutG + rowPanel * GEMM.tileRows + r
                                        let bias = biasBuffer[co]
                                        let outPlane = y + (n * outputChannels + co) * outH * outW
                                        let source = tile + r * nr
                                        // Runs of positions that share an output row are contiguous in both.
                                        var j = 0
                                        while j < count {
                                            let q = first + j
                                            let oh = q / wp, ow = q % wp
                                            let run = min(count - j, wp - ow)
                                            if ow < outW {
                                                let valid = min(run, outW - ow)
                                                GEMM.storeBiased(source + j, to: outPlane + oh * outW + ow, count: valid, bias: bias, clamp: clamp)
                                            }
                                            j += run
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

    /// Many output channels: each depth block of the panel's shifted rows is packed once
    /// and read in sequence by every row panel; the columns are the batch's valid pixels.
    private func packedShiftedRows(_ padded: UnsafePointer<Float>, taps: [Int], batch: Int, plane: Int, wp: Int, outH: Int, outW: Int,
                                   y: UnsafeMutablePointer<Float>, clamp: Clamp?) {
        let nr = GEMM.tileColumns
        let cinG = inputChannels / groups, coutG = outputChannels / groups
        let pixels = outH * outW, columns = batch * pixels
        let panels = (columns + nr - 1) / nr
        let depth = taps.count * cinG, rowPanels = tapPackedWeights[0].panels
        bias.withUnsafeBufferPointer { biasBuffer in
            taps.withUnsafeBufferPointer { tapBuffer in
                Parallel.forEachRange(groups * panels) { range in
                    let tiles = UnsafeMutablePointer<Float>.allocate(capacity: rowPanels * GEMM.tileRows * nr)
                    let packed = UnsafeMutablePointer<Float>.allocate(capacity: min(depth, GEMM.depthBlock) * nr)
                    // A panel's runs: its columns [column, column + length) come from input
                    // offset `source` (group's channel 0, tap 0) and go to output offset `target`.
                    var runs = [(column: Int, length: Int, source: Int, target: Int)]()
                    runs.reserveCapacity(nr)
                    defer { tiles.deallocate(); packed.deallocate() }
                    let tapOffsets = tapBuffer.baseAddress!
                    for item in range {
                        let panel = item % panels, g = item / panels
                        let first = panel * nr, count = min(nr, columns - first)
                        runs.removeAll(keepingCapacity: true)
                        var j = 0
                        while j < count {
                            let q = first + j, n = q / pixels, oh = q % pixels / outW, ow = q % outW
                            let length = min(count - j, outW - ow)
                            runs.append((j, length, (n * inputChannels + g * cinG) * plane + oh * wp + ow,
                                         (n * outputChannels + g * coutG) * pixels + oh * outW + ow))
                            j += length
                        }
                        let lhs = tapPackedWeights[g]
                        lhs.storage.withUnsafeBufferPointer { packedA in
                            var k0 = 0
                            while k0 < depth {
                                let block = min(GEMM.depthBlock, depth - k0)
                                Self.packShiftedRows(padded, runs: runs, count: count, taps: tapOffsets, channels: cinG, plane: plane,
                                                     depth: k0..<(k0 + block), into: packed)
                                for rowPanel in 0..<rowPanels {
                                    GEMM.kernel(depth: block, a: packedA.baseAddress! + (rowPanel * lhs.depth + k0) * GEMM.tileRows,
                                                b: packed, tile: tiles + rowPanel * GEMM.tileRows * nr, accumulate: k0 > 0)
                                }
                                k0 += block
                            }
                        }
                        for rowPanel in 0..<rowPanels {
                            for r in 0..<min(GEMM.tileRows, coutG - rowPanel * GEMM.tileRows) {
                                let co = rowPanel * GEMM.tileRows + r
                                let bias = biasBuffer[g * coutG + co], source = tiles + (rowPanel * GEMM.tileRows + r) * nr
                                for run in runs {
                                    GEMM.storeBiased(source + run.column, to: y + run.target + co * pixels, count: run.length, bias: bias, clamp: clamp)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Rows k of `depth` (k = tap * channels + channel) of one panel in the packed layout:
    /// packed[(k - depth.lowerBound) * 32 + column], each run copied from the padded planes
    /// at its tap's shift; columns past `count` are zero.
    @inline(__always)
    private static func packShiftedRows(_ padded: UnsafePointer<Float>, runs: [(column: Int, length: Int, source: Int, target: Int)],
                                        count: Int, taps: UnsafePointer<Int>, channels: Int, plane: Int, depth: Range<Int>,
                                        into packed: UnsafeMutablePointer<Float>) {
        let nr = GEMM.tileColumns
        var t = depth.lowerBound / channels, c = depth.lowerBound % channels
        let whole = runs.count == 1 && count == nr
        for k in 0..<depth.count {
            let base = padded + taps[t] + c * plane, row = packed + k * nr
            if whole {
                let source = base + runs[0].source
                GEMM.store16(GEMM.load16(source), row)
                GEMM.store16(GEMM.load16(source + 16), row + 16)
            } else {
                for run in runs { copy(base + run.source, to: row + run.column, count: run.length) }
                for j in count..<nr { row[j] = 0 }
            }
            c += 1
            if c == channels { c = 0; t += 1 }
        }
    }

    /// A short copy inline: runs here are 1-32 floats, where a call to memmove per run
    /// would cost more than the copy (a 2x2 map's panel is 16 runs of 2).
    @inline(__always)
    private static func copy(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count { GEMM.store16(GEMM.load16(source + i), target + i); i += 16 }
        while i + 4 <= count {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
            i += 4
        }
        if i + 2 <= count {
            UnsafeMutableRawPointer(target + i).storeBytes(of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD2<Float>.self), as: SIMD2<Float>.self)
            i += 2
        }
        if i < count { target[i] = source[i] }
    }

    /// im2col for one panel of up to 32 output pixels, written depth-major:
    /// out[k * 32 + j] = input value under kernel tap k for output pixel firstPixel + j.
    /// Pixels are handled in runs that share an output row, so each tap's run is a
    /// strided copy with zero fill at the borders instead of a per-element bounds test.
    @inline(__always)
    private func gatherPanel(_ image: UnsafePointer<Float>, inH: Int, inW: Int, outW: Int, pixels: Int,
                             channels: Int, firstPixel: Int, into out: UnsafeMutablePointer<Float>) {
        let nr = GEMM.tileColumns
        let (kh, kw) = window.kernel
        let (sh, sw) = window.stride
        let (dh, dw) = window.dilation
        let lastPixel = min(pixels, firstPixel + nr)
        var pixel = firstPixel
        while pixel < lastPixel {
            let oh = pixel / outW
            let ow0 = pixel % outW
            let run = min(outW - ow0, lastPixel - pixel)
            let j0 = pixel - firstPixel
            for ci in 0..<channels {
                let plane = image + ci * inH * inW
                for ki in 0..<kh {
                    let ih = oh * sh - window.padTop + ki * dh
                    for kj in 0..<kw {
                        let o = out + ((ci * kh + ki) * kw + kj) * nr + j0
                        if ih < 0 || ih >= inH {
                            for t in 0..<run { o[t] = 0 }
                            continue
                        }
                        let row = plane + ih * inW
                        let iw0 = ow0 * sw - window.padLeft + kj * dw
                        // valid t: 0 <= iw0 + t*sw < inW
                        let tLow = iw0 >= 0 ? 0 : min(run, (-iw0 + sw - 1) / sw)
                        let tHigh = iw0 >= inW ? 0 : max(tLow, min(run, (inW - 1 - iw0) / sw + 1))
                        for t in 0..<tLow { o[t] = 0 }
                        if sw == 1 {
                            for t in tLow..<tHigh { o[t] = row[iw0 + t] }
                        } else {
                            for t in tLow..<tHigh { o[t] = row[iw0 + t * sw] }
                        }
                        for t in tHigh..<run { o[t] = 0 }
                    }
                }
            }
            pixel += run
        }
        let filled = lastPixel - firstPixel
        if filled < nr {
            let depth = channels * kh * kw
            for k in 0..<depth { for j in filled..<nr { out[k * nr + j] = 0 } }
        }
    }

    /// Direct seven-loop convolution in double precision: the oracle for tests.
    public static func reference(input: Tensor, weights: [Float], bias: [Float]?, outputChannels: Int,
                                 groups: Int, window: WindowGeometry) -> Tensor {
        let (batch, cin, inH, inW) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outH = window.outputHeight(inH), outW = window.outputWidth(inW)
        let cinG = cin / groups, coutG = outputChannels / groups
        let (kh, kw) = window.kernel
        var out = Tensor(zeros: [batch, outputChannels, outH, outW])
        for n in 0..<batch {
            for co in 0..<outputChannels {
                let g = co / coutG
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        var sum = Double(bias?[co] ?? 0)
                        for ci in 0..<cinG {
                            for ki in 0..<kh {
                                for kj in 0..<kw {
                                    let ih = oh * window.stride.h - window.padTop + ki * window.dilation.h
                                    let iw = ow * window.stride.w - window.padLeft + kj * window.dilation.w
                                    guard ih >= 0, ih < inH, iw >= 0, iw < inW else { continue }
                                    let xv = input.storage[((n * cin + g * cinG + ci) * inH + ih) * inW + iw]
                                    let wv = weights[((co * cinG + ci) * kh + ki) * kw + kj]
                                    sum += Double(xv) * Double(wv)
                                }
                            }
                        }
                        out.storage[((n * outputChannels + co) * outH + oh) * outW + ow] = Float(sum)
                    }
                }
            }
        }
        return out
    }
}
