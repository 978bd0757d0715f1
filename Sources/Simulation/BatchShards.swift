import SNNTensor

/// A batch cut into shards of a fixed number of samples, each carried by one core through
/// the whole network.
///
/// With every layer loop split over the cores instead, each layer and chunk costs a
/// wake-up and a barrier, and the serial stretches between loops (tiling, allocations,
/// statistics) leave the other core idle: two 1-thread processes made 6-9% more ResNet-20
/// image-steps than one 2-thread process. A shard per core pays none of that, and its
/// layer state stays in that core's L2.
///
/// Kernels are chosen per shard from its own firing density, so the shard size is part of
/// what fixes the result; it never depends on the thread count, which only decides who
/// runs a shard.
struct BatchShards {
    let ranges: [Range<Int>]

    init(batch: Int, size: Int) {
        ranges = stride(from: 0, to: batch, by: size).map { $0..<min(batch, $0 + size) }
    }

    /// `body` of every shard, in shard order. Whole rounds of one shard per worker run side
    /// by side, each with its loops on its own thread (`Parallel.serially`); the shards left
    /// over (fewer than the workers, e.g. one shard at batch 1) run one after the other
    /// with their loops split over the cores.
    func map<Result>(_ body: (Range<Int>) throws -> Result) throws -> [Result] {
        let workers = Parallel.workers
        let sideBySide = workers > 1 ? ranges.count / workers * workers : 0
        var outcomes = [Swift.Result<Result, any Error>?](repeating: nil, count: ranges.count)
        outcomes.withUnsafeMutableBufferPointer { slots in
            let slots = UncheckedSendable(slots)
            Parallel.forEach(sideBySide) { k in
                slots.value[k] = Swift.Result { try Parallel.serially { try body(ranges[k]) } }
            }
        }
        for k in sideBySide..<ranges.count { outcomes[k] = Swift.Result { try body(ranges[k]) } }
        return try outcomes.map { try $0!.get() }
    }
}
