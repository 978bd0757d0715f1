/// A source split into batches of `batchSize` samples, optionally shuffled, optionally
/// cycled past its end.
///
/// Batch `k` is a pure function of the configuration and `k`: epoch `k / batchesPerEpoch`
/// is one pass over the samples (in order, or in a permutation seeded by the seed and the
/// epoch), cut into consecutive batches. So a run is reproducible, two readers can split
/// the same batches between them, and calibration that asks for more batches than the
/// set holds (`total` > `batchesPerEpoch`) wraps into further epochs, reshuffled when
/// shuffling, instead of failing.
///
/// Iterating yields `Item`s and reads nothing; `try item.load()` reads the batch, so the
/// sequence itself never throws. `batch(_:)` gives random access.
public struct Batches: Sequence, Sendable {
    /// The samples being batched.
    public let source: any DataSource
    /// Samples per batch (an epoch's last batch may hold fewer unless `dropLast`).
    public let batchSize: Int
    /// Whether an epoch's last, smaller batch is skipped (so every batch has `batchSize` samples).
    public let dropLast: Bool
    /// The shuffle seed, or nil to keep the source's order.
    public let shuffleSeed: UInt64?
    /// Batches in one pass over the source.
    public let batchesPerEpoch: Int
    /// Batches the sequence yields: one epoch unless a total was asked for.
    public let count: Int

    /// - Parameters:
    ///   - total: how many batches to yield; nil for one epoch, more than one epoch
    ///     cycles through the source again.
    public init(_ source: any DataSource, batchSize: Int, dropLast: Bool = false, shuffleSeed: UInt64? = nil, total: Int? = nil) throws {
        guard batchSize > 0 else { throw DataError.invalidArgument("the batch size must be positive, not \(batchSize)") }
        guard source.count > 0 else { throw DataError.empty(file: source.name, shape: [0] + source.sampleShape) }
        let perEpoch = dropLast ? source.count / batchSize : (source.count + batchSize - 1) / batchSize
        guard perEpoch > 0 else {
            throw DataError.invalidArgument(
                "\(source.name): \(source.count) samples make no full batch of \(batchSize); use a smaller batch size or keep the last partial batch")
        }
        if let total, total < 0 { throw DataError.invalidArgument("the number of batches must not be negative, not \(total)") }
        self.source = source
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.shuffleSeed = shuffleSeed
        self.batchesPerEpoch = perEpoch
        self.count = total ?? perEpoch
    }

    /// One batch of the sequence: which samples it holds, not yet read.
    public struct Item: Sendable {
        /// Position in the sequence (0, 1, ...), across epochs.
        public let index: Int
        /// Which pass over the source the batch belongs to.
        public let epoch: Int
        /// Sample indices in batch order.
        public let samples: [Int]
        let source: any DataSource

        /// Reads the batch.
        public func load() throws -> Batch {
            // An unshuffled batch is one contiguous run: read it as a range.
            if let first = samples.first, let last = samples.last, last - first + 1 == samples.count,
               samples == Array(first...last) {
                return try source.batch(first..<last + 1)
            }
            return try source.batch(at: samples)
        }
    }

    /// The sample indices of batch `k` (any k >= 0; past the first epoch it cycles).
    /// Shuffled, this costs a permutation of the whole set; iterate for sequential access.
    public func samples(ofBatch k: Int) throws -> [Int] {
        guard k >= 0 else { throw DataError.invalidArgument("batch index \(k) is negative") }
        let epoch = k / batchesPerEpoch
        return slice(k - epoch * batchesPerEpoch, of: order(epoch: epoch))
    }

    /// Reads batch `k` (any k >= 0, cycling past the first epoch).
    public func batch(_ k: Int) throws -> Batch {
        try Item(index: k, epoch: k / batchesPerEpoch, samples: samples(ofBatch: k), source: source).load()
    }

    /// Walks the batches in order, computing each epoch's order once.
    public struct Iterator: IteratorProtocol {
        let batches: Batches
        var position = 0
        var epoch = -1
        var order: [Int]? = nil

        /// The next batch, not yet read, or nil after the last.
        public mutating func next() -> Item? {
            guard position < batches.count else { return nil }
            let k = position
            position += 1
            let e = k / batches.batchesPerEpoch
            if e != epoch || order == nil {
                epoch = e
                order = batches.order(epoch: e)
            }
            let samples = batches.slice(k - e * batches.batchesPerEpoch, of: order ?? [])
            return Item(index: k, epoch: e, samples: samples, source: batches.source)
        }
    }

    /// An iterator from batch 0.
    public func makeIterator() -> Iterator { Iterator(batches: self) }

    /// The number of batches.
    public var underestimatedCount: Int { count }

    /// Sample order of one epoch: identity, or a Fisher-Yates shuffle seeded by
    /// (seed, epoch), so each epoch of a cycled run sees the samples in a new order.
    func order(epoch: Int) -> [Int] {
        var order = Array(0..<source.count)
        guard let shuffleSeed else { return order }
        var generator = SplitMix64(seed: shuffleSeed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, Int(generator.next(below: UInt64(i + 1))))
        }
        return order
    }

    /// The `position`-th batch of an epoch whose samples come in `order`.
    func slice(_ position: Int, of order: [Int]) -> [Int] {
        let start = position * batchSize
        return Array(order[start..<Swift.min(start + batchSize, order.count)])
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and fully specified here, so a seed
/// gives the same shuffle on every platform and Swift version, which the standard
/// library's generators and `shuffle(using:)` do not promise.
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (Lemire's multiply-shift with rejection, so no modulo bias).
    mutating func next(below bound: UInt64) -> UInt64 {
        let threshold = (0 &- bound) % bound
        while true {
            let (high, low) = next().multipliedFullWidth(by: bound)
            if low >= threshold { return high }
        }
    }
}
