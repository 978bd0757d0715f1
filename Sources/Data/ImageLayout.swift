/// How the axes of a stored 4-D image array are ordered. Batches are always NCHW (the
/// ONNX layout); NHWC data (what NumPy pipelines and the shared CIFAR-10 copy hold) is
/// transposed while a batch is read.
public enum ImageLayout: String, Sendable, CaseIterable {
    /// Channels first (ONNX, PyTorch) or channels last (NumPy pipelines, TensorFlow).
    case nchw, nhwc

    /// The layout a 4-D shape most likely has: NHWC when the last axis looks like a
    /// channel count (1 or 3) and axis 1 is too long to be one (> 4). `(N, 32, 32, 3)` is
    /// NHWC, `(N, 3, 32, 32)` and `(N, 1, 28, 28)` are NCHW; for anything ambiguous, such
    /// as `(N, 3, 4, 3)`, NCHW wins and the caller should say which.
    public static func infer(shape: [Int]) -> ImageLayout {
        guard shape.count == 4 else { return .nchw }
        return (shape[3] == 1 || shape[3] == 3) && shape[1] > 4 ? .nhwc : .nchw
    }
}
