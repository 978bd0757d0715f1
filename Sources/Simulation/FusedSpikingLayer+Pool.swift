extension FusedSpikingLayer {
    /// The running-sum max pool for one block of whole pooled rows: the convolution's rows
    /// (`pixels` x size^2 of them, row-major over the block's convolution rows) add to their
    /// running sums; each pooled pixel's current is the maximum of its window's sums minus
    /// the maximum it had the step before (`RunningMaxPoolState`'s equations).
    @inline(__always)
    static func runningMaxIncrements(_ rows: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>,
                                     pixels: Int, outW: Int, size: Int, rowStride: Int, into currents: UnsafeMutablePointer<Float>) {
        let values = pixels * size * size * rowStride
        var i = 0
        while i < values {
            let sum = load16(sums + i) + load16(rows + i)
            UnsafeMutableRawPointer(sums + i).storeBytes(of: sum, as: SIMD16<Float>.self)
            i += 16
        }
        let inW = outW * size
        for q in 0..<pixels {
            let (oh, ow) = (q / outW, q % outW)
            let corner = sums + ((oh * size) * inW + ow * size) * rowStride
            for k in stride(from: 0, to: rowStride, by: 16) {
                var best = load16(corner + k)
                for i in 0..<size {
                    for j in 0..<size where i + j > 0 {
                        let v = load16(corner + (i * inW + j) * rowStride + k)
                        best = best.replacing(with: v, where: v .> best)
                    }
                }
                let at = q * rowStride + k
                UnsafeMutableRawPointer(currents + at).storeBytes(of: best - load16(maxima + at), as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(maxima + at).storeBytes(of: best, as: SIMD16<Float>.self)
            }
        }
    }
}

/// 16 floats from `p`, unaligned.
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
