import SNNTensor

/// Shape and data-movement operators. They work on float activations at run time and on
/// integer constants (shape arithmetic from exporters) at planning time, so that a
/// Shape -> Gather -> Concat -> Reshape chain folds into one static Reshape.
extension NodeCompiler {
    /// Applies a pure reshape (values unchanged) to float or integer data.
    func reshaped(_ x: InputFact, to shape: [Int]) -> CompiledNode {
        switch x.constant {
        case .int(let t)?: return .folded([.int(IntTensor(shape: shape, values: t.values))])
        case .float(let t)?: return .folded([.float(t.reshaped(shape))])
        case nil: return single(shape) { $0[0]!.reshaped(shape) }
        }
    }

    func flatten(axis: Int) throws -> CompiledNode {
        let x = try required(0, "input")
        let a = try normalizeAxis(axis, rank: x.shape.count, allowEnd: true)
        return reshaped(x, to: [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])
    }

    func reshape(allowZero: Bool) throws -> CompiledNode {
        let x = try required(0, "data")
        let requested = try intConstant(1, "shape")
        var shape = [Int]()
        var inferred: Int? = nil
        for (i, d) in requested.enumerated() {
            if d == 0 && !allowZero {
                guard i < x.shape.count else { throw fail("shape \(requested) copies axis \(i) that \(x.shape) does not have") }
                shape.append(x.shape[i])
            } else if d == -1 {
                guard inferred == nil else { throw fail("shape \(requested) has more than one -1") }
                inferred = i
                shape.append(1)
            } else if d < 0 {
                throw fail("shape \(requested) has a negative size")
            } else {
                shape.append(d)
            }
        }
        try checkSize(shape, value: node.outputs.first ?? "")
        let total = x.shape.reduce(1, *)
        if let i = inferred {
            let known = shape.reduce(1, *)
            guard known > 0, total % known == 0 else { throw fail("cannot reshape \(x.shape) to \(requested)") }
            shape[i] = total / known
        }
        guard shape.reduce(1, *) == total else { throw fail("cannot reshape \(x.shape) (\(total) values) to \(requested)") }
        return reshaped(x, to: shape)
    }

    func squeeze(_ attribute: [Int]?) throws -> CompiledNode {
        let x = try required(0, "data")
        let axesRaw = try attribute ?? (optional(1) != nil ? intConstant(1, "axes") : nil)
        var shape = x.shape
        if let axesRaw {
            let axes = try Set(axesRaw.map { try normalizeAxis($0, rank: x.shape.count) })
            for a in axes where x.shape[a] != 1 { throw fail("cannot squeeze axis \(a) of size \(x.shape[a]) in \(x.shape)") }
            shape = x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        } else {
            shape = x.shape.filter { $0 != 1 }
        }
        return reshaped(x, to: shape)
    }

    func unsqueeze(_ attribute: [Int]?) throws -> CompiledNode {
        let x = try required(0, "data")
        let axesRaw = try attribute ?? intConstant(1, "axes")
        let rank = x.shape.count + axesRaw.count
        let axes = try Set(axesRaw.map { try normalizeAxis($0, rank: rank) })
        guard axes.count == axesRaw.count else { throw fail("duplicate axes \(axesRaw)") }
        var shape = [Int]()
        var source = x.shape.makeIterator()
        for i in 0..<rank { shape.append(axes.contains(i) ? 1 : source.next()!) }
        return reshaped(x, to: shape)
    }

    func transpose(_ permutation: [Int]?) throws -> CompiledNode {
        let x = try required(0, "data")
        let perm = permutation ?? Array((0..<x.shape.count).reversed())
        guard perm.sorted() == Array(0..<x.shape.count) else { throw fail("perm \(perm) is not a permutation of the axes of \(x.shape)") }
        let shape = perm.map { x.shape[$0] }
        if case .int(let t)? = x.constant {
            let strides = Tensor.strides(of: t.shape)
            let values = Layout.stridedCopy(t.values, shape: shape, sourceStrides: perm.map { strides[$0] }, offset: 0)
            return .folded([.int(IntTensor(shape: shape, values: values))])
        }
        return try foldingIfConstant(single(shape) { Layout.transpose($0[0]!, permutation: perm) })
    }

    func concat(axis: Int) throws -> CompiledNode {
        let parts = inputs.compactMap { $0 }
        guard let first = parts.first else { throw fail("Concat has no inputs") }
        let a = try normalizeAxis(axis, rank: first.shape.count)
        for p in parts where p.shape.count != first.shape.count ||
            (0..<first.shape.count).contains(where: { $0 != a && p.shape[$0] != first.shape[$0] }) {
            throw fail("input '\(p.name)' \(p.shape) does not match \(first.shape) outside axis \(a)")
        }
        var shape = first.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        if parts.allSatisfy({ if case .int? = $0.constant { true } else { false } }) {
            let arrays = parts.map { p -> ([Int64], [Int]) in
                guard case .int(let t)? = p.constant else { return ([], p.shape) }
                return (t.values, t.shape)
            }
            return .folded([.int(IntTensor(shape: shape, values: Layout.concatArrays(arrays, axis: a)))])
        }
        for p in parts { try requireFloat(p) }
        let outShape = shape
        return try foldingIfConstant(single(outShape) { inputs in Layout.concat(inputs.compactMap { $0 }, axis: a) })
    }

    /// ONNX Slice bounds for one axis: clamps starts/ends like NumPy, steps may be negative.
    static func sliceRange(start: Int, end: Int, step: Int, size: Int) -> (start: Int, count: Int) {
        var s = start < 0 ? start + size : start
        var e = end < 0 ? end + size : end
        if step > 0 {
            s = min(max(s, 0), size)
            e = min(max(e, 0), size)
            return (s, max(0, (e - s + step - 1) / step))
        } else {
            s = min(max(s, -1), size - 1)
            e = min(max(e, -1), size - 1)
            return (s, max(0, (s - e + (-step) - 1) / (-step)))
        }
    }

    func slice() throws -> CompiledNode {
        let x = try required(0, "data")
        let starts = try intConstant(1, "starts"), ends = try intConstant(2, "ends")
        let axesRaw = try optional(3) != nil ? intConstant(3, "axes") : Array(0..<starts.count)
        let steps = try optional(4) != nil ? intConstant(4, "steps") : [Int](repeating: 1, count: starts.count)
        guard starts.count == ends.count, axesRaw.count == starts.count, steps.count == starts.count else {
            throw fail("starts, ends, axes and steps must have the same length")
        }
        let rank = x.shape.count
        var begin = [Int](repeating: 0, count: rank)
        var counts = x.shape
        var stepAll = [Int](repeating: 1, count: rank)
        for i in 0..<starts.count {
            let axis = try normalizeAxis(axesRaw[i], rank: rank)
            guard steps[i] != 0 else { throw fail("slice step 0 on axis \(axis)") }
            let r = Self.sliceRange(start: starts[i], end: ends[i], step: steps[i], size: x.shape[axis])
            begin[axis] = r.start
            counts[axis] = r.count
            stepAll[axis] = steps[i]
        }
        if case .int(let t)? = x.constant {
            let values = Layout.sliceArray(t.values, shape: t.shape, starts: begin, counts: counts, steps: stepAll)
            return .folded([.int(IntTensor(shape: counts, values: values))])
        }
        let (b, c, s) = (begin, counts, stepAll)
        return try foldingIfConstant(single(counts) { Layout.slice($0[0]!, starts: b, counts: c, steps: s) })
    }

    func pad(mode: Layout.PadMode) throws -> CompiledNode {
        let x = try required(0, "data")
        try requireFloat(x)
        let pads = try intConstant(1, "pads")
        let value = try optionalFloatVector(2, "constant_value")?.first ?? 0
        let rank = x.shape.count
        let axes = try optional(3) != nil ? intConstant(3, "axes").map { try normalizeAxis($0, rank: rank) } : Array(0..<rank)
        guard pads.count == 2 * axes.count else { throw fail("pads \(pads) must have 2 values per padded axis (\(axes.count) axes)") }
        try WindowGeometry.checkBounded(node: node.name, ["pads": pads])
        var before = [Int](repeating: 0, count: rank), after = before
        for (i, axis) in axes.enumerated() {
            before[axis] = pads[i]
            after[axis] = pads[i + axes.count]
        }
        let shape = (0..<rank).map { x.shape[$0] + before[$0] + after[$0] }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("pads \(pads) crop \(x.shape) below zero") }
        if mode == .reflect {
            for axis in 0..<rank where max(before[axis], after[axis]) >= x.shape[axis] && (before[axis] > 0 || after[axis] > 0) {
                throw fail("reflect padding of \(max(before[axis], after[axis])) needs axis \(axis) longer than that (it is \(x.shape[axis]))")
            }
        }
        let (b, a) = (before, after)
        return try foldingIfConstant(single(shape) { Layout.pad($0[0]!, before: b, after: a, mode: mode, value: value) })
    }

    /// Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (X, scales).
    /// Only the two spatial axes of an NCHW tensor may change size.
    func resize(_ options: Resize.Options, upsample: Bool) throws -> CompiledNode {
        let x = try required(0, "X")
        try requireFloat(x)
        let rank = x.shape.count
        guard rank >= 2 else { throw fail("resize needs at least 2 axes, got \(x.shape)") }
        let scalesIndex = upsample || node.inputs.count == 2 ? 1 : 2
        let sizes = try optional(3).flatMap { f -> [Int]? in f.shape.reduce(1, *) == 0 ? nil : try intConstant(3, "sizes") }
        let scales = try optional(scalesIndex).flatMap { f -> [Float]? in
            f.shape.reduce(1, *) == 0 ? nil : try optionalFloatVector(scalesIndex, "scales")
        }
        var outShape = x.shape
        var spatialScales = [Double](repeating: 1, count: rank)
        if let sizes {
            guard sizes.count == rank else { throw fail("sizes \(sizes) must have \(rank) values") }
            outShape = sizes
            for i in 0..<rank { spatialScales[i] = Double(sizes[i]) / Double(max(x.shape[i], 1)) }
        } else if let scales {
            guard scales.count == rank else { throw fail("scales \(scales) must have \(rank) values") }
            for i in 0..<rank {
                guard scales[i] > 0, scales[i].isFinite else { throw fail("scales \(scales) must be positive and finite") }
                let size = (Double(x.shape[i]) * Double(scales[i])).rounded(.down)
                guard size <= Double(Planner.maximumElements) else {
                    throw fail("scales \(scales) make axis \(i) \(size) long, more than the \(Planner.maximumElements) elements SNNKit allocates at most")
                }
                outShape[i] = Int(size)
                spatialScales[i] = Double(scales[i])
            }
        } else {
            throw fail("resize needs either scales or sizes")
        }
        guard outShape[..<(rank - 2)] == x.shape[..<(rank - 2)] else {
            throw fail("only the last two axes can be resized (from \(x.shape) to \(outShape))")
        }
        let (oh, ow) = (outShape[rank - 2], outShape[rank - 1])
        let (sh, sw) = (spatialScales[rank - 2], spatialScales[rank - 1])
        guard oh > 0, ow > 0 else { throw fail("resize output \(outShape) is empty") }
        return try foldingIfConstant(single(outShape) { Resize.forward($0[0]!, outH: oh, outW: ow, scaleH: sh, scaleW: sw, options: options) })
    }

    func shape(start: Int, end: Int?) throws -> CompiledNode {
        let x = try required(0, "data")
        let r = x.shape.count
        let s = min(max(start < 0 ? start + r : start, 0), r)
        let e = min(max(end.map { $0 < 0 ? $0 + r : $0 } ?? r, 0), r)
        return .folded([.int(IntTensor(vector: Array(x.shape[s..<max(s, e)])))])
    }

    func gather(axis: Int) throws -> CompiledNode {
        let x = try required(0, "data")
        let indicesFact = try required(1, "indices")
        let a = try normalizeAxis(axis, rank: x.shape.count)
        let raw = try intConstant(1, "indices")
        let n = x.shape[a]
        let indices = try raw.map { i -> Int in
            let j = i < 0 ? i + n : i
            guard j >= 0 && j < n else { throw fail("index \(i) is out of range for axis \(a) of size \(n)") }
            return j
        }
        let shape = Array(x.shape[..<a]) + indicesFact.shape + Array(x.shape[(a + 1)...])
        if case .int(let t)? = x.constant {
            return .folded([.int(IntTensor(shape: shape, values: Layout.takeArray(t.values, shape: t.shape, indices: indices, axis: a)))])
        }
        let indexShape = indicesFact.shape
        return try foldingIfConstant(single(shape) { Layout.take($0[0]!, indices: indices, indicesShape: indexShape, axis: a) })
    }

    func cast(to: ElementType) throws -> CompiledNode {
        let x = try required(0, "input")
        switch (x.constant, to.isFloatingPoint) {
        case (.int(let t)?, true): return .folded([.float(Tensor(shape: t.shape, storage: t.values.map { Float($0) }))])
        case (.int?, false): return .folded([x.constant!])
        case (.float(let t)?, false):
            return .folded([.int(IntTensor(shape: t.shape, values: t.storage.map { Int64($0.rounded(.towardZero)) }))])
        case (.float?, true): return .folded([x.constant!])
        case (nil, true): return single(x.shape) { $0[0]! }
        case (nil, false):
            throw GraphError.nonFloatTensor(node: node.name, value: node.outputs.first ?? "", type: to.name)
        }
    }

    func constantOfShape(value: Constant) throws -> CompiledNode {
        let shape = try intConstant(0, "shape")
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative size in \(shape)") }
        try checkSize(shape, value: node.outputs.first ?? "")
        switch value {
        case .float(let t): return .folded([.float(Tensor(shape: shape, repeating: t.storage.first ?? 0))])
        case .int(let t): return .folded([.int(IntTensor(shape: shape, values: [Int64](repeating: t.values.first ?? 0, count: shape.reduce(1, *))))])
        }
    }

    /// Refuses shapes too large to allocate before anything is allocated.
    /// Sizes of 0 count as 1: an empty tensor allocates nothing, but its strides still
    /// multiply the other sizes.
    func checkSize(_ shape: [Int], value: String) throws {
        var total = 1
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(d, 1))
            if overflow || p > Planner.maximumElements { throw GraphError.tooLarge(node: node.name, value: value, shape: shape) }
            total = p
        }
    }
}
