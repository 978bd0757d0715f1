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
    let perSample: Int
    var membrane: [Float]
    /// Spikes per step (summed over the batch) and synaptic operations per step.
    var spikesPerStep: [Double] = []
    var opsPerStep: [Double] = []
    let fanout: [Float]
    /// Diagnostics: the clip-ANN's activation of this layer for the batch; when set, the
    /// layer keeps the sum of its outputs and measures its distance to it at checkpoints.
    var reference: Tensor?
    var outputSum: [Float] = []
    /// At each checkpoint T: sum |mean output over 1...T - clip activation|.
    var gapNumerators: [Double] = []
    var checkpoints: Set<Int> = []

    /// Values per piece of a sample handed to one worker: whole samples split this finely
    /// keep both cores busy at batch 1, and a piece's membrane stays in L1 across steps.
    static let piece = 2048

    init(thresholds: [Float], sampleShape: [Int], batch: Int, initialPotential: Float, fanout: [Float]) {
        self.thresholds = thresholds
        let channels = sampleShape.first ?? 1
        let inner = sampleShape.dropFirst().reduce(1, *)
        perSample = sampleShape.reduce(1, *)
        self.fanout = fanout
        thresholdPerValue = (0..<perSample).map { thresholds[thresholds.count == 1 ? 0 : min($0 / max(inner, 1), channels - 1)] }
        membrane = [Float](repeating: 0, count: batch * perSample)
        for n in 0..<batch {
            for i in 0..<perSample { membrane[n * perSample + i] = initialPotential * thresholdPerValue[i] }
        }
    }

    /// `current`: [steps * batch, sample...] in time-major blocks; returns the spike
    /// outputs. `bypass`, when given, is a second current of the same shape added to the
    /// first (a residual Add folded into the neuron, so the sum is never stored).
    /// Pieces of samples are independent, so they are split across cores; each keeps its
    /// own counts and the totals are summed in piece order (deterministic).
    func step(_ current: Tensor, adding bypass: Tensor? = nil, steps: Int) -> Tensor {
        let perSample = self.perSample
        let batch = membrane.count / max(perSample, 1)
        let pieces = (perSample + Self.piece - 1) / Self.piece
        let items = batch * pieces
        // Every output value is written by `integrate`, so no zero-fill pass.
        var output = Tensor(shape: current.shape) { _ in }
        var spikeCounts = [Double](repeating: 0, count: steps * items)
        var opCounts = [Double](repeating: 0, count: steps * items)
        current.storage.withUnsafeBufferPointer { z in
            (bypass ?? current).storage.withUnsafeBufferPointer { extra in
                output.storage.withUnsafeMutableBufferPointer { out in
                    membrane.withUnsafeMutableBufferPointer { v in
                        fanout.withUnsafeBufferPointer { fan in
                            thresholdPerValue.withUnsafeBufferPointer { theta in
                                spikeCounts.withUnsafeMutableBufferPointer { sc in
                                    opCounts.withUnsafeMutableBufferPointer { oc in
                                        let zp = z.baseAddress!, xp = bypass == nil ? nil : extra.baseAddress!
                                        let op = out.baseAddress!, vp = v.baseAddress!, fp = fan.baseAddress!, tp = theta.baseAddress!
                                        let scp = sc.baseAddress!, ocp = oc.baseAddress!
                                        Parallel.forEach(items, minimumPerThread: 1) { item in
                                            let n = item / pieces, lo = (item % pieces) * Self.piece
                                            let count = min(Self.piece, perSample - lo)
                                            let state = vp + n * perSample + lo
                                            for t in 0..<steps {
                                                let offset = (t * batch + n) * perSample + lo
                                                let (spikes, ops) = IFLayerState.integrate(state, zp + offset, xp.map { $0 + offset }, op + offset,
                                                                                           fp + lo, tp + lo, count)
                                                scp[t * items + item] = spikes
                                                ocp[t * items + item] = ops
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
        for t in 0..<steps {
            var spikes = 0.0, ops = 0.0
            for i in 0..<items { spikes += spikeCounts[t * items + i]; ops += opCounts[t * items + i] }
            spikesPerStep.append(spikes)
            opsPerStep.append(ops)
        }
        if let reference { accumulateGap(output, steps: steps, reference: reference) }
        return output
    }

    private func accumulateGap(_ output: Tensor, steps: Int, reference: Tensor) {
        let block = membrane.count
        if outputSum.isEmpty { outputSum = [Float](repeating: 0, count: block) }
        let done = spikesPerStep.count - steps
        output.storage.withUnsafeBufferPointer { o in
            for t in 0..<steps {
                for i in 0..<block { outputSum[i] += o[t * block + i] }
                let now = done + t + 1
                if checkpoints.contains(now) {
                    var gap = 0.0
                    let scale = 1 / Float(now)
                    for i in 0..<block { gap += Double(abs(outputSum[i] * scale - reference.storage[i])) }
                    gapNumerators.append(gap)
                }
            }
        }
    }

    /// One step of `count` consecutive neurons, 16 at a time: v += I (+ the bypass
    /// current, summed first as the Add it replaces would); fire where v > theta.
    @inline(__always)
    static func integrate(_ v: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ bypass: UnsafePointer<Float>?,
                          _ out: UnsafeMutablePointer<Float>, _ fan: UnsafePointer<Float>, _ theta: UnsafePointer<Float>,
                          _ count: Int) -> (Double, Double) {
        var spikes = 0, i = 0
        var weighted = SIMD16<Float>()
        var fired = SIMD16<Int32>()
        let zero = SIMD16<Float>(), one = SIMD16<Int32>(repeating: 1)
        func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        while i + 16 <= count {
            let input = bypass.map { load(z + i) + load($0 + i) } ?? load(z + i)
            let potential = load(v + i) + input
            let th = load(theta + i)
            let fire = potential .> th
            let spike = zero.replacing(with: th, where: fire)
            UnsafeMutableRawPointer(v + i).storeBytes(of: potential - spike, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: spike, as: SIMD16<Float>.self)
            weighted += zero.replacing(with: load(fan + i), where: fire)
            fired &+= SIMD16<Int32>().replacing(with: one, where: fire)
            i += 16
        }
        spikes = Int(fired.wrappedSum())
        var tail: Float = 0
        while i < count {
            let potential = v[i] + (bypass.map { z[i] + $0[i] } ?? z[i])
            if potential > theta[i] {
                v[i] = potential - theta[i]
                out[i] = theta[i]
                spikes += 1
                tail += fan[i]
            } else {
                v[i] = potential
                out[i] = 0
            }
            i += 1
        }
        return (Double(spikes), Double(weighted.sum() + tail))
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
