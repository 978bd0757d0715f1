import SNNTensor

/// What planning makes of one node: constants computed now, or a kernel to run later.
enum CompiledNode {
    /// Every input was known ahead of time, so the outputs are too.
    case folded([Constant])
    /// A kernel over the node's float inputs (aligned with `Node.inputs`; nil for an omitted
    /// or integer input) producing outputs of the given shapes.
    case kernel(outputShapes: [[Int]], run: Kernel)
}

typealias Kernel = @Sendable ([Tensor?]) -> [Tensor]

/// What is known about one of a node's inputs at planning time.
struct InputFact {
    var name: String
    var shape: [Int]
    /// Set when the value is a constant (a weight, or folded shape arithmetic).
    var constant: Constant?
}

/// Turns one node, with the facts known about its inputs, into a kernel or constants.
/// One extension per operator family; every check that can fail runs here, before any
/// data is touched, so a bad model fails at load time with the node's name.
struct NodeCompiler {
    let node: Node
    let inputs: [InputFact?]
    /// An activation applied in the kernel's store (set by the planner for a convolution whose
    /// only reader is a ReLU or a Clip).
    var fusedClamp: Clamp?

    init(node: Node, inputs: [InputFact?], fusedClamp: Clamp? = nil) {
        self.node = node
        self.inputs = inputs
        self.fusedClamp = fusedClamp
    }

    func compile() throws -> CompiledNode {
        switch node.op {
        case .conv(let a): return try conv(a)
        case .convTranspose(let a): return try convTranspose(a)
        case .batchNormalization(let epsilon): return try batchNormalization(epsilon: epsilon)
        case .relu, .clip, .leakyRelu, .sigmoid, .exp: return try unary()
        case .softmax(let axis, let coerce): return try softmax(axis: axis, coerceTo2D: coerce)
        case .maxPool(let a): return try pool(a, kind: .max)
        case .averagePool(let a, let countIncludePad): return try pool(a, kind: .average(countIncludePad: countIncludePad))
        case .globalAveragePool, .globalMaxPool: return try globalPool()
        case .gemm(let a): return try gemm(a)
        case .matMul: return try matMul()
        case .binary(let op): return try binary(op)
        case .concat(let axis): return try concat(axis: axis)
        case .flatten(let axis): return try flatten(axis: axis)
        case .reshape(let allowZero): return try reshape(allowZero: allowZero)
        case .transpose(let perm): return try transpose(perm)
        case .squeeze(let axes): return try squeeze(axes)
        case .unsqueeze(let axes): return try unsqueeze(axes)
        case .slice: return try slice()
        case .pad(let mode): return try pad(mode: mode)
        case .resize(let options): return try resize(options, upsample: false)
        case .upsample(let options): return try resize(options, upsample: true)
        case .identity, .dropout: return try passThrough()
        case .shape(let start, let end): return try shape(start: start, end: end)
        case .gather(let axis): return try gather(axis: axis)
        case .cast(let to): return try cast(to: to)
        case .constantOfShape(let value): return try constantOfShape(value: value)
        case .ifNeuron: return try ifNeuron()
        case .unsupported(let domain, let type):
            throw GraphError.unsupportedOperator(node: node.name, type: type, domain: domain)
        }
    }

    // MARK: Helpers shared by the operator families

    /// The fact for required input `index`.
    func required(_ index: Int, _ role: String) throws -> InputFact {
        guard index < inputs.count, let fact = inputs[index] else {
            throw GraphError.invalidAttribute(node: node.name, message: "missing required input #\(index) (\(role))")
        }
        return fact
    }

    func optional(_ index: Int) -> InputFact? { index < inputs.count ? inputs[index] : nil }

    /// A float constant input (a weight), with a clear error when it is data-dependent,
    /// integer, or holds a NaN or infinity.
    func floatConstant(_ index: Int, _ role: String) throws -> Tensor {
        let fact = try required(index, role)
        switch fact.constant {
        case .float(let t)?:
            try requireFinite(t, fact.name, role)
            return t
        case .int?: throw GraphError.nonFloatTensor(node: node.name, value: fact.name, type: "integer")
        case nil: throw GraphError.notConstant(node: node.name, value: fact.name, role: role)
        }
    }

    /// The value of an input that may be a constant weight or data (Gemm's and MatMul's B):
    /// the tensor, checked finite, when constant; nil when it is data.
    func constantWeights(_ fact: InputFact) throws -> Tensor? {
        guard case .float(let t)? = fact.constant else { return nil }
        try requireFinite(t, fact.name, "weights")
        return t
    }

    /// A weight must be finite: one NaN would spread through every output it reaches.
    func requireFinite(_ t: Tensor, _ name: String, _ role: String) throws {
        if let bad = t.firstNonFinite() {
            throw GraphError.nonFiniteConstant(node: node.name, value: name, role: role, position: bad.position, found: bad.value)
        }
    }

    /// An integer constant input (shape, axes, pads...), given as a vector.
    func intConstant(_ index: Int, _ role: String) throws -> [Int] {
        let fact = try required(index, role)
        switch fact.constant {
        case .int(let t)?: return t.ints
        case .float(let t)?: return t.storage.map { Int($0) }
        case nil: throw GraphError.notConstant(node: node.name, value: fact.name, role: role)
        }
    }

    /// Float constant input if present, as a vector of Float (scales, roi).
    func optionalFloatVector(_ index: Int, _ role: String) throws -> [Float]? {
        guard let fact = optional(index) else { return nil }
        switch fact.constant {
        case .float(let t)?: return t.storage
        case .int(let t)?: return t.values.map { Float($0) }
        case nil: throw GraphError.notConstant(node: node.name, value: fact.name, role: role)
        }
    }

    /// The input must be float; integer values only exist as constants.
    func requireFloat(_ fact: InputFact) throws {
        if case .int? = fact.constant {
            throw GraphError.nonFloatTensor(node: node.name, value: fact.name, type: "integer")
        }
    }

    func normalizeAxis(_ axis: Int, rank: Int, allowEnd: Bool = false) throws -> Int {
        let limit = allowEnd ? rank + 1 : rank
        let a = axis < 0 ? axis + limit : axis
        guard a >= 0 && a < limit else {
            throw GraphError.invalidAttribute(node: node.name, message: "axis \(axis) is out of range for rank \(rank)")
        }
        return a
    }

    func fail(_ message: String) -> GraphError { .shapeMismatch(node: node.name, message: message) }

    /// Single-output kernel from a shape and a function of the inputs.
    func single(_ shape: [Int], _ run: @escaping @Sendable ([Tensor?]) -> Tensor) -> CompiledNode {
        .kernel(outputShapes: [shape], run: { [run($0)] })
    }

    /// Folds the node when all of its inputs are constants, otherwise builds the kernel.
    /// Used by float operators so that, e.g., a Constant node feeding an Add folds away.
    /// Output sizes are checked first: folding allocates now, before the planner's own check.
    func foldingIfConstant(_ compiled: CompiledNode) throws -> CompiledNode {
        guard case .kernel(let shapes, let run) = compiled else { return compiled }
        let present = inputs.compactMap { $0 }
        guard !present.isEmpty, present.allSatisfy({ $0.constant != nil }) else { return compiled }
        for (shape, name) in zip(shapes, node.outputs) { try checkSize(shape, value: name) }
        let tensors: [Tensor?] = inputs.map { fact in
            if case .float(let t)? = fact?.constant { return t }
            return nil
        }
        return .folded(run(tensors).map { .float($0) })
    }
}
