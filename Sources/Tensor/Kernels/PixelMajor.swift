/// The scratch layout of the spike convolutions: accumulators as [pixel][channel] rows
/// (one output pixel's channels are whole vectors), turned into NCHW planes once per image.
public enum PixelMajor {
    /// [pixels][rowStride] -> [channels][pixels] (the first `channels` of each row), in
    /// 16 x 16 tiles transposed in registers: four rounds of a perfect unshuffle of the
    /// tile's 256 values rotate the (row, column) index bits by four, i.e. swap them.
    /// Partial tiles at the edges are copied one value at a time.
    @inline(__always)
    public static func toPlanes(_ rows: UnsafePointer<Float>, pixels: Int, rowStride: Int, channels: Int, into y: UnsafeMutablePointer<Float>) {
        var p0 = 0
        while p0 < pixels {
            var c0 = 0
            while c0 < channels {
                if p0 + 16 <= pixels && c0 + 16 <= channels {
                    var tile = InlineArray<16, SIMD16<Float>>(repeating: .zero)
                    for p in 0..<16 { tile[p] = GEMM.load16(rows + (p0 + p) &* rowStride + c0) }
                    for _ in 0..<4 {
                        var next = tile
                        for k in 0..<8 {
                            let a = tile[2 * k], b = tile[2 * k + 1]
                            next[k] = SIMD16(lowHalf: a.evenHalf, highHalf: b.evenHalf)
                            next[k + 8] = SIMD16(lowHalf: a.oddHalf, highHalf: b.oddHalf)
                        }
                        tile = next
                    }
                    for c in 0..<16 { GEMM.store16(tile[c], y + (c0 + c) &* pixels + p0) }
                } else {
                    for c in c0..<min(c0 + 16, channels) {
                        for p in p0..<min(p0 + 16, pixels) { y[c &* pixels &+ p] = rows[p &* rowStride &+ c] }
                    }
                }
                c0 += 16
            }
            p0 += 16
        }
    }
}
