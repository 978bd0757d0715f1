/// Measures the core's fused multiply-add throughput: the ceiling any float32 kernel
/// is compared against. Twenty-four independent 16-lane chains hide the FMA latency
/// (4 cycles x 2 ports x 3 spare), so the loop is throughput-bound.
public enum ArithmeticPeak {
    /// Floating-point operations per second on one core (an FMA counts as two).
    public static func measureSingleCore(iterations: Int = 20_000_000) -> Double {
        let clock = ContinuousClock()
        var best = 0.0
        for _ in 0..<3 {
            let start = clock.now
            let sink = chains(iterations: iterations)
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if sink.isNaN { return 0 }
            best = max(best, Double(iterations) * 24 * 32 / seconds)
        }
        return best
    }

    @inline(never)
    static func chains(iterations: Int) -> Float {
        let m = SIMD16<Float>(repeating: 0.999_999)
        let a = SIMD16<Float>(repeating: 1e-7)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
        var d0 = c0, d1 = c0, d2 = c0, d3 = c0, d4 = c0, d5 = c0
        var d6 = c0, d7 = c0, d8 = c0, d9 = c0, d10 = c0, d11 = c0
        for _ in 0..<iterations {
            c0 = c0.addingProduct(c0, m); c1 = c1.addingProduct(c1, m); c2 = c2.addingProduct(c2, m)
            c3 = c3.addingProduct(c3, m); c4 = c4.addingProduct(c4, m); c5 = c5.addingProduct(c5, m)
            c6 = c6.addingProduct(c6, m); c7 = c7.addingProduct(c7, m); c8 = c8.addingProduct(c8, m)
            c9 = c9.addingProduct(c9, m); c10 = c10.addingProduct(c10, m); c11 = c11.addingProduct(c11, m)
            d0 = d0.addingProduct(a, m); d1 = d1.addingProduct(a, m); d2 = d2.addingProduct(a, m)
            d3 = d3.addingProduct(a, m); d4 = d4.addingProduct(a, m); d5 = d5.addingProduct(a, m)
            d6 = d6.addingProduct(a, m); d7 = d7.addingProduct(a, m); d8 = d8.addingProduct(a, m)
            d9 = d9.addingProduct(a, m); d10 = d10.addingProduct(a, m); d11 = d11.addingProduct(a, m)
        }
        let c = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11
        let d = d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11
        return (c + d).sum()
    }
}
