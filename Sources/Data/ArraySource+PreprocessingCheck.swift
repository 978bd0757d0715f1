import Foundation

extension ArraySource {
    /// A warning when the mean and std cannot belong to the data's scale, or nil.
    ///
    /// Preprocessing is `(x * scale - mean) / std`. A mean of 127.5 with bytes scaled to
    /// [0, 1] (or a mean of 0.5 on unscaled bytes) yields inputs far from anything the
    /// network saw in training, and every score silently collapses. The range of
    /// `x * scale` is measured on the first samples (up to 64).
    public func preprocessingWarning() throws -> String? {
        let p = preprocessing
        guard p.mean.contains(where: { $0 != 0 }) || p.std.contains(where: { $0 != 1 }) else { return nil }
        let images = try batch(0..<min(count, 64)).images
        let channels = sampleShape[0], plane = sampleShape.dropFirst().reduce(1, *)
        var lo = Float.infinity, hi = -Float.infinity
        for (i, y) in images.storage.enumerated() {
            let c = (i / plane) % channels
            let scaled = y * (p.std.count == 1 ? p.std[0] : p.std[c]) + (p.mean.count == 1 ? p.mean[0] : p.mean[c])
            lo = min(lo, scaled)
            hi = max(hi, scaled)
        }
        let reach = max(abs(lo), abs(hi))
        let large = p.mean.contains { abs($0) > 2 } || p.std.contains { $0 > 2 }
        let small = p.mean.allSatisfy { abs($0) <= 2 } && p.std.allSatisfy { $0 <= 2 }
        let range = "[\(Self.number(lo)), \(Self.number(hi))]"
        let constants = "mean \(Self.list(p.mean)) and std \(Self.list(p.std))"
        if reach <= 2 && large {
            return "\(name): \(constants) are applied after scaling by \(Self.number(p.scale)), which puts the values in \(range); " +
                "they look like constants for 0-255 pixels and would push every input far outside what the network was trained on. " +
                "Give them on the scaled range (--mean \(Self.list(p.mean.map { $0 / 255 })) --std \(Self.list(p.std.map { $0 / 255 }))), " +
                "or normalise the raw values with --scale 1."
        }
        if reach > 20 && small {
            return "\(name): after scaling by \(Self.number(p.scale)) the values lie in \(range), but \(constants) look like " +
                "constants for data in [0, 1]. Pass --scale 0.00392156862745098 (1/255) to scale 0-255 pixels first."
        }
        return nil
    }

    private static func number(_ v: Float) -> String { String(format: "%g", v) }
    private static func list(_ values: [Float]) -> String { values.map(number).joined(separator: ",") }
}
