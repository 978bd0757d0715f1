/// The sufficient statistics of one metric: what scored samples leave behind, from which
/// the metric's values follow exactly, and which two runs over consecutive parts of the
/// data add up to what one run over both would hold.
///
/// Counts (top-k hits, confusion matrices) add; detections are concatenated with their
/// image numbers shifted past the earlier part's images, so the merged list is the one a
/// single run makes, in the same order (average precision sorts by score, and ties keep
/// that order).
public enum MetricTally: Sendable, Codable, Equatable {
    case classification(ClassificationMetric)
    case segmentation(SegmentationMetric)
    case detection(DetectionMetric)

    /// The tally of `metric`.
    public init(_ metric: any TaskMetric) {
        switch metric {
        case let m as ClassificationMetric: self = .classification(m)
        case let m as SegmentationMetric: self = .segmentation(m)
        case let m as DetectionMetric: self = .detection(m)
        default: preconditionFailure("unknown metric type \(type(of: metric))")
        }
    }

    /// The metric these statistics belong to.
    public var metric: any TaskMetric {
        switch self {
        case .classification(let m): return m
        case .segmentation(let m): return m
        case .detection(let m): return m
        }
    }

    /// The metric values, each a fraction in [0, 1].
    public var values: [String: Double] { metric.values }

    /// Appends `later`, the statistics of the samples that follow this tally's. Throws when
    /// the two belong to different metrics (outputs, k, classes, suppression).
    public mutating func append(_ later: MetricTally) throws {
        switch (self, later) {
        case (.classification(var a), .classification(let b)): try a.append(b); self = .classification(a)
        case (.segmentation(var a), .segmentation(let b)): try a.append(b); self = .segmentation(a)
        case (.detection(var a), .detection(let b)): try a.append(b); self = .detection(a)
        default: throw TaskError.invalidArgument("cannot add \(later.kind) statistics to \(kind) statistics")
        }
    }

    /// Checks what a decoder cannot: array lengths that agree with the declared sizes and
    /// counts that are not negative, so a damaged file is refused instead of misread.
    public func validate() throws {
        switch self {
        case .classification(let m): try m.validate()
        case .segmentation(let m): try m.confusion.validate()
        case .detection(let m): try m.accumulator.validate()
        }
    }

    private var kind: String {
        switch self {
        case .classification: return "classification"
        case .segmentation: return "segmentation"
        case .detection: return "detection"
        }
    }
}
