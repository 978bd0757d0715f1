import SNNConversion

/// Where the readout average starts (docs/method.md, "Readout and delay").
public enum DelayMode: Sendable, Equatable, Codable {
    /// Average from the first step.
    case none
    /// Average over (t0, T] with the delay estimated at conversion time (t0 = T - 4 when T < t0 + 4).
    case estimated(Int)
    /// A user-fixed t0 (same rule for short runs).
    case fixed(Int)
    /// t0 = T/2 (the paper's choice for segmentation).
    case half
    /// The starts chosen per run length on held-out calibration data at conversion.
    case calibrated(ReadoutSchedule)

    /// The readout window's start t0 for a run of `t` steps: the output is averaged over (t0, t].
    public func start(forSteps t: Int) -> Int {
        switch self {
        case .none: return 0
        case .estimated(let d), .fixed(let d): return DelayEstimate(steps: d, perLayer: []).start(forSteps: t)
        case .half: return t / 2
        case .calibrated(let schedule): return schedule.start(forSteps: t)
        }
    }
}
