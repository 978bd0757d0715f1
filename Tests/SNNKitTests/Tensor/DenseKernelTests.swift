import Foundation
import Testing
@testable import SNNKit
@testable import SNNTensor
@testable import SNNSpikeKernels
@testable import SNNBenchmarking

/// Fast kernels against their plain double-precision references.
@Suite struct KernelTests {
    struct Generator {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
        }
        mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
    }

    @Test(arguments: [(1, 1, 1), (7, 33, 5), (8, 32, 64), (17, 65, 129), (64, 300, 27), (3, 1000, 512)])
    func gemmMatchesReference(_ size: (Int, Int, Int)) {
        let (m, n, k) = size
        var g = Generator(state: UInt64(m * 1000 + n * 10 + k))
        let a = g.array(m * k), b = g.array(k * n)
        let lhs = a.withUnsafeBufferPointer { PackedLHS(rows: m, depth: k, source: $0.baseAddress!, rowStride: k, depthStride: 1) }
        let rhs = b.withUnsafeBufferPointer { PackedRHS(depth: k, columns: n, source: $0.baseAddress!, depthStride: n, columnStride: 1) }
        var c = [Float](repeating: 0, count: m * n)
        c.withUnsafeMutableBufferPointer { GEMM.multiply(lhs: lhs, rhs: rhs, c: $0.baseAddress!, ldc: n) }
        let reference = GEMM.reference(m: m, n: n, k: k, a: a, b: b)
        let error = zip(c, reference).map { abs($0 - $1) }.max() ?? 0
        #expect(error <= 1e-5 * Float(k))
    }

    /// The peak loop does the arithmetic it times, at either vector width: every lane of
    /// the twelve chains follows v <- v x m + a from 1, one fused rounding per step as in
    /// this scalar loop (the lanes' sum then rounds a little more).
    @Test func peakChainsComputeWhatTheyTime() {
        var scalar: Float = 1
        for _ in 0..<1000 { scalar = Float(1e-7).addingProduct(scalar, 0.999_999) }
        let v = Double(scalar)
        let narrow = ArithmeticPeak.chains(SIMD8<Float>.self, rounds: 1000)
        let wide = ArithmeticPeak.chains(SIMD16<Float>.self, rounds: 1000)
        #expect(abs(Double(narrow) - 12 * 8 * v) <= 1e-5 * 12 * 8 * v)
        #expect(abs(Double(wide) - 12 * 16 * v) <= 1e-5 * 12 * 16 * v)
    }

    /// The AVX2 micro-kernel (a quarter of the tile at a time) and the AVX-512 one (the
    /// whole tile in registers) form each element by the same left-to-right sum, so a
    /// build's results do not depend on its instruction set. Both are compiled into every
    /// build; each runs slowly on the other's registers, but runs.
    @Test(arguments: [(1, 3, false), (3, 17, true), (9, 40, true)])
    func gemmTileQuartersEqualTheWholeTile(_ p: (taps: Int, channels: Int, accumulate: Bool)) {
        var g = Generator(state: UInt64(p.taps * 100 + p.channels))
        let stride = 40, offsets = (0..<p.taps).map { $0 * 7 }
        let a = g.array(p.taps * p.channels * GEMM.tileRows)
        let b = g.array((offsets.last! + p.channels * stride) + GEMM.tileColumns)
        let start = g.array(GEMM.tileRows * GEMM.tileColumns)
        var whole = start, quarters = start
        offsets.withUnsafeBufferPointer { t in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    whole.withUnsafeMutableBufferPointer {
                        GEMM.kernelTapsWhole(taps: t.baseAddress!, tapCount: p.taps, channels: p.channels, planeStride: stride,
                                             a: a.baseAddress!, b: b.baseAddress!, tile: $0.baseAddress!, accumulate: p.accumulate)
                    }
                    quarters.withUnsafeMutableBufferPointer {
                        GEMM.kernelTapsQuarters(taps: t.baseAddress!, tapCount: p.taps, channels: p.channels, planeStride: stride,
                                                a: a.baseAddress!, b: b.baseAddress!, tile: $0.baseAddress!, accumulate: p.accumulate)
                    }
                }
            }
        }
        #expect(whole == quarters)
        #expect(whole != start)
        // Against double precision: element (r, j) = start (if accumulating) + sum over taps and channels.
        var worst: Float = 0
        for r in 0..<GEMM.tileRows {
            for j in 0..<GEMM.tileColumns {
                var sum = p.accumulate ? Double(start[r * GEMM.tileColumns + j]) : 0
                for t in 0..<p.taps {
                    for c in 0..<p.channels {
                        sum += Double(a[(t * p.channels + c) * GEMM.tileRows + r]) * Double(b[offsets[t] + c * stride + j])
                    }
                }
                worst = max(worst, abs(Float(sum) - whole[r * GEMM.tileColumns + j]))
            }
        }
        #expect(worst <= 1e-5 * Float(p.taps * p.channels + 1))
    }

    @Test(arguments: [
        // (cin, cout, groups, kernel, stride, dilation, pads t/l/b/r, H, W)
        [3, 8, 1, 3, 1, 1, 1, 1, 1, 1, 9, 11],
        [4, 6, 2, 3, 2, 1, 0, 1, 2, 0, 10, 7],
        [8, 8, 8, 3, 1, 1, 1, 1, 1, 1, 6, 6],
        [8, 16, 8, 3, 2, 2, 2, 2, 2, 2, 13, 9],
        [5, 40, 1, 1, 1, 1, 0, 0, 0, 0, 5, 9],
        [3, 17, 1, 7, 2, 1, 3, 3, 3, 3, 23, 19],
        [16, 33, 1, 3, 1, 3, 3, 3, 3, 3, 12, 40],
        // Depthwise: strides 1-3, dilations, asymmetric pads, multipliers 2 and 4, maps down to 1x1.
        [72, 72, 72, 3, 2, 1, 1, 1, 1, 1, 32, 32],
        [20, 20, 20, 3, 1, 1, 1, 1, 1, 1, 4, 4],
        [6, 12, 6, 5, 3, 2, 2, 0, 3, 1, 17, 14],
        [4, 16, 4, 3, 2, 1, 0, 1, 2, 0, 9, 8],
        [5, 5, 5, 3, 1, 1, 1, 1, 1, 1, 1, 1],
        [3, 3, 3, 1, 2, 1, 0, 0, 0, 0, 5, 7],
    ])
    func convolutionMatchesReference(_ p: [Int]) {
        let (cin, cout, groups, k, s, d) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let window = WindowGeometry(kernel: (k, k), stride: (s, s), dilation: (d, d), pads: (p[6], p[7], p[8], p[9]))
        var g = Generator(state: UInt64(p.reduce(0, +)))
        let x = Tensor(shape: [2, cin, p[10], p[11]], storage: g.array(2 * cin * p[10] * p[11]))
        let w = g.array(cout * (cin / groups) * k * k)
        let b = g.array(cout)
        let conv = Convolution(weights: w, bias: b, inputChannels: cin, outputChannels: cout, groups: groups, window: window)
        let fast = conv.forward(x)
        let reference = Convolution.reference(input: x, weights: w, bias: b, outputChannels: cout, groups: groups, window: window)
        #expect(fast.shape == reference.shape)
        #expect(relativeError(fast, reference) <= 1e-5)
        let fused = conv.forward(x, clamp: .relu)
        #expect(fused.storage == fast.storage.map { max($0, 0) })
        let relu6 = conv.forward(x, clamp: Clamp(lower: 0, upper: 0.5))
        #expect(relu6.storage == fast.storage.map { min(max($0, 0), 0.5) })
    }

    /// Stride-1 convolutions with enough output channels pack their panels, whose 32
    /// columns run over the batch's valid pixels: a 2x2 or 3x5 map puts several images,
    /// and a wide one two rows, in one panel; so do pointwise ones on maps that fill their
    /// panels badly. Both paths (packed, and in place for few
    /// channels) must give the reference's values, and the same bits as each other.
    @Test(arguments: [
        // (cin, cout, groups, kernel, dilation, pad, H, W, images)
        [16, 64, 1, 3, 1, 1, 2, 2, 7],
        [12, 80, 2, 3, 1, 1, 3, 5, 5],
        [8, 33, 1, 3, 2, 2, 6, 37, 2],
        [6, 16, 1, 3, 1, 1, 4, 4, 9],
        // Pointwise on small maps: the GEMM's columns run over the batch (see batchesColumns).
        [48, 80, 1, 1, 1, 0, 4, 4, 5],
        [7, 9, 1, 1, 1, 0, 7, 7, 3],
        [33, 12, 1, 1, 1, 0, 1, 3, 40],
    ])
    func packedPanelsSpanImagesAndRows(_ p: [Int]) {
        let (cin, cout, groups, k, d, pad) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let window = WindowGeometry(kernel: (k, k), stride: (1, 1), dilation: (d, d), pads: (pad, pad, pad, pad))
        var g = Generator(state: UInt64(p.reduce(0, +) * 31))
        let x = Tensor(shape: [p[8], cin, p[6], p[7]], storage: g.array(p[8] * cin * p[6] * p[7]))
        let w = g.array(cout * (cin / groups) * k * k), b = g.array(cout)
        let conv = Convolution(weights: w, bias: b, inputChannels: cin, outputChannels: cout, groups: groups, window: window)
        let fast = conv.forward(x)
        let reference = Convolution.reference(input: x, weights: w, bias: b, outputChannels: cout, groups: groups, window: window)
        #expect(fast.shape == reference.shape)
        #expect(relativeError(fast, reference) <= 1e-5)
        // One image at a time fills its panels differently; every value must be the same.
        let single = Tensor(concatenatingSamples: (0..<p[8]).map { conv.forward(x.samples($0..<($0 + 1))) })
        let identical = single.storage == fast.storage
        #expect(identical, "image by image differs from the batch")
    }

    @Test func resultsAreIdenticalForAnyThreadCount() throws {
        let dir = Fixtures.onnx.appendingPathComponent("net_c_vgg")
        let graph = try ONNXImporter.load(contentsOf: dir.appendingPathComponent("model.onnx"))
        let input = try TensorFile.readTestData(directory: dir).inputs[0].tensor
        let name = graph.runtimeInputs[0].name
        let plan = try ExecutionPlan(graph: graph, inputShapes: [name: input.shape])
        defer { Parallel.threads = 0 }
        Parallel.threads = 1
        let one = try plan.run([name: input])
        Parallel.threads = 2
        let two = try plan.run([name: input])
        Parallel.threads = 3
        let three = try plan.run([name: input])
        #expect(one == two)
        #expect(two == three)
    }

    /// Workers claim their shares by the CPU they run on: every item still runs exactly
    /// once, with more workers than CPUs, and past the 64 shares the claim mask holds.
    @Test(arguments: [2, 3, 5, 8, 70])
    func everyItemRunsOnceWhateverTheWorkers(threads: Int) {
        defer { Parallel.threads = 0 }
        Parallel.threads = threads
        for count in [threads - 1, threads, 1000] {
            var runs = [Int](repeating: 0, count: count)
            runs.withUnsafeMutableBufferPointer { r in
                let base = r.baseAddress!
                Parallel.forEach(count) { base[$0] += 1 }
            }
            #expect(runs.allSatisfy { $0 == 1 }, "\(threads) workers, \(count) items")
        }
    }

    @Test func poolingWindowsFollowOnnxCeilMode() {
        // 5 wide, kernel 2, stride 2, ceil: windows start at 0, 2, 4 -> 3 outputs; the last covers one column.
        let t = Tensor(shape: [1, 1, 1, 5], storage: [1, 2, 3, 4, 5])
        let window = WindowGeometry(kernel: (1, 2), stride: (1, 2))
        let avg = Pooling.forward(t, kind: .average(countIncludePad: false), window: window, ceilMode: true)
        #expect(avg.storage == [1.5, 3.5, 5])
        let max = Pooling.forward(t, kind: .max, window: window, ceilMode: true)
        #expect(max.storage == [2, 4, 5])
    }
}

