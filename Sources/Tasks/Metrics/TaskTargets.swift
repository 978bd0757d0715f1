import SNNTensor

/// The ground truth of one batch, in the form its task scores against.
public enum TaskTargets: Sendable, Equatable {
    /// One class index per sample.
    case labels([Int])
    /// Row-major masks `[N, H, W]` of class indices (or the ignore label).
    case masks([Int], shape: [Int])
    /// The objects of each sample.
    case boxes([[GroundTruthBox]])

    /// Samples the targets describe.
    public var count: Int {
        switch self {
        case .labels(let l): return l.count
        case .masks(_, let shape): return shape.first ?? 0
        case .boxes(let b): return b.count
        }
    }
}
