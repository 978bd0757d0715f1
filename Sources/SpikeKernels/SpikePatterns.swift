import SNNTensor
/// Binary spike maps packed eight channels to a byte: the compact form in which a neuron
/// layer hands its output to the convolutions that read it.
///
/// A spike of channel c carries the value `amplitudes[c]` (the neuron's threshold), so the
/// bits and the amplitudes say everything the float map would, in 1/32 of the memory.
/// Layout [image][group][H * W]: bit j of byte (image, g, pixel) is set when channel
/// 8g + j fired at that pixel, so one group's plane is contiguous like an NCHW plane.
public struct SpikePatterns: Sendable {
    /// Images (steps x batch), channels, height, width: the shape of the float map.
    public let shape: [Int]
    /// The value a spike of each channel carries (one value for all channels, or one each).
    public private(set) var amplitudes: [Float]
    /// The packed bits: per image, per group of 8 channels, one byte per pixel.
    public var bytes: [UInt8]

    /// Images (steps x batch).
    public var images: Int { shape[0] }
    /// Channels (C).
    public var channels: Int { shape[1] }
    /// Pixels per map (H x W).
    public var pixels: Int { shape[2] * shape[3] }
    /// Groups of eight channels, one byte each per pixel.
    public var groups: Int { (shape[1] + 7) / 8 }

    /// Patterns of `shape`, written once by `fill` (no zero-initialisation pass).
    public init(shape: [Int], amplitudes: [Float], unsafeUninitialized fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) {
        precondition(shape.count == 4, "spike patterns are NCHW")
        self.shape = shape
        self.amplitudes = amplitudes
        let count = shape[0] * ((shape[1] + 7) / 8) * shape[2] * shape[3]
        bytes = [UInt8](writingAll: count, fill)
    }

    /// Packs a float spike map: every non-zero value counts as a spike.
    public init(packing map: Tensor, amplitudes: [Float]) {
        let (images, channels, pixels) = (map.shape[0], map.shape[1], map.shape[2] * map.shape[3])
        let groups = (channels + 7) / 8
        self.init(shape: map.shape, amplitudes: amplitudes) { out in
            map.storage.withUnsafeBufferPointer { x in
                let xp = x.baseAddress!, op = out.baseAddress!
                Parallel.forEach(images) { n in
                    for g in 0..<groups {
                        Self.pack(xp + (n * channels + 8 * g) * pixels, channels: min(8, channels - 8 * g), pixels: pixels,
                                  into: op + (n * groups + g) * pixels)
                    }
                }
            }
        }
    }

    /// The float map (the form the dense kernels and non-convolution nodes read).
    public func unpacked() -> Tensor {
        let (channels, pixels, groups) = (self.channels, self.pixels, self.groups)
        return Tensor(shape: shape) { out in
            bytes.withUnsafeBufferPointer { b in
                for n in 0..<images {
                    for c in 0..<channels {
                        let value = amplitudes[amplitudes.count == 1 ? 0 : c], bit = UInt8(1) << UInt8(c % 8)
                        let source = b.baseAddress! + (n * groups + c / 8) * pixels, plane = out.baseAddress! + (n * channels + c) * pixels
                        for p in 0..<pixels { plane[p] = source[p] & bit != 0 ? value : 0 }
                    }
                }
            }
        }
    }

    /// One group's byte plane from up to eight float planes, 16 pixels at a time.
    @inline(__always)
    public static func pack(_ planes: UnsafePointer<Float>, channels: Int, pixels: Int, into out: UnsafeMutablePointer<UInt8>) {
        let zero = SIMD16<Float>()
        var p = 0
        while p + 16 <= pixels {
            var pattern = SIMD16<Int32>()
            for j in 0..<channels {
                pattern |= SIMD16<Int32>().replacing(with: Int32(1) << Int32(j), where: GEMM.load16(planes + j * pixels + p) .!= zero)
            }
            UnsafeMutableRawPointer(out + p).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: pattern), as: SIMD16<UInt8>.self)
            p += 16
        }
        while p < pixels {
            var pattern: UInt8 = 0
            for j in 0..<channels where planes[j * pixels + p] != 0 { pattern |= 1 << UInt8(j) }
            out[p] = pattern
            p += 1
        }
    }

    /// The same spikes, each carrying its amplitude times `factors` (one per channel, or
    /// one for all): a neuron layer's output scaled per channel, as a residual shortcut of a
    /// unit-threshold network reads it. The bytes are shared, not copied.
    public func scaled(by factors: [Float]) -> SpikePatterns {
        let n = max(amplitudes.count, factors.count)
        var copy = self
        copy.amplitudes = (0..<n).map { amplitudes[amplitudes.count == 1 ? 0 : $0] * factors[factors.count == 1 ? 0 : $0] }
        return copy
    }
}
