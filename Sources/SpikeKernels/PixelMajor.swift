import SNNTensor
/// The scratch layout of the spike convolutions: accumulators as [pixel][channel] rows
/// (one output pixel's channels are whole vectors), turned into NCHW planes once per image,
/// and the reverse for currents that join such rows.
public enum PixelMajor {
    /// [pixels][rowStride] -> [channels][pixels] (the first `channels` of each row).
    @inline(__always)
    public static func toPlanes(_ rows: UnsafePointer<Float>, pixels: Int, rowStride: Int, channels: Int, into y: UnsafeMutablePointer<Float>) {
        transpose(rows, rows: pixels, columns: channels, sourceStride: rowStride, into: y, destinationStride: pixels)
    }

    /// destination[c * destinationStride + r] = source[r * sourceStride + c] for r < rows,
    /// c < columns, in 16 x 16 tiles transposed in registers: four rounds of a perfect
    /// unshuffle of the tile's 256 values rotate the (row, column) index bits by four, i.e.
    /// swap them. Partial tiles at the edges are copied one value at a time.
    @inline(__always)
    public static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into destination: UnsafeMutablePointer<Float>, destinationStride: Int) {
        var r0 = 0
        while r0 < rows {
            var c0 = 0
            while c0 < columns {
                if r0 + 16 <= rows && c0 + 16 <= columns {
                    var tile = InlineArray<16, SIMD16<Float>>(repeating: .zero)
                    for r in 0..<16 { tile[r] = GEMM.load16(source + (r0 + r) &* sourceStride + c0) }
                    for _ in 0..<4 {
                        var next = tile
                        for k in 0..<8 {
                            let a = tile[2 * k], b = tile[2 * k + 1]
                            next[k] = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
                            next[k + 8] = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
                        }
                        tile = next
                    }
                    for c in 0..<16 { GEMM.store16(tile[c], destination + (c0 + c) &* destinationStride + r0) }
                } else {
                    for c in c0..<min(c0 + 16, columns) {
                        for r in r0..<min(r0 + 16, rows) { destination[c &* destinationStride &+ r] = source[r &* sourceStride &+ c] }
                    }
                }
                c0 += 16
            }
            r0 += 16
        }
    }
}
