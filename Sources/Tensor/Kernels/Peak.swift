import SNNAMX

/// Measures the core's fused multiply-add throughput: the ceiling any float32 kernel is
/// compared against, and the floor of an event-driven simulation (one synaptic operation
/// is one lane of an add). Independent chains hide the FMA latency (2 ports x 4-5 cycles
/// needs 8-10 in flight), as many as the register file holds: 24 of 16 lanes on AVX-512,
/// 12 of 8 on AVX2. The AVX-512 loop on AVX2 spilled (48 vector registers' worth) and
/// measured 38 GFLOP/s on a core that does 97.
public enum ArithmeticPeak {
    /// Floating-point operations per second on one core (an FMA counts as two): the best
    /// of three timed runs, so a descheduled moment does not lower it.
    public static func measureSingleCore(iterations: Int = 20_000_000) -> Double {
        let clock = ContinuousClock()
        let wide = snn_vector_bytes() >= 64
        // Fused multiply-add lanes per round; rounds chosen for the same work either way.
        let lanes = wide ? 24 * 16 : 12 * 8
        let rounds = iterations * 384 / lanes
        var best = 0.0
        for _ in 0..<3 {
            let start = clock.now
            let sink = wide ? chains16(rounds: rounds) : chains8(rounds: rounds)
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if !sink.isFinite || seconds <= 0 { return 0 }
            best = max(best, Double(rounds * lanes * 2) / seconds)
        }
        return best
    }

    /// v <- v x m + a converges to a / (1 - m): no overflow and no denormals at any count.
    static let (m, a): (Float, Float) = (0.999_999, 1e-7)

    @inline(never)
    static func chains16(rounds: Int) -> Float {
        let m = SIMD16<Float>(repeating: Self.m), a = SIMD16<Float>(repeating: Self.a)
        var c0 = SIMD16<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
        var d0 = c0, d1 = c0, d2 = c0, d3 = c0, d4 = c0, d5 = c0
        var d6 = c0, d7 = c0, d8 = c0, d9 = c0, d10 = c0, d11 = c0
        for _ in 0..<rounds {
            c0 = a.addingProduct(c0, m); c1 = a.addingProduct(c1, m); c2 = a.addingProduct(c2, m)
            c3 = a.addingProduct(c3, m); c4 = a.addingProduct(c4, m); c5 = a.addingProduct(c5, m)
            c6 = a.addingProduct(c6, m); c7 = a.addingProduct(c7, m); c8 = a.addingProduct(c8, m)
            c9 = a.addingProduct(c9, m); c10 = a.addingProduct(c10, m); c11 = a.addingProduct(c11, m)
            d0 = a.addingProduct(d0, m); d1 = a.addingProduct(d1, m); d2 = a.addingProduct(d2, m)
            d3 = a.addingProduct(d3, m); d4 = a.addingProduct(d4, m); d5 = a.addingProduct(d5, m)
            d6 = a.addingProduct(d6, m); d7 = a.addingProduct(d7, m); d8 = a.addingProduct(d8, m)
            d9 = a.addingProduct(d9, m); d10 = a.addingProduct(d10, m); d11 = a.addingProduct(d11, m)
        }
        let c = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11
        let d = d0 + d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 + d9 + d10 + d11
        return (c + d).sum()
    }

    @inline(never)
    static func chains8(rounds: Int) -> Float {
        let m = SIMD8<Float>(repeating: Self.m), a = SIMD8<Float>(repeating: Self.a)
        var c0 = SIMD8<Float>(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
        var c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0
        for _ in 0..<rounds {
            c0 = a.addingProduct(c0, m); c1 = a.addingProduct(c1, m); c2 = a.addingProduct(c2, m)
            c3 = a.addingProduct(c3, m); c4 = a.addingProduct(c4, m); c5 = a.addingProduct(c5, m)
            c6 = a.addingProduct(c6, m); c7 = a.addingProduct(c7, m); c8 = a.addingProduct(c8, m)
            c9 = a.addingProduct(c9, m); c10 = a.addingProduct(c10, m); c11 = a.addingProduct(c11, m)
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).sum()
    }
}
