import SNNConversion
import SNNData
import SNNTensor

/// A dataset as calibration batches for the converter: `count / batchSize` whole batches
/// (a partial last batch is left out, so every batch has the shape the model is planned for).
public struct CalibrationBatches: CalibrationSource, Sendable {
    /// The images.
    public let source: any DataSource
    /// Images per batch.
    public let batchSize: Int

    /// Serves `source` in batches of `batchSize`; throws when it holds less than one batch.
    public init(source: any DataSource, batchSize: Int) throws {
        guard batchSize > 0 else { throw PipelineError.setting("the batch size must be positive, not \(batchSize)") }
        guard source.count >= batchSize else {
            throw PipelineError("\(source.name) holds \(source.count) images, fewer than one batch of \(batchSize); lower the batch size (--batch-size)")
        }
        self.source = source
        self.batchSize = batchSize
    }

    /// The data source's name (its file).
    public var origin: String { source.name }

    /// Whole batches in the source.
    public var distinctBatches: Int { source.count / batchSize }

    /// Batch `index`, preprocessed `[N, C, H, W]`.
    public func batch(_ index: Int) throws -> Tensor {
        try source.batch((index * batchSize)..<((index + 1) * batchSize)).images
    }
}
