/// Problems found in a graph, each naming the node or value at fault and what to do.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    /// The node's operator has no implementation in SNNKit.
    case unsupportedOperator(node: String, type: String, domain: String)
    /// An attribute is missing, out of range or inconsistent with the others.
    case invalidAttribute(node: String, message: String)
    /// The node reads a value that nothing defines.
    case missingValue(node: String, value: String)
    /// The input shapes do not fit the operator (or each other).
    case shapeMismatch(node: String, message: String)
    /// An input that must be known at planning time (a shape, axes, a weight) depends on the data.
    case notConstant(node: String, value: String, role: String)
    /// A tensor SNNKit must compute with is not float32.
    case nonFloatTensor(node: String, value: String, type: String)
    /// A tensor's shape is too large to allocate (usually a wrong input shape).
    case tooLarge(node: String, value: String, shape: [Int])
    /// A graph input is missing, undeclared or given an unusable shape.
    case badInput(name: String, message: String)
    /// The node reads a value produced by itself or a later node.
    case cycle(node: String)
    /// A weight holds a NaN or an infinity, which would spread to every output it reaches.
    case nonFiniteConstant(node: String, value: String, role: String, position: [Int], found: Float)

    /// The problem, the node or value it concerns, and what to do about it.
    public var description: String {
        switch self {
        case .unsupportedOperator(let node, let type, let domain):
            let qualified = domain.isEmpty || domain == "ai.onnx" ? type : "\(domain).\(type)"
            return "node '\(node)': operator \(qualified) is not supported by SNNKit. " +
                "Run `snnkit inspect` for the list of supported operators; re-export the model without it " +
                "(e.g. replace it with an equivalent supported op)."
        case .invalidAttribute(let node, let message):
            return "node '\(node)': \(message)"
        case .missingValue(let node, let value):
            return "node '\(node)': input '\(value)' is neither a graph input, an initializer, nor the output of an " +
                "earlier node. The model file is incomplete: re-export it (with its weights)."
        case .shapeMismatch(let node, let message):
            return "node '\(node)': shape mismatch: \(message)"
        case .notConstant(let node, let value, let role):
            return "node '\(node)': input '\(value)' (\(role)) must be known before running, but it depends on the " +
                "network's data. SNNKit needs static shapes: export with a fixed \(role)."
        case .nonFloatTensor(let node, let value, let type):
            return "node '\(node)': tensor '\(value)' has element type \(type); SNNKit computes in float32. " +
                "Export the model with float32 weights and activations."
        case .tooLarge(let node, let value, let shape):
            return "node '\(node)': tensor '\(value)' would have shape \(shape), too large to allocate. " +
                "Check the input size you gave (--input-shape) and the model's declared dimensions."
        case .badInput(let name, let message):
            return "input '\(name)': \(message)"
        case .nonFiniteConstant(let node, let value, let role, let position, let found):
            return "node '\(node)': \(role) '\(value)' holds \(found) at \(position); weights must be finite numbers. " +
                "The model is damaged or was exported from a diverged training run: re-export it (or re-run the conversion)."
        case .cycle(let node):
            return "node '\(node)': the graph has a cycle or reads a value produced later; SNNKit needs an acyclic graph."
        }
    }
}
