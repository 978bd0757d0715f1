import Foundation

/// Softmax over groups of `inner`-strided rows.
public enum Softmax {
    /// Softmax over `axis` (opset >= 13), or over the flattened axes from `axis` on when
    /// `coerceTo2D` (opsets < 13, which treat the input as a 2-D matrix).
    public static func forward(_ input: Tensor, axis: Int, coerceTo2D: Bool) -> Tensor {
        let outer = input.shape[..<axis].reduce(1, *)
        let length = coerceTo2D ? input.shape[axis...].reduce(1, *) : input.shape[axis]
        let inner = coerceTo2D ? 1 : input.shape[(axis + 1)...].reduce(1, *)
        var out = input
        out.storage.withUnsafeMutableBufferPointer { y in
            for o in 0..<outer {
                for i in 0..<inner {
                    let base = o * length * inner + i
                    var peak = -Float.infinity
                    for k in 0..<length { peak = max(peak, y[base + k * inner]) }
                    var sum: Float = 0
                    for k in 0..<length {
                        let e = Foundation.exp(y[base + k * inner] - peak)
                        y[base + k * inner] = e
                        sum += e
                    }
                    for k in 0..<length { y[base + k * inner] /= sum }
                }
            }
        }
        return out
    }
}
