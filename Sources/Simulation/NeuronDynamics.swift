import SNNSpikeKernels
import SNNAMX
import SNNTensor

/// The integrate-and-fire layer of shared/method.md, section 1, over a chunk of steps:
///
///     v(t-) = v(t-1) + I(t);  s(t) = v(t-) > theta;  v(t) = v(t-) - theta * s(t);  out(t) = theta * s(t)
///
/// with v(0) = ratio * theta, strict comparison, reset by subtraction and spikes carrying
/// the threshold as amplitude. The membrane persists across chunks.
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
        let zeroReset: Bool

        init(thresholds: [Float], sampleShape: [Int], initialPotential: Float, reset: ResetMode = .subtract) {
            zeroReset = reset == .zero
            let channels = sampleShape.first ?? 1, perSample = sampleShape.reduce(1, *)
            let inner = perSample / max(channels, 1)
            thresholdPerValue = (0..<perSample).map { thresholds[thresholds.count == 1 ? 0 : min($0 / max(inner, 1), channels - 1)] }
            initialSample = thresholdPerValue.map { initialPotential * $0 }
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
        self.membrane = membrane ? Self.repeated(layout.initialSample, batch) : []
    }

    /// `sample` repeated `count` times, by block copies.
    static func repeated(_ sample: [Float], _ count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: sample.count * count) { buffer, initialized in
            sample.withUnsafeBufferPointer { s in
                for n in 0..<count { (buffer.baseAddress! + n * s.count).initialize(from: s.baseAddress!, count: s.count) }
            }
            initialized = sample.count * count
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
    /// totals are summed in item order (deterministic).
    /// `constant`: `current` holds one step ([batch, ...]), the same at every step (a
    /// neuron layer fed by the part of the network that sees only the image), so it is
    /// read in place rather than repeated `steps` times.
    func step(_ current: Tensor, adding bypass: Tensor? = nil, steps: Int, constant: Bool = false) -> Output {
        let perSample = self.perSample, batch = self.batch
        let shape = constant ? [steps * current.shape[0]] + current.shape.dropFirst() : current.shape
        let packs = emitsPatterns && sampleShape.count == 3
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
                                thresholdPerValue.withUnsafeBufferPointer { theta in
                                    spikeCounts.withUnsafeMutableBufferPointer { sc in
                                        opCounts.withUnsafeMutableBufferPointer { oc in
                                            GapProbe.with(self, &gaps) { probe, gp in
                                                let layer = Layer(z: z.baseAddress!, bypass: bypass == nil ? nil : extra.baseAddress!,
                                                                  out: floats ? out.baseAddress! : nil, v: v.baseAddress!, fan: fan.baseAddress!,
                                                                  theta: theta.baseAddress!, probe: probe, zeroReset: zeroReset)
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

    /// The buffers of one chunk. Offsets: `state` into the membrane, `input` into the
    /// currents and outputs, `parameters` into the per-value thresholds and fan-outs.
    struct Layer {
        /// The input current, read at an output's offset minus `zBack` (nonzero for a
        /// constant input, stored once for all steps).
        let z: UnsafePointer<Float>
        var zBack = 0
        let bypass: UnsafePointer<Float>?
        let out: UnsafeMutablePointer<Float>?
        let v: UnsafeMutablePointer<Float>
        let fan: UnsafePointer<Float>
        let theta: UnsafePointer<Float>
        let probe: GapProbe?
        var zeroReset = false

        /// One step of `count` consecutive neurons; returns (spikes, synaptic operations).
        @inline(__always)
        func integrate(state: Int, input: Int, parameters: Int, count: Int) -> (Double, Double) {
            var lanes = Lanes()
            var i = 0
            while i + 16 <= count {
                _ = lanes.step16(self, state + i, input + i, parameters + i)
                i += 16
            }
            while i < count {
                _ = lanes.step1(self, state + i, input + i, parameters + i)
                i += 1
            }
            return lanes.totals
        }

        /// One step of `channels` (at most 8) consecutive planes of `inner` neurons, also
        /// writing each pixel's byte of spike bits.
        @inline(__always)
        func integrateGroup(state: Int, input: Int, channels: Int, inner: Int, parameters: Int,
                            patterns: UnsafeMutablePointer<UInt8>) -> (Double, Double) {
            var lanes = Lanes()
            if inner < 16 {
                // Planes smaller than a vector: run the group's values as one contiguous
                // range and send each fired lane's bit to its pixel.
                let count = channels * inner
                let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                patterns.initialize(repeating: 0, count: inner)
                var i = 0
                while i < count {
                    if i + 16 <= count {
                        var fired = UInt32(SIMD16<Int32>().replacing(with: SIMD16(repeating: 1) &<< lane,
                                                                     where: lanes.step16(self, state + i, input + i, parameters + i)).wrappedSum())
                        while fired != 0 {
                            let k = i + fired.trailingZeroBitCount
                            patterns[k % inner] |= 1 << UInt8(k / inner)
                            fired &= fired - 1
                        }
                        i += 16
                    } else {
                        if lanes.step1(self, state + i, input + i, parameters + i) { patterns[i % inner] |= 1 << UInt8(i / inner) }
                        i += 1
                    }
                }
                return lanes.totals
            }
            // Whole runs of 16 pixels in C on the compares' masks (`snn_fire_planes`).
            var p = inner / 16 * 16
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { weighted in
                let w = weighted.baseAddress!
                w.initialize(repeating: 0, count: 16)
                var group = snn_fire_planes_args(
                    channels: Int32(channels), inner: inner, z: z + (input &- zBack), bypass: bypass.map { $0 + input },
                    out: out.map { $0 + input }, v: v + state, probe: probe.map { $0.sums + state }, theta: theta + parameters,
                    fanout: fan + parameters, patterns: patterns, weighted: w, zero_reset: zeroReset ? 1 : 0)
                lanes.spikes += snn_fire_planes(&group)
                lanes.weighted = UnsafeRawPointer(w).loadUnaligned(as: SIMD16<Float>.self)
            }
            while p < inner {
                var bits: UInt8 = 0
                for j in 0..<channels where lanes.step1(self, state + j * inner + p, input + j * inner + p, parameters + j * inner + p) {
                    bits |= 1 << UInt8(j)
                }
                patterns[p] = bits
                p += 1
            }
            return lanes.totals
        }
    }

    /// The neuron update, 16 or 1 at a time, with the running spike and operation counts:
    /// v += I (+ the bypass current, summed first as the Add it replaces would); fire where
    /// v > theta; subtract theta where fired.
    struct Lanes {
        var weighted = SIMD16<Float>()
        var fired = SIMD16<Int32>()
        var spikes = 0
        var tail: Float = 0

        var totals: (Double, Double) { (Double(Int(fired.wrappedSum()) + spikes), Double(weighted.sum() + tail)) }

        /// The neuron update on 16 lanes, in place at `v`, counting what fired: returns the
        /// spikes (theta or 0) and which lanes fired. (`FusedSpikingLayer` runs the same
        /// equations in C on the compare's mask, `snn_fire_rows`.)
        @inline(__always)
        mutating func fire16(_ v: UnsafeMutablePointer<Float>, input: SIMD16<Float>, theta: SIMD16<Float>,
                             fanout: UnsafePointer<Float>, zeroReset: Bool = false) -> (spike: SIMD16<Float>, fire: SIMDMask<SIMD16<Int32>>) {
            let potential = UnsafeRawPointer(v).loadUnaligned(as: SIMD16<Float>.self) + input
            let fire = potential .> theta
            let spike = SIMD16<Float>().replacing(with: theta, where: fire)
            UnsafeMutableRawPointer(v).storeBytes(of: zeroReset ? potential.replacing(with: 0, where: fire) : potential - spike, as: SIMD16<Float>.self)
            weighted += SIMD16<Float>().replacing(with: UnsafeRawPointer(fanout).loadUnaligned(as: SIMD16<Float>.self), where: fire)
            fired &+= SIMD16<Int32>().replacing(with: 1, where: fire)
            return (spike, fire)
        }

        @inline(__always)
        mutating func step16(_ l: Layer, _ s: Int, _ x: Int, _ q: Int) -> SIMDMask<SIMD16<Int32>> {
            func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
            let input = l.bypass.map { load(l.z + (x &- l.zBack)) + load($0 + x) } ?? load(l.z + (x &- l.zBack))
            let (spike, fire) = fire16(l.v + s, input: input, theta: load(l.theta + q), fanout: l.fan + q, zeroReset: l.zeroReset)
            if let out = l.out { UnsafeMutableRawPointer(out + x).storeBytes(of: spike, as: SIMD16<Float>.self) }
            l.probe?.add(spike, at: s)
            return fire
        }

        @inline(__always)
        mutating func step1(_ l: Layer, _ s: Int, _ x: Int, _ q: Int) -> Bool {
            let potential = l.v[s] + (l.bypass.map { l.z[x &- l.zBack] + $0[x] } ?? l.z[x &- l.zBack])
            let fire = potential > l.theta[q]
            l.v[s] = fire ? (l.zeroReset ? 0 : potential - l.theta[q]) : potential
            l.out?[x] = fire ? l.theta[q] : 0
            if fire { spikes += 1; tail += l.fan[q]; l.probe?.sums[s] += l.theta[q] }
            return fire
        }
    }
}

/// Max pooling on the running sum of input currents (shared/method.md, section 3):
/// with C_i(t) = sum_{tau <= t} I_i(tau) and P(t) = max_i C_i(t) over each window, the
/// layer emits P(t) - P(t-1). Summed over steps this telescopes to max_i C_i(T): exactly the
/// max of the integrated currents, so the next neuron's rate converges to the clip-ANN.
///
/// One channel plane at a time through every step of the chunk: its running sums and last
/// pooled values stay in L1 while the steps' currents stream past, so the layer reads its
/// input and writes its output once.
final class RunningMaxPoolState {
    let window: WindowGeometry
    let channels: Int, height: Int, width: Int
    let outHeight: Int, outWidth: Int
    /// C(t) per input value and P(t) per output value, for the whole batch.
    var cumulative: [Float]
    var previous: [Float]

    init(inputSampleShape: [Int], batch: Int, window: WindowGeometry, ceilMode: Bool) {
        self.window = window
        (channels, height, width) = (inputSampleShape[0], inputSampleShape[1], inputSampleShape[2])
        outHeight = window.outputHeight(height, ceil: ceilMode)
        outWidth = window.outputWidth(width, ceil: ceilMode)
        cumulative = [Float](repeating: 0, count: batch * channels * height * width)
        previous = [Float](repeating: 0, count: batch * channels * outHeight * outWidth)
    }

    /// `current`: [steps * batch, C, H, W] in time-major blocks; returns the increments.
    func step(_ current: Tensor, steps: Int) -> Tensor {
        let plane = height * width, outPlane = outHeight * outWidth
        let planes = cumulative.count / max(plane, 1)
        let (h, w, oh, ow, window) = (height, width, outHeight, outWidth, self.window)
        return Tensor(shape: [current.shape[0], channels, outHeight, outWidth]) { out in
            current.storage.withUnsafeBufferPointer { z in
                cumulative.withUnsafeMutableBufferPointer { c in
                    previous.withUnsafeMutableBufferPointer { before in
                        let zp = z.baseAddress!, op = out.baseAddress!, cp = c.baseAddress!, bp = before.baseAddress!
                        Parallel.forEach(planes, minimumPerThread: 4) { p in
                            let sums = cp + p * plane, last = bp + p * outPlane
                            withUnsafeTemporaryAllocation(of: Float.self, capacity: outPlane) { pooled in
                                let pooled = pooled.baseAddress!
                                for t in 0..<steps {
                                    let zt = zp + (t * planes + p) * plane
                                    for i in 0..<plane { sums[i] += zt[i] }
                                    Pooling.poolPlane(sums, into: pooled, inH: h, inW: w, outH: oh, outW: ow, kind: .max, window: window)
                                    let ot = op + (t * planes + p) * outPlane
                                    for i in 0..<outPlane {
                                        ot[i] = pooled[i] - last[i]
                                        last[i] = pooled[i]
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
