import SNNTensor

/// The integrate-and-fire layer of shared/method.md, section 1, over a chunk of steps:
///
///     v(t-) = v(t-1) + I(t);  s(t) = v(t-) > theta;  v(t) = v(t-) - theta * s(t);  out(t) = theta * s(t)
///
/// with v(0) = ratio * theta, strict comparison, reset by subtraction and spikes carrying
/// the threshold as amplitude. The membrane persists across chunks.
final class IFLayerState {
    let thresholds: [Float]
    let channels: Int
    /// Values per channel plane within one sample.
    let inner: Int
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

    init(thresholds: [Float], sampleShape: [Int], batch: Int, initialPotential: Float, fanout: [Float]) {
        self.thresholds = thresholds
        channels = sampleShape.first ?? 1
        inner = sampleShape.dropFirst().reduce(1, *)
        perSample = sampleShape.reduce(1, *)
        self.fanout = fanout
        membrane = [Float](repeating: 0, count: batch * perSample)
        for n in 0..<batch {
            for c in 0..<channels {
                let v0 = initialPotential * thresholds[thresholds.count == 1 ? 0 : c]
                for i in 0..<inner { membrane[(n * channels + c) * inner + i] = v0 }
            }
        }
    }

    /// `current`: [steps * batch, sample...] in time-major blocks; returns the spike outputs.
    /// Planes (sample, channel) are independent, so they are split across cores; each plane
    /// keeps its own counts and the totals are summed in plane order (deterministic).
    func step(_ current: Tensor, steps: Int) -> Tensor {
        let batch = membrane.count / max(perSample, 1)
        let planes = batch * channels
        // Every output value is written by `integrate`, so no zero-fill pass.
        var output = Tensor(shape: current.shape) { _ in }
        var spikeCounts = [Double](repeating: 0, count: steps * planes)
        var opCounts = [Double](repeating: 0, count: steps * planes)
        let inner = self.inner, perSample = self.perSample, channels = self.channels
        let thresholds = self.thresholds
        current.storage.withUnsafeBufferPointer { z in
            output.storage.withUnsafeMutableBufferPointer { out in
                membrane.withUnsafeMutableBufferPointer { v in
                    fanout.withUnsafeBufferPointer { fan in
                        spikeCounts.withUnsafeMutableBufferPointer { sc in
                            opCounts.withUnsafeMutableBufferPointer { oc in
                                let zp = z.baseAddress!, op = out.baseAddress!, vp = v.baseAddress!, fp = fan.baseAddress!
                                let scp = sc.baseAddress!, ocp = oc.baseAddress!
                                Parallel.forEach(planes, minimumPerThread: 4) { plane in
                                    let n = plane / channels, c = plane % channels
                                    let theta = thresholds[thresholds.count == 1 ? 0 : c]
                                    let state = vp + n * perSample + c * inner
                                    let fanPlane = fp + c * inner
                                    for t in 0..<steps {
                                        let offset = (t * batch + n) * perSample + c * inner
                                        let (count, ops) = IFLayerState.integrate(state, zp + offset, op + offset, fanPlane, inner, theta)
                                        scp[t * planes + plane] = count
                                        ocp[t * planes + plane] = ops
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
            for p in 0..<planes { spikes += spikeCounts[t * planes + p]; ops += opCounts[t * planes + p] }
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

    /// One step of one channel plane, 16 neurons at a time: v += I; fire where v > theta.
    @inline(__always)
    static func integrate(_ v: UnsafeMutablePointer<Float>, _ z: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                          _ fan: UnsafePointer<Float>, _ count: Int, _ theta: Float) -> (Double, Double) {
        var spikes = 0, i = 0
        var weighted = SIMD16<Float>()
        var fired = SIMD16<Int32>()
        let th = SIMD16<Float>(repeating: theta)
        let zero = SIMD16<Float>(), one = SIMD16<Int32>(repeating: 1)
        while i + 16 <= count {
            let potential = UnsafeRawPointer(v + i).loadUnaligned(as: SIMD16<Float>.self) + UnsafeRawPointer(z + i).loadUnaligned(as: SIMD16<Float>.self)
            let fire = potential .> th
            let spike = zero.replacing(with: th, where: fire)
            UnsafeMutableRawPointer(v + i).storeBytes(of: potential - spike, as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(out + i).storeBytes(of: spike, as: SIMD16<Float>.self)
            weighted += zero.replacing(with: UnsafeRawPointer(fan + i).loadUnaligned(as: SIMD16<Float>.self), where: fire)
            fired &+= SIMD16<Int32>().replacing(with: one, where: fire)
            i += 16
        }
        spikes = Int(fired.wrappedSum())
        var tail: Float = 0
        while i < count {
            let potential = v[i] + z[i]
            if potential > theta {
                v[i] = potential - theta
                out[i] = theta
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
final class RunningMaxPoolState {
    let pool: (Tensor) -> Tensor
    var cumulative: [Float]
    var previous: [Float]?
    let sampleShape: [Int]

    init(inputSampleShape: [Int], batch: Int, pool: @escaping (Tensor) -> Tensor) {
        self.pool = pool
        sampleShape = inputSampleShape
        cumulative = [Float](repeating: 0, count: batch * inputSampleShape.reduce(1, *))
    }

    /// The running sums of the whole chunk are pooled in one call on [steps * batch, ...].
    func step(_ current: Tensor, steps: Int) -> Tensor {
        let block = cumulative.count
        var sums = Tensor(shape: current.shape) { _ in }  // every value is written below
        current.storage.withUnsafeBufferPointer { z in
            sums.storage.withUnsafeMutableBufferPointer { out in
                cumulative.withUnsafeMutableBufferPointer { c in
                    let zp = z.baseAddress!, op = out.baseAddress!, cp = c.baseAddress!
                    // Independent runs of 4096 sums, split across cores.
                    let piece = 4096
                    Parallel.forEach((block + piece - 1) / piece, minimumPerThread: 4) { k in
                        let lo = k * piece, hi = min(block, lo + piece)
                        for t in 0..<steps {
                            let zt = zp + t * block, ot = op + t * block
                            for i in lo..<hi {
                                cp[i] += zt[i]
                                ot[i] = cp[i]
                            }
                        }
                    }
                }
            }
        }
        var pooled = pool(sums)
        let outBlock = pooled.count / steps
        let last = Array(pooled.storage[((steps - 1) * outBlock)...])
        let previous = self.previous ?? [Float](repeating: 0, count: outBlock)
        pooled.storage.withUnsafeMutableBufferPointer { p in
            previous.withUnsafeBufferPointer { before in
                let pp = p.baseAddress!
                // Differences from the last step backwards, so each uses the unmodified P(t-1).
                for t in stride(from: steps - 1, through: 1, by: -1) {
                    let now = pp + t * outBlock, earlier = pp + (t - 1) * outBlock
                    for i in 0..<outBlock { now[i] -= earlier[i] }
                }
                for i in 0..<outBlock { pp[i] -= before[i] }
            }
        }
        self.previous = last
        return pooled
    }
}
