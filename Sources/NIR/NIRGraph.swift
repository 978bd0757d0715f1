/// A value stored in an NIR file: a parameter of a node or a metadata entry.
public enum NIRValue: Sendable, Equatable {
    case string(String)
    case float(Double)
    case int(Int64)
    /// float32 array of `shape` (row-major), e.g. weights and thresholds.
    case floats([Float], shape: [Int])
    /// int64 array of `shape`, e.g. strides and shapes.
    case ints([Int64], shape: [Int])

    /// A float32 array of the given shape.
    public static func array(_ values: [Float], _ shape: [Int]) -> NIRValue { .floats(values, shape: shape) }
    /// A one-dimensional int64 array.
    public static func vector(_ values: [Int]) -> NIRValue { .ints(values.map(Int64.init), shape: [values.count]) }
}

/// One NIR node: its type (the reader's class name, e.g. "Conv2d", "IF") and the
/// parameters `nir.read` passes to that class, plus free metadata.
public struct NIRNode: Sendable, Equatable {
    /// The NIR node type ("Conv2d", "IF", ...).
    public var type: String
    /// The node's parameter datasets, by NIR's names.
    public var parameters: [String: NIRValue]
    /// What NIR cannot hold, written beside the parameters.
    public var metadata: [String: NIRValue]

    /// A node of `type` with its parameters and metadata.
    public init(type: String, parameters: [String: NIRValue], metadata: [String: NIRValue] = [:]) {
        self.type = type
        self.parameters = parameters
        self.metadata = metadata
    }
}

/// An NIR graph (the "NIRGraph" node at the root of a file): named nodes, directed edges
/// (several edges into one node sum their signals) and metadata.
public struct NIRGraph: Sendable, Equatable {
    /// Nodes in the order they were added (the file stores them by name).
    public var nodes: [(name: String, node: NIRNode)]
    /// Directed edges; a node with several inputs sums them.
    public var edges: [(from: String, to: String)]
    /// The graph's metadata: SNNKit's neuron semantics, time step and provenance.
    public var metadata: [String: NIRValue]

    /// A graph of `nodes`, `edges` and `metadata`.
    public init(nodes: [(name: String, node: NIRNode)] = [], edges: [(from: String, to: String)] = [], metadata: [String: NIRValue] = [:]) {
        self.nodes = nodes
        self.edges = edges
        self.metadata = metadata
    }

    /// The node called `name`.
    public subscript(name: String) -> NIRNode? { nodes.first { $0.name == name }?.node }

    /// Equal nodes, edges (in order) and metadata.
    public static func == (a: NIRGraph, b: NIRGraph) -> Bool {
        a.nodes.map(\.name) == b.nodes.map(\.name) && a.nodes.map(\.node) == b.nodes.map(\.node)
            && a.edges.map(\.from) == b.edges.map(\.from) && a.edges.map(\.to) == b.edges.map(\.to) && a.metadata == b.metadata
    }
}
