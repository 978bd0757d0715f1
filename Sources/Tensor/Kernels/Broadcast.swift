/// Element-wise binary operations with NumPy/ONNX multidirectional broadcasting.
public enum Broadcast {
    /// The element-wise operations, each applied as `a op b`.
    public enum Operation: String, Sendable, CaseIterable {
        /// a + b, a - b, a * b, a / b, min(a, b), max(a, b).
        case add, subtract, multiply, divide, minimum, maximum
    }

    /// The broadcast result shape, or nil when the shapes are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            if x == y || y == 1 { out.append(x) } else if x == 1 { out.append(y) } else { return nil }
        }
        return out
    }

    /// Strides of `shape` seen through the broadcast `target` shape (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
        let strides = Tensor.strides(of: padded)
        return zip(padded, strides).map { $0 == 1 ? 0 : $1 }
    }

    /// out = a (op) b under broadcasting, or nil when the shapes are incompatible.
    public static func apply(_ a: Tensor, _ b: Tensor, _ operation: Operation) -> Tensor? {
        switch operation {
        case .add: return apply(a, b) { $0 + $1 }
        case .subtract: return apply(a, b) { $0 - $1 }
        case .multiply: return apply(a, b) { $0 * $1 }
        case .divide: return apply(a, b) { $0 / $1 }
        case .minimum: return apply(a, b) { Swift.min($0, $1) }
        case .maximum: return apply(a, b) { Swift.max($0, $1) }
        }
    }

    @inline(__always)
    static func apply(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) -> Tensor? {
        guard let outShape = shape(a.shape, b.shape) else { return nil }
        return Tensor(shape: outShape) { out in
            a.storage.withUnsafeBufferPointer { x in
                b.storage.withUnsafeBufferPointer { y in
                    combine(x, a.shape, y, b.shape, into: out, shape: outShape, op)
                }
            }
        }
    }

    /// The same for integer shape arithmetic (never on the hot path).
    public static func apply(_ a: [Int64], _ aShape: [Int], _ b: [Int64], _ bShape: [Int],
                             _ op: (Int64, Int64) -> Int64) -> ([Int64], [Int])? {
        guard let outShape = shape(aShape, bShape) else { return nil }
        let count = outShape.reduce(1, *)
        let values = [Int64](writingAll: count) { out in
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in combine(x, aShape, y, bShape, into: out, shape: outShape, op) }
            }
        }
        return (values, outShape)
    }

    /// The innermost axis runs as a tight loop with the common cases (both contiguous,
    /// one side constant along it) specialised; outer axes advance an index counter.
    @inline(__always)
    static func combine<T>(_ x: UnsafeBufferPointer<T>, _ xShape: [Int], _ y: UnsafeBufferPointer<T>, _ yShape: [Int],
                           into out: UnsafeMutableBufferPointer<T>, shape outShape: [Int], _ op: (T, T) -> T) {
        let total = out.count
        guard total > 0 else { return }
        if xShape == yShape {
            for i in 0..<total { out[i] = op(x[i], y[i]) }
            return
        }
        let sa = broadcastStrides(xShape, to: outShape)
        let sb = broadcastStrides(yShape, to: outShape)
        let rank = outShape.count
        let inner = rank > 0 ? outShape[rank - 1] : 1
        let ia = rank > 0 ? sa[rank - 1] : 0
        let ib = rank > 0 ? sb[rank - 1] : 0
        var index = [Int](repeating: 0, count: max(rank - 1, 0))
        for outer in 0..<(total / inner) {
            var offA = 0, offB = 0
            for axis in 0..<(rank - 1) {
                offA += index[axis] * sa[axis]
                offB += index[axis] * sb[axis]
            }
            let o = outer * inner
            if ia == 1 && ib == 1 {
                for i in 0..<inner { out[o + i] = op(x[offA + i], y[offB + i]) }
            } else if ia == 1 && ib == 0 {
                let v = y[offB]
                for i in 0..<inner { out[o + i] = op(x[offA + i], v) }
            } else if ia == 0 && ib == 1 {
                let v = x[offA]
                for i in 0..<inner { out[o + i] = op(v, y[offB + i]) }
            } else {
                for i in 0..<inner { out[o + i] = op(x[offA + i * ia], y[offB + i * ib]) }
            }
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < outShape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }
}
