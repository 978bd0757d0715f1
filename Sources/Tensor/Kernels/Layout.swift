/// Data-movement kernels: permuting, joining, cutting and padding tensors.
public enum Layout {
    /// out[i_perm(0), ..., i_perm(r-1)] = in[i_0, ..., i_(r-1)] (ONNX Transpose).
    public static func transpose(_ input: Tensor, permutation perm: [Int]) -> Tensor {
        let inStrides = input.strides
        let outShape = perm.map { input.shape[$0] }
        let sourceStrides = perm.map { inStrides[$0] }
        return gather(input, shape: outShape, sourceStrides: sourceStrides, offset: 0)
    }

    /// Copies the strided view (offset, sourceStrides) of `input` into a dense tensor.
    static func gather(_ input: Tensor, shape: [Int], sourceStrides: [Int], offset: Int) -> Tensor {
        Tensor(shape: shape, storage: stridedCopy(input.storage, shape: shape, sourceStrides: sourceStrides, offset: offset))
    }

    /// Dense copy of a strided view of any element type (also used for integer shape data).
    public static func stridedCopy<T>(_ source: [T], shape: [Int], sourceStrides: [Int], offset: Int) -> [T] {
        let rank = shape.count
        let total = shape.reduce(1, *)
        guard total > 0 else { return [] }
        if rank == 0 { return [source[offset]] }
        var out = [T]()
        out.reserveCapacity(total)
        source.withUnsafeBufferPointer { x in
            let inner = shape[rank - 1], innerStride = sourceStrides[rank - 1]
            var index = [Int](repeating: 0, count: rank)
            var o = 0
            while o < total {
                var src = offset
                for axis in 0..<(rank - 1) { src += index[axis] * sourceStrides[axis] }
                for i in 0..<inner { out.append(x[src + i * innerStride]) }
                o += inner
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    if index[axis] < shape[axis] { break }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
        return out
    }

    /// Generic strided slice over a flat array with `shape`.
    public static func sliceArray<T>(_ source: [T], shape: [Int], starts: [Int], counts: [Int], steps: [Int]) -> [T] {
        let strides = Tensor.strides(of: shape)
        var offset = 0
        for axis in 0..<shape.count { offset += starts[axis] * strides[axis] }
        return stridedCopy(source, shape: counts, sourceStrides: (0..<shape.count).map { strides[$0] * steps[$0] }, offset: offset)
    }

    /// Generic concatenation of flat arrays with the given shapes along `axis`.
    public static func concatArrays<T>(_ parts: [([T], [Int])], axis: Int) -> [T] {
        let outer = parts[0].1[..<axis].reduce(1, *)
        var out = [T]()
        for o in 0..<outer {
            for (values, shape) in parts {
                let block = shape[axis...].reduce(1, *)
                out.append(contentsOf: values[(o * block)..<((o + 1) * block)])
            }
        }
        return out
    }

    /// Generic take along `axis` with non-negative, in-range indices.
    public static func takeArray<T>(_ source: [T], shape: [Int], indices: [Int], axis: Int) -> [T] {
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let n = shape[axis]
        var out = [T]()
        out.reserveCapacity(outer * indices.count * inner)
        for a in 0..<outer {
            for idx in indices {
                let base = (a * n + idx) * inner
                out.append(contentsOf: source[base..<(base + inner)])
            }
        }
        return out
    }

    /// Joins tensors along `axis` (ONNX Concat); all other axes must agree.
    public static func concat(_ inputs: [Tensor], axis: Int) -> Tensor {
        var outShape = inputs[0].shape
        outShape[axis] = inputs.reduce(0) { $0 + $1.shape[axis] }
        let outer = outShape[..<axis].reduce(1, *)
        let innerOut = outShape[axis...].reduce(1, *)
        return Tensor(shape: outShape) { out in
            var column = 0
            for t in inputs {
                let block = t.shape[axis...].reduce(1, *)
                t.storage.withUnsafeBufferPointer { x in
                    for o in 0..<outer {
                        let dst = out.baseAddress! + o * innerOut + column
                        let src = x.baseAddress! + o * block
                        dst.update(from: src, count: block)
                    }
                }
                column += block
            }
        }
    }

    /// Strided slice: per axis a start, a count and a step (steps may be negative).
    public static func slice(_ input: Tensor, starts: [Int], counts: [Int], steps: [Int]) -> Tensor {
        let strides = input.strides
        var offset = 0
        for axis in 0..<input.rank { offset += starts[axis] * strides[axis] }
        let sourceStrides = (0..<input.rank).map { strides[$0] * steps[$0] }
        return gather(input, shape: counts, sourceStrides: sourceStrides, offset: offset)
    }

    /// ONNX Pad modes: a constant value, mirror without repeating the edge, repeat the edge, or wrap around.
    public enum PadMode: String, Sendable { case constant, reflect, edge, wrap }

    /// Pads every axis by (before[axis], after[axis]); negative amounts crop.
    public static func pad(_ input: Tensor, before: [Int], after: [Int], mode: PadMode, value: Float) -> Tensor {
        let rank = input.rank
        let outShape = (0..<rank).map { input.shape[$0] + before[$0] + after[$0] }
        let inStrides = input.strides
        let total = outShape.reduce(1, *)
        return Tensor(shape: outShape) { out in
            input.storage.withUnsafeBufferPointer { x in
                var index = [Int](repeating: 0, count: rank)
                for o in 0..<total {
                    var src = 0
                    var inside = true
                    for axis in 0..<rank {
                        var i = index[axis] - before[axis]
                        let n = input.shape[axis]
                        if i < 0 || i >= n {
                            switch mode {
                            case .constant: inside = false
                            case .edge: i = min(max(i, 0), n - 1)
                            case .reflect:
                                if n == 1 { i = 0 } else {
                                    let period = 2 * (n - 1)
                                    i = ((i % period) + period) % period
                                    if i >= n { i = period - i }
                                }
                            case .wrap: i = ((i % n) + n) % n
                            }
                        }
                        src += i * inStrides[axis]
                    }
                    out[o] = inside ? x[src] : value
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        if index[axis] < outShape[axis] { break }
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
    }

    /// Picks entries along `axis` (ONNX Gather with non-negative, in-range indices).
    public static func take(_ input: Tensor, indices: [Int], indicesShape: [Int], axis: Int) -> Tensor {
        let outer = input.shape[..<axis].reduce(1, *)
        let inner = input.shape[(axis + 1)...].reduce(1, *)
        let n = input.shape[axis]
        let outShape = Array(input.shape[..<axis]) + indicesShape + Array(input.shape[(axis + 1)...])
        return Tensor(shape: outShape) { out in
            input.storage.withUnsafeBufferPointer { x in
                var o = 0
                for a in 0..<outer {
                    for idx in indices {
                        let src = x.baseAddress! + (a * n + idx) * inner
                        (out.baseAddress! + o).update(from: src, count: inner)
                        o += inner
                    }
                }
            }
        }
    }
}
