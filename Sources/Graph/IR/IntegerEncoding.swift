/// How a float constant is stored as integers: value = integer x scale, one scale per slice
/// along `axis` (or one for the whole tensor).
///
/// A quantized SNN keeps its weights in the graph as the exact floats integer x 2^-k, so
/// every executor runs them unchanged; this record says which integers they are, so the
/// ONNX writer can store the integer tensor and its scales (DequantizeLinear) and a reader
/// can recover the integers exactly.
public struct IntegerEncoding: Sendable, Equatable {
    /// The axis the scales run along (0: Conv's output channels).
    public var axis: Int
    /// One scale per slice along `axis`, or a single scale.
    public var scales: [Float]
    /// Bits of the stored integers: 8 (weights) or 32 (biases).
    public var storageBits: Int

    /// An encoding with `scales` along `axis`, stored in `storageBits`-bit integers.
    public init(axis: Int, scales: [Float], storageBits: Int) {
        self.axis = axis
        self.scales = scales
        self.storageBits = storageBits
    }

    /// The scale of flat element `index` of a tensor of `shape`.
    public func scale(at index: Int, shape: [Int]) -> Float {
        guard scales.count > 1, axis < shape.count else { return scales[0] }
        let inner = shape.dropFirst(axis + 1).reduce(1, *)
        return scales[(index / max(inner, 1)) % shape[axis]]
    }

    /// The integers of `tensor` under this encoding; nil when an element is not one: when
    /// no integer q within `storageBits` gives back exactly its float as Float(q) x scale
    /// (the product a reader computes, exact for SNNKit's power-of-two scales and the one
    /// rounding of any other scale's).
    public func integers(of values: [Float], shape: [Int]) -> [Int32]? {
        let limit = storageBits >= 32 ? Double(Int32.max) : Double((1 << (storageBits - 1)) - 1)
        var out = [Int32]()
        out.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            let scale = scale(at: i, shape: shape)
            let q = (Double(v) / Double(scale)).rounded()
            guard abs(q) <= limit, Float(q) * scale == v else { return nil }
            out.append(Int32(q))
        }
        return out
    }
}
