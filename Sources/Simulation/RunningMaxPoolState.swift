import SNNTensor
import SNNSpikeKernels

/// Max pooling on the running sum of input currents (docs/method.md, "What each operator
/// becomes"):
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
