import SNNTensor

/// One operation: an operator applied to named values, producing named values.
/// An empty input name marks an omitted optional input, as in ONNX.
public struct Node: Sendable, Equatable {
    public var name: String
    public var op: Operator
    public var inputs: [String]
    public var outputs: [String]
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
    case fixed(Int)
    case symbolic(String)
    public var description: String {
        switch self {
        case .fixed(let n): "\(n)"
        case .symbolic(let name): name.isEmpty ? "?" : name
        }
    }
    public var value: Int? { if case .fixed(let n) = self { n } else { nil } }
}

/// A graph input or output as declared by the model.
public struct ValueInfo: Sendable, Equatable {
    public var name: String
    public var elementType: ElementType
    public var dimensions: [DimensionValue]?
    public init(name: String, elementType: ElementType = .float, dimensions: [DimensionValue]?) {
        self.name = name
        self.elementType = elementType
        self.dimensions = dimensions
    }
}

/// A constant tensor: float weights, or integer data such as shapes and indices.
public enum Constant: Sendable, Equatable {
    case float(Tensor)
    case int(IntTensor)

    public var shape: [Int] {
        switch self {
        case .float(let t): t.shape
        case .int(let t): t.shape
        }
    }
}

/// Integer tensor for shape arithmetic; never on the hot path.
public struct IntTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Int64]
    public init(shape: [Int], values: [Int64]) {
        self.shape = shape
        self.values = values
    }
    public init(vector: [Int]) {
        shape = [vector.count]
        values = vector.map(Int64.init)
    }
    public var ints: [Int] { values.map { Int(clamping: $0) } }
}

/// The network as SNNKit sees it: nodes in a valid execution order over named values,
/// with weights as named constants. Passes rewrite it; executors run it.
public struct Graph: Sendable {
    public var name: String
    public var nodes: [Node]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var constants: [String: Constant]
    /// Free-form key/value pairs carried with the model (producer, conversion settings...).
    public var metadata: [String: String]
    /// Where the graph came from, for error messages.
    public var source: String

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
