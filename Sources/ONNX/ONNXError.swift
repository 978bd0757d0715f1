import SNNGraph

/// Problems reading an ONNX file, each naming the file and, where there is one, the
/// node or tensor, with what to do about it.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
    /// The file cannot be opened or read.
    case unreadable(file: String, reason: String)
    /// The bytes are not a valid ONNX protobuf (truncated, or not ONNX at all).
    case corrupt(file: String, detail: String)
    /// The model holds no graph.
    case noGraph(file: String)
    /// A tensor's data does not match its declared type or shape.
    case badTensor(file: String, tensor: String, detail: String)
    /// A tensor has an element type SNNKit cannot compute with.
    case unsupportedElementType(file: String, tensor: String, type: String)
    /// A tensor stored outside the model file is missing or does not fit.
    case externalData(file: String, tensor: String, detail: String)
    /// A node attribute is malformed or out of range.
    case badAttribute(file: String, node: String, detail: String)
    /// The graph itself is invalid (see `GraphError`), found while reading `file`.
    case graph(file: String, GraphError)

    /// The file, the node or tensor at fault, and what to do about it.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file (\(reason))."
        case .corrupt(let file, let detail):
            return "\(file): not a valid ONNX model (\(detail)). The file may be truncated or not ONNX at all; re-export or re-download it."
        case .noGraph(let file):
            return "\(file): the model contains no graph. The file is truncated or not an ONNX model."
        case .badTensor(let file, let tensor, let detail):
            return "\(file): tensor '\(tensor)': \(detail). The file is damaged; re-export the model."
        case .unsupportedElementType(let file, let tensor, let type):
            return "\(file): tensor '\(tensor)' has element type \(type), which SNNKit cannot use. Export the model in float32."
        case .externalData(let file, let tensor, let detail):
            return "\(file): tensor '\(tensor)' stores its data in an external file: \(detail). Keep the weight files next to the .onnx file."
        case .badAttribute(let file, let node, let detail):
            return "\(file): node '\(node)': \(detail)."
        case .graph(let file, let error):
            return "\(file): \(error)"
        }
    }
}
