/// An activation that bounds a kernel's output, applied in the kernel's store instead of a
/// second pass over memory: ReLU is [0, +inf), ReLU6 (ONNX Clip(0, 6)) is [0, 6].
public struct Clamp: Sendable, Equatable, Hashable {
    /// Smallest value stored; -infinity for no lower bound.
    public var lower: Float
    /// Largest value stored; +infinity for no upper bound.
    public var upper: Float

    /// Values limited to `lower...upper` (either may be infinite).
    public init(lower: Float = -.infinity, upper: Float = .infinity) {
        self.lower = lower
        self.upper = upper
    }

    /// max(x, 0).
    public static let relu = Clamp(lower: 0)

    /// `x` limited to the bounds. As ONNX Clip, a NaN stays NaN.
    @inline(__always)
    public func callAsFunction(_ x: Float) -> Float {
        x < lower ? lower : (x > upper ? upper : x)
    }

    /// Every lane of `x` limited to the bounds; NaN lanes stay NaN.
    @inline(__always)
    public func callAsFunction(_ x: SIMD16<Float>) -> SIMD16<Float> {
        x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
    }
}
