import SNNTensor

/// Options that change how a graph is compiled, not what it computes.
public struct PlanOptions: Sendable {
    /// Fuse a ReLU that is a convolution's only consumer into the convolution's store.
    /// Off when a later stage must see every ReLU (threshold balancing, simulation).
    public var fuseActivations: Bool
    /// Options with activation fusion on by default.
    public init(fuseActivations: Bool = true) { self.fuseActivations = fuseActivations }
}

/// A graph specialised to concrete input shapes and compiled for execution.
///
/// Planning does all the work that does not depend on the data, once: it resolves every
/// shape, folds the values that depend only on weights and shapes (including the
/// Shape -> Gather -> Concat chains exporters emit), packs weights for the GEMM and
/// validates every node. Running then only moves tensors through prepared kernels, and
/// releases each intermediate after its last reader so memory stays at the live set.
public final class ExecutionPlan: @unchecked Sendable {
    /// The graph this plan runs.
    public let graph: Graph
    /// The concrete shape of every runtime input.
    public let inputShapes: [String: [Int]]
    /// Shape of every value in the graph, constants included.
    public let shapes: [String: [Int]]
    /// Initializers plus every value folded at planning time.
    public let constants: [String: Constant]

    struct Step {
        let node: Int
        let inputSlots: [Int?]
        let outputSlots: [Int]
        /// The values this step writes (a fused step writes its last node's outputs).
        let outputNames: [String]
        let kernel: Kernel
        /// Slots whose last reader is this step.
        var release: [Int]
    }

    let steps: [Step]
    let slotOf: [String: Int]
    let initialSlots: [Tensor?]
    let inputSlots: [(name: String, slot: Int, shape: [Int])]
    /// Nodes that were fused into their producer and never run on their own.
    public let fusedNodes: Set<Int>

    /// Plans `graph` for `inputShapes` (symbolic dimensions resolved from them); throws `GraphError` naming
    /// the first node that cannot run.
    public init(graph: Graph, inputShapes: [String: [Int]], options: PlanOptions = PlanOptions()) throws {
        self.graph = graph
        var facts = [String: InputFact]()
        var resolvedInputs = [String: [Int]]()
        for (name, constant) in graph.constants { facts[name] = InputFact(name: name, shape: constant.shape, constant: constant) }
        for input in graph.runtimeInputs {
            let shape = try Planner.resolveInputShape(input, given: inputShapes[input.name])
            facts[input.name] = InputFact(name: input.name, shape: shape, constant: nil)
            resolvedInputs[input.name] = shape
        }
        for name in inputShapes.keys where !graph.runtimeInputs.contains(where: { $0.name == name }) {
            throw GraphError.badInput(name: name, message: "the model has no input of that name (inputs: \(graph.runtimeInputs.map(\.name)))")
        }
        self.inputShapes = resolvedInputs

        let fusion = options.fuseActivations ? Planner.convActivationPairs(graph) : [:]
        var fused = Set<Int>()
        var steps = [Step]()
        var slotOf = [String: Int]()
        var initial = [Tensor?]()
        func slot(_ name: String) -> Int {
            if let s = slotOf[name] { return s }
            slotOf[name] = initial.count
            if case .float(let t)? = facts[name]?.constant { initial.append(t) } else { initial.append(nil) }
            return initial.count - 1
        }
        var folded = graph.constants

        for (index, node) in graph.nodes.enumerated() {
            if fused.contains(index) { continue }
            let inputFacts: [InputFact?] = try node.inputs.map { name in
                if name.isEmpty { return nil }
                guard let fact = facts[name] else { throw GraphError.missingValue(node: node.name, value: name) }
                return fact
            }
            var outputs = node.outputs
            var compiler = NodeCompiler(node: node, inputs: inputFacts)
            if let (activation, clamp) = fusion[index] {
                compiler.fusedClamp = clamp
                outputs = graph.nodes[activation].outputs
                fused.insert(activation)
            }
            switch try compiler.compile() {
            case .folded(let values):
                for (name, value) in zip(outputs, values) where !name.isEmpty {
                    facts[name] = InputFact(name: name, shape: value.shape, constant: value)
                    folded[name] = value
                }
            case .kernel(let shapes, let run):
                for (name, shape) in zip(outputs, shapes) {
                    try compiler.checkSize(shape, value: name)
                    if !name.isEmpty { facts[name] = InputFact(name: name, shape: shape, constant: nil) }
                }
                let ins = node.inputs.map { name -> Int? in
                    guard !name.isEmpty, let fact = facts[name] else { return nil }
                    if case .int? = fact.constant { return nil }
                    return slot(name)
                }
                steps.append(Step(node: index, inputSlots: ins, outputSlots: outputs.map { slot($0) }, outputNames: outputs, kernel: run, release: []))
            }
        }
        for output in graph.outputs where facts[output.name] == nil {
            throw GraphError.missingValue(node: "graph output", value: output.name)
        }
        // Liveness: release a slot after its last reader unless it is an output or a constant.
        let keep = Set(graph.outputs.map(\.name))
        var lastUse = [Int: Int]()
        for (i, step) in steps.enumerated() { for s in step.inputSlots.compactMap({ $0 }) { lastUse[s] = i } }
        var nameOfSlot = [String](repeating: "", count: initial.count)
        for (name, s) in slotOf { nameOfSlot[s] = name }
        for (s, i) in lastUse where initial[s] == nil && !keep.contains(nameOfSlot[s]) { steps[i].release.append(s) }
        self.steps = steps
        self.slotOf = slotOf
        self.initialSlots = initial
        self.shapes = facts.mapValues(\.shape)
        self.constants = folded
        self.fusedNodes = fused
        self.inputSlots = graph.runtimeInputs.map { (name: $0.name, slot: slotOf[$0.name] ?? -1, shape: resolvedInputs[$0.name]!) }
    }

    /// Nodes that run as kernels, in order (folded and fused nodes excluded).
    public var executedNodes: [Int] { steps.map(\.node) }

    /// Each executed node with the names of the values it writes.
    public var executedSteps: [(node: Int, outputs: [String])] { steps.map { ($0.node, $0.outputNames) } }

    /// Runs the network. `intercept` may compute a node itself (return its outputs) instead of
    /// the compiled kernel, which is how calibration and simulation give neurons their own
    /// behaviour without a second executor; `observe` sees (and may replace) each executed
    /// node's outputs. Inputs named in `deferred` may be left out of `feeds`: `intercept`
    /// supplies what the nodes reading them need (they see nil for that input).
    public func run(_ feeds: [String: Tensor], deferred: Set<String> = [],
                    intercept: ((_ node: Int, _ inputs: [Tensor?]) throws -> [Tensor]?)? = nil,
                    observe: ((_ node: Int, _ outputs: inout [Tensor]) throws -> Void)? = nil) throws -> [String: Tensor] {
        var values = initialSlots
        for input in inputSlots {
            guard let t = feeds[input.name] else {
                if deferred.contains(input.name) { continue }
                throw GraphError.badInput(name: input.name, message: "no data given for this input")
            }
            guard t.shape == input.shape else {
                throw GraphError.badInput(name: input.name, message: "expected shape \(input.shape), got \(t.shape)")
            }
            if input.slot >= 0 { values[input.slot] = t }
        }
        for step in steps {
            let ins = step.inputSlots.map { $0.flatMap { values[$0] } }
            var outs = try intercept?(step.node, ins) ?? step.kernel(ins)
            if let observe { try observe(step.node, &outs) }
            for (s, t) in zip(step.outputSlots, outs) { values[s] = t }
            for s in step.release { values[s] = nil }
        }
        var result = [String: Tensor]()
        for output in graph.outputs {
            if let s = slotOf[output.name], let t = values[s] {
                result[output.name] = t
            } else if case .float(let t)? = constants[output.name] {
                result[output.name] = t
            } else if case .int(let t)? = constants[output.name] {
                result[output.name] = Tensor(shape: t.shape, storage: t.values.map { Float($0) })
            }
        }
        return result
    }
}

enum Planner {
    /// The largest tensor SNNKit will allocate (4 GiB of float32); anything larger is a
    /// mistaken dimension, refused before allocation.
    static let maximumElements = 1 << 30

    static func resolveInputShape(_ input: ValueInfo, given: [Int]?) throws -> [Int] {
        let declared = input.dimensions
        guard input.elementType.isFloatingPoint else {
            throw GraphError.badInput(name: input.name, message: "element type \(input.elementType.name); SNNKit feeds float32 inputs only")
        }
        let shape: [Int]
        if let given {
            if let declared {
                guard declared.count == given.count else {
                    throw GraphError.badInput(name: input.name, message: "shape \(given) has rank \(given.count) but the model declares \(declared.count) axes (\(declared))")
                }
                // The batch axis may differ from a fixed declared batch: exporters often fix it
                // to 1 while calibration and evaluation run larger batches.
                for (axis, (d, g)) in zip(declared, given).enumerated() where axis > 0 {
                    if let v = d.value, v > 0, v != g {
                        throw GraphError.badInput(name: input.name, message: "shape \(given) does not match the declared \(declared)")
                    }
                }
            }
            shape = given
        } else {
            guard let declared, declared.allSatisfy({ ($0.value ?? 0) > 0 }) else {
                throw GraphError.badInput(name: input.name, message: "shape \(input.dimensions.map { "\($0)" } ?? "unknown") is not fully fixed; give it explicitly (e.g. --input-shape 1,3,224,224)")
            }
            shape = declared.map { $0.value! }
        }
        guard shape.allSatisfy({ $0 > 0 }) else {
            throw GraphError.badInput(name: input.name, message: "shape \(shape) has a non-positive size")
        }
        var total = 1
        for d in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            if overflow || p > maximumElements { throw GraphError.tooLarge(node: "graph input", value: input.name, shape: shape) }
            total = p
        }
        return shape
    }

    /// conv node index -> (activation node index, its clamp), for a ReLU or a Clip with constant
    /// bounds that is its conv's only reader: the convolution applies it in its store.
    static func convActivationPairs(_ graph: Graph) -> [Int: (Int, Clamp)] {
        let consumers = graph.consumers()
        let outputs = Set(graph.outputs.map(\.name))
        var pairs = [Int: (Int, Clamp)]()
        for (i, node) in graph.nodes.enumerated() {
            guard case .conv = node.op, let out = node.outputs.first, !outputs.contains(out),
                  let readers = consumers[out], readers.count == 1, graph.nodes[readers[0]].inputs.first == out else { continue }
            switch graph.nodes[readers[0]].op {
            case .relu: pairs[i] = (readers[0], .relu)
            case .clip(let low, let high) where (low ?? -.infinity) <= (high ?? .infinity)  // else the Clip itself refuses
                                                && graph.nodes[readers[0]].inputs.dropFirst().allSatisfy(\.isEmpty):
                pairs[i] = (readers[0], Clamp(lower: low ?? -.infinity, upper: high ?? .infinity))
            default: continue
            }
        }
        return pairs
    }
}
