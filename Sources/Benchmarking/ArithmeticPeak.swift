import SNNSpikeKernels
import SNNAMX

/// Measures the core's fused multiply-add throughput: the ceiling any float32 kernel is
/// compared against, and the floor of an event-driven simulation (one synaptic operation
/// is one lane of an add). Twelve independent chains hide the FMA latency (2 ports x 4-5
/// cycles needs 8-10 in flight): 16 lanes each (12 zmm registers) on AVX-512, 8 (12 ymm)
/// on AVX2. Not SIMD32: Swift 6.3 lowers `SIMD32<Float>.addingProduct` to a scalar loop
/// (0.1 GFLOP/s against 51 for SIMD16 on the same core), so a 32-lane loop timed that.
public enum ArithmeticPeak {
    /// Floating-point operations per second on one core (an FMA counts as two): the best
    /// of three timed runs, so a descheduled moment does not lower it.
    public static func measureSingleCore(iterations: Int = 20_000_000) -> Double {
        let clock = ContinuousClock()
        // Twelve chains of one register each: 16 lanes on AVX-512, 8 on AVX2.
        let wide = snn_vector_bytes() >= 64
        let lanes = wide ? 12 * 16 : 12 * 8
        // Rounds chosen for the same work either way.
        let rounds = iterations * 384 / lanes
        var best = 0.0
        for _ in 0..<3 {
            let start = clock.now
            let sink = wide ? chains(SIMD16<Float>.self, rounds: rounds) : chains(SIMD8<Float>.self, rounds: rounds)
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if !sink.isFinite || seconds <= 0 { return 0 }
            best = max(best, Double(rounds * lanes * 2) / seconds)
        }
        return best
    }

    /// Twelve independent chains v <- v x m + a, which converge to a / (1 - m): no overflow
    /// and no denormals at any count.
    @inline(never)
    static func chains<V: SIMD>(_: V.Type, rounds: Int) -> Float where V.Scalar == Float {
        let m = V(repeating: 0.999_999), a = V(repeating: 1e-7)
        var c0 = V(repeating: 1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0
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
