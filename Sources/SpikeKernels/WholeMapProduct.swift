import SNNTensor
import SNNAMX

/// A spike convolution on a map of a few pixels as one dense product per image: A's row
/// is every input pixel's spike bytes, B's columns are (output pixel, output channel).
///
/// On a 2x2 map a 3x3 kernel with padding 1 has only 4 of its 9 taps inside the input for
/// any output pixel, yet the im2col product multiplies all 9 (padding rows of zeros), and
/// with 4 rows per image its tiles need 4 images to fill. Here each output pixel's columns
/// hold just the weights of the taps that reach a real input pixel (zero elsewhere): VGG's
/// 256-channel 2x2 layers take 192 tile products per image instead of 432. B grows with the
/// square of the map (3 MB there), so this form is kept for maps where it needs fewer
/// products and B stays within `weightLimit`.
///
/// Values are identical to `SpikeMatrixConvolution`'s: the same quantized weights meet the
/// same spikes, only the zero terms differ, and int32 sums are exact.
///
/// Unchecked Sendable: B is written once in `init` and only read.
public final class WholeMapProduct: @unchecked Sendable {
    /// The input and output maps' sizes this product was built for.
    public let inputSize: (h: Int, w: Int), outputSize: (h: Int, w: Int)
    let tapBytes: Int
    /// Input pixels x `tapBytes`, rounded up to 64; output pixels x 3 x padded outputs.
    let depth: Int, columns: Int
    let packed: UnsafeMutablePointer<Int8>
    /// 2^e and bias of each output channel, repeated for every output pixel.
    let scales: [Float], bias: [Float]

    /// Largest B kept: the whole product streams it once per 256 rows.
    public static let weightLimit = 8 << 20

    /// This form's tile products as a share of the im2col product's, when it would be
    /// built for this layer and input size (fewer products, B within `weightLimit`).
    public static func productShare(inputChannels: Int, outputChannels: Int, window: WindowGeometry, inputSize: (h: Int, w: Int)) -> Double? {
        let tapBytes = (inputChannels + 7) / 8 * 8, columnTiles = 3 * ((outputChannels + 15) / 16)
        let outputPixels = window.outputHeight(inputSize.h) * window.outputWidth(inputSize.w)
        let inputBytes = inputSize.h * inputSize.w * tapBytes
        // Per image: the im2col product has one row per output pixel and K tiles per tap
        // set; this one a single row of the whole input against every output's columns.
        let im2col = outputPixels * ((window.kernel.h * window.kernel.w * tapBytes + 63) / 64) * columnTiles
        let whole = ((inputBytes + 63) / 64) * outputPixels * columnTiles
        let weightBytes = (inputBytes + 63) / 64 * 64 * outputPixels * columnTiles * 16
        guard outputPixels > 0, whole < im2col, weightBytes <= weightLimit, inputBytes <= 1 << 17 else { return nil }
        return Double(whole) / Double(im2col)
    }

    /// `quantized`: each output channel's integer weights ([cout][cin][taps]) and `scales`,
    /// `bias` per padded output channel, as `SpikeMatrixConvolution` made them. Nil when
    /// this form would not take fewer products or B would exceed `weightLimit`.
    init?(quantized: [Int32], scales: [Float], bias: [Float], inputChannels: Int, outputChannels: Int, window: WindowGeometry,
          inputSize: (h: Int, w: Int)) {
        guard Self.productShare(inputChannels: inputChannels, outputChannels: outputChannels, window: window, inputSize: inputSize) != nil
        else { return nil }
        let (outH, outW) = (window.outputHeight(inputSize.h), window.outputWidth(inputSize.w))
        let paddedOutputs = (outputChannels + 15) / 16 * 16
        tapBytes = (inputChannels + 7) / 8 * 8
        depth = (inputSize.h * inputSize.w * tapBytes + 63) / 64 * 64
        columns = outH * outW * 3 * paddedOutputs
        self.inputSize = inputSize
        outputSize = (outH, outW)
        let (depth, columns, tapBytes) = (self.depth, self.columns, self.tapBytes)
        packed = UnsafeMutableRawPointer.allocate(byteCount: depth * columns, alignment: 64).bindMemory(to: Int8.self, capacity: depth * columns)
        packed.initialize(repeating: 0, count: depth * columns)
        let (kh, kw) = window.kernel, taps = kh * kw
        for oh in 0..<outH {
            for ow in 0..<outW {
                let pixel = oh * outW + ow
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        guard let (ih, iw) = window.inputPixel(output: oh, ow, tap: ki, kj, inputSize: inputSize) else { continue }
                        let tap = ki * kw + kj, source = ih * inputSize.w + iw
                        for o in 0..<outputChannels {
                            let column = (pixel * paddedOutputs / 16 + o / 16) * 48 + o % 16
                            for c in 0..<inputChannels {
                                SpikeMatrixConvolution.store(Int(quantized[(o * inputChannels + c) * taps + tap]), into: packed,
                                                             k: source * tapBytes + c, column: column, depth: depth)
                            }
                        }
                    }
                }
            }
        }
        self.scales = Array((0..<(outH * outW)).map { _ in scales }.joined())
        self.bias = Array((0..<(outH * outW)).map { _ in bias }.joined())
    }

    deinit { packed.deallocate() }

    var outputPixels: Int { outputSize.h * outputSize.w }

    /// Whether a call of `SpikeMatrixConvolution.accumulate` can run here: input of this
    /// size, every output pixel, and rows packed back to back (one image's outputs form
    /// one run of `outputPixels x paddedOutputs` floats).
    func applies(to input: SpikePatterns, pixels: Range<Int>, rowStride: Int, paddedOutputs: Int) -> Bool {
        fits(input) && pixels == 0..<outputPixels && rowStride == paddedOutputs
    }

    /// Whether `input` has the size this form was built for.
    public func fits(_ input: SpikePatterns) -> Bool { input.shape[2] == inputSize.h && input.shape[3] == inputSize.w }

    /// Every output pixel of each image in `images`, bias included, image k's at
    /// `rows + k * imageStride` (pixel-major, `paddedOutputs` floats per pixel).
    func accumulate(_ input: SpikePatterns, images: UnsafeBufferPointer<Int>, into rows: UnsafeMutablePointer<Float>, imageStride: Int) {
        let perProduct = max(16, min(SpikeMatrixConvolution.productRows, SpikeMatrixConvolution.productBytes / depth) / 16 * 16)
        let capacity = min(perProduct, (images.count + 15) / 16 * 16)
        let a = UnsafeMutableRawPointer.allocate(byteCount: capacity * depth, alignment: 64)
        let sums = UnsafeMutableRawPointer.allocate(byteCount: capacity * 96 * 4, alignment: 64).bindMemory(to: Int32.self, capacity: capacity * 96)
        defer { a.deallocate(); sums.deallocate() }
        var first = 0
        while first < images.count {
            let part = UnsafeBufferPointer(rebasing: images[first..<min(images.count, first + capacity)])
            let m = (part.count + 15) / 16 * 16
            flatten(input, images: part, into: a, rows: m)
            scales.withUnsafeBufferPointer { s in
                bias.withUnsafeBufferPointer { b in
                    snn_amx_gemm_combine(a.assumingMemoryBound(to: UInt8.self), Int32(m), Int32(depth), packed, Int32(columns), sums,
                                         Int32(part.count), s.baseAddress!, b.baseAddress!, rows + first * imageStride, 1, imageStride, 0, nil)
                }
            }
            first += part.count
        }
    }

    /// One A row per image: each input pixel's channels as 0/1 bytes (`tapBytes` per pixel),
    /// then zeros up to `depth`; rows past the last image are zero.
    private func flatten(_ input: SpikePatterns, images: UnsafeBufferPointer<Int>, into a: UnsafeMutableRawPointer, rows m: Int) {
        let pixels = input.pixels, groups = input.groups, expand = SpikeMatrixConvolution.bitBytes
        a.initializeMemory(as: UInt8.self, repeating: 0, count: m * depth)
        input.bytes.withUnsafeBufferPointer { x in
            for (r, image) in images.enumerated() {
                let bits = x.baseAddress! + image * groups * pixels, row = a + r * depth
                for g in 0..<groups {
                    let plane = bits + g * pixels
                    for p in 0..<pixels { row.storeBytes(of: expand[Int(plane[p])], toByteOffset: p * tapBytes + 8 * g, as: UInt64.self) }
                }
            }
        }
    }
}
