import SNNTensor

/// Calibration data as the converter sees it: a fixed number of distinct batches, read on
/// demand. The converter cycles through them when asked for more batches than exist.
public protocol CalibrationSource {
    var distinctBatches: Int { get }
    /// Batch `index` in 0..<distinctBatches, already preprocessed ([N, C, H, W] float32).
    func batch(_ index: Int) throws -> Tensor
}

/// Batches held in memory (tests, the demo).
public struct InMemoryBatches: CalibrationSource {
    public var batches: [Tensor]
    public init(_ batches: [Tensor]) { self.batches = batches }
    public var distinctBatches: Int { batches.count }
    public func batch(_ index: Int) throws -> Tensor { batches[index] }
}
