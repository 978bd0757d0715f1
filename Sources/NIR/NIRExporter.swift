import SNNConversion
import SNNGraph
import SNNSupport
import SNNTensor

/// Turns a converted SNNKit network into an NIR graph (shapes without the batch axis).
///
/// Thresholds are folded into the weights first (`FoldThresholds`), so every IF node has
/// r = 1, v_threshold = 1, v_reset = 0 and emits unit spikes. Mapping: Conv -> Conv2d,
/// Gemm -> Affine (Linear without bias), MatMul -> Linear, Flatten -> Flatten, AveragePool
/// and GlobalAveragePool -> AvgPool2d, IF neuron -> IF, a residual Add -> edges from both
/// branches into the reader (NIR sums a node's incoming edges), and the per-channel Mul
/// the fold puts where two scales meet -> a 1 x 1 Conv2d with a diagonal weight matrix
/// (every consumer reads Conv2d; few read Scale). The analog stem (the layers before the first neuron, which see
/// the image) and the readout tail are inside the graph: the consumer feeds the image as a
/// constant input current at every step and averages the output over the steps.
///
/// What NIR's IF cannot say is written into metadata, never dropped: SNNKit resets by
/// subtracting the threshold (NIR's IF resets to v_reset), starts at v(0) = ratio x
/// threshold (NIR starts at 0), and steps in discrete time (dt = 1, r = 1 per step).
public enum NIRExporter {
    /// The NIR graph of `converted`, planned for one sample of the model's input shape.
    public static func export(_ converted: Graph, model: String) throws -> NIRGraph {
        guard !converted.neuronLayers().isEmpty else { throw NIRExportError.notConverted(model: model) }
        try refuseUnsupported(converted)
        let shapes = try plannedShapes(converted)
        let folded = try converted.foldingThresholds(shapes: shapes)
        var mapping = Mapping(graph: folded, shapes: try plannedShapes(folded), original: converted)
        return try mapping.run()
    }

    /// Shapes of every value for a batch of one.
    public static func plannedShapes(_ graph: Graph) throws -> [String: [Int]] {
        var inputs = [String: [Int]]()
        for input in graph.runtimeInputs {
            guard let dims = input.dimensions else {
                throw NIRExportError.unsupported(node: input.name, op: "graph input", advice: "its shape is not declared; re-export the model with a fixed input shape.")
            }
            inputs[input.name] = dims.enumerated().map { i, d in d.value ?? (i == 0 ? 1 : -1) }
            if inputs[input.name]!.contains(-1) {
                throw NIRExportError.unsupported(node: input.name, op: "graph input", advice: "its shape \(dims) has a symbolic axis besides the batch; re-export with fixed sizes.")
            }
        }
        return try ExecutionPlan(graph: graph, inputShapes: inputs, options: PlanOptions(fuseActivations: false)).shapes
    }

    /// Operators with no NIR node, named before any work: max pooling first, the common case.
    static func refuseUnsupported(_ graph: Graph) throws {
        for node in graph.nodes {
            switch node.op {
            case .maxPool, .globalMaxPool:
                throw NIRExportError.unsupported(node: node.name, op: node.op.onnxType, advice:
                    "NIR has no max pooling, and SNNKit's max pool acts on running sums of the spiking currents, which no NIR node " +
                    "holds. Re-train the network with average pooling (or strided convolutions) and convert it again.")
            case .concat:
                throw NIRExportError.unsupported(node: node.name, op: "Concat", advice:
                    "NIR has no concatenation (edges into a node sum their signals). Re-export the network without Concat.")
            default:
                continue
            }
        }
    }
}

/// One walk over the folded graph, building NIR nodes and edges.
private struct Mapping {
    let graph: Graph
    let shapes: [String: [Int]]
    let original: Graph
    var result = NIRGraph()
    /// The NIR nodes whose outputs sum to each value of the graph.
    var sources = [String: [String]]()
    var used = Set<String>()

    init(graph: Graph, shapes: [String: [Int]], original: Graph) {
        self.graph = graph
        self.shapes = shapes
        self.original = original
    }

    mutating func run() throws -> NIRGraph {
        let inputs = graph.runtimeInputs
        for input in inputs {
            let name = unique(inputs.count == 1 ? "input" : "input_" + input.name)
            add(name, NIRNode(type: "Input", parameters: ["shape": .vector(sampleShape(input.name))]))
            sources[input.name] = [name]
        }
        for node in graph.nodes { try map(node) }
        for output in graph.outputs {
            let name = unique(graph.outputs.count == 1 ? "output" : "output_" + output.name)
            add(name, NIRNode(type: "Output", parameters: ["shape": .vector(sampleShape(output.name))]))
            try connect(output.name, to: name, node: name)
        }
        result.metadata = graphMetadata()
        return result
    }

    func sampleShape(_ value: String) -> [Int] { Array((shapes[value] ?? [1]).dropFirst()) }

    mutating func unique(_ raw: String) -> String {
        // Identifiers every consumer accepts (HDF5 forbids "/", torch module names "."): ONNX
        // paths such as "/layer1/layer1.0/relu" become "layer1_layer1_0_relu".
        var name = String(String(raw.drop { $0 == "/" }).unicodeScalars.map {
            ($0.properties.isAlphabetic && $0.isASCII) || ("0"..."9").contains($0) ? Character($0) : "_"
        })
        if name.isEmpty || name == "." { name = "node" }
        var candidate = name, k = 1
        while used.contains(candidate) { k += 1; candidate = "\(name)_\(k)" }
        used.insert(candidate)
        return candidate
    }

    mutating func add(_ name: String, _ node: NIRNode) { result.nodes.append((name, node)) }

    mutating func connect(_ value: String, to name: String, node: String) throws {
        guard let from = sources[value] else {
            throw NIRExportError.unsupported(node: node, op: "input", advice: "its input '\(value)' comes from no node NIR can hold.")
        }
        for source in from { result.edges.append((source, name)) }
    }

    func constant(_ name: String?, _ node: Node) throws -> Tensor {
        guard let name, let t = graph.floatConstant(name) else {
            throw NIRExportError.unsupported(node: node.name, op: node.op.onnxType, advice: "its weights are not constants; NIR stores fixed weights only.")
        }
        return t
    }

    /// One NIR node for `node`, reading the sources of its data input.
    mutating func emit(_ node: Node, _ nir: NIRNode) throws {
        let name = unique(node.name)
        add(name, nir)
        try connect(node.inputs[0], to: name, node: node.name)
        sources[node.outputs[0]] = [name]
    }

    mutating func map(_ node: Node) throws {
        let op = node.op.onnxType
        func refuse(_ advice: String) -> NIRExportError { .unsupported(node: node.name, op: op, advice: advice) }
        switch node.op {
        case .conv(let a):
            try mapConvolution(node, a)
        case .gemm(let a):
            guard !a.transA else { throw refuse("a Gemm with transA reads its input transposed; NIR's Affine reads it as is.") }
            let w = try constant(node.inputs[1], node)
            let (k, n) = a.transB ? (w.shape[1], w.shape[0]) : (w.shape[0], w.shape[1])
            let weight = (0..<(n * k)).map { i in a.alpha * (a.transB ? w.storage[i] : w.storage[(i % k) * n + i / k]) }
            if let c = node.input(2) {
                let bias = try constant(c, node)
                guard bias.count == n || bias.count == 1 else { throw refuse("its bias has \(bias.count) values for \(n) outputs.") }
                try emit(node, NIRNode(type: "Affine", parameters: [
                    "weight": .array(weight, [n, k]), "bias": .array((0..<n).map { a.beta * bias.storage[bias.count == 1 ? 0 : $0] }, [n])]))
            } else {
                try emit(node, NIRNode(type: "Linear", parameters: ["weight": .array(weight, [n, k])]))
            }
        case .matMul:
            let w = try constant(node.inputs[1], node)
            guard w.shape.count == 2 else { throw refuse("only a matrix product with a 2-D constant maps to NIR's Linear.") }
            let (k, n) = (w.shape[0], w.shape[1])
            try emit(node, NIRNode(type: "Linear", parameters: ["weight": .array((0..<(n * k)).map { w.storage[($0 % k) * n + $0 / k] }, [n, k])]))
        case .ifNeuron:
            try mapNeuron(node, initialPotentials: graph.initialPotentialRatios(of: node) ?? [0.5])
        case .binary(.mul) where node.inputs.count == 2 && graph.floatConstant(node.inputs[1]) != nil:
            try mapScale(node)
        case .binary(.add) where node.inputs.allSatisfy({ graph.constants[$0] == nil }):
            var from = [String]()
            for input in node.inputs {
                guard let s = sources[input] else { throw refuse("its input '\(input)' comes from no node NIR can hold.") }
                from += s
            }
            sources[node.outputs[0]] = from
        case .flatten, .reshape:
            let input = sampleShape(node.inputs[0]), out = sampleShape(node.outputs[0])
            guard out.count == 1, out[0] == input.reduce(1, *) else {
                throw refuse("only a flatten of each sample into a vector has an NIR node (Flatten), not \(input) -> \(out).")
            }
            if input.count == 1 { sources[node.outputs[0]] = sources[node.inputs[0]]; return }
            try emit(node, NIRNode(type: "Flatten", parameters: [
                "start_dim": .int(0), "end_dim": .int(-1), "input_type": .vector(input)]))
        case .averagePool(let a, let includePad):
            try mapAveragePool(node, a, includePad: includePad)
        case .globalAveragePool:
            let input = sampleShape(node.inputs[0])
            try emit(node, pool(kernel: Array(input.suffix(2)), stride: Array(input.suffix(2)), padding: [0, 0]))
        case .identity, .dropout:
            sources[node.outputs[0]] = sources[node.inputs[0]]
        default:
            throw refuse("NIR has no node for it. Move it out of the network (e.g. apply it to the averaged outputs after the " +
                         "simulation) or replace it with a convolution, linear layer, average pool, flatten or ReLU.")
        }
    }

    /// A 2-D convolution as Conv2d (NIR pads both sides alike).
    mutating func mapConvolution(_ node: Node, _ a: Operator.ConvAttributes) throws {
        func refuse(_ advice: String) -> NIRExportError { .unsupported(node: node.name, op: node.op.onnxType, advice: advice) }
        let w = try constant(node.inputs[1], node)
        guard w.shape.count == 4 else { throw refuse("only 2-D convolutions have an NIR node (Conv2d).") }
        let input = shapes[node.inputs[0]] ?? []
        let window = try WindowGeometry.resolve(node: node.name, kernel: Array(w.shape.suffix(2)), strides: a.strides,
                                                dilations: a.dilations, pads: a.pads, autoPad: a.autoPad,
                                                inputSpatial: Array(input.suffix(2)))
        guard window.padTop == window.padBottom, window.padLeft == window.padRight else {
            throw refuse("its padding (top \(window.padTop), left \(window.padLeft), bottom \(window.padBottom), right \(window.padRight)) is not symmetric, and NIR's Conv2d pads both sides alike. Pad the input explicitly in the network.")
        }
        let bias = try node.input(2).map { try constant($0, node).storage } ?? [Float](repeating: 0, count: w.shape[0])
        try emit(node, NIRNode(type: "Conv2d", parameters: [
            "weight": .array(w.storage, w.shape), "bias": .array(bias, [w.shape[0]]),
            "stride": .vector([window.stride.h, window.stride.w]), "padding": .vector([window.padTop, window.padLeft]),
            "dilation": .vector([window.dilation.h, window.dilation.w]), "groups": .int(Int64(a.group)),
            "input_shape": .vector(Array(input.suffix(2))),
        ]))
    }

    /// An IF neuron with unit threshold; SNNKit's own semantics go into its metadata.
    mutating func mapNeuron(_ node: Node, initialPotentials ratios: [Float]) throws {
        let shape = sampleShape(node.inputs[0]), count = shape.reduce(1, *)
        let theta = original.floatConstant(original.nodes.first { $0.name == node.name }?.inputs[1] ?? "")
        var metadata: [String: NIRValue] = [
            "snnkit.reset": .string("subtract"),
            "snnkit.initial_potential": ratios.count == 1 ? .float(Double(ratios[0])) : .array(ratios, [ratios.count]),
            "snnkit.spike_amplitude": .float(1), "snnkit.comparison": .string("v > v_threshold"),
        ]
        if let theta { metadata["snnkit.threshold"] = .array(theta.storage, [theta.count]) }
        try emit(node, NIRNode(type: "IF", parameters: [
            "r": .array([Float](repeating: 1, count: count), shape),
            "v_threshold": .array([Float](repeating: 1, count: count), shape),
            "v_reset": .array([Float](repeating: 0, count: count), shape),
        ], metadata: metadata))
    }

    /// A multiplication by a constant: a per-channel rescale (a diagonal 1 x 1 Conv2d) on
    /// maps, else Scale.
    mutating func mapScale(_ node: Node) throws {
        let s = try constant(node.inputs[1], node)
        let shape = sampleShape(node.inputs[0])
        guard shape.count == 3 else {
            try emit(node, NIRNode(type: "Scale", parameters: ["scale": .array(broadcast(s, to: shape), shape)]))
            return
        }
        // A per-channel rescale as a 1 x 1 convolution with a diagonal weight matrix (not
        // depthwise: nir's type inference reads a grouped Conv2d's input channels as
        // weight.shape[1]).
        let c = shape[0]
        var weights = [Float](repeating: 0, count: c * c)
        for i in 0..<c { weights[i * c + i] = s.storage[s.count == 1 ? 0 : i] }
        try emit(node, NIRNode(type: "Conv2d", parameters: [
            "weight": .array(weights, [c, c, 1, 1]), "bias": .array([Float](repeating: 0, count: c), [c]),
            "stride": .vector([1, 1]), "padding": .vector([0, 0]), "dilation": .vector([1, 1]), "groups": .int(1),
            "input_shape": .vector(Array(shape.suffix(2))),
        ], metadata: ["snnkit.role": .string("threshold rescale where two neuron layers' scales meet")]))
    }

    /// An average pool as AvgPool2d, where NIR's floor rounding and symmetric padding agree.
    mutating func mapAveragePool(_ node: Node, _ a: Operator.PoolAttributes, includePad: Bool) throws {
        func refuse(_ advice: String) -> NIRExportError { .unsupported(node: node.name, op: node.op.onnxType, advice: advice) }
        let input = sampleShape(node.inputs[0])
        let window = try WindowGeometry.resolve(node: node.name, kernel: a.kernelShape, strides: a.strides, dilations: [],
                                                pads: a.pads, autoPad: a.autoPad, inputSpatial: Array(input.suffix(2)))
        let padded = window.padTop + window.padLeft + window.padBottom + window.padRight > 0
        guard !a.ceilMode, !padded || (includePad && window.padTop == window.padBottom && window.padLeft == window.padRight) else {
            throw refuse("NIR's AvgPool2d divides by the whole window with symmetric padding and floor rounding; this pool " +
                         "has ceil_mode or padding excluded from the count. Use an unpadded pool.")
        }
        try emit(node, pool(kernel: [window.kernel.h, window.kernel.w], stride: [window.stride.h, window.stride.w],
                            padding: [window.padTop, window.padLeft]))
    }

    func broadcast(_ s: Tensor, to shape: [Int]) -> [Float] {
        let count = shape.reduce(1, *), inner = count / max(shape.first ?? 1, 1)
        return (0..<count).map { s.storage[s.count == 1 ? 0 : min($0 / max(inner, 1), s.count - 1)] }
    }

    func pool(kernel: [Int], stride: [Int], padding: [Int]) -> NIRNode {
        NIRNode(type: "AvgPool2d", parameters: ["kernel_size": .vector(kernel), "stride": .vector(stride), "padding": .vector(padding)])
    }

    /// SNNKit's intent for the whole graph, for a consumer to read (and match).
    func graphMetadata() -> [String: NIRValue] {
        let ratios = original.nodes.compactMap { original.initialPotentialRatios(of: $0) }
        let shared = Set(ratios.flatMap { $0 }).count <= 1 ? ratios.first?.first ?? 0.5 : nil
        var m: [String: NIRValue] = [
            "snnkit.producer": .string("snnkit " + SNNKitVersion.current),
            "snnkit.neuron": .string("integrate-and-fire in discrete steps (dt = 1, r = 1): v += I; spike where v > 1; v -= 1 where spiked"),
            "snnkit.reset": .string("subtract (NIR's IF resets to v_reset = 0; simulate with --reset zero to match that)"),
            "snnkit.initial_potential": shared.map { .float(Double($0)) } ?? .string("calibrated per channel: each IF node's snnkit.initial_potential"),
            "snnkit.initial_potential_note": .string("v(0) = this x threshold; NIR starts at 0 (simulate with --initial-potential 0 to match)"),
            "snnkit.thresholds": .string("folded into the weights: every IF has threshold 1 and unit spikes"),
            "snnkit.input": .string("the preprocessed image as a constant input current at every step"),
            "snnkit.readout": .string("the output node's values averaged over the steps"),
        ]
        for (key, value) in original.metadata where !key.hasPrefix("onnx.") && m[key] == nil { m[key] = .string(value) }
        return m
    }
}
