/// A file SNNKit was asked to write could not be written.
public enum OutputError: Error, Equatable, CustomStringConvertible {
    /// The file or folder at `file` cannot be created or replaced, for `reason`.
    case unwritable(file: String, reason: String)

    /// The file, why it cannot be written, and what to do.
    public var description: String {
        switch self {
        case .unwritable(let file, let reason):
            return "\(file): cannot write the file (\(reason)). Choose a writable location."
        }
    }
}
