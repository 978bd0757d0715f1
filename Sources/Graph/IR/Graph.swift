import SNNTensor

/// One operation: an operator applied to named values, producing named values.
/// An empty input name marks an omitted optional input, as in ONNX.
public struct Node: Sendable, Equatable {
    /// The node's name, unique in the graph; messages name nodes by it.
    public var name: String
    /// What the node computes, with its attributes.
    public var op: Operator
    /// Names of the values read, in the operator's input order ("" for an omitted optional input).
    public var inputs: [String]
    /// Names of the values written, in the operator's output order.
    public var outputs: [String]
    /// A node applying `op` to the values named `inputs`, producing the values named `outputs`.
    public init(name: String, op: Operator, inputs: [String], outputs: [String]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The input at `index`, or nil when it is omitted.
    public func input(_ index: Int) -> String? {
        index < inputs.count && !inputs[index].isEmpty ? inputs[index] : nil
    }
}

/// A dimension that is a number, or a name the user fixes at run time (e.g. "batch").
public enum DimensionValue: Sendable, Equatable, CustomStringConvertible {
    /// A dimension of known size.
    case fixed(Int)
    /// A named dimension (empty name: unnamed) whose size is chosen at run time.
    case symbolic(String)
    /// The size, or the name ("?" when unnamed).
    public var description: String {
        switch self {
        case .fixed(let n): "\(n)"
        case .symbolic(let name): name.isEmpty ? "?" : name
        }
    }
    /// The size when fixed, nil when symbolic.
    public var value: Int? { if case .fixed(let n) = self { n } else { nil } }
}

/// A graph input or output as declared by the model.
public struct ValueInfo: Sendable, Equatable {
    /// The value's name in the graph.
    public var name: String
    /// The declared element type.
    public var elementType: ElementType
    /// The declared dimensions, or nil when the model declares no shape.
    public var dimensions: [DimensionValue]?
    /// A declared input or output named `name`.
    public init(name: String, elementType: ElementType = .float, dimensions: [DimensionValue]?) {
        self.name = name
        self.elementType = elementType
        self.dimensions = dimensions
    }
}

/// A constant tensor: float weights, or integer data such as shapes and indices.
public enum Constant: Sendable, Equatable {
    /// Float32 data: weights, biases, thresholds.
    case float(Tensor)
    /// Integer data: shapes, axes, indices.
    case int(IntTensor)

    /// The tensor's shape, whichever the element type.
    public var shape: [Int] {
        switch self {
        case .float(let t): t.shape
        case .int(let t): t.shape
        }
    }
}

/// Integer tensor for shape arithmetic; never on the hot path.
public struct IntTensor: Sendable, Equatable {
    /// Dimensions, outermost first.
    public var shape: [Int]
    /// The values in row-major order.
    public var values: [Int64]
    /// A tensor of `shape` holding `values` in row-major order.
    public init(shape: [Int], values: [Int64]) {
        self.shape = shape
        self.values = values
    }
    /// A 1-D tensor of the given values.
    public init(vector: [Int]) {
        shape = [vector.count]
        values = vector.map(Int64.init)
    }
    /// The values as `Int`, clamped to `Int`'s range.
    public var ints: [Int] { values.map { Int(clamping: $0) } }
}

/// The network as SNNKit sees it: nodes in a valid execution order over named values,
/// with weights as named constants. Passes rewrite it; executors run it.
public struct Graph: Sendable {
    /// The model's graph name.
    public var name: String
    /// Nodes in a valid execution order: every input is produced before it is read.
    public var nodes: [Node]
    /// Declared inputs, which may include initializers (see `runtimeInputs`).
    public var inputs: [ValueInfo]
    /// Declared outputs, in the model's order.
    public var outputs: [ValueInfo]
    /// Weights and other constant tensors by value name.
    public var constants: [String: Constant]
    /// Free-form key/value pairs carried with the model (producer, conversion settings...).
    public var metadata: [String: String]
    /// Where the graph came from, for error messages.
    public var source: String
    /// Constants that hold integers times a scale (a quantized SNN's weights), by name.
    public var integerConstants: [String: IntegerEncoding] = [:]

    /// A graph of `nodes` (already in execution order) over `constants`, reading `inputs` and producing
    /// `outputs`.
    public init(name: String, nodes: [Node], inputs: [ValueInfo], outputs: [ValueInfo],
                constants: [String: Constant], metadata: [String: String] = [:], source: String = "") {
        self.name = name
        self.nodes = nodes
        self.inputs = inputs
        self.outputs = outputs
        self.constants = constants
        self.metadata = metadata
        self.source = source
    }

    /// Graph inputs that are not also constants (ONNX allows initializers to be listed as inputs).
    public var runtimeInputs: [ValueInfo] { inputs.filter { constants[$0.name] == nil } }

    /// The node that produces each value.
    public func producers() -> [String: Int] {
        var map = [String: Int]()
        for (i, node) in nodes.enumerated() { for out in node.outputs where !out.isEmpty { map[out] = i } }
        return map
    }

    /// For each value, the indices of the nodes that read it.
    public func consumers() -> [String: [Int]] {
        var map = [String: [Int]]()
        for (i, node) in nodes.enumerated() { for input in node.inputs where !input.isEmpty { map[input, default: []].append(i) } }
        return map
    }

    /// The float constant named `name`, or nil when there is none (or it holds integers).
    public func floatConstant(_ name: String) -> Tensor? {
        if case .float(let t)? = constants[name] { return t }
        return nil
    }
}

extension Graph {
    /// The graph made of `nodeIndices` (in their order), reading `inputs` and producing
    /// `outputs`, with the constants those nodes use.
    public func subgraph(nodeIndices: [Int], inputs: [ValueInfo], outputs: [String], name: String) -> Graph {
        let selected = nodeIndices.map { nodes[$0] }
        var used = Set<String>()
        for node in selected { used.formUnion(node.inputs) }
        let inputNames = Set(inputs.map(\.name))
        let consts = constants.filter { used.contains($0.key) && !inputNames.contains($0.key) }
        return Graph(name: name, nodes: selected, inputs: inputs, outputs: outputs.map { ValueInfo(name: $0, dimensions: nil) },
                     constants: consts, metadata: metadata, source: source)
    }
}
