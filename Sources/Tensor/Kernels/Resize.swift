import Foundation

/// Spatial resizing of NCHW tensors (ONNX Resize / Upsample on the last two axes).
public enum Resize {
    /// Nearest-neighbour or (bi)linear interpolation.
    public enum Mode: String, Sendable { case nearest, linear }

    /// How an output coordinate maps back to an input coordinate (ONNX
    /// coordinate_transformation_mode).
    public enum CoordinateMapping: String, Sendable {
        /// x_in = (x_out + 0.5) / scale - 0.5.
        case halfPixel = "half_pixel"
        /// As half_pixel, except an output axis of length 1 maps to 0.
        case pytorchHalfPixel = "pytorch_half_pixel"
        /// x_in = x_out * (in - 1) / (out - 1): the corner pixels line up.
        case alignCorners = "align_corners"
        /// x_in = x_out / scale.
        case asymmetric = "asymmetric"
        /// x_in = (x_out + 0.5) / scale (TensorFlow's nearest-neighbour convention).
        case tfHalfPixelForNN = "tf_half_pixel_for_nn"
        /// half_pixel shifted so input and output centres coincide when the output size was rounded (opset
        /// 18).
        case halfPixelSymmetric = "half_pixel_symmetric"
    }

    /// Rounding of the mapped coordinate for nearest mode (ONNX nearest_mode).
    public enum NearestRounding: String, Sendable {
        /// Rounds to nearest, halves down.
        case roundPreferFloor = "round_prefer_floor"
        /// Rounds to nearest, halves up.
        case roundPreferCeil = "round_prefer_ceil"
        /// Always down, or always up.
        case floor, ceil
    }

    /// Everything that decides how a resize samples its input.
    public struct Options: Sendable {
        /// Nearest or linear.
        public var mode: Mode
        /// Output-to-input coordinate mapping.
        public var mapping: CoordinateMapping
        /// Rounding of the mapped coordinate (nearest mode only).
        public var rounding: NearestRounding
        /// Options as the ONNX attributes give them.
        public init(mode: Mode, mapping: CoordinateMapping, rounding: NearestRounding) {
            self.mode = mode
            self.mapping = mapping
            self.rounding = rounding
        }
    }

    static func sourceCoordinate(_ out: Int, inSize: Int, outSize: Int, scale: Double, mapping: CoordinateMapping) -> Double {
        let x = Double(out)
        switch mapping {
        case .halfPixel: return (x + 0.5) / scale - 0.5
        case .pytorchHalfPixel: return outSize > 1 ? (x + 0.5) / scale - 0.5 : 0
        case .alignCorners: return outSize > 1 ? x * Double(inSize - 1) / Double(outSize - 1) : 0
        case .asymmetric: return x / scale
        case .tfHalfPixelForNN: return (x + 0.5) / scale
        case .halfPixelSymmetric:
            let adjustment = Double(outSize) / (scale * Double(inSize))
            let center = Double(inSize) / 2
            let offset = center * (1 - adjustment)
            return offset + (x + 0.5) / scale - 0.5
        }
    }

    static func round(_ v: Double, _ r: NearestRounding) -> Int {
        switch r {
        case .floor: return Int(Foundation.floor(v))
        case .ceil: return Int(Foundation.ceil(v))
        case .roundPreferFloor:
            return v - Foundation.floor(v) == 0.5 ? Int(Foundation.floor(v)) : Int(Foundation.round(v))
        case .roundPreferCeil:
            return v - Foundation.floor(v) == 0.5 ? Int(Foundation.ceil(v)) : Int(Foundation.round(v))
        }
    }

    /// Per-axis taps: for each output index, two source indices and the weight of the second.
    static func taps(inSize: Int, outSize: Int, scale: Double, options: Options) -> [(Int, Int, Float)] {
        (0..<outSize).map { o in
            let x = sourceCoordinate(o, inSize: inSize, outSize: outSize, scale: scale, mapping: options.mapping)
            switch options.mode {
            case .nearest:
                let i = min(max(round(x, options.rounding), 0), inSize - 1)
                return (i, i, 0)
            case .linear:
                let clamped = min(max(x, 0), Double(inSize - 1))
                let i0 = Int(Foundation.floor(clamped))
                let i1 = min(i0 + 1, inSize - 1)
                return (i0, i1, Float(clamped - Double(i0)))
            }
        }
    }

    /// Resizes the last two axes to (outH, outW); `scales` are the ONNX scale factors used by
    /// the coordinate mapping (output/input when only sizes were given).
    public static func forward(_ input: Tensor, outH: Int, outW: Int, scaleH: Double, scaleW: Double,
                               options: Options) -> Tensor {
        let rank = input.rank
        let (inH, inW) = (input.shape[rank - 2], input.shape[rank - 1])
        let planes = input.count / max(inH * inW, 1)
        let rowsTaps = taps(inSize: inH, outSize: outH, scale: scaleH, options: options)
        let colsTaps = taps(inSize: inW, outSize: outW, scale: scaleW, options: options)
        var outShape = input.shape
        outShape[rank - 2] = outH
        outShape[rank - 1] = outW
        return Tensor(shape: outShape) { out in
            input.storage.withUnsafeBufferPointer { x in
                let xBase = x.baseAddress!, yBase = out.baseAddress!
                Parallel.forEach(planes, minimumPerThread: 4) { p in
                    let src = xBase + p * inH * inW
                    let dst = yBase + p * outH * outW
                    for (oh, (h0, h1, fh)) in rowsTaps.enumerated() {
                        for (ow, (w0, w1, fw)) in colsTaps.enumerated() {
                            let top = src[h0 * inW + w0] * (1 - fw) + src[h0 * inW + w1] * fw
                            let bottom = src[h1 * inW + w0] * (1 - fw) + src[h1 * inW + w1] * fw
                            dst[oh * outW + ow] = top * (1 - fh) + bottom * fh
                        }
                    }
                }
            }
        }
    }
}
