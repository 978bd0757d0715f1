/// Why a converted network cannot be written as NIR, naming the node and what to change.
public enum NIRExportError: Error, Equatable, CustomStringConvertible {
    /// The model has no integrate-and-fire neurons: it is an ANN, not a converted network.
    case notConverted(model: String)
    /// Node `node` (operator `op`) has no NIR counterpart; `advice` says what to change.
    case unsupported(node: String, op: String, advice: String)
    /// libhdf5 could not be loaded under any of the names `tried`.
    case hdf5Missing(tried: [String])

    /// The message, naming the node or file and what to do.
    public var description: String {
        switch self {
        case .notConverted(let model):
            return "\(model): the model has no IF neuron layers, so it is not a converted spiking network. Convert it first " +
                "(snnkit convert MODEL.onnx --calib DATA --out MODEL.snn.onnx), then export the .snn.onnx."
        case .unsupported(let node, let op, let advice):
            return "node '\(node)' (\(op)) cannot be expressed in NIR: \(advice)"
        case .hdf5Missing(let tried):
            return "NIR files are HDF5, and no HDF5 library could be loaded (tried \(tried.prefix(4).joined(separator: ", "))\(tried.count > 4 ? ", ..." : "")). " +
                "Install it (Debian/Ubuntu: apt-get install libhdf5-103-1 or libhdf5-dev; macOS: brew install hdf5), " +
                "or set SNNKIT_HDF5 to the library's path."
        }
    }
}
