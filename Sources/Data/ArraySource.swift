import SNNTensor

/// Images stored as a dense array of pixels in one or more byte regions (a mapped .npy
/// file, an .npz entry, an IDX file, a run of CIFAR records), with their labels.
///
/// Every reader ends here, so decoding, the NHWC -> NCHW transpose, preprocessing and
/// the label checks exist once. Labels are read whole at open (a few bytes per sample:
/// checking them all up front turns a bad label into an error before a long run starts
/// rather than in the middle of it); pixels are read per batch.
public struct ArraySource: DataSource {
    /// How one pixel is stored.
    enum PixelType: Sendable {
        case uint8, float32, float64

        var byteSize: Int {
            switch self {
            case .uint8: 1
            case .float32: 4
            case .float64: 8
            }
        }
    }

    /// `count` samples starting at byte `offset` of `bytes`, one every `stride` bytes
    /// (more than the pixel bytes when each record also holds a label, as in CIFAR).
    struct Segment: Sendable {
        var bytes: FileBytes
        var offset: Int
        var count: Int
        var stride: Int
    }

    /// The file (or files) the samples come from.
    public let name: String
    /// Number of samples.
    public let count: Int
    /// [C, H, W] of one sample.
    public let sampleShape: [Int]
    /// The axis order of the stored pixels (batches are always NCHW).
    public let storedLayout: ImageLayout
    /// The normalisation applied to every pixel as it is read.
    public let preprocessing: Preprocessing
    /// One class index per sample, or nil for an unlabelled set.
    public let labels: [Int]?
    /// Whether the set has labels.
    public var hasLabels: Bool { labels != nil }

    let pixelType: PixelType
    let segments: [Segment]
    /// The first sample index of each segment, for locating a sample.
    let segmentStarts: [Int]
    /// Preprocessing folded into `x * scale[c] + shift[c]`.
    let scale: [Float], shift: [Float]

    /// - Parameters:
    ///   - shape: `[C, H, W]` of one sample.
    ///   - labels: the labels and the file they came from.
    ///   - classCount: when given, labels must lie in 0..<classCount.
    init(
        name: String, segments: [Segment], pixelType: PixelType, shape: [Int], layout: ImageLayout,
        labels: (values: [Int], file: String)?, preprocessing: Preprocessing?, classCount: Int?
    ) throws {
        self.name = name
        // Empty files among CIFAR batches add nothing; dropping them keeps `decode` simple.
        let segments = segments.filter { $0.count > 0 }
        self.segments = segments
        self.pixelType = pixelType
        self.storedLayout = layout
        let total = segments.reduce(0) { $0 + $1.count }
        count = total
        sampleShape = shape
        guard shape.count == 3 else { throw DataError.wrongRank(file: name, shape: shape, expected: "[C, H, W] samples") }
        let sampleSize = shape.reduce(1, *)
        guard total > 0, sampleSize > 0 else { throw DataError.empty(file: name, shape: [total] + shape) }
        // The readers check their sizes already; this keeps a reader bug from reading past a mapping.
        for segment in segments {
            let last = segment.offset + (segment.count - 1) * segment.stride + sampleSize * pixelType.byteSize
            _ = try segment.bytes.slice(segment.offset..<last, field: "\(segment.count) samples of \(DataError.format(shape))")
        }
        var starts = [Int](), running = 0
        for segment in segments {
            starts.append(running)
            running += segment.count
        }
        segmentStarts = starts
        if let labels {
            guard labels.values.count == total else {
                throw DataError.countMismatch(images: name, imageCount: total, labels: labels.file, labelCount: labels.values.count)
            }
            try Self.checkLabels(labels.values, file: labels.file, classCount: classCount)
        }
        self.labels = labels?.values
        var chosen = preprocessing ?? .default(forFloatData: pixelType != .uint8)
        if chosen.scaleFollowsDataType { chosen.scale = Preprocessing.default(forFloatData: pixelType != .uint8).scale }
        self.preprocessing = chosen
        (scale, shift) = try chosen.affine(channels: shape[0], source: name)
    }

    /// Throws for the first label that is negative or not below `classCount`.
    static func checkLabels(_ labels: [Int], file: String, classCount: Int?) throws {
        if let classCount, classCount <= 0 {
            throw DataError.invalidArgument("the class count must be positive, not \(classCount)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= (classCount ?? Int.max) }) {
            throw DataError.labelOutOfRange(file: file, index: bad, label: labels[bad], classCount: classCount)
        }
    }

    /// Samples `range`, preprocessed, NCHW; throws `DataError.outOfRange` outside 0..<count.
    public func batch(_ range: Range<Int>) throws -> Batch {
        try checkRange(range)
        return gather(Array(range))
    }

    /// The samples at `indices`, in that order; throws `DataError.outOfRange` naming the first bad index.
    public func batch(at indices: [Int]) throws -> Batch {
        for (position, index) in indices.enumerated() where !(0..<count).contains(index) {
            throw DataError.outOfRange(source: name, requested: "index \(index) (position \(position) of the batch)", count: count)
        }
        return gather(indices)
    }

    /// Decodes `indices` (already checked) into one NCHW batch.
    private func gather(_ indices: [Int]) -> Batch {
        let sampleSize = sampleShape.reduce(1, *)
        let images = Tensor(shape: [indices.count] + sampleShape) { out in
            for (position, index) in indices.enumerated() {
                decode(index, into: UnsafeMutableBufferPointer(rebasing: out[position * sampleSize..<(position + 1) * sampleSize]))
            }
        }
        return Batch(images: images, labels: labels.map { all in indices.map { all[$0] } })
    }

    /// Writes sample `index` into `out` as preprocessed CHW floats.
    private func decode(_ index: Int, into out: UnsafeMutableBufferPointer<Float>) {
        // Few segments (one per file), so a linear search costs nothing.
        var s = segments.count - 1
        while segmentStarts[s] > index { s -= 1 }
        let segment = segments[s]
        let start = segment.offset + (index - segmentStarts[s]) * segment.stride
        let size = out.count * pixelType.byteSize
        let pixels = UnsafeRawBufferPointer(rebasing: segment.bytes.all[start..<start + size])
        let channels = sampleShape[0], plane = out.count / channels
        // Source element of (channel c, pixel p): c * plane + p in CHW order, p * channels + c in HWC.
        let (channelStep, pixelStep) = storedLayout == .nchw ? (plane, 1) : (1, channels)
        for c in 0..<channels {
            let a = scale[c], b = shift[c]
            let base = c * plane
            switch pixelType {
            case .uint8:
                for p in 0..<plane { out[base + p] = Float(pixels[c * channelStep + p * pixelStep]) * a + b }
            case .float32:
                for p in 0..<plane {
                    out[base + p] = pixels.loadUnaligned(fromByteOffset: 4 * (c * channelStep + p * pixelStep), as: Float.self) * a + b
                }
            case .float64:
                for p in 0..<plane {
                    out[base + p] = Float(pixels.loadUnaligned(fromByteOffset: 8 * (c * channelStep + p * pixelStep), as: Double.self)) * a + b
                }
            }
        }
    }
}
