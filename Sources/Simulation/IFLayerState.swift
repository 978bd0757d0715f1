import SNNSpikeKernels
import SNNAMX
import SNNTensor

/// The integrate-and-fire layer of docs/method.md ("The neuron"), over a chunk of steps:
///
///     v(t-) = v(t-1) + I(t);  s(t) = v(t-) > theta;  v(t) = v(t-) - theta * s(t);  out(t) = theta * s(t)
///
/// with v(0) = ratio * theta, strict comparison, reset by subtraction (or to zero, with
/// `ResetMode.zero`, to simulate what an NIR consumer runs) and spikes carrying the
/// threshold as amplitude. The membrane persists across chunks. The equations
/// themselves are in one place, `IFLayerState.Lanes` (IFLayerState+Update.swift), with
/// their C twins `snn_fire16` and the row/plane loops around it in SNNAMX.
final class IFLayerState {
    let thresholds: [Float]
    /// The threshold of every value of a sample (thresholds are per channel).
    let thresholdPerValue: [Float]
    let sampleShape: [Int]
    let perSample: Int
    let batch: Int
    var membrane: [Float]
    /// Spikes per step (summed over the batch) and synaptic operations per step.
    var spikesPerStep: [Double] = []
    var opsPerStep: [Double] = []
    let fanout: [Float]
    /// Reset to 0 instead of subtracting theta (`ResetMode.zero`).
    let zeroReset: Bool
    /// Spikes a neuron may emit per step (`SimulationOptions.burst`).
    let burst: Int
    /// Saturation bounds per value (`MembraneBounds`), or nil for an unbounded membrane.
    let lowerPerValue: [Float]?
    let upperPerValue: [Float]?
    /// What the layer's readers take: the float map (`floats`), packed spikes for the
    /// convolutions' spike kernels (`patterns`, NCHW layers only), or both.
    var emitsFloats = true
    var emitsPatterns = false
    /// Diagnostics: the clip-ANN's activation of this layer for the batch; when set, the
    /// layer keeps the sum of its outputs and measures its distance to it at checkpoints.
    /// `referenceValues` and `outputSum` are in the layout of whoever integrates the
    /// membranes (NCHW here, pixel-major in a `FusedSpikingLayer`).
    var reference: Tensor? {
        didSet { referenceValues = reference?.storage ?? []; outputSum = [Float](repeating: 0, count: referenceValues.count) }
    }
    var referenceValues: [Float] = []
    var outputSum: [Float] = []
    /// At each checkpoint T: sum |mean output over 1...T - clip activation|.
    var gapNumerators: [Double] = []
    var checkpoints: Set<Int> = []

    /// Values per piece of a sample handed to one worker: whole samples split this finely
    /// keep both cores busy at batch 1, and a piece's membrane stays in L1 across steps.
    static let piece = 2048

    /// Per-value thresholds and initial membranes of one sample, the same for every batch:
    /// computed once per simulator.
    struct Layout {
        let thresholdPerValue: [Float]
        let initialSample: [Float]
        /// Reset to 0 instead of subtracting theta (`ResetMode.zero`).
        let zeroReset: Bool
        /// Spikes a neuron may emit per step (`SimulationOptions.burst`).
        let burst: Int
        /// The saturation bounds of every value of a sample, when the membrane has them.
        let lowerPerValue: [Float]?
        let upperPerValue: [Float]?

        /// `initialPotentials`: v(0) / theta per channel, or one ratio for all.
        init(thresholds: [Float], sampleShape: [Int], initialPotentials: [Float], reset: ResetMode = .subtract, bounds: MembraneBounds? = nil,
             burst: Int = 1) {
            zeroReset = reset == .zero
            self.burst = burst
            let channels = sampleShape.first ?? 1, perSample = sampleShape.reduce(1, *)
            let inner = perSample / max(channels, 1)
            func perValue(_ values: [Float]) -> [Float] {
                (0..<perSample).map { values[values.count == 1 ? 0 : min($0 / max(inner, 1), channels - 1)] }
            }
            thresholdPerValue = perValue(thresholds)
            initialSample = zip(perValue(initialPotentials), thresholdPerValue).map { $0 * $1 }
            lowerPerValue = bounds.map { perValue($0.lower) }
            upperPerValue = bounds.map { perValue($0.upper) }
        }
    }

    /// `membrane`: false when a `FusedSpikingLayer` keeps this layer's membranes.
    init(thresholds: [Float], sampleShape: [Int], batch: Int, layout: Layout, fanout: [Float], membrane: Bool = true) {
        self.thresholds = thresholds
        self.sampleShape = sampleShape
        self.batch = batch
        perSample = sampleShape.reduce(1, *)
        self.fanout = fanout
        thresholdPerValue = layout.thresholdPerValue
        zeroReset = layout.zeroReset
        burst = layout.burst
        lowerPerValue = layout.lowerPerValue
        upperPerValue = layout.upperPerValue
        self.membrane = membrane ? Self.repeated(layout.initialSample, batch) : []
    }

    /// `sample` repeated `count` times, by block copies.
    static func repeated(_ sample: [Float], _ count: Int) -> [Float] {
        [Float](writingAll: sample.count * count) { buffer in
            sample.withUnsafeBufferPointer { s in
                for n in 0..<count { (buffer.baseAddress! + n * s.count).initialize(from: s.baseAddress!, count: s.count) }
            }
        }
    }

    /// The outputs of one chunk: the float map when `emitsFloats` (or diagnostics need
    /// it), the packed spikes when `emitsPatterns`.
    struct Output {
        var floats: Tensor?
        var patterns: SpikePatterns?
    }

    /// `current`: [steps * batch, sample...] in time-major blocks. `bypass`, when given, is
    /// a second current of the same shape added to the first (a residual Add folded into
    /// the neuron, so the sum is never stored).
    ///
    /// Work items are independent pieces of samples (with patterns: the planes of eight
    /// channels that make one byte), split across cores; each keeps its own counts and the
    /// totals are summed in item order (deterministic). Item `n * pieces + k` owns values
    /// [k * span, min((k + 1) * span, perSample)) of sample n: the same offsets in the
    /// membrane (one sample after another) and, at each step t, in the currents and float
    /// outputs (sample block t * batch + n); with patterns, its pixels' bytes of group k
    /// at image (t * batch + n). Counts go to [step][item] and gaps to [checkpoint][item].
    /// `constant`: `current` holds one step ([batch, ...]), the same at every step (a
    /// neuron layer fed by the part of the network that sees only the image), so it is
    /// read in place rather than repeated `steps` times.
    func step(_ current: Tensor, adding bypass: Tensor? = nil, steps: Int, constant: Bool = false) -> Output {
        let perSample = self.perSample, batch = self.batch
        let shape = constant ? [steps * current.shape[0]] + current.shape.dropFirst() : current.shape
        let packs = emitsPatterns && sampleShape.count == 3 && burst == 1
        let floats = emitsFloats || !packs
        let channels = sampleShape.first ?? 1, inner = perSample / max(channels, 1)
        // Items: pieces of `Self.piece` values, or with patterns groups of eight channels.
        let span = packs ? 8 * inner : Self.piece
        let pieces = (perSample + span - 1) / span
        let items = batch * pieces
        // Every output value is written by `integrate`, so no zero-fill pass.
        var output = floats ? Tensor(shape: shape) { _ in } : Tensor(shape: [0], storage: [])
        var patterns = packs ? SpikePatterns(shape: [shape[0]] + sampleShape, amplitudes: thresholds) { _ in } : nil
        var spikeCounts = [Double](repeating: 0, count: steps * items)
        var opCounts = [Double](repeating: 0, count: steps * items)
        let probing = GapProbe.Schedule(layer: self, steps: steps, items: items)
        var gaps = [Double](repeating: 0, count: max(1, probing.count * items))
        var spare = [UInt8](repeating: 0, count: 1)
        func withPatternBytes(_ body: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
            if patterns != nil { patterns!.bytes.withUnsafeMutableBufferPointer { body($0) } } else { spare.withUnsafeMutableBufferPointer { body($0) } }
        }
        current.storage.withUnsafeBufferPointer { z in
            (bypass ?? current).storage.withUnsafeBufferPointer { extra in
                output.storage.withUnsafeMutableBufferPointer { out in
                    withPatternBytes { bits in
                        membrane.withUnsafeMutableBufferPointer { v in
                            fanout.withUnsafeBufferPointer { fan in
                                withParameters { theta, lower, upper in
                                    spikeCounts.withUnsafeMutableBufferPointer { sc in
                                        opCounts.withUnsafeMutableBufferPointer { oc in
                                            GapProbe.with(self, &gaps) { probe, gp in
                                                let layer = Layer(z: z.baseAddress!, bypass: bypass == nil ? nil : extra.baseAddress!,
                                                                  out: floats ? out.baseAddress! : nil, v: v.baseAddress!, fan: fan.baseAddress!,
                                                                  theta: theta, lower: lower, upper: upper, probe: probe, zeroReset: zeroReset, burst: burst)
                                                let bp = bits.baseAddress!, scp = sc.baseAddress!, ocp = oc.baseAddress!
                                                Parallel.forEach(items, minimumPerThread: 1) { item in
                                                    let n = item / pieces, lo = (item % pieces) * span
                                                    let count = min(span, perSample - lo), state = n * perSample + lo
                                                    for t in 0..<steps {
                                                        let offset = (t * batch + n) * perSample + lo
                                                        var layer = layer
                                                        if constant { layer.zBack = t * batch * perSample }
                                                        let (spikes, ops) = packs
                                                            ? layer.integrateGroup(state: state, input: offset, channels: count / inner,
                                                                                   inner: inner, parameters: lo,
                                                                                   patterns: bp + ((t * batch + n) * pieces + item % pieces) * inner)
                                                            : layer.integrate(state: state, input: offset, parameters: lo, count: count)
                                                        scp[t * items + item] = spikes
                                                        ocp[t * items + item] = ops
                                                        if let probe, let k = probing.index(ofStep: t) {
                                                            gp[k * items + item] = probe.gap(state..<(state + count), step: probing.step(k))
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        record(spikeCounts, opCounts, gaps, checkpoints: probing.count, steps: steps, items: items)
        return Output(floats: floats ? output : nil, patterns: patterns)
    }

    /// The per-value thresholds and, for a saturating membrane, its bounds, as pointers.
    func withParameters<R>(_ body: (UnsafePointer<Float>, UnsafePointer<Float>?, UnsafePointer<Float>?) -> R) -> R {
        thresholdPerValue.withUnsafeBufferPointer { theta in
            guard let lowerPerValue, let upperPerValue else { return body(theta.baseAddress!, nil, nil) }
            return lowerPerValue.withUnsafeBufferPointer { l in upperPerValue.withUnsafeBufferPointer { u in body(theta.baseAddress!, l.baseAddress!, u.baseAddress!) } }
        }
    }

    /// Fraction of neurons that fired over the last `steps` steps (the density a
    /// convolution reading this layer sees).
    func density(ofLast steps: Int) -> Double {
        let spikes = spikesPerStep.suffix(steps).reduce(0, +)
        return spikes / Double(max(1, perSample * batch * steps))
    }

    /// Appends one chunk's counts and checkpoint gaps, summed over work items in item
    /// order ([step or checkpoint][item] arrays), so the totals do not depend on threads.
    func record(_ spikeCounts: [Double], _ opCounts: [Double], _ gaps: [Double], checkpoints: Int, steps: Int, items: Int) {
        for t in 0..<steps {
            var spikes = 0.0, ops = 0.0
            for i in 0..<items { spikes += spikeCounts[t * items + i]; ops += opCounts[t * items + i] }
            spikesPerStep.append(spikes)
            opsPerStep.append(ops)
        }
        for k in 0..<checkpoints {
            var gap = 0.0
            for i in 0..<items { gap += gaps[k * items + i] }
            gapNumerators.append(gap)
        }
    }
}
