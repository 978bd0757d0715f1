import SNNAMX
import SNNSpikeKernels
import SNNTensor

extension FusedChunk {
    /// One work item's block of output pixels and its scratch memory.
    ///
    /// The scratch is one 64-byte aligned allocation per work item, freed when the item
    /// ends, carved into four regions of pixel rows (`rowStride` floats each, a multiple of
    /// 16, so every region starts 64-byte aligned):
    /// - `rows` (`rowsNeeded` rows): the convolution's output rows, bias included, for the
    ///   block's convolution pixels (`count` x window). Unbatched: one step's rows, set by
    ///   the kernel at every step. Batched: every step of every sample of the item, image
    ///   (i * steps + t) at row (i * steps + t) x convolutionCount, all set before the
    ///   first step. When the float map is emitted and there is no pool, the neuron update
    ///   overwrites each step's currents with its spikes (theta or 0).
    /// - `pooledCurrents` (`block` rows): with a pool, each step's pooled increments, the
    ///   neuron's currents; unused otherwise.
    /// - `added` (`block` rows): each step's bypass currents, transposed from NCHW or
    ///   looked up; unused when the bypass is read in place, as bits, or absent.
    /// - `planes` (`block` rows' worth): each step's spikes as channel planes [C][count],
    ///   copied from there into the NCHW float map.
    struct Block {
        /// First neuron pixel and pixel count; the convolution pixels they cover.
        let first: Int, count: Int
        let range: Range<Int>
        let samples: Range<Int>
        let rows: UnsafeMutablePointer<Float>
        let pooledCurrents: UnsafeMutablePointer<Float>
        let added: UnsafeMutablePointer<Float>
        let planes: UnsafeMutablePointer<Float>
        /// The block's fan-out rows (pixel-major, the same for every sample).
        let fanouts: UnsafePointer<Float>
    }

    /// Work item `work`: its samples' block of pixels through every step of the chunk.
    func run(_ work: Int) {
        let g = geometry, rowStride = g.rowStride
        let group = work / g.blocks, first = (work % g.blocks) * g.block
        let count = min(g.block, g.pixels - first)
        let samples = (group * g.samplesPerItem)..<min(g.batch, (group + 1) * g.samplesPerItem)
        // With a pool: the block's convolution pixels (whole rows) and their sums.
        let convolutionFirst = first * g.window, convolutionCount = count * g.window
        let rowsNeeded = g.batched ? samples.count * g.steps * convolutionCount : g.block * g.window
        let floatsNeeded = (rowsNeeded + 3 * g.block) * rowStride
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: floatsNeeded * 4, alignment: 64).bindMemory(to: Float.self, capacity: floatsNeeded)
        defer { scratch.deallocate() }
        let pooledCurrents = scratch + rowsNeeded * rowStride
        let added = pooledCurrents + g.block * rowStride
        let block = Block(first: first, count: count, range: convolutionFirst..<(convolutionFirst + convolutionCount), samples: samples,
                          rows: scratch, pooledCurrents: pooledCurrents, added: added, planes: added + g.block * rowStride,
                          fanouts: buffers.fanout + first * rowStride)
        if g.batched { convolveAllSteps(block) }
        for (i, n) in samples.enumerated() {
            for t in 0..<g.steps { step(block, sample: n, index: i, step: t) }
        }
    }

    /// Batched kernels: every step's convolution rows of the item's samples at once, so
    /// the weights are read once per item.
    private func convolveAllSteps(_ block: Block) {
        let g = geometry, convolutionCount = block.count * g.window
        withUnsafeTemporaryAllocation(of: Int.self, capacity: block.samples.count * g.steps) { images in
            for (i, n) in block.samples.enumerated() {
                for t in 0..<g.steps { images[i * g.steps + t] = t * g.batch + n }
            }
            if let matrix = kernel.matrix {
                matrix.accumulate(input, images: UnsafeBufferPointer(images), pixels: block.range, into: block.rows,
                                  imageStride: convolutionCount * g.rowStride, rowStride: g.rowStride)
            } else if let events = kernel.events, let listed = kernel.listed {
                events.accumulate(listed, images: UnsafeBufferPointer(images), pixels: block.range, into: block.rows,
                                  imageStride: convolutionCount * g.rowStride, rowStride: g.rowStride)
            }
        }
    }

    /// Step `t` of sample `n` (the item's `i`-th): bypass, convolution, neuron update,
    /// float map, counts and gap probe for the block.
    @inline(__always)
    private func step(_ block: Block, sample n: Int, index i: Int, step t: Int) {
        let g = geometry, rowStride = g.rowStride
        let image = t * g.batch + n
        let rows = g.batched ? block.rows + (i * g.steps + t) * block.count * g.window * rowStride : block.rows
        let current = pool == nil ? rows : block.pooledCurrents
        // Offset of the block's rows of sample n in the membranes (and probe sums, maxima).
        let state = (n * g.pixels + block.first) * rowStride
        let bypass = bypassRows(block, image: image)
        let lanes = fire(block, image: image, rows: rows, current: current, state: state, bypass: bypass, sample: n)
        if floats { writeFloats(block, current, image: image) }
        let item = n * g.blocks + block.first / g.block
        (buffers.spikeCounts[t * g.items + item], buffers.opCounts[t * g.items + item]) = lanes.totals
        if let probe = buffers.probe, let k = probing.index(ofStep: t) {
            buffers.gaps[k * g.items + item] = probe.gap(state..<(state + block.count * rowStride), step: probing.step(k))
        }
    }

    /// The block's bypass currents for `image` as pixel rows: looked up or transposed into
    /// `added`, or read in place; nil when the bypass is spike bits or absent.
    @inline(__always)
    private func bypassRows(_ block: Block, image: Int) -> UnsafePointer<Float>? {
        let g = geometry
        if let table = extra.lookupTable, let spikes = extra.lookupSpikes {
            table._withUnsafeGuaranteedRef { $0.accumulate(spikes, image: image, pixels: block.range, into: block.added) }
            return UnsafePointer(block.added)
        }
        guard let cp = buffers.currents else { return nil }
        if extra.inPlace { return cp + (image * g.pixels + block.first) * g.rowStride }
        PixelMajor.transpose(cp + image * g.channels * g.pixels + block.first, rows: g.channels, columns: block.count,
                             sourceStride: g.pixels, into: block.added, destinationStride: g.rowStride)
        return UnsafePointer(block.added)
    }

    /// The convolution and the neuron update of one step, in place: each row's currents
    /// become its spikes, written straight to the bit planes (`snn_fire_rows`, which reads a
    /// spike bypass from its bits and adds the spikes to the gap probe's sums); the spike
    /// values go back into the rows only when the float map reads them. The unrolled
    /// sliding lookups run the update on each output as it completes (`snn_slide_fire`).
    /// The equations are `IFLayerState.Lanes.fire16`'s, in C.
    @inline(__always)
    private func fire(_ block: Block, image: Int, rows: UnsafeMutablePointer<Float>, current: UnsafeMutablePointer<Float>, state: Int,
                      bypass: UnsafePointer<Float>?, sample n: Int) -> IFLayerState.Lanes {
        let g = geometry, b = buffers
        var lanes = IFLayerState.Lanes()
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { weighted in
            let w = weighted.baseAddress!
            w.initialize(repeating: 0, count: 16)
            let bitsAt = image * groups * g.pixels + block.first
            var args = snn_fire_rows_args(
                count: Int32(block.count), row_stride: Int32(g.rowStride), v: b.membrane + state, input: current,
                store_spikes: floats ? 1 : 0, extra: bypass, extra_bits: b.bypassBits.map { $0 + bitsAt }, amplitude: b.amplitude,
                theta: b.theta, fanout: block.fanouts, lower: b.lower, upper: b.upper, bits: b.bits + bitsAt, plane: g.pixels, groups: Int32(groups),
                weighted: w, probe: b.probe.map { $0.sums + state }, zero_reset: zeroReset ? 1 : 0)
            if let table = kernel.table, let padded = kernel.padded, pool == nil, kernel.firesWhileSliding {
                lanes.spikes = table._withUnsafeGuaranteedRef { $0.accumulate(padded, image: image, pixels: block.range, firing: &args, weighted: w) }
            } else {
                convolve(block, image: image, into: rows, sample: n)
                lanes.spikes = snn_fire_rows(&args)
            }
            lanes.weighted = load16(w)
        }
        return lanes
    }

    /// One step's convolution rows of the block (unless batched: already there) and, with a
    /// pool, their running-sum max increments into `pooledCurrents`.
    @inline(__always)
    private func convolve(_ block: Block, image: Int, into rows: UnsafeMutablePointer<Float>, sample n: Int) {
        let g = geometry
        if let table = kernel.table, let padded = kernel.padded {
            table._withUnsafeGuaranteedRef { $0.accumulate(padded, image: image, pixels: block.range, into: rows) }
        } else if !g.batched, let events = kernel.events, let listed = kernel.listed {
            events.accumulate(listed, image: image, pixels: block.range, into: rows, rowStride: g.rowStride)
        }
        if let pool, let sums = buffers.sums, let maxima = buffers.maxima {
            FusedSpikingLayer.runningMaxIncrements(rows, sums: sums + (n * kernel.convolutionPixels + block.range.lowerBound) * g.rowStride,
                                                   maxima: maxima + (n * g.pixels + block.first) * g.rowStride, pixels: block.count,
                                                   outW: g.outW, size: pool.size, rowStride: g.rowStride, into: block.pooledCurrents)
        }
    }

    /// The block's spikes of one step into the NCHW float map, through channel planes.
    @inline(__always)
    private func writeFloats(_ block: Block, _ spikes: UnsafeMutablePointer<Float>, image: Int) {
        let g = geometry
        PixelMajor.transpose(spikes, rows: block.count, columns: g.channels, sourceStride: g.rowStride, into: block.planes,
                             destinationStride: block.count)
        for c in 0..<g.channels {
            (buffers.output + (image * g.channels + c) * g.pixels + block.first).update(from: block.planes + c * block.count, count: block.count)
        }
    }
}
