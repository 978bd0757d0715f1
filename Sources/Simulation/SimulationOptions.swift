/// How max pooling behaves inside the spiking network (docs/method.md, "What each operator
/// becomes": max pooling on the running sum).
public enum MaxPoolMode: String, Sendable, Codable, CaseIterable {
    /// Pool the running sum of input currents and emit its increment each step, so the
    /// integrated input equals the max of the integrated currents (SNNKit's default).
    case runningSum = "running-sum"
    /// Pool each step's input currents (the paper's reference behaviour), which overshoots
    /// deep in a network where currents come from spikes.
    case perStep = "per-step"
}

/// What a neuron's membrane becomes when it fires.
public enum ResetMode: String, Sendable, Codable, CaseIterable {
    /// v -= theta: the charge above threshold carries over (SNNKit's default, the
    /// conversion's rate equals the clip-ANN's).
    case subtract
    /// v = 0: the reset of NIR's IF node and of most neuromorphic hardware; the charge above
    /// threshold is lost, so rates fall below the clip-ANN's.
    case zero
}

/// The kernels a convolution inside the spiking part can run on.
public enum ConvolutionKernel: String, Sendable, Codable, CaseIterable {
    /// Chosen per layer and chunk from the measured input density.
    case auto
    /// im2col + GEMM: every input multiplied, zeros included.
    case dense
    /// Event-driven: only the non-zero inputs, each adding its weight rows.
    case events
    /// Table lookup over the binary spike patterns of 8 (or 4) channels (only for inputs
    /// that come straight from a neuron layer).
    case tables
    /// Dense int8 matrix product of the spikes on AMX tiles (only for inputs straight from a
    /// neuron layer, on CPUs with AMX; table lookup elsewhere).
    case matrix
}

/// The simulator's settings: steps, checkpoints, neuron and pooling semantics, and the kernel choices (which change results only by float rounding).
public struct SimulationOptions: Sendable {
    /// Number of time steps to simulate (T_max).
    public var timeSteps: Int
    /// Steps at which the readout is evaluated (sorted, each in 1...timeSteps).
    public var checkpoints: [Int]
    /// How max pools inside the spiking part behave (running sum by default).
    public var maxPooling: MaxPoolMode = .runningSum
    /// The neurons' reset (`ResetMode`).
    public var reset: ResetMode = .subtract
    /// Spikes a neuron may emit in one step (burst neurons, docs/method.md "Low latency"):
    /// 1 is the plain IF neuron. With k > 1 a neuron fires while v > theta, up to k times
    /// per step, subtracting theta each time, and sends one spike of amplitude n x theta;
    /// each of the n spikes counts as a spike and as synaptic operations. Hardware must
    /// support graded spikes for this, so it is off by default. Burst spikes are not 0/1,
    /// so the spike kernels and fused layers step aside for the float kernels.
    public var burst: Int = 1
    /// Saturating membranes, by IF node name (an integer SNN's state width): every neuron
    /// update clamps before the compare.
    public var membraneBounds: [String: MembraneBounds] = [:]
    /// Steps simulated per layer before moving to the next layer: larger chunks make bigger,
    /// faster GEMMs; memory grows with chunk x batch x activation size.
    public var chunk: Int = 16
    /// Samples per batch shard: each shard runs through the whole network on one core
    /// (`BatchShards`). Kernels are chosen from a shard's own firing density, so this, not
    /// the thread count, is part of what fixes the result (up to float rounding at ties).
    public var shardSize: Int = 16
    /// Window starts to evaluate besides 0 (for delayed evaluation), e.g. the stored delay.
    public var windowStarts: Set<Int> = []
    /// Keep the readout's running sum at every step (enables any (t0, T] window).
    public var keepEveryStep: Bool = true
    /// Which kernel computes the convolutions of the spiking part (see `ConvolutionKernel`).
    public var convolutionKernel: ConvolutionKernel = .auto
    /// With `.auto`: a convolution fed directly by a neuron layer runs event-driven when
    /// the event kernel's estimated work, density x channels per lookup (4 or 8) x the
    /// share of taps inside the input, is below this fraction of the table kernel's, by
    /// table lookup otherwise. Fitted on the layers of two CIFAR VGG-11 and ResNet-20
    /// conversions (firing 0.13 and 0.17) and checked on an ImageNet ResNet-18.
    public var tableCrossover: Double = 1.0
    /// With `.auto` on a CPU with AMX: a layer of 128 or more output channels that would run
    /// event-driven runs the matrix product instead once density x the share of taps inside
    /// the input reaches this (x1.5 on maps under 16 pixels, where the product computes every
    /// padding tap). The product's cost does not depend on density; the event kernel's grows
    /// with it from a fixed part. Fitted on VGG-11's layers fed CIFAR-10 images scaled by 1,
    /// 0.35, 0.2 and 0.1 (input density 0.03-0.17), one thread, each kernel's time per chunk
    /// against density: the 4x4 128 -> 256 layer ties at 0.038, a 2x2 layer at 0.030 after
    /// its scale, the 8x8 and other layers never come near (events 1.5-2x slower at their
    /// densities). At 0.07, the 4x4 256 -> 256 layer would run its first chunks
    /// event-driven (density x inside 0.069) 10-15% slower.
    public var matrixCrossover: Double = 0.035
    /// A convolution whose lookup tables would take more bytes than this gets none: it runs
    /// event-driven or dense. The 4-bit tables are 4x the weights (a 512 -> 512 3x3 layer:
    /// 38 MB), so the cap only bites on very wide layers, where events win anyway.
    public var tableMemoryLimit: Int = 64 << 20
    /// An event-driven convolution whose weights take more bytes than this computes all
    /// steps of a chunk tap by tap, so its weights come from L3 once per chunk rather than
    /// once per step (results are identical either way). 1 MB: half of a 2 MB L2, so the
    /// weights and the block's rows fit together.
    public var stepBatchingWeightBytes: Int = 1 << 20
    /// With `.auto`: a convolution fed by other sparse values (e.g. pooled increments) runs
    /// event-driven below this density and through the dense GEMM above it.
    public var denseAbove: Double = 0.5
    /// Measure where the time goes, per operator type (for `snnkit bench snn --profile`).
    public var collectTimings: Bool = false

    /// Options for `timeSteps` steps, read out at `checkpoints` (nil: powers of two up to T, and T).
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

    /// The message, naming what to change.
    public var description: String {
        switch self {
        case .invalidOptions(let m): return m
        case .notConverted(let m): return m
        }
    }
}
