/// The float32 activations a plan computes: what running it on a batch, or simulating the
/// network (which keeps per-layer state of the same sizes), holds in memory beside the weights.
public struct ActivationMemory: Sendable, Equatable {
    /// Bytes of every value the plan computes (constants and inputs excluded), for the
    /// plan's batch: an upper bound of what is live at once.
    public var bytes: Int
    /// The largest computed value and its shape.
    public var largest: (name: String, shape: [Int])

    public static func == (a: ActivationMemory, b: ActivationMemory) -> Bool {
        a.bytes == b.bytes && a.largest.name == b.largest.name && a.largest.shape == b.largest.shape
    }
}

extension ExecutionPlan {
    /// The activations of this plan (see `ActivationMemory`); sizes are at most
    /// `Planner.maximumElements` each, so the sum cannot overflow.
    public var activationMemory: ActivationMemory {
        var bytes = 0
        var largest = (name: "", shape: [Int](), count: -1)
        for step in executedSteps {
            for name in step.outputs where !name.isEmpty {
                guard let shape = shapes[name] else { continue }
                let count = shape.reduce(1, *)
                bytes += 4 * count
                if count > largest.count { largest = (name, shape, count) }
            }
        }
        return ActivationMemory(bytes: bytes, largest: (largest.name, largest.shape))
    }
}
