import SNNTensor

/// A run of samples ready for the network: `images` is `[N, C, H, W]` float32, already
/// preprocessed; `labels` holds one class index per image when the dataset has labels.
public struct Batch: Sendable, Equatable {
    /// The images, [N, C, H, W] float32, preprocessed.
    public var images: Tensor
    /// One class index per image, or nil for an unlabelled set.
    public var labels: [Int]?

    /// A batch of `images` with `labels` (nil when unlabelled).
    public init(images: Tensor, labels: [Int]?) {
        self.images = images
        self.labels = labels
    }

    /// Images in the batch.
    public var count: Int { images.shape.first ?? 0 }
}

/// A dataset read on demand, one batch at a time.
///
/// `convert` draws calibration batches and `simulate`/`eval` walk the evaluation set;
/// neither needs the whole set in memory, so sources read only the bytes of the samples
/// asked for (the files are memory-mapped). Reads do not change the source, so one
/// source can serve several threads.
public protocol DataSource: Sendable {
    /// The file(s) the samples come from, for messages.
    var name: String { get }
    /// Number of samples.
    var count: Int { get }
    /// `[C, H, W]` of one sample after preprocessing.
    var sampleShape: [Int] { get }
    /// Whether batches carry labels.
    var hasLabels: Bool { get }
    /// Samples `range` (within 0..<count) as one batch.
    func batch(_ range: Range<Int>) throws -> Batch
    /// The samples at `indices` (each within 0..<count), in that order, as one batch.
    func batch(at indices: [Int]) throws -> Batch
}

extension DataSource {
    /// Gathers one sample at a time through `batch(_:)`, for sources that cannot do better.
    public func batch(at indices: [Int]) throws -> Batch {
        for (position, index) in indices.enumerated() where !(0..<count).contains(index) {
            throw DataError.outOfRange(source: name, requested: "index \(index) (position \(position) of the batch)", count: count)
        }
        let sampleSize = sampleShape.reduce(1, *)
        var storage = [Float]()
        storage.reserveCapacity(indices.count * sampleSize)
        var labels: [Int]? = hasLabels ? [] : nil
        for index in indices {
            let one = try batch(index..<index + 1)
            storage += one.images.storage
            if let label = one.labels?.first { labels?.append(label) }
        }
        return Batch(images: Tensor(shape: [indices.count] + sampleShape, storage: storage), labels: labels)
    }

    /// Throws unless `range` lies within 0..<count: what `batch(_:)` checks first.
    public func checkRange(_ range: Range<Int>) throws {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DataError.outOfRange(source: name, requested: "\(range.lowerBound)..<\(range.upperBound)", count: count)
        }
    }
}
