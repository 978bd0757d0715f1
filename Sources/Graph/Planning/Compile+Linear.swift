import SNNTensor

extension NodeCompiler {
    /// Y = alpha * A' * B' + beta * C (A', B' optionally transposed). Constant B (the usual
    /// fully connected layer) is packed once with alpha folded in.
    func gemm(_ g: Operator.GemmAttributes) throws -> CompiledNode {
        let a = try required(0, "A"), b = try required(1, "B")
        try requireFloat(a)
        try requireFloat(b)
        guard a.shape.count == 2, b.shape.count == 2 else { throw fail("Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)") }
        let (m, k) = g.transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = g.transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard k == kb else { throw fail("A \(a.shape) and B \(b.shape) (transA=\(g.transA), transB=\(g.transB)) disagree on the inner size \(k) vs \(kb)") }
        let outShape = [m, n]
        var columnBias: [Float]? = nil
        var addend: Tensor? = nil
        if optional(2) != nil, g.beta != 0 {
            let c = try floatConstant(2, "C")
            guard let s = Broadcast.shape(c.shape, outShape), s == outShape else { throw fail("C \(c.shape) does not broadcast to [\(m), \(n)]") }
            if c.count == n && (c.rank == 1 || c.shape[0] == 1) {
                columnBias = c.storage.map { $0 * g.beta }
            } else {
                addend = Tensor(shape: c.shape, storage: c.storage.map { $0 * g.beta })
            }
        }
        let alpha = g.alpha
        let transB = g.transB
        @Sendable func pack(_ t: Tensor) -> PackedRHS {
            let scaled = alpha == 1 ? t.storage : t.storage.map { $0 * alpha }
            return scaled.withUnsafeBufferPointer {
                PackedRHS(depth: k, columns: n, source: $0.baseAddress!, depthStride: transB ? 1 : n, columnStride: transB ? k : 1)
            }
        }
        let constantB = try constantWeights(b).map(pack)
        let transA = g.transA
        let bias = columnBias
        let extra = addend
        return try foldingIfConstant(single(outShape) { inputs in
            let rhs = constantB ?? pack(inputs[1]!)
            let lhs = inputs[0]!.storage.withUnsafeBufferPointer {
                PackedLHS(rows: m, depth: k, source: $0.baseAddress!, rowStride: transA ? 1 : k, depthStride: transA ? m : 1)
            }
            var y = Tensor(shape: outShape) { out in
                if let bias {
                    bias.withUnsafeBufferPointer {
                        GEMM.multiply(lhs: lhs, rhs: rhs, c: out.baseAddress!, ldc: n, epilogue: .init(columnBias: $0.baseAddress!))
                    }
                } else {
                    GEMM.multiply(lhs: lhs, rhs: rhs, c: out.baseAddress!, ldc: n)
                }
            }
            if let extra { y = Broadcast.apply(y, extra, .add)! }
            return y
        })
    }

    /// NumPy matmul: batch axes broadcast, 1-D operands promoted and the added axis removed.
    func matMul() throws -> CompiledNode {
        let a = try required(0, "A"), b = try required(1, "B")
        try requireFloat(a)
        try requireFloat(b)
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw fail("MatMul operands must have rank >= 1") }
        let aShape = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        let (m, k) = (aShape[aShape.count - 2], aShape[aShape.count - 1])
        let (kb, n) = (bShape[bShape.count - 2], bShape[bShape.count - 1])
        guard k == kb else { throw fail("inner sizes differ: A \(a.shape) x B \(b.shape)") }
        guard let batch = Broadcast.shape(Array(aShape.dropLast(2)), Array(bShape.dropLast(2))) else {
            throw fail("batch axes of A \(a.shape) and B \(b.shape) do not broadcast")
        }
        var outShape = batch + [m, n]
        if a.shape.count == 1 { outShape.remove(at: outShape.count - 2) }
        if b.shape.count == 1 { outShape.removeLast() }
        let finalShape = outShape
        // Fast path: a 2-D constant right operand is a fully connected layer over all rows.
        if let weights = try constantWeights(b), bShape.count == 2 {
            let rhs = weights.storage.withUnsafeBufferPointer {
                PackedRHS(depth: k, columns: n, source: $0.baseAddress!, depthStride: n, columnStride: 1)
            }
            let rows = aShape.dropLast().reduce(1, *)
            return try foldingIfConstant(single(finalShape) { inputs in
                let lhs = inputs[0]!.storage.withUnsafeBufferPointer {
                    PackedLHS(rows: rows, depth: k, source: $0.baseAddress!, rowStride: k, depthStride: 1)
                }
                return Tensor(shape: finalShape) { out in
                    GEMM.multiply(lhs: lhs, rhs: rhs, c: out.baseAddress!, ldc: n)
                }
            })
        }
        let batchCount = batch.reduce(1, *)
        let aBatchStrides = Broadcast.broadcastStrides(Array(aShape.dropLast(2)), to: batch)
        let bBatchStrides = Broadcast.broadcastStrides(Array(bShape.dropLast(2)), to: batch)
        let batchStrides = Tensor.strides(of: batch)
        return try foldingIfConstant(single(finalShape) { inputs in
            let x = inputs[0]!, y = inputs[1]!
            return Tensor(shape: finalShape) { out in
                x.storage.withUnsafeBufferPointer { xa in
                    y.storage.withUnsafeBufferPointer { yb in
                        for i in 0..<batchCount {
                            var offA = 0, offB = 0
                            for axis in 0..<batch.count {
                                let index = (i / batchStrides[axis]) % batch[axis]
                                offA += index * aBatchStrides[axis]
                                offB += index * bBatchStrides[axis]
                            }
                            let lhs = PackedLHS(rows: m, depth: k, source: xa.baseAddress! + offA * m * k, rowStride: k, depthStride: 1)
                            let rhs = PackedRHS(depth: k, columns: n, source: yb.baseAddress! + offB * k * n, depthStride: n, columnStride: 1)
                            GEMM.multiply(lhs: lhs, rhs: rhs, c: out.baseAddress! + i * m * n, ldc: n)
                        }
                    }
                }
            }
        })
    }
}
