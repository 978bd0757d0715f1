/// How max pooling behaves inside the spiking network (shared/method.md, section 3).
public enum MaxPoolMode: String, Sendable, Codable, CaseIterable {
    /// Pool the running sum of input currents and emit its increment each step, so the
    /// integrated input equals the max of the integrated currents (SNNKit's default).
    case runningSum = "running-sum"
    /// Pool each step's input currents (the paper's reference behaviour), which overshoots
    /// deep in a network where currents come from spikes.
    case perStep = "per-step"
}

public struct SimulationOptions: Sendable {
    /// Number of time steps to simulate (T_max).
    public var timeSteps: Int
    /// Steps at which the readout is evaluated (sorted, each in 1...timeSteps).
    public var checkpoints: [Int]
    public var maxPooling: MaxPoolMode = .runningSum
    /// Steps simulated per layer before moving to the next layer: larger chunks make bigger,
    /// faster GEMMs; memory grows with chunk x batch x activation size.
    public var chunk: Int = 16
    /// Window starts to evaluate besides 0 (for delayed evaluation), e.g. the stored delay.
    public var windowStarts: Set<Int> = []
    /// Keep the readout's running sum at every step (enables any (t0, T] window).
    public var keepEveryStep: Bool = true
    /// Compute convolutions fed by sparse inputs (spikes) event-driven, visiting only the
    /// non-zero inputs, whenever the chunk's input density is below `denseAbove`; denser
    /// inputs use the dense GEMM, which is faster there.
    public var eventDriven: Bool = true
    public var denseAbove: Double = 0.5
    /// Measure where the time goes, per operator type (for `snnkit bench snn --profile`).
    public var collectTimings: Bool = false

    public init(timeSteps: Int, checkpoints: [Int]? = nil) {
        self.timeSteps = timeSteps
        self.checkpoints = checkpoints ?? SimulationOptions.powersOfTwo(upTo: timeSteps)
    }

    /// 1, 2, 4, ..., up to T (T included).
    public static func powersOfTwo(upTo t: Int) -> [Int] {
        var result = [Int]()
        var n = 1
        while n < t { result.append(n); n *= 2 }
        if t >= 1 { result.append(t) }
        return result
    }
}

/// Bad simulation settings or model, reported before any work starts.
public enum SimulationError: Error, Equatable, CustomStringConvertible {
    case invalidOptions(String)
    case notConverted(String)

    public var description: String {
        switch self {
        case .invalidOptions(let m): return m
        case .notConverted(let m): return m
        }
    }
}
