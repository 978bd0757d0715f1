extension Convolution {
    /// Whether a 1 x 1 convolution should take its GEMM columns over the whole batch rather
    /// than image by image: when an image's pixels leave more than an eighth of its 32-column
    /// panels empty (a 4 x 4 map fills half of one panel, a 7 x 7 map 77% of two).
    static func batchesColumns(pixels: Int, batch: Int) -> Bool {
        let nr = GEMM.tileColumns
        let slots = (pixels + nr - 1) / nr * nr
        return batch > 1 && (slots - pixels) * 8 > slots
    }

    /// A pointwise (1 x 1, stride 1, unpadded, one group) convolution as one GEMM whose
    /// columns are (image, pixel) over the whole batch: a panel may hold the end of one
    /// image and the start of the next, packed from both and stored back to both. Each output
    /// is the same left-to-right sum over input channels as in the image-by-image path, so the
    /// two agree bit for bit.
    func pointwiseOverBatch(_ x: UnsafePointer<Float>, inputShape: [Int], _ y: UnsafeMutablePointer<Float>, clamp: Clamp?) {
        let batch = inputShape[0], pixels = inputShape[2] * inputShape[3]
        let (cin, cout) = (inputChannels, outputChannels)
        let nr = GEMM.tileColumns
        let columns = batch * pixels
        let panels = (columns + nr - 1) / nr
        bias.withUnsafeBufferPointer { biasBuffer in
            Parallel.forEachRange(panels) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: cin * nr) { panelBuffer in
                    withUnsafeTemporaryAllocation(of: GEMM.ColumnRun.self, capacity: nr) { runs in
                        withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { sources in
                            let packed = panelBuffer.baseAddress!
                            for panel in range {
                                // The panel's columns, split where an image ends.
                                var count = 0, column = panel * nr
                                let end = min(column + nr, columns)
                                while column < end {
                                    let (n, p) = column.quotientAndRemainder(dividingBy: pixels)
                                    let length = min(end - column, pixels - p)
                                    runs[count] = GEMM.ColumnRun(first: column - panel * nr, count: length, target: n * cout * pixels + p)
                                    sources[count] = n * cin * pixels + p
                                    count += 1
                                    column += length
                                }
                                let filled = end - panel * nr
                                for k in 0..<cin {
                                    let row = packed + k * nr
                                    for r in 0..<count {
                                        Self.copyRow(x + sources[r] + k * pixels, to: row + runs[r].first, count: runs[r].count)
                                    }
                                    if filled < nr { (row + filled).update(repeating: 0, count: nr - filled) }
                                }
                                GEMM.multiplyPanel(lhs: packedWeights[0], rhsPanel: packed,
                                                   runs: UnsafeBufferPointer(rebasing: runs[0..<count]), c: y, ldc: pixels,
                                                   epilogue: GEMM.Epilogue(rowBias: biasBuffer.baseAddress!, clamp: clamp))
                            }
                        }
                    }
                }
            }
        }
    }
}
