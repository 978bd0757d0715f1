import SNNAMX

/// Single-precision matrix multiply C = A * B with a register-blocked micro-kernel.
///
/// The micro-kernel keeps an 8 x 32 tile of C in sixteen 16-lane accumulators (AVX-512
/// has 32 vector registers: sixteen accumulators, two B vectors and the broadcast A
/// scalars fit without spilling). Each step over the shared dimension does 2 vector
/// loads, 8 scalar broadcasts and 16 fused multiply-adds, so the loop is bound by the
/// two FMA ports rather than by memory. AVX2's 16 registers hold a quarter of the tile
/// at a time (`kernelTapsQuarters`). Operands are packed so the kernel reads both
/// sequentially: A in panels of 8 rows, B in panels of 32 columns, both depth-major.
///
/// Each C element is a plain left-to-right sum over the shared dimension, computed by
/// exactly one kernel call, so results do not depend on how callers split the work.
public enum GEMM {
    /// Rows of C per micro-kernel tile (and per packed A panel).
    public static let tileRows = 8
    /// Columns of C per micro-kernel tile (two 16-lane vectors; one packed B panel).
    public static let tileColumns = 32

    /// What to do with a finished tile before it is stored.
    public struct Epilogue {
        /// Added to every element of row m (a convolution's bias, per output channel).
        public var rowBias: UnsafePointer<Float>? = nil
        /// Added to every element of column n (a fully connected layer's bias).
        public var columnBias: UnsafePointer<Float>? = nil
        /// Bounds applied last (a fused ReLU or ReLU6), or nil.
        public var clamp: Clamp? = nil
        /// Add the tile to what C already holds instead of overwriting it.
        public var accumulate: Bool = false
        /// An epilogue; the default stores the plain product.
        public init(rowBias: UnsafePointer<Float>? = nil, columnBias: UnsafePointer<Float>? = nil,
                    clamp: Clamp? = nil, accumulate: Bool = false) {
            self.rowBias = rowBias
            self.columnBias = columnBias
            self.clamp = clamp
            self.accumulate = accumulate
        }
    }

    /// Multiplies row panels `rowPanels` of `lhs` with one packed column panel of B.
    ///
    /// - Parameters:
    ///   - rhsPanel: `lhs.depth * GEMM.tileColumns` floats, depth-major, zero-padded past `columns`.
    ///   - columns: valid columns in this panel (1...32).
    ///   - columnOffset: index of the panel's first column in the whole of C (for column bias).
    ///   - c: address of C[0][columnOffset]; row m starts at `c + m * ldc`.
    public static func multiplyPanel(
        lhs: PackedLHS, rowPanels: Range<Int>, rhsPanel: UnsafePointer<Float>, columns: Int,
        columnOffset: Int, c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue
    ) {
        withTiles(lhs: lhs, rowPanels: rowPanels, rhsPanel: rhsPanel) { tiles in
            for (i, panel) in rowPanels.enumerated() {
                let row0 = panel * tileRows
                store(tile: tiles + i * tileRows * tileColumns, rows: min(tileRows, lhs.rows - row0), columns: columns,
                      row0: row0, columnOffset: columnOffset, c: c + row0 * ldc, ldc: ldc, epilogue: epilogue)
            }
        }
    }

    /// Columns `first..<first + count` of a panel, stored contiguously from `target` (row m
    /// of C at `target + m * ldc`): where a panel's columns belong to several images.
    public struct ColumnRun: Sendable {
        /// The run's first column in the panel.
        public var first: Int
        /// Columns in the run.
        public var count: Int
        /// Offset in C of row 0 of the run's first column.
        public var target: Int
        /// A run of `count` columns from `first`, stored from offset `target`.
        public init(first: Int, count: Int, target: Int) {
            self.first = first
            self.count = count
            self.target = target
        }
    }

    /// Multiplies all row panels of `lhs` with one packed column panel of B, storing the
    /// panel's columns in `runs` (the row bias and clamp of `epilogue` applied; column bias
    /// and accumulation are not supported here).
    public static func multiplyPanel(lhs: PackedLHS, rhsPanel: UnsafePointer<Float>, runs: UnsafeBufferPointer<ColumnRun>,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue) {
        precondition(epilogue.columnBias == nil && !epilogue.accumulate, "scattered stores take a row bias and a clamp only")
        withTiles(lhs: lhs, rowPanels: 0..<lhs.panels, rhsPanel: rhsPanel) { tiles in
            for m in 0..<lhs.rows {
                let tileRow = tiles + (m / tileRows) * tileRows * tileColumns + (m % tileRows) * tileColumns
                let bias = epilogue.rowBias.map { $0[m] } ?? 0
                for run in runs {
                    storeBiased(tileRow + run.first, to: c + run.target + m * ldc, count: run.count, bias: bias, clamp: epilogue.clamp)
                }
            }
        }
    }

    /// A run of a tile row to the output, plus the row's bias and the fused activation.
    @inline(__always)
    static func storeBiased(_ source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int, bias: Float,
                            clamp: Clamp?) {
        if let clamp {
            for t in 0..<count { target[t] = clamp(source[t] + bias) }
        } else {
            for t in 0..<count { target[t] = source[t] + bias }
        }
    }

    /// The 8 x 32 tiles of row panels `rowPanels` times one B panel, blocked over depth,
    /// passed to `body` one after the other (tile i at `i * tileRows * tileColumns`).
    @inline(__always)
    static func withTiles(lhs: PackedLHS, rowPanels: Range<Int>, rhsPanel: UnsafePointer<Float>,
                          _ body: (UnsafeMutablePointer<Float>) -> Void) {
        lhs.storage.withUnsafeBufferPointer { packedA in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, rowPanels.count) * tileRows * tileColumns) { tiles in
                let tileBase = tiles.baseAddress!
                var k0 = 0
                repeat {
                    let depth = min(depthBlock, lhs.depth - k0)
                    for (i, panel) in rowPanels.enumerated() {
                        let a = packedA.baseAddress! + panel * lhs.depth * tileRows + k0 * tileRows
                        kernel(depth: depth, a: a, b: rhsPanel + k0 * tileColumns, tile: tileBase + i * tileRows * tileColumns,
                               accumulate: k0 > 0)
                    }
                    k0 += depth
                } while k0 < lhs.depth
                body(tileBase)
            }
        }
    }

    @inline(__always)
    @inlinable package static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    @inline(__always)
    @inlinable package static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    /// The 8 x 32 tile: tile[r * 32 + j] = sum_k a[k * 8 + r] * b[k * 32 + j]: the tapped
    /// kernel with one tap and packed B rows 32 floats apart.
    @inline(__always)
    static func kernel(depth: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, tile: UnsafeMutablePointer<Float>,
                       accumulate: Bool = false) {
        var origin = 0
        kernelTaps(taps: &origin, tapCount: 1, channels: depth, planeStride: tileColumns, a: a, b: b, tile: tile, accumulate: accumulate)
    }

    /// Depth block: a 256-deep slice of a 32-column B panel is 32 KiB and stays in L1 while
    /// every row panel of A streams past it.
    static let depthBlock = 256

    /// The 8 x 32 tile of a stride-1 convolution read in place: for each kernel tap t and
    /// input channel c, the B row is the 32 floats at b + taps[t] + c * planeStride of a
    /// zero-padded input plane. A is packed with k = t * channels + c.
    @inline(__always)
    static func kernelTaps(taps: UnsafePointer<Int>, tapCount: Int, channels: Int, planeStride: Int,
                           a: UnsafePointer<Float>, b: UnsafePointer<Float>, tile: UnsafeMutablePointer<Float>,
                           accumulate: Bool = false) {
        if snn_vector_bytes() < 64 {
            kernelTapsQuarters(taps: taps, tapCount: tapCount, channels: channels, planeStride: planeStride, a: a, b: b, tile: tile,
                               accumulate: accumulate)
        } else {
            kernelTapsWhole(taps: taps, tapCount: tapCount, channels: channels, planeStride: planeStride, a: a, b: b, tile: tile,
                            accumulate: accumulate)
        }
    }

    /// `kernelTaps` with 32 vector registers (AVX-512): the whole tile in registers.
    @inline(__always)
    static func kernelTapsWhole(taps: UnsafePointer<Int>, tapCount: Int, channels: Int, planeStride: Int,
                                a: UnsafePointer<Float>, b: UnsafePointer<Float>, tile: UnsafeMutablePointer<Float>,
                                accumulate: Bool) {
        // Starting from the tile's contents lets callers split the shared dimension into
        // cache-sized blocks without changing the left-to-right summation order.
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>()
        var c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>()
        var c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>()
        var c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        var c60 = SIMD16<Float>(), c61 = SIMD16<Float>()
        var c70 = SIMD16<Float>(), c71 = SIMD16<Float>()
        if accumulate {
            c00 = load16(tile); c01 = load16(tile + 16)
            c10 = load16(tile + 32); c11 = load16(tile + 48)
            c20 = load16(tile + 64); c21 = load16(tile + 80)
            c30 = load16(tile + 96); c31 = load16(tile + 112)
            c40 = load16(tile + 128); c41 = load16(tile + 144)
            c50 = load16(tile + 160); c51 = load16(tile + 176)
            c60 = load16(tile + 192); c61 = load16(tile + 208)
            c70 = load16(tile + 224); c71 = load16(tile + 240)
        }
        var pa = a
        for t in 0..<tapCount {
            var pb = b + taps[t]
            for _ in 0..<channels {
                let b0 = load16(pb)
                let b1 = load16(pb + 16)
                var s = SIMD16<Float>(repeating: pa[0])
                c00 = c00.addingProduct(s, b0); c01 = c01.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[1])
                c10 = c10.addingProduct(s, b0); c11 = c11.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[2])
                c20 = c20.addingProduct(s, b0); c21 = c21.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[3])
                c30 = c30.addingProduct(s, b0); c31 = c31.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[4])
                c40 = c40.addingProduct(s, b0); c41 = c41.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[5])
                c50 = c50.addingProduct(s, b0); c51 = c51.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[6])
                c60 = c60.addingProduct(s, b0); c61 = c61.addingProduct(s, b1)
                s = SIMD16<Float>(repeating: pa[7])
                c70 = c70.addingProduct(s, b0); c71 = c71.addingProduct(s, b1)
                pa += 8
                pb += planeStride
            }
        }
        store16(c00, tile); store16(c01, tile + 16)
        store16(c10, tile + 32); store16(c11, tile + 48)
        store16(c20, tile + 64); store16(c21, tile + 80)
        store16(c30, tile + 96); store16(c31, tile + 112)
        store16(c40, tile + 128); store16(c41, tile + 144)
        store16(c50, tile + 160); store16(c51, tile + 176)
        store16(c60, tile + 192); store16(c61, tile + 208)
        store16(c70, tile + 224); store16(c71, tile + 240)
    }

    /// `kernelTaps` with 16 vector registers (AVX2): the 8 x 32 tile's sixteen 16-lane
    /// accumulators would be 32 registers of 8 lanes and spill, so the tile is computed a
    /// quarter at a time, 4 rows x 16 columns in eight registers (the chains two FMA ports
    /// of latency 4 need), with the B vector and a broadcast beside them. Both row halves
    /// of a column half run back to back, so its B cache lines (one of each 128-byte row)
    /// are still in L1 the second time: `bench gemm` 57-86 GFLOP/s, against 41-75 with the
    /// row halves outermost. Each element is the same left-to-right sum, so results are
    /// those of the AVX-512 kernel bit for bit. Bands of 3 rows x 32 columns (12 accumulators
    /// and four B registers: a spill) measured 38-42 GFLOP/s; 6 rows then 2 (12 and 4
    /// accumulators) no faster than quarters in three alternating rounds.
    @inline(__always)
    static func kernelTapsQuarters(taps: UnsafePointer<Int>, tapCount: Int, channels: Int, planeStride: Int,
                                   a: UnsafePointer<Float>, b: UnsafePointer<Float>, tile: UnsafeMutablePointer<Float>,
                                   accumulate: Bool) {
        for columns in stride(from: 0, to: tileColumns, by: 16) {
            for rows in stride(from: 0, to: tileRows, by: 4) {
                let out = tile + rows * tileColumns + columns
                var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
                if accumulate {
                    c0 = load16(out); c1 = load16(out + tileColumns)
                    c2 = load16(out + 2 * tileColumns); c3 = load16(out + 3 * tileColumns)
                }
                var pa = a + rows
                for t in 0..<tapCount {
                    var pb = b + taps[t] + columns
                    for _ in 0..<channels {
                        let v = load16(pb)
                        c0 = c0.addingProduct(SIMD16<Float>(repeating: pa[0]), v)
                        c1 = c1.addingProduct(SIMD16<Float>(repeating: pa[1]), v)
                        c2 = c2.addingProduct(SIMD16<Float>(repeating: pa[2]), v)
                        c3 = c3.addingProduct(SIMD16<Float>(repeating: pa[3]), v)
                        pa += tileRows
                        pb += planeStride
                    }
                }
                store16(c0, out); store16(c1, out + tileColumns)
                store16(c2, out + 2 * tileColumns); store16(c3, out + 3 * tileColumns)
            }
        }
    }

    @inline(__always)
    static func store(tile: UnsafeMutablePointer<Float>, rows: Int, columns: Int, row0: Int, columnOffset: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue) {
        for r in 0..<rows {
            let source = tile + r * tileColumns
            let destination = c + r * ldc
            let rowBias = epilogue.rowBias.map { $0[row0 + r] } ?? 0
            if columns == tileColumns {
                var v0 = load16(source) + rowBias
                var v1 = load16(source + 16) + rowBias
                if let columnBias = epilogue.columnBias {
                    v0 += load16(columnBias + columnOffset)
                    v1 += load16(columnBias + columnOffset + 16)
                }
                if epilogue.accumulate {
                    v0 += load16(destination)
                    v1 += load16(destination + 16)
                }
                if let clamp = epilogue.clamp {
                    v0 = clamp(v0)
                    v1 = clamp(v1)
                }
                store16(v0, destination)
                store16(v1, destination + 16)
            } else {
                for j in 0..<columns {
                    var v = source[j] + rowBias
                    if let columnBias = epilogue.columnBias { v += columnBias[columnOffset + j] }
                    if epilogue.accumulate { v += destination[j] }
                    if let clamp = epilogue.clamp { v = clamp(v) }
                    destination[j] = v
                }
            }
        }
    }
}

/// The left operand packed in panels of `GEMM.tileRows` rows, each panel depth-major and
/// zero-padded to a whole panel, so the micro-kernel reads eight row scalars per step.
public struct PackedLHS: Sendable {
    /// Rows of A (M).
    public let rows: Int
    /// Shared dimension (K).
    public let depth: Int
    /// Panels of `GEMM.tileRows` rows, the last zero-padded.
    public var panels: Int { (rows + GEMM.tileRows - 1) / GEMM.tileRows }
    let storage: [Float]

    /// Packs A[m][k] = source[m * rowStride + k * depthStride].
    public init(rows: Int, depth: Int, source: UnsafePointer<Float>, rowStride: Int, depthStride: Int) {
        self.rows = rows
        self.depth = depth
        let mr = GEMM.tileRows
        let panelCount = (rows + mr - 1) / mr
        storage = [Float](unsafeUninitializedCapacity: panelCount * depth * mr) { buffer, initialized in
            let out = buffer.baseAddress!
            for panel in 0..<panelCount {
                let base = out + panel * depth * mr
                for r in 0..<mr {
                    let m = panel * mr + r
                    if m < rows {
                        let row = source + m * rowStride
                        for k in 0..<depth { base[k * mr + r] = row[k * depthStride] }
                    } else {
                        for k in 0..<depth { base[k * mr + r] = 0 }
                    }
                }
            }
            initialized = panelCount * depth * mr
        }
    }
}

/// The right operand packed in panels of `GEMM.tileColumns` columns, each depth-major and
/// zero-padded, for operands that are constant (weights) and packed once.
public struct PackedRHS: Sendable {
    /// Shared dimension (K).
    public let depth: Int
    /// Columns of B (N).
    public let columns: Int
    /// Panels of `GEMM.tileColumns` columns, the last zero-padded.
    public var panels: Int { (columns + GEMM.tileColumns - 1) / GEMM.tileColumns }
    let storage: [Float]

    /// Packs B[k][n] = source[k * depthStride + n * columnStride].
    public init(depth: Int, columns: Int, source: UnsafePointer<Float>, depthStride: Int, columnStride: Int) {
        self.depth = depth
        self.columns = columns
        let nr = GEMM.tileColumns
        let panelCount = (columns + nr - 1) / nr
        storage = [Float](unsafeUninitializedCapacity: panelCount * depth * nr) { buffer, initialized in
            let out = buffer.baseAddress!
            for panel in 0..<panelCount {
                PackedRHS.packPanel(panel: panel, depth: depth, columns: columns, source: source,
                                    depthStride: depthStride, columnStride: columnStride,
                                    into: out + panel * depth * nr)
            }
            initialized = panelCount * depth * nr
        }
    }

    /// Packs one 32-column panel of B[k][n] = source[k * depthStride + n * columnStride].
    @inline(__always)
    public static func packPanel(panel: Int, depth: Int, columns: Int, source: UnsafePointer<Float>,
                                 depthStride: Int, columnStride: Int, into out: UnsafeMutablePointer<Float>) {
        let nr = GEMM.tileColumns
        let n0 = panel * nr
        let valid = min(nr, columns - n0)
        if valid == nr && columnStride == 1 {
            for k in 0..<depth {
                let row = source + k * depthStride + n0
                GEMM.store16(GEMM.load16(row), out + k * nr)
                GEMM.store16(GEMM.load16(row + 16), out + k * nr + 16)
            }
            return
        }
        for k in 0..<depth {
            let row = source + k * depthStride
            let o = out + k * nr
            for j in 0..<valid { o[j] = row[(n0 + j) * columnStride] }
            for j in valid..<nr { o[j] = 0 }
        }
    }

    /// Runs `body` with a pointer to panel `index`.
    @inline(__always)
    public func withPanel<R>(_ index: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        storage.withUnsafeBufferPointer { body($0.baseAddress! + index * depth * GEMM.tileColumns) }
    }
}

extension GEMM {
    /// C[m][n] (+)= sum_k A[m][k] * B[k][n] with B packed once; splits work across cores by
    /// column panels, or by row panels when there are fewer column panels than threads.
    public static func multiply(lhs: PackedLHS, rhs: PackedRHS, c: UnsafeMutablePointer<Float>, ldc: Int,
                                epilogue: Epilogue = Epilogue()) {
        precondition(lhs.depth == rhs.depth)
        let columnPanels = rhs.panels
        let rowPanels = lhs.panels
        let threads = Parallel.workers
        let rowChunks = columnPanels >= threads ? 1 : min(rowPanels, threads)
        let cAddress = Int(bitPattern: c)
        Parallel.forEach(columnPanels * rowChunks) { item in
            let panel = item / rowChunks
            let chunk = item % rowChunks
            let rows = (rowPanels * chunk / rowChunks)..<(rowPanels * (chunk + 1) / rowChunks)
            let c = UnsafeMutablePointer<Float>(bitPattern: cAddress)!
            rhs.withPanel(panel) { b in
                multiplyPanel(lhs: lhs, rowPanels: rows, rhsPanel: b,
                              columns: min(tileColumns, rhs.columns - panel * tileColumns),
                              columnOffset: panel * tileColumns, c: c + panel * tileColumns, ldc: ldc,
                              epilogue: epilogue)
            }
        }
    }

    /// Unpacked, unblocked C = A * B in double-precision accumulation: the oracle for tests.
    public static func reference(m: Int, n: Int, k: Int, a: [Float], b: [Float]) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k { sum += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(sum)
            }
        }
        return c
    }
}
