/// Transposed 2-D convolution (NCHW, ONNX semantics), the adjoint of `Convolution`.
///
/// Computed as a GEMM followed by col2im: columns[(co, ki, kj)][pixel] =
/// sum_ci W[ci][co][ki][kj] * x[ci][pixel], then every column entry is added into the
/// output position it maps to. Output pixels receive contributions from several input
/// pixels; the scatter runs in a fixed order per output channel, so it is deterministic.
public final class TransposedConvolution: Sendable {
    /// Input channels (ONNX weight axis 0).
    public let inputChannels: Int
    /// Output channels (weight axis 1 times the groups).
    public let outputChannels: Int
    /// Channel groups, each an independent transposed convolution.
    public let groups: Int
    /// Kernel, stride, dilation and the padding removed from the full output.
    public let window: WindowGeometry
    /// Extra rows and columns added at the bottom and right of the output (ONNX output_padding).
    public let outputPadding: (h: Int, w: Int)
    /// Explicit output size (ONNX output_shape), overriding the computed one.
    public let explicitOutputSize: (h: Int, w: Int)?
    let packedWeights: [PackedLHS]
    let bias: [Float]

    /// - Parameter weights: ONNX layout [inputChannels, outputChannels / groups, kernelH, kernelW].
    public init(weights: [Float], bias: [Float]?, inputChannels: Int, outputChannels: Int, groups: Int,
                window: WindowGeometry, outputPadding: (Int, Int), explicitOutputSize: (Int, Int)?) {
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.window = window
        self.outputPadding = (outputPadding.0, outputPadding.1)
        self.explicitOutputSize = explicitOutputSize.map { (h: $0.0, w: $0.1) }
        self.bias = bias ?? [Float](repeating: 0, count: outputChannels)
        let cinG = inputChannels / groups
        let rows = (outputChannels / groups) * window.kernel.h * window.kernel.w
        // A[(co, ki, kj)][ci] = W[g*cinG + ci][co][ki][kj]
        packedWeights = weights.withUnsafeBufferPointer { w in
            (0..<groups).map { g in
                PackedLHS(rows: rows, depth: cinG, source: w.baseAddress! + g * cinG * rows,
                          rowStride: 1, depthStride: rows)
            }
        }
    }

    /// [N, outputChannels, H_out, W_out] with H_out = stride * (H - 1) + output_padding + dilation *
    /// (kernel - 1) + 1 - pads, unless the output size is explicit.
    public func outputShape(inputShape s: [Int]) -> [Int] {
        if let size = explicitOutputSize { return [s[0], outputChannels, size.h, size.w] }
        let h = window.stride.h * (s[2] - 1) + outputPadding.h + (window.kernel.h - 1) * window.dilation.h + 1
            - window.padTop - window.padBottom
        let w = window.stride.w * (s[3] - 1) + outputPadding.w + (window.kernel.w - 1) * window.dilation.w + 1
            - window.padLeft - window.padRight
        return [s[0], outputChannels, h, w]
    }

    /// Runs the transposed convolution on an NCHW input.
    public func forward(_ input: Tensor) -> Tensor {
        let outShape = outputShape(inputShape: input.shape)
        let (batch, inH, inW) = (input.shape[0], input.shape[2], input.shape[3])
        let (outH, outW) = (outShape[2], outShape[3])
        let pixels = inH * inW
        let cinG = inputChannels / groups, coutG = outputChannels / groups
        let (kh, kw) = window.kernel
        let rows = coutG * kh * kw
        var columns = [Float](repeating: 0, count: rows * pixels)
        var output = Tensor(zeros: outShape)
        input.storage.withUnsafeBufferPointer { x in
            for n in 0..<batch {
                for g in 0..<groups {
                    let image = x.baseAddress! + (n * inputChannels + g * cinG) * pixels
                    let rhs = PackedRHS(depth: cinG, columns: pixels, source: image, depthStride: pixels, columnStride: 1)
                    columns.withUnsafeMutableBufferPointer { c in
                        GEMM.multiply(lhs: packedWeights[g], rhs: rhs, c: c.baseAddress!, ldc: pixels)
                    }
                    columns.withUnsafeBufferPointer { c in
                        output.storage.withUnsafeMutableBufferPointer { y in
                            let cBase = c.baseAddress!, yBase = y.baseAddress!
                            Parallel.forEach(coutG) { co in
                                let plane = yBase + (n * outputChannels + g * coutG + co) * outH * outW
                                for ki in 0..<kh {
                                    for kj in 0..<kw {
                                        let row = cBase + ((co * kh + ki) * kw + kj) * pixels
                                        for ih in 0..<inH {
                                            let oh = ih * window.stride.h - window.padTop + ki * window.dilation.h
                                            if oh < 0 || oh >= outH { continue }
                                            for iw in 0..<inW {
                                                let ow = iw * window.stride.w - window.padLeft + kj * window.dilation.w
                                                if ow < 0 || ow >= outW { continue }
                                                plane[oh * outW + ow] += row[ih * inW + iw]
                                            }
                                        }
                                    }
                                }
                                let b = bias[g * coutG + co]
                                if b != 0 { for i in 0..<(outH * outW) { plane[i] += b } }
                            }
                        }
                    }
                }
            }
        }
        return output
    }
}
