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
    func step(_ current: Tensor, steps: Int) -> Tensor {
        let batch = membrane.count / max(perSample, 1)
        var output = Tensor(zeros: current.shape)
        current.storage.withUnsafeBufferPointer { z in
            output.storage.withUnsafeMutableBufferPointer { out in
                membrane.withUnsafeMutableBufferPointer { v in
                    fanout.withUnsafeBufferPointer { fan in
                        for t in 0..<steps {
                            var spikes = 0.0, ops = 0.0
                            for n in 0..<batch {
                                let sample = (t * batch + n) * perSample
                                let state = n * perSample
                                for c in 0..<channels {
                                    let theta = thresholds[thresholds.count == 1 ? 0 : c]
                                    let plane = c * inner
                                    var count = 0
                                    var weighted: Float = 0
                                    for i in plane..<(plane + inner) {
                                        let potential = v[state + i] + z[sample + i]
                                        if potential > theta {
                                            v[state + i] = potential - theta
                                            out[sample + i] = theta
                                            count += 1
                                            weighted += fan[i]
                                        } else {
                                            v[state + i] = potential
                                        }
                                    }
                                    spikes += Double(count)
                                    ops += Double(weighted)
                                }
                            }
                            spikesPerStep.append(spikes)
                            opsPerStep.append(ops)
                        }
                    }
                }
            }
        }
        return output
    }
}

/// Max pooling on the running sum of input currents (shared/method.md, section 3):
/// with C_i(t) = sum_{tau <= t} I_i(tau) and P(t) = max_i C_i(t) over each window, the
/// layer emits P(t) - P(t-1). Summed over steps this telescopes to max_i C_i(T): exactly the
/// max of the integrated currents, so the next neuron's rate converges to the clip-ANN.
final class RunningMaxPoolState {
    let pool: (Tensor) -> Tensor
    var cumulative: Tensor
    var previous: Tensor?

    init(inputSampleShape: [Int], batch: Int, pool: @escaping (Tensor) -> Tensor) {
        self.pool = pool
        cumulative = Tensor(zeros: [batch] + inputSampleShape)
    }

    func step(_ current: Tensor, steps: Int) -> Tensor {
        let block = cumulative.count
        var outputs = [Tensor]()
        for t in 0..<steps {
            cumulative.storage.withUnsafeMutableBufferPointer { c in
                current.storage.withUnsafeBufferPointer { z in
                    for i in 0..<block { c[i] += z[t * block + i] }
                }
            }
            let pooled = pool(cumulative)
            if let previous {
                outputs.append(Tensor(shape: pooled.shape, storage: zip(pooled.storage, previous.storage).map { $0 - $1 }))
            } else {
                outputs.append(pooled)
            }
            previous = pooled
        }
        var shape = outputs[0].shape
        shape[0] *= steps
        return Tensor(shape: shape, storage: outputs.flatMap(\.storage))
    }
}
