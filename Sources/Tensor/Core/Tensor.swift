import Foundation

/// A dense float32 tensor in row-major order with ONNX (NCHW) axis semantics.
///
/// SNNKit keeps one layout for the ANN path: the ONNX one. Kernels that prefer another
/// order (the GEMM's packed panels, the simulator's channels-last spike maps) repack
/// inside the kernel, so every graph operator keeps its textbook meaning.
public struct Tensor: Sendable, Equatable {
    /// Dimensions, outermost first (NCHW for images).
    public private(set) var shape: [Int]
    /// The values in row-major order: the last axis varies fastest.
    public var storage: [Float]

    /// A tensor of `shape` over `storage`, which must hold exactly the product of the dimensions.
    public init(shape: [Int], storage: [Float]) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not hold \(storage.count) values")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor of `shape` filled with zeros.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// A tensor of `shape` with every element `value`.
    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        self.storage = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor whose storage is written once by `fill` (no zero-initialisation pass).
    public init(shape: [Int], unsafeUninitialized fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.storage = try [Float](writingAll: count, fill)
    }

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of axes.
    public var rank: Int { shape.count }

    /// Same values, new shape of the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }

    /// Gives the same values a new shape of the same element count.
    public mutating func reshape(_ newShape: [Int]) {
        precondition(newShape.reduce(1, *) == storage.count)
        shape = newShape
    }

    /// The element at row-major position `index`.
    public subscript(flat index: Int) -> Float {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// Samples `range` of a batch-first tensor (a contiguous block of its storage).
    public func samples(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0], "samples \(range) of shape \(shape)")
        if range == 0..<shape[0] { return self }
        let size = count / max(shape[0], 1)
        return Tensor(shape: [range.count] + shape.dropFirst(), storage: Array(storage[(range.lowerBound * size)..<(range.upperBound * size)]))
    }

    /// Batch-first tensors of the same sample shape, one after the other along axis 0.
    public init(concatenatingSamples parts: [Tensor]) {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.shape.dropFirst() == parts[0].shape.dropFirst() },
                     "samples of different shapes: \(parts.map(\.shape))")
        if parts.count == 1 { self = parts[0]; return }
        var storage = [Float]()
        storage.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for part in parts { storage.append(contentsOf: part.storage) }
        self.init(shape: [parts.reduce(0) { $0 + $1.shape[0] }] + parts[0].shape.dropFirst(), storage: storage)
    }

    /// The first value that is NaN or infinite, as its index along every axis, or nil when
    /// all are finite. Such a value in an input or a weight turns every output it reaches
    /// into NaN, which the metrics would then count silently as wrong answers.
    public func firstNonFinite() -> (position: [Int], value: Float)? {
        guard let flat = storage.firstIndex(where: { !$0.isFinite }) else { return nil }
        return (zip(strides, shape).map { flat / $0 % max($1, 1) }, storage[flat])
    }

    /// Row-major strides: the storage step of one unit along each axis.
    public var strides: [Int] { Tensor.strides(of: shape) }

    /// Row-major strides of `shape`: each axis' step is the product of the dimensions after it.
    public static func strides(of shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first six values, for messages and debugging.
    public var description: String {
        let preview = storage.prefix(6).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(preview)\(storage.count > 6 ? ", ..." : "")]"
    }
}
