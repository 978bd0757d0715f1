import SNNTensor

/// Calibration data as the converter sees it: a fixed number of distinct batches, read on
/// demand. The converter cycles through them when asked for more batches than exist.
public protocol CalibrationSource {
    /// Number of distinct batches the source can serve.
    var distinctBatches: Int { get }
    /// Batch `index` in 0..<distinctBatches, already preprocessed ([N, C, H, W] float32).
    func batch(_ index: Int) throws -> Tensor
    /// Where the batches come from (a file name), for error messages.
    var origin: String { get }
}

extension CalibrationSource {
    /// Sources that do not say where their data comes from are "calibration data".
    public var origin: String { "calibration data" }
}

/// Batches held in memory (tests, the demo).
public struct InMemoryBatches: CalibrationSource {
    /// The batches, in calibration order.
    public var batches: [Tensor]
    /// A source serving `batches` in order.
    public init(_ batches: [Tensor]) { self.batches = batches }
    /// The number of batches held.
    public var distinctBatches: Int { batches.count }
    /// Batch `index` as stored.
    public func batch(_ index: Int) throws -> Tensor { batches[index] }
}
