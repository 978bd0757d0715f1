import SNNData

/// How a dataset file is read: its layout, its preprocessing and the batch size.
public struct DataSettings: Sendable, Equatable {
    /// Axis order of 4-D arrays; nil infers it.
    public var layout: ImageLayout?
    /// nil: the stored type's default (bytes to [0, 1], floats unchanged).
    public var preprocessing: Preprocessing?
    /// Images per batch, for calibration and evaluation.
    public var batchSize: Int

    /// Settings with the default preprocessing and an inferred layout.
    public init(layout: ImageLayout? = nil, preprocessing: Preprocessing? = nil, batchSize: Int = 100) {
        self.layout = layout
        self.preprocessing = preprocessing
        self.batchSize = batchSize
    }

    /// Opens `path` (any format `DataSources.open` reads), with labels from `labels` when
    /// given. A mean and std that cannot belong to the scaled data are reported to `warn`.
    public func open(_ path: String, labels: String? = nil, warn: (String) -> Void = { _ in }) throws -> ArraySource {
        let source = try DataSources.open(path: path, labels: labels, layout: layout, preprocessing: preprocessing)
        if let warning = try source.preprocessingWarning() { warn(warning) }
        return source
    }

    /// `path` as calibration batches.
    public func calibration(_ path: String, warn: (String) -> Void = { _ in }) throws -> CalibrationBatches {
        try CalibrationBatches(source: try open(path, warn: warn), batchSize: batchSize)
    }
}
