import SNNTensor

extension ShardSimulation {
    /// Adds each step of the chunk's readout values to their running sums, step by step in
    /// time order (so a sum's float rounding does not depend on the chunk size), and keeps
    /// a copy at the kept steps.
    ///
    /// The chunk's output of a readout value is [steps * batch, ...], time-major: step t's
    /// block of `total.count` floats starts at t * total.count. The running sum is split
    /// into pieces of 4096 floats shared out over the cores; each piece is added 16 lanes
    /// at a time, then one by one for its tail.
    func addToReadoutSums(_ out: [String: Tensor], steps: Int) {
        for name in plan.partition.readoutValues {
            guard let chunk = out[name], var total = running[name] else { continue }
            let block = total.count
            let pieces = (block + 4095) / 4096
            for t in 0..<steps {
                total.storage.withUnsafeMutableBufferPointer { s in
                    chunk.storage.withUnsafeBufferPointer { c in
                        let sp = s.baseAddress!, cp = c.baseAddress! + t * block
                        Parallel.forEach(pieces, minimumPerThread: 4) { k in
                            var i = k * 4096
                            let end = min(block, i + 4096)
                            while i + 16 <= end {
                                let sum = UnsafeRawPointer(sp + i).loadUnaligned(as: SIMD16<Float>.self)
                                    + UnsafeRawPointer(cp + i).loadUnaligned(as: SIMD16<Float>.self)
                                UnsafeMutableRawPointer(sp + i).storeBytes(of: sum, as: SIMD16<Float>.self)
                                i += 16
                            }
                            while i < end { sp[i] += cp[i]; i += 1 }
                        }
                    }
                }
                if keep.contains(done + t + 1) { sums[name]![done + t + 1] = total }
            }
            running[name] = total
        }
    }
}
