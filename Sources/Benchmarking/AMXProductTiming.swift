import SNNSpikeKernels
import Foundation
import SNNAMX

/// Times the AMX int8 tile product, in nanoseconds per 16 x 16 x 64 tile product: the
/// unit's peak (operands in registers) and `SpikeMatrixConvolution`'s product at a given
/// shape, with the recombination of its sums into floats it always runs with. The gap
/// between the two is what the blocking leaves on the table (L2 and L3 traffic of A, B
/// and the int32 sums), so changes to it are measured here first.
public enum AMXProductTiming {
    /// Tile products with their operands in tile registers, best of `repetitions`; nil
    /// without usable AMX.
    public static func peakNanoseconds(products: Int = 4_000_000, repetitions: Int = 5) -> Double? {
        guard SpikeMatrixConvolution.isAvailable else { return nil }
        let count = products / 4 * 4
        let best = (0..<repetitions).map { _ in seconds { snn_amx_register_products(count) } }.min() ?? 0
        return best * 1e9 / Double(count)
    }

    /// One product A (m x k bytes of 0/1 at density 0.2) by B (k x n signed bytes, the
    /// kernel's packed layout) recombined into m x n/3 floats, best of `repetitions`; m, k
    /// and n are rounded up to 16, 64 and 48 (three weight bytes per 16 outputs). Nil
    /// without usable AMX.
    public static func productNanoseconds(m: Int, k: Int, n: Int, repetitions: Int = 10) -> Double? {
        guard SpikeMatrixConvolution.isAvailable, m > 0, k > 0, n > 0 else { return nil }
        let (rows, depth, columns) = ((m + 15) / 16 * 16, (k + 63) / 64 * 64, (n + 47) / 48 * 48)
        let a = UnsafeMutableRawPointer.allocate(byteCount: rows * depth, alignment: 64).bindMemory(to: UInt8.self, capacity: rows * depth)
        let b = UnsafeMutableRawPointer.allocate(byteCount: depth * columns, alignment: 64).bindMemory(to: Int8.self, capacity: depth * columns)
        let c = UnsafeMutableRawPointer.allocate(byteCount: rows * 96 * 4, alignment: 64).bindMemory(to: Int32.self, capacity: rows * 96)
        let outputs = columns / 3
        let values = UnsafeMutablePointer<Float>.allocate(capacity: rows * outputs)
        defer { a.deallocate(); b.deallocate(); c.deallocate(); values.deallocate() }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for i in 0..<(rows * depth) { a[i] = next() % 5 == 0 ? 1 : 0 }
        for i in 0..<(depth * columns) { b[i] = Int8(truncatingIfNeeded: next()) }
        let scales = [Float](repeating: 1, count: outputs), bias = [Float](repeating: 0, count: outputs)
        let product = {
            snn_amx_gemm_combine(a, Int32(rows), Int32(depth), b, Int32(columns), c, Int32(rows), scales, bias, values, 1, outputs, 0, nil)
        }
        product()
        let best = (0..<repetitions).map { _ in seconds(product) }.min() ?? 0
        return best * 1e9 / Double((rows / 16) * (depth / 64) * (columns / 16))
    }

    private static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }
}
