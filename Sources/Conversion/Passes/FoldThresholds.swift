import SNNGraph
import SNNTensor

/// The converted network with every neuron's threshold folded into the weights around it:
/// each IF layer gets threshold 1 and its spikes become unit events, as hardware and NIR
/// consumers expect.
///
/// Dividing a layer's membrane, input current and threshold by theta_c changes no spike:
/// v/theta_c crosses 1 exactly when v crosses theta_c (up to float rounding at exact ties).
/// So the weights and bias of the node producing channel c's current are divided by
/// theta_c, and since the layer now emits 1 instead of theta_c, the weights that read
/// input channel c are multiplied by theta_c. Each value carries a per-channel scale (what
/// the folded graph holds = true value / scale); a convolution or matrix product absorbs
/// any scale on both sides, average pooling, flattening and max pooling pass it through
/// (positive scales commute with max), and where a value of one scale meets a reader that
/// wants another (a residual Add whose identity branch comes from a neuron layer of other
/// thresholds, or a graph output fed by spikes) an element-wise Mul by the ratio restores
/// it. Concat along the channel axis concatenates the scales; Resize (any mode) passes a
/// per-channel scale through, since it interpolates within each channel.
public struct FoldThresholds: GraphPass {
    /// The pass's name.
    public let name = "fold-thresholds"
    /// Shapes of the values (with the batch axis), from a plan of the graph.
    let shapes: [String: [Int]]

    /// A pass that folds thresholds, given the planned shapes of the graph's values.
    public init(shapes: [String: [Int]]) {
        self.shapes = shapes
    }

    /// The graph with unit thresholds and rescaled weights; throws when a threshold cannot move.
    public func apply(to graph: Graph) throws -> Graph {
        var folding = Folding(graph: graph, shapes: shapes)
        return try folding.run()
    }
}

/// A per-channel scale along axis 1; one value means the same for every channel.
typealias ChannelScale = [Float]

/// The state of one fold: the scale each value has and the scale its readers want.
private struct Folding {
    let source: Graph
    let shapes: [String: [Int]]
    var graph: Graph
    var nodes = [Node]()
    var actual = [String: ChannelScale]()
    var want = [String: ChannelScale]()
    var rescales = 0

    init(graph: Graph, shapes: [String: [Int]]) {
        source = graph
        self.graph = graph
        self.shapes = shapes
    }

    func scale(of value: String) -> ChannelScale { actual[value] ?? [1] }

    func isConstant(_ name: String) -> Bool { source.constants[name] != nil }

    mutating func run() throws -> Graph {
        wantedScales()
        for node in source.nodes { try fold(node) }
        for output in source.outputs where !Self.same(scale(of: output.name), [1]) {
            // The output keeps its name: its producer writes a renamed value, rescaled into it.
            let unscaled = output.name + ".unit_scale"
            for i in nodes.indices {
                for j in nodes[i].outputs.indices where nodes[i].outputs[j] == output.name { nodes[i].outputs[j] = unscaled }
                for j in nodes[i].inputs.indices where nodes[i].inputs[j] == output.name { nodes[i].inputs[j] = unscaled }
            }
            actual[unscaled] = scale(of: output.name)
            appendRescale(of: unscaled, to: [1], named: output.name)
        }
        graph.nodes = nodes
        graph.metadata["snnkit.thresholds"] = "unit"
        graph.removeUnusedConstants()
        return graph
    }

    /// Backward: a neuron wants its threshold as the scale of its current; graph outputs and
    /// operators that are not linear want true values; pass-through operators and Adds hand
    /// the wish on to their inputs when they are the only reader.
    mutating func wantedScales() {
        let consumers = source.consumers()
        for output in source.outputs { want[output.name] = [1] }
        func handOn(_ input: String, _ scale: ChannelScale?) {
            guard let scale, !isConstant(input), want[input] == nil, (consumers[input]?.count ?? 0) == 1 else { return }
            want[input] = scale
        }
        for node in source.nodes.reversed() {
            let wanted = node.outputs.first.flatMap { want[$0] }
            switch node.op {
            case .ifNeuron:
                if let theta = source.floatConstant(node.inputs[1]) { handOn(node.inputs[0], theta.storage) }
            case .averagePool, .globalAveragePool, .maxPool, .globalMaxPool, .identity, .dropout, .resize, .upsample:
                handOn(node.inputs[0], wanted)
            case .flatten, .reshape:
                if let wanted, wanted.count == 1 { handOn(node.inputs[0], wanted) }
            case .binary(.add) where node.inputs.allSatisfy({ !isConstant($0) }):
                for input in node.inputs { handOn(input, wanted) }
            case .conv, .convTranspose, .gemm, .matMul:
                break
            default:
                for input in node.inputs where !isConstant(input) { handOn(input, [1]) }
            }
        }
    }

    static func same(_ a: ChannelScale, _ b: ChannelScale) -> Bool {
        if a == b { return true }
        let n = max(a.count, b.count)
        guard a.count == 1 || b.count == 1 || a.count == b.count else { return false }
        return (0..<n).allSatisfy { a[a.count == 1 ? 0 : $0] == b[b.count == 1 ? 0 : $0] }
    }

    static func value(_ s: ChannelScale, _ i: Int) -> Float { s[s.count == 1 ? 0 : i] }

    /// Appends a Mul that turns `value` (at its scale) into `target`, named `output`.
    mutating func appendRescale(of value: String, to target: ChannelScale, named output: String) {
        let from = scale(of: value)
        let n = max(from.count, target.count)
        let ratio = (0..<n).map { Self.value(from, $0) / Self.value(target, $0) }
        let rank = (shapes[value] ?? shapes[output])?.count ?? 2
        let shape = n == 1 ? [1] : [n] + [Int](repeating: 1, count: max(0, rank - 2))
        let constant = output + ".scale"
        graph.constants[constant] = .float(Tensor(shape: shape, storage: ratio))
        nodes.append(Node(name: output, op: .binary(.mul), inputs: [value, constant], outputs: [output]))
        actual[output] = target
    }

    /// `value` at scale `target`, through a new Mul when it has another.
    mutating func ensure(_ value: String, _ target: ChannelScale) -> String {
        if Self.same(scale(of: value), target) { return value }
        rescales += 1
        let name = value + ".rescaled\(rescales)"
        appendRescale(of: value, to: target, named: name)
        return name
    }

    mutating func fold(_ node: Node) throws {
        var node = node
        let output = node.outputs.first ?? ""
        switch node.op {
        case .conv(let a):
            try foldConvolution(&node, groups: a.group)
            actual[output] = want[output] ?? [1]
        case .convTranspose(let a):
            guard a.group == 1 else { throw unfoldable(node, "a ConvTranspose of \(a.group) groups") }
            try foldConvolution(&node, groups: 1, transposed: true)
            actual[output] = want[output] ?? [1]
        case .gemm(let a):
            try foldMatrix(&node, transposed: a.transB, bias: node.input(2))
            if a.transA { throw unfoldable(node, "a Gemm with transA reads its input transposed") }
            actual[output] = want[output] ?? [1]
        case .matMul:
            try foldMatrix(&node, transposed: false, bias: nil)
            actual[output] = want[output] ?? [1]
        case .ifNeuron:
            guard let theta = source.floatConstant(node.inputs[1]) else {
                throw unfoldable(node, "its threshold '\(node.inputs[1])' is not a constant")
            }
            node.inputs[0] = ensure(node.inputs[0], theta.storage)
            let unit = node.inputs[1] + ".unit"
            graph.constants[unit] = .float(Tensor(shape: theta.shape, repeating: 1))
            node.inputs[1] = unit
            actual[output] = theta.storage
        case .averagePool, .globalAveragePool, .maxPool, .globalMaxPool, .identity, .dropout, .resize, .upsample:
            // Resizing interpolates within each channel, so a per-channel scale passes through.
            actual[output] = scale(of: node.inputs[0])
        case .flatten, .reshape:
            let s = scale(of: node.inputs[0])
            if s.count == 1 {
                actual[output] = s
            } else if let inShape = shapes[node.inputs[0]], let outShape = shapes[output], outShape.count == 2,
                      inShape.count >= 2, outShape[1] == inShape.dropFirst().reduce(1, *) {
                // Channel c of [N, C, ...] becomes features c * inner ..< (c + 1) * inner.
                let inner = inShape.dropFirst(2).reduce(1, *)
                actual[output] = s.flatMap { [Float](repeating: $0, count: inner) }
            } else {
                node.inputs[0] = ensure(node.inputs[0], [1])
                actual[output] = [1]
            }
        case .binary(.add) where node.inputs.allSatisfy({ !isConstant($0) }):
            let target = want[output] ?? scale(of: node.inputs[0])
            node.inputs = node.inputs.map { ensure($0, target) }
            actual[output] = target
        case .concat(let axis) where axis == 1 || axis == -((shapes[output]?.count ?? 0) - 1):
            var scales = ChannelScale()
            for input in node.inputs {
                let s = scale(of: input), channels = shapes[input]?[1] ?? s.count
                scales += s.count == 1 ? [Float](repeating: s[0], count: channels) : s
            }
            actual[output] = scales
        default:
            for j in node.inputs.indices where !node.inputs[j].isEmpty && !isConstant(node.inputs[j]) {
                node.inputs[j] = ensure(node.inputs[j], [1])
            }
        }
        nodes.append(node)
    }

    func unfoldable(_ node: Node, _ reason: String) -> ConversionError {
        .cannotFoldThresholds(node: node.name, reason: reason)
    }

    /// Conv weights [Cout, Cin/group, k...] (ConvTranspose: [Cin, Cout, k...], one group):
    /// output channel o divided by its wanted scale, input channel i multiplied by the
    /// scale of the input.
    mutating func foldConvolution(_ node: inout Node, groups: Int, transposed: Bool = false) throws {
        guard let w = source.floatConstant(node.inputs[1]), w.shape.count >= 3 else {
            throw unfoldable(node, "its weights '\(node.inputs[1])' are not a constant")
        }
        let output = node.outputs[0]
        let s = scale(of: node.inputs[0]), out = want[output] ?? [1]
        let cout = transposed ? w.shape[1] : w.shape[0], cinPerGroup = transposed ? w.shape[0] : w.shape[1]
        let kernel = w.shape.dropFirst(2).reduce(1, *)
        let perGroup = cout / max(groups, 1)
        guard s.count == 1 || s.count == cinPerGroup * groups, out.count == 1 || out.count == cout else {
            throw unfoldable(node, "its channel counts do not match the neuron layers around it")
        }
        var weights = w.storage
        for o in 0..<cout {
            let group = o / max(perGroup, 1)
            for i in 0..<cinPerGroup {
                let factor = Self.value(s, group * cinPerGroup + i) / Self.value(out, o)
                let base = (transposed ? i * cout + o : o * cinPerGroup + i) * kernel
                for k in 0..<kernel { weights[base + k] *= factor }
            }
        }
        node.inputs[1] = replaceConstant(node.name + ".weight_unit", Tensor(shape: w.shape, storage: weights))
        if let b = node.input(2) {
            guard let bias = source.floatConstant(b), bias.count == cout else { throw unfoldable(node, "its bias '\(b)' is not a constant of \(cout) values") }
            node.inputs[2] = replaceConstant(node.name + ".bias_unit",
                                             Tensor(shape: bias.shape, storage: bias.storage.enumerated().map { $1 / Self.value(out, $0) }))
        }
    }

    /// Gemm / MatMul weights [K, N] (or [N, K] when transposed): row k times the input
    /// feature's scale, column n divided by the output's wanted scale.
    mutating func foldMatrix(_ node: inout Node, transposed: Bool, bias: String?) throws {
        guard let w = source.floatConstant(node.inputs[1]), w.shape.count == 2 else {
            throw unfoldable(node, "its weights '\(node.inputs[1])' are not a 2-D constant")
        }
        let output = node.outputs[0]
        let (k, n) = transposed ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
        let s = scale(of: node.inputs[0]), out = want[output] ?? [1]
        guard s.count == 1 || s.count == k, out.count == 1 || out.count == n else {
            throw unfoldable(node, "its feature counts do not match the neuron layers around it")
        }
        var weights = w.storage
        for r in 0..<k {
            for c in 0..<n {
                let index = transposed ? c * k + r : r * n + c
                weights[index] *= Self.value(s, r) / Self.value(out, c)
            }
        }
        node.inputs[1] = replaceConstant(node.name + ".weight_unit", Tensor(shape: w.shape, storage: weights))
        if let bias {
            guard let c = source.floatConstant(bias), c.count == n || c.count == 1 else {
                throw unfoldable(node, "its bias '\(bias)' is not a constant of \(n) values")
            }
            let values = (0..<n).map { c.storage[c.count == 1 ? 0 : $0] / Self.value(out, $0) }
            node.inputs[2] = replaceConstant(node.name + ".bias_unit", Tensor(shape: [n], storage: values))
        }
    }

    mutating func replaceConstant(_ name: String, _ tensor: Tensor) -> String {
        graph.constants[name] = .float(tensor)
        return name
    }
}

extension Graph {
    /// This converted graph with every neuron threshold folded into the weights
    /// (`FoldThresholds`): same spikes, unit thresholds and unit spike amplitudes.
    public func foldingThresholds(shapes: [String: [Int]]) throws -> Graph {
        try FoldThresholds(shapes: shapes).apply(to: self)
    }
}
