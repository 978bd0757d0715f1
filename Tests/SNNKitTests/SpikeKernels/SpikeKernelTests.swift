import Foundation
import Testing
@testable import SNNKit
@testable import SNNTensor
@testable import SNNSpikeKernels
@testable import SNNBenchmarking

/// Fast kernels against their plain double-precision references.

@Suite struct SparseInputConvolutionTests {
    @Test(arguments: [
        // (cin, cout, kernel, stride, pad, H, W, density %)
        [3, 16, 3, 1, 1, 8, 8, 30],
        [8, 64, 3, 1, 1, 6, 7, 10],
        [16, 80, 3, 2, 1, 9, 9, 50],
        [5, 32, 1, 1, 0, 4, 4, 100],
        [4, 128, 5, 1, 2, 7, 5, 5],
        [24, 256, 3, 1, 1, 5, 6, 15],
        [9, 208, 3, 2, 0, 9, 8, 20],
    ])
    func matchesTheDenseConvolution(_ p: [Int]) throws {
        let (cin, cout, k, s, pad, h, w) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6])
        var g = KernelTests.Generator(state: UInt64(p.reduce(7, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), pads: (pad, pad, pad, pad))
        var x = Tensor(shape: [3, cin, h, w], storage: g.array(3 * cin * h * w))
        for i in 0..<x.count where abs(x.storage[i]) * 100 > Float(p[7]) { x.storage[i] = 0 }
        let weights = g.array(cout * cin * k * k), bias = g.array(cout)
        let sparse = try #require(SparseInputConvolution(weights: weights, bias: bias, inputChannels: cin, outputChannels: cout, groups: 1, window: window))
        let dense = Convolution(weights: weights, bias: bias, inputChannels: cin, outputChannels: cout, groups: 1, window: window)
        #expect(relativeError(sparse.forward(x), dense.forward(x)) <= 1e-5)

        // The same layer fed packed spikes: each channel's spikes carry its amplitude.
        let amplitudes = (0..<cin).map { Float($0 % 3) + 0.5 }
        let spikes = Tensor(shape: x.shape, storage: x.storage.indices.map { i in x.storage[i] != 0 ? amplitudes[(i / (h * w)) % cin] : 0 })
        let packed = SpikePatterns(packing: spikes, amplitudes: amplitudes)
        #expect(relativeError(sparse.forward(packed), dense.forward(spikes)) <= 1e-5)
        // With the amplitudes folded into the weights, events are listed eight bits at a time.
        let weighted = try #require(SparseInputConvolution(weights: weights, bias: bias, inputChannels: cin, outputChannels: cout, groups: 1,
                                                           window: window, spikeAmplitudes: amplitudes))
        #expect(relativeError(weighted.forward(packed), dense.forward(spikes)) <= 1e-5)
    }

    /// Several images (a chunk's steps) accumulated tap by tap give the same floats as one
    /// image at a time: the order of the adds per output does not change.
    @Test(arguments: [[24, 144, 3, 1, 1, 6, 7], [16, 64, 3, 2, 1, 9, 8], [8, 16, 1, 1, 0, 5, 5]])
    func imagesTogetherMatchOneAtATime(_ p: [Int]) throws {
        let (cin, cout, k, s, pad, h, w) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6])
        var g = KernelTests.Generator(state: UInt64(p.reduce(3, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), pads: (pad, pad, pad, pad))
        let amplitudes = (0..<cin).map { _ in 0.25 + abs(g.next()) }
        var x = Tensor(shape: [5, cin, h, w], storage: g.array(5 * cin * h * w))
        for i in 0..<x.count { x.storage[i] = x.storage[i] > 0.4 ? amplitudes[(i / (h * w)) % cin] : 0 }
        let kernel = try #require(SparseInputConvolution(weights: g.array(cout * cin * k * k), bias: g.array(cout), inputChannels: cin,
                                                         outputChannels: cout, groups: 1, window: window, spikeAmplitudes: amplitudes))
        let events = kernel.events(SpikePatterns(packing: x, amplitudes: amplitudes))
        let pixels = 2..<(events.outH * events.outW - 1), images = [4, 0, 2]
        let size = pixels.count * cout
        var alone = [Float](repeating: 0, count: images.count * size), together = alone
        alone.withUnsafeMutableBufferPointer { a in
            for (k, image) in images.enumerated() {
                kernel.accumulate(events, image: image, pixels: pixels, into: a.baseAddress! + k * size, rowStride: cout)
            }
        }
        together.withUnsafeMutableBufferPointer { t in
            images.withUnsafeBufferPointer { list in
                kernel.accumulate(events, images: list, pixels: pixels, into: t.baseAddress!, imageStride: size, rowStride: cout)
            }
        }
        #expect(together == alone)
        #expect(alone.contains { $0 != 0 })
    }
}

@Suite struct SpikeTableConvolutionTests {
    /// Three images of spikes firing at about `firing` percent, each carrying its
    /// channel's threshold (drawn first).
    static func spikes(_ g: inout KernelTests.Generator, channels cin: Int, height h: Int, width w: Int,
                       firing: Int) -> (thresholds: [Float], x: Tensor) {
        let thresholds = (0..<cin).map { _ in 0.25 + abs(g.next()) }
        var x = Tensor(shape: [3, cin, h, w], storage: g.array(3 * cin * h * w))
        for i in 0..<x.count { x.storage[i] = (x.storage[i] + 1) * 50 < Float(firing) ? thresholds[(i / (h * w)) % cin] : 0 }
        return (thresholds, x)
    }

    @Test(arguments: [
        // (cin, cout, kernel, stride, dilation, pads t/l/b/r, H, W, firing %, bits)
        [3, 16, 3, 1, 1, 1, 1, 1, 1, 8, 8, 30, 8],
        [16, 16, 3, 1, 1, 1, 1, 1, 1, 9, 7, 15, 8],
        [13, 20, 3, 2, 1, 0, 1, 2, 0, 10, 9, 50, 8],
        [13, 20, 3, 2, 1, 0, 1, 2, 0, 10, 9, 50, 4],
        [32, 70, 3, 1, 2, 2, 2, 2, 2, 6, 11, 10, 4],
        [5, 33, 1, 1, 1, 0, 0, 0, 0, 4, 5, 100, 8],
        [40, 64, 5, 1, 1, 2, 1, 2, 1, 7, 6, 5, 4],
        [8, 128, 2, 2, 1, 0, 0, 1, 1, 5, 5, 25, 8],
    ])
    func matchesTheDenseConvolutionOfTheSpikes(_ p: [Int]) throws {
        let (cin, cout, k, s, d) = (p[0], p[1], p[2], p[3], p[4])
        let (h, w, firing, bits) = (p[9], p[10], p[11], p[12])
        var g = KernelTests.Generator(state: UInt64(p.reduce(11, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), dilation: (d, d), pads: (p[5], p[6], p[7], p[8]))
        let (thresholds, x) = Self.spikes(&g, channels: cin, height: h, width: w, firing: firing)
        let weights = g.array(cout * cin * k * k), bias = g.array(cout)
        let table = try #require(SpikeTableConvolution(weights: weights, bias: bias, amplitudes: thresholds, inputChannels: cin,
                                                       outputChannels: cout, groups: 1, window: window, groupBits: bits))
        #expect(table.groupBits == bits)
        let reference = Convolution.reference(input: x, weights: weights, bias: bias, outputChannels: cout, groups: 1, window: window)
        let fast = table.forward(x)
        #expect(fast.shape == reference.shape)
        #expect(relativeError(fast, reference) <= 1e-5)
    }

    /// Kernels three columns wide at stride 1 slide along rows: odd and even group counts,
    /// 4-bit groups, several 16-lane blocks, kernel heights 1, 3 and 5, pads 0-2 and
    /// asymmetric. Other geometries keep the per-tap tables.
    @Test(arguments: [
        // (cin, cout, kernel h, pads t/l/b/r, H, W, firing %, bits)
        [16, 16, 3, 1, 1, 1, 1, 12, 11, 17, 8],
        [20, 40, 3, 1, 1, 1, 1, 9, 7, 30, 8],
        [20, 40, 3, 0, 2, 1, 0, 9, 7, 30, 4],
        [7, 70, 1, 0, 1, 0, 1, 5, 9, 40, 8],
        [24, 16, 5, 2, 0, 2, 0, 8, 6, 20, 8],
        [16, 16, 3, 0, 0, 0, 0, 6, 3, 50, 8],
        // Four 8-bit groups (the last partial) take the other unrolled loop.
        [27, 32, 3, 1, 1, 1, 1, 7, 9, 25, 8],
    ])
    func slidingAlongRowsMatchesTheDenseConvolution(_ p: [Int]) throws {
        let (cin, cout, kh, h, w, firing, bits) = (p[0], p[1], p[2], p[7], p[8], p[9], p[10])
        var g = KernelTests.Generator(state: UInt64(p.reduce(5, +)))
        let window = WindowGeometry(kernel: (kh, 3), pads: (p[3], p[4], p[5], p[6]))
        let (thresholds, x) = Self.spikes(&g, channels: cin, height: h, width: w, firing: firing)
        let weights = g.array(cout * cin * kh * 3), bias = g.array(cout)
        let table = try #require(SpikeTableConvolution(weights: weights, bias: bias, amplitudes: thresholds, inputChannels: cin,
                                                       outputChannels: cout, groups: 1, window: window, groupBits: bits))
        #expect(table.slidesAlongRows)
        let reference = Convolution.reference(input: x, weights: weights, bias: bias, outputChannels: cout, groups: 1, window: window)
        let fast = table.forward(x)
        #expect(fast.shape == reference.shape)
        #expect(relativeError(fast, reference) <= 1e-5)
        for other in [WindowGeometry(kernel: (3, 3), stride: (2, 2)), WindowGeometry(kernel: (3, 3), dilation: (1, 2)),
                      WindowGeometry(kernel: (3, 5))] {
            let kernel = SpikeTableConvolution(weights: [Float](repeating: 1, count: cin * other.kernel.h * other.kernel.w), bias: nil,
                                               amplitudes: [1], inputChannels: cin, outputChannels: 1, groups: 1, window: other)
            #expect(kernel?.slidesAlongRows == false)
        }
    }

    /// A run of output pixels starting and ending mid-row (as a fused layer's blocks do)
    /// gives bit for bit the values of the whole map: the summation order of each output
    /// does not depend on where its run starts.
    @Test(arguments: [20, 16, 32])
    func slidingRunsMatchTheWholeMapBitForBit(cin: Int) throws {
        let (cout, h, w) = (32, 7, 9)
        var g = KernelTests.Generator(state: 77 + UInt64(cin))
        let window = WindowGeometry(kernel: (3, 3), pads: (1, 1, 1, 1))
        let (thresholds, x) = Self.spikes(&g, channels: cin, height: h, width: w, firing: 25)
        let table = try #require(SpikeTableConvolution(weights: g.array(cout * cin * 9), bias: g.array(cout), amplitudes: thresholds,
                                                       inputChannels: cin, outputChannels: cout, groups: 1, window: window))
        let spikes = table.padded(SpikePatterns(packing: x, amplitudes: thresholds))
        let stride = table.paddedOutputs, pixels = h * w
        var whole = [Float](repeating: 0, count: pixels * stride)
        whole.withUnsafeMutableBufferPointer { table.accumulate(spikes, image: 1, pixels: 0..<pixels, into: $0.baseAddress!) }
        for run in [4..<23, 0..<1, 17..<18, 8..<10, 61..<63, 30..<63] {
            var part = [Float](repeating: 0, count: run.count * stride)
            part.withUnsafeMutableBufferPointer { table.accumulate(spikes, image: 1, pixels: run, into: $0.baseAddress!) }
            #expect(part == Array(whole[(run.lowerBound * stride)..<(run.upperBound * stride)]), "pixels \(run)")
        }
        #expect(whole.contains { $0 != 0 })
    }

    @Test func oneAmplitudeServesEveryChannel() throws {
        let window = WindowGeometry(kernel: (1, 1))
        // Two channels, one output: y = 1 * 0.5 * x0 + 2 * 0.5 * x1 + 0.25.
        let table = try #require(SpikeTableConvolution(weights: [1, 2], bias: [0.25], amplitudes: [0.5], inputChannels: 2,
                                                       outputChannels: 1, groups: 1, window: window))
        let x = Tensor(shape: [1, 2, 1, 4], storage: [0, 0.5, 0, 0.5, 0, 0, 0.5, 0.5])
        #expect(table.forward(x).storage == [0.25, 0.75, 1.25, 1.75])
    }

    @Test func refusesWhatItCannotCompute() {
        let window = WindowGeometry(kernel: (1, 1))
        #expect(SpikeTableConvolution(weights: [1, 2], bias: nil, amplitudes: [1], inputChannels: 2, outputChannels: 1, groups: 2,
                                      window: window) == nil)
        #expect(SpikeTableConvolution(weights: [1, 2], bias: nil, amplitudes: [1, 1, 1], inputChannels: 2, outputChannels: 1, groups: 1,
                                      window: window) == nil)
        #expect(SpikeTableConvolution(weights: [1, 2], bias: nil, amplitudes: [1], inputChannels: 2, outputChannels: 1, groups: 1,
                                      window: window, groupBits: 6) == nil)
    }

    @Test func spikePatternsPackEightChannelsPerByte() {
        // 10 channels of a 1 x 2 image: channel c fires at pixel 0 when c is even, at pixel 1 when c > 6.
        let amplitudes = (0..<10).map { Float($0) + 1 }
        var map = Tensor(zeros: [1, 10, 1, 2])
        for c in 0..<10 {
            if c % 2 == 0 { map.storage[c * 2] = amplitudes[c] }
            if c > 6 { map.storage[c * 2 + 1] = amplitudes[c] }
        }
        let packed = SpikePatterns(packing: map, amplitudes: amplitudes)
        // Group 0 (channels 0-7): pixel 0 has bits 0, 2, 4, 6; pixel 1 bit 7. Group 1: pixel 0 bit 0 (channel 8), pixel 1 bits 0, 1.
        #expect(packed.bytes == [0b0101_0101, 0b1000_0000, 0b01, 0b11])
        #expect(packed.unpacked() == map)
    }

    @Test func pixelRowsBecomePlanes() {
        // Full 16 x 16 tiles and partial edges both ways, with a padded row stride.
        for (pixels, channels, stride) in [(16, 16, 16), (37, 40, 48), (5, 3, 16), (64, 130, 144)] {
            let rows = (0..<pixels * stride).map { Float($0) }
            var planes = [Float](repeating: -1, count: channels * pixels)
            rows.withUnsafeBufferPointer { r in
                planes.withUnsafeMutableBufferPointer { PixelMajor.toPlanes(r.baseAddress!, pixels: pixels, rowStride: stride, channels: channels, into: $0.baseAddress!) }
            }
            let expected = (0..<channels).flatMap { c in (0..<pixels).map { p in Float(p * stride + c) } }
            #expect(planes == expected, "\(pixels) pixels, \(channels) channels")
        }
    }
}

@Suite struct SpikeMatrixConvolutionTests {
    /// Weights spread over four decades, so the per-channel fixed point is exercised.
    static func weightsOverFourDecades(_ g: inout KernelTests.Generator, count: Int) -> [Float] {
        g.array(count).map { $0 * powf(10, Float(Int(abs($0) * 1000) % 4) - 2) }
    }

    /// One `accumulate` call over `images` (in that order, repeats allowed, as a fused
    /// layer's work item passes a chunk's steps): every output pixel's row, image after
    /// image, NaN where nothing was written.
    static func rows(_ m: SpikeMatrixConvolution, _ spikes: SpikePatterns, images: [Int], pixels: Int) -> [Float] {
        let stride = m.paddedOutputs, size = pixels * stride
        var out = [Float](repeating: .nan, count: images.count * size)
        images.withUnsafeBufferPointer { list in
            out.withUnsafeMutableBufferPointer { m.accumulate(spikes, images: list, pixels: 0..<pixels, into: $0.baseAddress!, imageStride: size, rowStride: stride) }
        }
        return out
    }

    /// The AMX product of packed spikes against the float64-accumulated reference
    /// convolution of the same spikes (amplitude = threshold), where the machine has AMX.
    @Test(.enabled(if: SpikeMatrixConvolution.isAvailable), arguments: [
        // (cin, cout, kernel, stride, dilation, pads t/l/b/r, H, W, firing %)
        [3, 16, 3, 1, 1, 1, 1, 1, 1, 8, 8, 30],
        [16, 16, 3, 1, 1, 1, 1, 1, 1, 9, 7, 15],
        [13, 20, 3, 2, 1, 0, 1, 2, 0, 10, 9, 50],
        [32, 70, 3, 1, 2, 2, 2, 2, 2, 6, 11, 10],
        [5, 33, 1, 1, 1, 0, 0, 0, 0, 4, 5, 100],
        [40, 64, 5, 1, 1, 2, 1, 2, 1, 7, 6, 5],
        [96, 160, 3, 1, 1, 1, 1, 1, 1, 4, 4, 20],
        // 340 output pixels: one image is split into products of at most 256 rows.
        [8, 16, 3, 1, 1, 1, 1, 1, 1, 20, 17, 20],
    ])
    func matchesTheReferenceConvolutionOfTheSpikes(_ p: [Int]) throws {
        let (cin, cout, k, s, d) = (p[0], p[1], p[2], p[3], p[4])
        let (h, w, firing) = (p[9], p[10], p[11])
        var g = KernelTests.Generator(state: UInt64(p.reduce(13, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), dilation: (d, d), pads: (p[5], p[6], p[7], p[8]))
        let (thresholds, x) = SpikeTableConvolutionTests.spikes(&g, channels: cin, height: h, width: w, firing: firing)
        let weights = Self.weightsOverFourDecades(&g, count: cout * cin * k * k), bias = g.array(cout)
        let matrix = try #require(SpikeMatrixConvolution(weights: weights, bias: bias, amplitudes: thresholds, inputChannels: cin,
                                                         outputChannels: cout, groups: 1, window: window))
        let reference = Convolution.reference(input: x, weights: weights, bias: bias, outputChannels: cout, groups: 1, window: window)
        let fast = matrix.forward(SpikePatterns(packing: x, amplitudes: thresholds))
        #expect(fast.shape == reference.shape)
        #expect(relativeError(fast, reference) <= 1e-5)
    }

    /// On maps of a few pixels the whole-map product (one row per image, only the taps that
    /// reach the input) gives the im2col product's floats bit for bit, for several images
    /// in one product; where it would not save tile products it is not built.
    @Test(.enabled(if: SpikeMatrixConvolution.isAvailable), arguments: [
        // (cin, cout, kernel, stride, pads t/l/b/r, H, W, firing %, whole-map form expected)
        [64, 48, 3, 1, 1, 1, 1, 1, 2, 2, 20, 1],
        [20, 40, 3, 1, 1, 1, 1, 1, 1, 1, 50, 1],
        [24, 16, 3, 2, 0, 1, 1, 0, 3, 2, 30, 1],
        [16, 32, 3, 1, 1, 1, 1, 1, 1, 3, 40, 1],
        [16, 32, 2, 1, 0, 0, 1, 1, 2, 3, 40, 0],
        [16, 16, 3, 1, 1, 1, 1, 1, 8, 8, 20, 0],
    ])
    func wholeMapProductMatchesTheIm2colProductBitForBit(_ p: [Int]) throws {
        let (cin, cout, k, s, h, w, firing) = (p[0], p[1], p[2], p[3], p[8], p[9], p[10])
        var g = KernelTests.Generator(state: UInt64(p.reduce(17, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), pads: (p[4], p[5], p[6], p[7]))
        let (thresholds, x) = SpikeTableConvolutionTests.spikes(&g, channels: cin, height: h, width: w, firing: firing)
        let weights = Self.weightsOverFourDecades(&g, count: cout * cin * k * k), bias = g.array(cout)
        func kernel(_ size: (h: Int, w: Int)?) throws -> SpikeMatrixConvolution {
            try #require(SpikeMatrixConvolution(weights: weights, bias: bias, amplitudes: thresholds, inputChannels: cin, outputChannels: cout,
                                                groups: 1, window: window, inputSize: size))
        }
        let whole = try kernel((h, w)), plain = try kernel(nil)
        #expect((whole.wholeMap != nil) == (p[11] == 1))
        #expect(plain.wholeMap == nil)
        let spikes = SpikePatterns(packing: x, amplitudes: thresholds)
        let pixels = window.outputHeight(h) * window.outputWidth(w)
        let a = Self.rows(whole, spikes, images: [2, 0, 1, 2], pixels: pixels), b = Self.rows(plain, spikes, images: [2, 0, 1, 2], pixels: pixels)
        #expect(a == b)
        #expect(a.contains { $0 != 0 } && !a.contains { $0.isNaN })
        let reference = Convolution.reference(input: x, weights: weights, bias: bias, outputChannels: cout, groups: 1, window: window)
        #expect(relativeError(whole.forward(spikes), reference) <= 1e-5)
    }

    /// Skipping the padding's tile products (`PaddingSkip`: border pixels' rows grouped
    /// into tiles, K tiles none of a tile's rows reads inside the input left out) gives the
    /// plain product's floats bit for bit, for calls of many images as a fused layer's
    /// work item makes them.
    @Test(.enabled(if: SpikeMatrixConvolution.isAvailable), arguments: [
        // (cin, cout, kernel, stride, dilation, pads t/l/b/r, H, W, images per call)
        [64, 32, 3, 1, 1, 1, 1, 1, 1, 4, 4, 20],
        [128, 48, 3, 1, 1, 1, 1, 1, 1, 8, 8, 9],
        [64, 16, 5, 1, 1, 2, 2, 2, 2, 6, 6, 5],
        [64, 32, 3, 2, 1, 1, 1, 1, 1, 7, 7, 16],
        [64, 32, 3, 1, 2, 2, 2, 2, 2, 5, 5, 16],
        [32, 32, 3, 1, 1, 1, 1, 1, 1, 4, 4, 16],
        [64, 32, 3, 1, 1, 0, 1, 2, 0, 4, 6, 16],
        [24, 20, 3, 1, 1, 1, 1, 1, 1, 3, 3, 33],
    ])
    func skippingThePaddingChangesNoValue(_ p: [Int]) throws {
        let (cin, cout, k, s, d, h, w, count) = (p[0], p[1], p[2], p[3], p[4], p[9], p[10], p[11])
        var g = KernelTests.Generator(state: UInt64(p.reduce(23, +)))
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), dilation: (d, d), pads: (p[5], p[6], p[7], p[8]))
        let (thresholds, x) = SpikeTableConvolutionTests.spikes(&g, channels: cin, height: h, width: w, firing: 25)
        let weights = Self.weightsOverFourDecades(&g, count: cout * cin * k * k), bias = g.array(cout)
        func kernel(_ skips: Bool) throws -> SpikeMatrixConvolution {
            try #require(SpikeMatrixConvolution(weights: weights, bias: bias, amplitudes: thresholds, inputChannels: cin, outputChannels: cout,
                                                groups: 1, window: window, skipsPadding: skips))
        }
        let skipping = try kernel(true), plain = try kernel(false)
        let spikes = SpikePatterns(packing: x, amplitudes: thresholds)
        let pixels = window.outputHeight(h) * window.outputWidth(w), images = (0..<count).map { ($0 * 7) % 3 }
        let a = Self.rows(skipping, spikes, images: images, pixels: pixels), b = Self.rows(plain, spikes, images: images, pixels: pixels)
        #expect(a.elementsEqual(b) { $0.bitPattern == $1.bitPattern })
        #expect(a.contains { $0 != 0 } && !a.contains { $0.isNaN })
    }

    /// The taps border pixels read inside the input, worked by hand for a 3x3 kernel with
    /// padding 1 (tap = 3 x kernel row + kernel column), and the share of a product's tile
    /// products they let go. On a 4x4 map with 16 images per product each 16-row tile is
    /// one pixel: the 4 corners skip 5 taps of 9 and the 8 edge pixels 3, (4 x 5 + 8 x 3) /
    /// (16 x 9). On an 8x8 map with 4 images (tiles of 4 pixels) the grouping puts the two
    /// bottom corners with 2 bottom-edge pixels (all miss the bottom kernel row), a right
    /// corner with 3 right-edge pixels, and so on: 5 tiles of 16 skip 3 taps and 2 skip
    /// one, 17 / 144 (the best grouping makes 18).
    @Test func borderPixelsSkipThePaddingsTileProducts() throws {
        func bits(_ taps: [Int]) -> UInt64 { taps.reduce(0) { $0 | 1 << UInt64($1) } }
        let window = WindowGeometry(kernel: (3, 3), pads: (1, 1, 1, 1))
        let small = try #require(PaddingSkip(window: window, inputSize: (4, 4), pixels: 0..<16))
        #expect(small.taps[0] == bits([4, 5, 7, 8]))
        #expect(small.taps[1] == bits([3, 4, 5, 6, 7, 8]))
        #expect(small.taps[7] == bits([0, 1, 3, 4, 6, 7]))
        #expect(small.taps[5] == bits(Array(0..<9)))
        #expect(small.taps[15] == bits([0, 1, 3, 4]))
        let oneTapPerTile = try #require(PaddingSkip.kTileTaps(taps: 9, tapBytes: 64, depth: 576))
        #expect(oneTapPerTile == (0..<9).map { bits([$0]) })
        #expect(PaddingSkip.kTileTaps(taps: 9, tapBytes: 32, depth: 320) == [bits([0, 1]), bits([2, 3]), bits([4, 5]), bits([6, 7]), bits([8])])
        #expect(PaddingSkip.kTileTaps(taps: 9, tapBytes: 128, depth: 1152)?.count == 18)

        let layout = small.layout(images: 16, imageStride: 1000, rowStride: 10)
        #expect(layout.rowOf.map(Int.init).sorted() == Array(0..<256))
        for k in 0..<16 {
            for j in 0..<16 {
                let row = Int(layout.rowOf[k * 16 + j])
                #expect(layout.offsets[row] == k * 1000 + j * 10)
                #expect(layout.rowTiles[row / 16] == small.taps[j], "each tile is one pixel's 16 images")
            }
        }
        #expect(PaddingSkip.skippedShare(layout, kTiles: oneTapPerTile) == 44.0 / 144)

        let large = try #require(PaddingSkip(window: window, inputSize: (8, 8), pixels: 0..<64))
        #expect(PaddingSkip.skippedShare(large.layout(images: 4, imageStride: 1000, rowStride: 10), kTiles: oneTapPerTile) == 17.0 / 144)
        #expect(large.grouped(size: 4).sorted() == Array(0..<64))

        #expect(PaddingSkip(window: WindowGeometry(kernel: (1, 1)), inputSize: (4, 4), pixels: 0..<16) == nil, "a 1x1 kernel reads no padding")
        #expect(PaddingSkip(window: WindowGeometry(kernel: (3, 3)), inputSize: (6, 6), pixels: 0..<16) == nil, "nor does an unpadded one")
        #expect(PaddingSkip(window: window, inputSize: (8, 8), pixels: 9..<15) == nil, "nor interior pixels")
    }

    /// Weights the float recombination cannot scale exactly (a channel whose largest weight
    /// needs a subnormal 2^e) or cannot hold (non-finite) get no matrix kernel, so the
    /// simulator falls back to the other kernels instead of computing them wrongly.
    @Test func weightsItCannotHoldGetNoKernel() {
        let window = WindowGeometry(kernel: (1, 1))
        func kernel(_ weights: [Float]) -> SpikeMatrixConvolution? {
            SpikeMatrixConvolution(weights: weights, bias: nil, amplitudes: [1], inputChannels: 2, outputChannels: 2, groups: 1, window: window)
        }
        #expect(kernel([0.5, -0.25, 1e-3, 2]) != nil)
        #expect(kernel([0.5, -0.25, 1e-33, 0]) == nil, "a channel at 1e-33 needs 2^-131")
        #expect(kernel([0.5, .nan, 1, 2]) == nil)
        #expect(kernel([0.5, 1, 0, 0]) != nil, "an all-zero channel needs no scale")
    }
}
