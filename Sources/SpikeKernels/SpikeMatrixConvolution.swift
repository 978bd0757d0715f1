import SNNTensor
import Foundation
import SNNAMX

/// A 2-D convolution of spike maps as a dense int8 matrix product on AMX tiles.
///
/// Spikes are binary, so the input becomes an im2col matrix of 0/1 bytes, built straight
/// from the bits (one 8-byte store per 8 channels under a tap). The weights, with each
/// input channel's spike amplitude folded in as in the other spike kernels, become fixed
/// point: per output channel, w = q x 2^e with q an integer of at most 23 bits, split into
/// three signed bytes q = 65536 d2 + 256 d1 + d0. The tiles multiply and add in int32, so
/// the three partial sums are exact; they are recombined in float with two roundings (each
/// sum converts exactly while below 2^24, so im2col rows are at most 131072 bytes), within
/// one unit in the last place of the exact sum, then the bias is added. Rounding each
/// weight to 23 bits relative to its output channel's largest costs at most 2^-23 of that
/// weight per term, the order of float32's own rounding of the sum, so results agree with
/// the dense convolution to float rounding (as the table and event kernels do) and do not
/// depend on summation order or thread count at all. (Recombining in double, with one
/// rounding, took twice as long: a fifth of VGG-11's 32 -> 64 layer.)
///
/// One tile product is 16 x 16 x 64 multiply-adds in 16 cycles: dense work at about 50x
/// the AVX-512 rate, three times over for the three weight bytes. At the firing rates of
/// converted CNNs (0.1-0.3) that beats both skipping the zeros and table lookup.
///
/// Unchecked Sendable: the packed weights are written once in `init` and only read.
public final class SpikeMatrixConvolution: @unchecked Sendable {
    /// Whether this machine runs AMX int8 tiles (CPUID and the Linux permission for the tile
    /// state). `SNNKIT_NO_AMX=1` turns it off, e.g. to compare with the AVX-512 kernels.
    public static let isAvailable: Bool = snn_amx_usable() != 0 && ProcessInfo.processInfo.environment["SNNKIT_NO_AMX"] == nil

    /// Input channels.
    public let inputChannels: Int
    /// Output channels.
    public let outputChannels: Int
    /// Kernel size, stride, padding and dilation.
    public let window: WindowGeometry
    /// Output channels rounded up to 16: the row stride of the results.
    public let paddedOutputs: Int
    /// Input channels rounded up to 8 (a spike byte), the im2col width of one tap.
    let tapBytes: Int
    /// Im2col row length: taps x `tapBytes`, rounded up to 64 (one tile row).
    let depth: Int
    /// B for the tiles: depth x (3 x paddedOutputs) signed bytes, per 16 output channels the
    /// columns of d2, d1 and d0 side by side.
    let packed: UnsafeMutablePointer<Int8>
    /// 2^e of each (padded) output channel, and the bias.
    let scales: [Float]
    let bias: [Float]
    /// The same convolution as one product per image for inputs of one small size, where
    /// that takes fewer tile products (`WholeMapProduct`).
    public let wholeMap: WholeMapProduct?
    /// Per K tile, the taps whose bytes it holds, for skipping padding (`PaddingSkip`), and
    /// the row layouts that do it.
    let kTileTaps: [UInt64]?
    let paddingLayouts = PaddingSkip.Cache()

    /// `amplitudes`: the value a spike of each input channel carries (one for all, or one
    /// per channel). `inputSize`: the input's height and width when known, to build the
    /// whole-map form if it pays. `skipsPadding`: skip the tile products of border pixels'
    /// padding (`PaddingSkip`; off only to check that it changes nothing). Groups other
    /// than 1 are not handled (nil).
    public init?(weights: [Float], bias: [Float]?, amplitudes: [Float], inputChannels: Int, outputChannels: Int, groups: Int,
                 window: WindowGeometry, inputSize: (h: Int, w: Int)? = nil, skipsPadding: Bool = true) {
        let taps = window.kernel.h * window.kernel.w
        guard groups == 1, inputChannels > 0, outputChannels > 0, amplitudes.count == 1 || amplitudes.count == inputChannels,
              weights.count == outputChannels * inputChannels * taps, weights.allSatisfy({ $0.isFinite }) else { return nil }
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.window = window
        paddedOutputs = (outputChannels + 15) / 16 * 16
        tapBytes = (inputChannels + 7) / 8 * 8
        depth = (taps * tapBytes + 63) / 64 * 64
        // Partial sums stay below 2^24 (exact in float) with at most 2^17 terms of |byte| <= 128.
        guard depth <= 1 << 17 else { return nil }
        let columns = 3 * paddedOutputs, depth = self.depth, tapBytes = self.tapBytes
        packed = UnsafeMutableRawPointer.allocate(byteCount: depth * columns, alignment: 64).bindMemory(to: Int8.self, capacity: depth * columns)
        packed.initialize(repeating: 0, count: depth * columns)
        var scales = [Float](repeating: 1, count: paddedOutputs)
        var quantized = [Int32](repeating: 0, count: outputChannels * inputChannels * taps)
        for o in 0..<outputChannels {
            // The channel's weights with amplitudes folded (the same float products the
            // other spike kernels use), then the exponent that puts the largest below
            // 127.5 x 65536, where three balanced bytes still hold it.
            let row = (0..<(inputChannels * taps)).map { i -> Float in
                let c = i / taps
                return amplitudes[amplitudes.count == 1 ? 0 : c] * weights[o * inputChannels * taps + i]
            }
            let largest = row.reduce(0) { max($0, abs($1)) }
            guard largest > 0, largest.isFinite else { continue }
            var e = Int(largest.exponent) - 22
            if (Double(largest) * pow(2, Double(-e))).rounded() > 8_000_000 { e += 1 }
            // 2^e must be a normal float for the recombination's x 2^e to be exact.
            guard e >= Float.leastNormalMagnitude.exponent else { packed.deallocate(); return nil }
            let scale = pow(2, Double(e))
            scales[o] = Float(scale)
            let block = o / 16, lane = o % 16
            for c in 0..<inputChannels {
                for tap in 0..<taps {
                    let q = Int((Double(row[c * taps + tap]) / scale).rounded())
                    quantized[(o * inputChannels + c) * taps + tap] = Int32(q)
                    Self.store(q, into: packed, k: tap * tapBytes + c, column: block * 48 + lane, depth: depth)
                }
            }
        }
        self.scales = scales
        kTileTaps = skipsPadding ? PaddingSkip.kTileTaps(taps: taps, tapBytes: tapBytes, depth: depth) : nil
        var padded = bias ?? []
        padded += [Float](repeating: 0, count: paddedOutputs - padded.count)
        self.bias = padded
        wholeMap = inputSize.flatMap {
            WholeMapProduct(quantized: quantized, scales: scales, bias: padded, inputChannels: inputChannels, outputChannels: outputChannels,
                            window: window, inputSize: $0)
        }
    }

    deinit { packed.deallocate() }

    /// Stores the three balanced bytes of q = 65536 d2 + 256 d1 + d0 at row k of the
    /// columns `column` (d2), +16 (d1) and +32 (d0) of a packed B of `depth` rows.
    static func store(_ q: Int, into packed: UnsafeMutablePointer<Int8>, k: Int, column: Int, depth: Int) {
        let d0 = ((q + 128) & 255) - 128, q1 = (q - d0) >> 8
        let d1 = ((q1 + 128) & 255) - 128, d2 = (q1 - d1) >> 8
        packed[snn_amx_pack_index(Int32(k), Int32(column), Int32(depth))] = Int8(d2)
        packed[snn_amx_pack_index(Int32(k), Int32(column + 16), Int32(depth))] = Int8(d1)
        packed[snn_amx_pack_index(Int32(k), Int32(column + 32), Int32(depth))] = Int8(d0)
    }

    /// Rows and im2col bytes of one matrix product (A streams from L2 once per column
    /// pair). Sized for a product that keeps all its int32 sums, 12 bytes per output
    /// channel per row: at 1024 rows by 768 columns, 3 MB, more than L2, and 24 ns per tile
    /// product instead of 10 (2304-deep rows); on VGG-11's shapes (K 576-2304, N 192-768)
    /// 128-256 rows run fastest. Recombining the sums six column tiles at a time makes
    /// that bound looser; 256 rows stays within it.
    static let productRows = 256
    static let productBytes = 640 << 10

    /// For each byte, its eight bits as bytes of 0 or 1 (byte j = bit j): a spike pattern
    /// becomes eight im2col entries with one store.
    nonisolated(unsafe) static let bitBytes: UnsafePointer<UInt64> = {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        for byte in 0..<256 {
            var value: UInt64 = 0
            for j in 0..<8 where byte >> j & 1 == 1 { value |= 1 << (8 * UInt64(j)) }
            table[byte] = value
        }
        return UnsafePointer(table)
    }()

    /// The convolution of packed spikes (their amplitudes are already in the weights).
    public func forward(_ input: SpikePatterns) -> Tensor {
        let outH = window.outputHeight(input.shape[2]), outW = window.outputWidth(input.shape[3])
        let outPixels = outH * outW, cout = outputChannels, stride = paddedOutputs
        return Tensor(shape: [input.images, cout, outH, outW]) { out in
            let y = out.baseAddress!
            Parallel.forEachRange(input.images) { range in
                let rows = UnsafeMutableRawPointer.allocate(byteCount: outPixels * stride * 4, alignment: 64)
                    .bindMemory(to: Float.self, capacity: outPixels * stride)
                defer { rows.deallocate() }
                for n in range {
                    withUnsafePointer(to: n) {
                        self.accumulate(input, images: UnsafeBufferPointer(start: $0, count: 1), pixels: 0..<outPixels, into: rows,
                                        imageStride: 0, rowStride: stride)
                    }
                    PixelMajor.toPlanes(rows, pixels: outPixels, rowStride: stride, channels: cout, into: y + n * cout * outPixels)
                }
            }
        }
    }

    /// The same convolution left pixel-major: [images, output pixels, `paddedOutputs`], for
    /// a fused layer that adds it to its own currents (no transposition either way). The
    /// images go through `accumulate` together, so small maps still fill the tiles' rows.
    public func forwardRows(_ input: SpikePatterns) -> Tensor {
        let outPixels = window.outputHeight(input.shape[2]) * window.outputWidth(input.shape[3]), stride = paddedOutputs
        let perItem = max(1, Self.productRows / max(1, outPixels))
        return Tensor(shape: [input.images, outPixels, stride]) { out in
            let y = out.baseAddress!
            Parallel.forEach((input.images + perItem - 1) / perItem) { item in
                let images = Array((item * perItem)..<min(input.images, (item + 1) * perItem))
                images.withUnsafeBufferPointer {
                    self.accumulate(input, images: $0, pixels: 0..<outPixels, into: y + images[0] * outPixels * stride,
                                    imageStride: outPixels * stride, rowStride: stride)
                }
            }
        }
    }

    /// Output pixels `pixels` (row-major) of several images as rows of `paddedOutputs`
    /// values, bias included; image k's rows start at `rows + k * imageStride`. All of them
    /// are one matrix product, so small images still fill the tiles' 16 rows.
    public func accumulate(_ input: SpikePatterns, images: UnsafeBufferPointer<Int>, pixels: Range<Int>, into rows: UnsafeMutablePointer<Float>,
                           imageStride: Int, rowStride: Int) {
        guard !pixels.isEmpty, !images.isEmpty else { return }
        if let whole = wholeMap, whole.applies(to: input, pixels: pixels, rowStride: rowStride, paddedOutputs: paddedOutputs) {
            whole.accumulate(input, images: images, into: rows, imageStride: imageStride)
            return
        }
        // An image with more rows than one product (a whole large map, from `forward`) is
        // taken a run of pixels at a time, so no product outgrows L2.
        if pixels.count > Self.productRows {
            for k in images.indices {
                for lo in stride(from: pixels.lowerBound, to: pixels.upperBound, by: Self.productRows) {
                    withUnsafePointer(to: images[k]) {
                        accumulate(input, images: UnsafeBufferPointer(start: $0, count: 1), pixels: lo..<min(lo + Self.productRows, pixels.upperBound),
                                   into: rows + k * imageStride + (lo - pixels.lowerBound) * rowStride, imageStride: 0, rowStride: rowStride)
                    }
                }
            }
            return
        }
        // Images per product: about `productRows` rows, and A within `productBytes`.
        let perImage = pixels.count, columns = 3 * paddedOutputs
        let imagesPerProduct = max(1, min(images.count, Self.productRows / perImage, Self.productBytes / max(1, perImage * depth)))
        let capacity = (imagesPerProduct * perImage + 15) / 16 * 16
        let a = UnsafeMutableRawPointer.allocate(byteCount: capacity * depth, alignment: 64)
        let sums = UnsafeMutableRawPointer.allocate(byteCount: capacity * 96 * 4, alignment: 64)
            .bindMemory(to: Int32.self, capacity: capacity * 96)
        defer { a.deallocate(); sums.deallocate() }
        var first = 0
        while first < images.count {
            let part = UnsafeBufferPointer(rebasing: images[first..<min(images.count, first + imagesPerProduct)])
            let count = part.count * perImage, m = (count + 15) / 16 * 16
            // Border pixels' rows grouped into tiles that skip the padding's products.
            let layout = kTileTaps.flatMap {
                paddingLayouts.layout(window: window, kTiles: $0, inputSize: (input.shape[2], input.shape[3]), pixels: pixels, images: part.count,
                                      imageStride: imageStride, rowStride: rowStride)
            }
            (layout?.rowOf ?? []).withUnsafeBufferPointer { rowOf in
                im2col(input, images: part, pixels: pixels, into: a, rows: m, rowOf: layout == nil ? nil : rowOf.baseAddress)
            }
            scales.withUnsafeBufferPointer { s in
                bias.withUnsafeBufferPointer { b in
                    func product(_ taps: UnsafePointer<snn_tile_taps>?) {
                        snn_amx_gemm_combine(a.assumingMemoryBound(to: UInt8.self), Int32(m), Int32(depth), packed, Int32(columns), sums,
                                             Int32(count), s.baseAddress!, b.baseAddress!, rows + first * imageStride, Int32(perImage),
                                             imageStride, rowStride, taps)
                    }
                    if let layout, let kTiles = kTileTaps { layout.withTileTaps(kTiles, product) } else { product(nil) }
                }
            }
            first += part.count
        }
    }

    /// One im2col row per (image, output pixel): for each tap, the 0/1 bytes of the input
    /// pixel under it, then zeros up to `depth`; rows past the last pixel are zero. With
    /// `rowOf`, image k's pixel j goes to row rowOf[k x pixels + j] (`PaddingSkip`). Each
    /// image's input rows under the block are first expanded once to bytes with zero
    /// borders (`expanded`). With undilated columns the taps of one kernel row are adjacent
    /// there as they are in the im2col row, so a row is `kh` copies of `kw x tapBytes` bytes:
    /// the copies, not the products, were half the time of 16-32-channel layers.
    private func im2col(_ input: SpikePatterns, images: UnsafeBufferPointer<Int>, pixels: Range<Int>, into a: UnsafeMutableRawPointer, rows m: Int,
                        rowOf: UnsafePointer<Int32>?) {
        let (inH, inW) = (input.shape[2], input.shape[3]), planePixels = input.pixels, groups = input.groups
        let outW = window.outputWidth(inW)
        let (kh, kw) = window.kernel, (sh, sw) = window.stride, (dh, dw) = window.dilation
        let (top, left) = (window.padTop, window.padLeft)
        let expand = Self.bitBytes, depth = self.depth, tapBytes = self.tapBytes
        let used = kh * kw * tapBytes
        // A kernel row as one run of bytes, or (dilated) one run per tap.
        let (runs, runBytes, runStep) = dw == 1 ? (1, kw * tapBytes, 0) : (kw, tapBytes, dw * tapBytes)
        // The input rows and columns the block's output pixels read.
        let firstRow = pixels.lowerBound / outW, lastRow = (pixels.upperBound - 1) / outW
        let rowLow = firstRow * sh - top, rowHigh = lastRow * sh - top + (kh - 1) * dh
        let colLow = -left, colHigh = (outW - 1) * sw - left + (kw - 1) * dw
        let height = rowHigh - rowLow + 1, width = colHigh - colLow + 1
        let line = width * tapBytes
        let expanded = UnsafeMutableRawPointer.allocate(byteCount: height * line + 64, alignment: 64)
        defer { expanded.deallocate() }
        // The expanded columns that hold input pixels (the rest are padding, always zero).
        let inside = max(0, -colLow)..<max(max(0, -colLow), min(width, inW - colLow))
        input.bytes.withUnsafeBufferPointer { x in
            var r = 0
            for image in images {
                let bits = x.baseAddress! + image * groups * planePixels
                for h in 0..<height {
                    let ih = rowLow &+ h, row = expanded + h &* line
                    guard ih >= 0 && ih < inH else {
                        row.initializeMemory(as: UInt8.self, repeating: 0, count: line)
                        continue
                    }
                    row.initializeMemory(as: UInt8.self, repeating: 0, count: inside.lowerBound * tapBytes)
                    let end = inside.upperBound * tapBytes
                    (row + end).initializeMemory(as: UInt8.self, repeating: 0, count: line - end)
                    let source = bits + (ih &* inW &+ colLow)
                    for g in 0..<groups {
                        let plane = source + (g &* planePixels), cell = row + (8 &* g)
                        for w in inside { (cell + w &* tapBytes).storeBytes(of: expand[Int(plane[w])], as: UInt64.self) }
                    }
                }
                var oh = pixels.lowerBound / outW, ow = pixels.lowerBound % outW
                for _ in pixels {
                    let row = rowOf.map { Int($0[r]) } ?? r
                    var slot = a + row &* depth
                    let corner = expanded + ((oh &* sh &- top &- rowLow) &* width &+ ow &* sw) &* tapBytes
                    for ki in 0..<kh {
                        var run = corner + ki &* dh &* line
                        for _ in 0..<runs {
                            Self.copy(run, to: slot, bytes: runBytes)
                            slot += runBytes
                            run += runStep
                        }
                    }
                    var z = used
                    while z < depth { (a + row &* depth).storeBytes(of: UInt64(0), toByteOffset: z, as: UInt64.self); z &+= 8 }
                    r &+= 1
                    ow &+= 1
                    if ow == outW { ow = 0; oh &+= 1 }
                }
            }
            if r < m { (a + r * depth).initializeMemory(as: UInt8.self, repeating: 0, count: (m - r) * depth) }
        }
    }

    /// Copies a multiple of 8 bytes (at least 8) in at most a few vector moves: whole 64-byte
    /// pieces, then one last piece that may overlap the one before (same bytes, same place).
    @inline(__always)
    static func copy(_ source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, bytes: Int) {
        @inline(__always) func move<V: SIMD>(_: V.Type, at i: Int) {
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: V.self), toByteOffset: i, as: V.self)
        }
        if bytes >= 64 {
            var i = 0
            while i &+ 64 <= bytes { move(SIMD64<UInt8>.self, at: i); i &+= 64 }
            if i < bytes { move(SIMD64<UInt8>.self, at: bytes &- 64) }
        } else if bytes >= 32 {
            move(SIMD32<UInt8>.self, at: 0); move(SIMD32<UInt8>.self, at: bytes &- 32)
        } else if bytes >= 16 {
            move(SIMD16<UInt8>.self, at: 0); move(SIMD16<UInt8>.self, at: bytes &- 16)
        } else {
            target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
        }
    }
}
