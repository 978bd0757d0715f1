/// Problems found in a graph, each naming the node or value at fault and what to do.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case unsupportedOperator(node: String, type: String, domain: String)
    case invalidAttribute(node: String, message: String)
    case missingValue(node: String, value: String)
    case shapeMismatch(node: String, message: String)
    case notConstant(node: String, value: String, role: String)
    case nonFloatTensor(node: String, value: String, type: String)
    case tooLarge(node: String, value: String, shape: [Int])
    case badInput(name: String, message: String)
    case cycle(node: String)
    case nonFiniteConstant(node: String, value: String, role: String, position: [Int], found: Float)

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
