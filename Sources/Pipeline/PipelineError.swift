/// A problem with what the caller asked the pipeline to do: a setting out of range, a
/// model in the wrong state for the step, data that does not fit. Each message names the
/// file or setting and what to do.
public struct PipelineError: Error, Equatable, CustomStringConvertible {
    /// What is wrong and what to do.
    public var description: String

    /// Creates an error with a message that names what is wrong and what to do.
    public init(_ description: String) { self.description = description }

    /// A setting outside its range, caught before any work starts.
    static func setting(_ message: String) -> PipelineError { PipelineError(message) }
}
