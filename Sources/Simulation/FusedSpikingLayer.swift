import SNNSpikeKernels
import SNNAMX
import SNNTensor

/// A convolution fed by spikes and the neuron layer that alone reads it, run as one: each
/// worker takes a block of output pixels of one sample (of several, on small maps with the
/// batched kernels) and carries it through every step of the chunk, so the convolution's
/// currents go from the kernel (table lookup, events or the AMX matrix product, chosen per
/// chunk) straight into the membranes while both sit in L1, and are never written to
/// memory and read back.
///
/// A running-sum max pool between the two (kernel = stride, no padding, as in VGG) runs
/// inside the same loop: the block's convolution rows add to their running sums, each
/// pooled pixel takes the maximum of its window's sums, and the increment over the last
/// step's maximum is the neuron's current (`RunningMaxPoolState`, value for value).
///
/// The neuron equations are `IFLayerState`'s (same order of float operations: the bypass
/// current is added to the convolution's before the membrane, as the folded Add would).
/// Membranes are kept pixel-major ([sample][pixel][channel], channels padded to 16 with a
/// threshold of +infinity so the padding never fires), the layout the lookups produce.
final class FusedSpikingLayer {
    /// The convolution's spike kernels, built on first use.
    let convolution: SpikingConvolution
    let channels: Int, paddedChannels: Int
    let outputShape: [Int]
    let thresholds: [Float]
    let thresholdRow: [Float]
    /// Synaptic fan-out of each neuron, and v(0) of one sample, pixel-major like the membranes.
    let fanoutRows: [Float]
    let initialSample: [Float]
    /// The pool's window side (= its stride) and the convolution's output size, when pooled.
    let pool: (size: Int, height: Int, width: Int)?
    /// Neuron pixels per work item: 64, or with a pool whole pooled rows covering at most
    /// 128 convolution pixels, so the block's rows, running sums and membranes stay in L1/L2.
    let blockPixels: Int
    /// Reset to 0 instead of subtracting theta (`ResetMode.zero`).
    let zeroReset: Bool

    /// Output pixels per work item without a pool: their rows (at most 64 x 64 channels x 4
    /// bytes) and membranes stay in L1 across the chunk's steps.
    static let block = 64

    /// `sampleShape`: the neuron layer's [C, H, W]; `fanout` its per-value fan-out (NCHW).
    /// `convolution`: one whose every kernel reads packed spikes (`readsPatterns`).
    /// `pool`: the max pool's window side and the convolution's [C, H, W] output, which the
    /// window tiles exactly.
    init(convolution: SpikingConvolution, thresholds: [Float], sampleShape: [Int], initialPotential: Float, fanout: [Float],
         pool: (size: Int, convolutionShape: [Int])? = nil, reset: ResetMode = .subtract) {
        self.convolution = convolution
        zeroReset = reset == .zero
        self.thresholds = thresholds
        channels = sampleShape[0]
        paddedChannels = (sampleShape[0] + 15) / 16 * 16
        outputShape = sampleShape
        let pixels = sampleShape[1] * sampleShape[2], stride = paddedChannels, cout = channels
        let row = (0..<stride).map { $0 < cout ? thresholds[thresholds.count == 1 ? 0 : $0] : Float.infinity }
        thresholdRow = row
        var fan = [Float](repeating: 0, count: pixels * stride)
        for c in 0..<cout where !fanout.isEmpty {
            for p in 0..<pixels { fan[p * stride + c] = fanout[c * pixels + p] }
        }
        fanoutRows = fan
        initialSample = (0..<(pixels * stride)).map { $0 % stride < cout ? initialPotential * row[$0 % stride] : 0 }
        if let pool {
            self.pool = (pool.size, pool.convolutionShape[1], pool.convolutionShape[2])
            let outW = sampleShape[2], rows = max(1, min(sampleShape[1], 128 / (pool.size * pool.size * outW)))
            blockPixels = rows * outW
        } else {
            self.pool = nil
            blockPixels = Self.block
        }
    }

    /// What a fused layer carries from chunk to chunk for a batch: the membranes and, when
    /// pooled, the running sums of the convolution's output and the last pooled maxima.
    struct State {
        var membrane: [Float]
        var sums: [Float]
        var pooled: [Float]
    }

    /// The state at t = 0: membranes at v(0), running sums and maxima at 0.
    func initialState(batch: Int) -> State {
        let sums = pool.map { batch * $0.height * $0.width * paddedChannels } ?? 0
        return State(membrane: IFLayerState.repeated(initialSample, batch), sums: [Float](repeating: 0, count: sums),
                     pooled: [Float](repeating: 0, count: pool == nil ? 0 : initialSample.count * batch))
    }

    /// An NCHW map of this layer's shape ([batch, C, H, W]) in the membranes' layout.
    func pixelMajor(_ map: Tensor) -> [Float] {
        let pixels = outputShape[1] * outputShape[2], batch = map.shape[0]
        var rows = [Float](repeating: 0, count: batch * pixels * paddedChannels)
        map.storage.withUnsafeBufferPointer { m in
            rows.withUnsafeMutableBufferPointer { r in
                for n in 0..<batch {
                    PixelMajor.transpose(m.baseAddress! + n * channels * pixels, rows: channels, columns: pixels, sourceStride: pixels,
                                         into: r.baseAddress! + n * pixels * paddedChannels, destinationStride: paddedChannels)
                }
            }
        }
        return rows
    }

    /// The second current of a folded Add: a float map, or the spikes of a neuron layer
    /// (a residual connection), read from their bits.
    enum Bypass {
        case currents(Tensor)
        /// Currents already pixel-major, [images, pixels, paddedChannels]
        /// (`SpikeMatrixConvolution.forwardRows`): read in place, never transposed.
        case rows(Tensor)
        /// A convolution read by this layer alone, looked up block by block just before the
        /// neuron step: its rows go from the tables to the membranes through L1 (in a ResNet
        /// downsampling unit, the 1x1 shortcut: 8 MB per chunk not written and read back).
        case lookups(Lookups)
        case spikes(SpikePatterns)
    }

    /// A table kernel and its input, laid out for the lookups.
    struct Lookups {
        let table: SpikeTableConvolution
        let spikes: SpikeTableConvolution.PaddedSpikes
    }

    /// One chunk: `input` the spikes feeding the convolution ([steps * batch, ...]),
    /// `bypass` the other current of a folded Add ([steps * batch, C, H, W]); `kernel`: the
    /// spike kernel to run (events, tables or matrix). The matrix kernel, and the event
    /// kernel with `batchingSteps` (`SimulationOptions.stepBatchingWeightBytes`), compute
    /// every step's currents of a block first. Nil when the chosen kernel cannot be built.
    func step(_ input: SpikePatterns, kernel: SpikingConvolution.Choice, batchingSteps: Bool = false, adding bypass: Bypass?, steps: Int,
              state: inout State, neuron: IFLayerState) -> IFLayerState.Output? {
        // The input prepared for the chosen kernel: padded bit planes, event lists, or the
        // packed spikes themselves.
        let events = kernel == .events ? convolution.spikeEventKernel : nil
        // The kernels are shared by the shards running side by side: calls through unretained
        // references, or every call would bump their reference counts from both cores (the
        // object's first cache line bouncing between them, its fields with it).
        let table = (kernel == .tables ? convolution.spikeTable : nil).map(Unmanaged.passUnretained)
        let matrix = kernel == .matrix ? convolution.spikeMatrix : nil
        let spikes = table?.takeUnretainedValue().padded(input), listed = events?.events(input)
        let firesWhileSliding = table?.takeUnretainedValue().firesWhileSliding == true
        let matrixPixels = matrix.map { $0.window.outputHeight(input.shape[2]) * $0.window.outputWidth(input.shape[3]) }
        guard let convolutionPixels = spikes.map({ $0.outH * $0.outW }) ?? listed.map({ $0.outH * $0.outW }) ?? matrixPixels else { return nil }
        let pixels = outputShape[1] * outputShape[2], outW = outputShape[2]
        let rowStride = paddedChannels, cout = channels
        let images = input.images, batch = images / steps
        let block = blockPixels
        let blocks = (pixels + block - 1) / block
        let items = batch * blocks
        let floats = neuron.emitsFloats
        let shape = [images] + outputShape
        var output = floats ? Tensor(shape: shape) { _ in } : Tensor(shape: [0], storage: [])
        var patterns = SpikePatterns(shape: shape, amplitudes: thresholds) { _ in }
        let groups = patterns.groups
        var spikeCounts = [Double](repeating: 0, count: steps * items)
        var opCounts = [Double](repeating: 0, count: steps * items)
        let probing = GapProbe.Schedule(layer: neuron, steps: steps, items: items)
        var gaps = [Double](repeating: 0, count: max(1, probing.count * items))
        // The bypass as floats (NCHW, pixel-major rows read in place, or rows looked up per
        // block), or as bits with the amplitude of each (padded) channel.
        let none = [Float](repeating: 0, count: 1), noBits = [UInt8](repeating: 0, count: 1)
        var currents: Tensor? = nil, bypassSpikes: SpikePatterns? = nil, inPlace = false, lookups: Lookups? = nil
        switch bypass {
        case .currents(let t): currents = t
        case .rows(let t): (currents, inPlace) = (t, true)
        case .lookups(let l):
            precondition(l.table.paddedOutputs == paddedChannels, "the looked-up rows must have the membranes' layout")
            lookups = l
        case .spikes(let p): bypassSpikes = p
        case nil: break
        }
        let lookupTable = lookups.map { Unmanaged.passUnretained($0.table) }, lookupSpikes = lookups?.spikes
        let amplitudeRow = (0..<rowStride).map { c -> Float in
            guard let a = bypassSpikes?.amplitudes, c < cout else { return 0 }
            return a[a.count == 1 ? 0 : c]
        }
        // Convolution pixels per neuron pixel (the pool's window), and per work item.
        let window = pool.map { $0.size * $0.size } ?? 1
        let convolutionBlock = block * window
        // Weights too large for L2 are read once per chunk: every step's rows first.
        let batched = (batchingSteps && events != nil) || matrix != nil
        // Those kernels read the whole weight set once per work item, so small maps carry
        // several samples per item (`samplesPerItem`).
        // The whole-map product makes one row per image and its work does not depend on the
        // input, so its items only need to keep the threads busy.
        let wholeMap = blocks == 1 && matrix?.wholeMap?.fits(input) == true
        let samplesPerItem = batched ? Self.samplesPerItem(rowsPerSample: wholeMap ? steps : steps * min(block, pixels) * window, batch: batch,
                                                           blocks: blocks, minimumItems: Parallel.workers == 1 ? 1 : (wholeMap ? Parallel.workers : 8)) : 1
        let groupsOfSamples = (batch + samplesPerItem - 1) / samplesPerItem
        (currents?.storage ?? none).withUnsafeBufferPointer { extra in
            (bypassSpikes?.bytes ?? noBits).withUnsafeBufferPointer { extraBits in
                output.storage.withUnsafeMutableBufferPointer { out in
                    patterns.bytes.withUnsafeMutableBufferPointer { bits in
                        state.membrane.withUnsafeMutableBufferPointer { v in
                            state.sums.withUnsafeMutableBufferPointer { sums in
                                state.pooled.withUnsafeMutableBufferPointer { pooled in
                                    fanoutRows.withUnsafeBufferPointer { fan in
                                        thresholdRow.withUnsafeBufferPointer { theta in
                                            amplitudeRow.withUnsafeBufferPointer { amplitude in
                                                spikeCounts.withUnsafeMutableBufferPointer { sc in
                                                    opCounts.withUnsafeMutableBufferPointer { oc in
                                                        let cp = currents == nil ? nil : extra.baseAddress!
                                                        let xp = bypassSpikes == nil ? nil : extraBits.baseAddress!, ap = amplitude.baseAddress!
                                                        let op = out.baseAddress!, pp = bits.baseAddress!
                                                        let vp = v.baseAddress!, fp = fan.baseAddress!, tp = theta.baseAddress!
                                                        let sump = sums.baseAddress, maxp = pooled.baseAddress
                                                        let scp = sc.baseAddress!, ocp = oc.baseAddress!
                                                        GapProbe.with(neuron, &gaps) { probe, gp in
                                                            Parallel.forEach(groupsOfSamples * blocks, minimumPerThread: 1) { work in
                                                                let group = work / blocks, first = (work % blocks) * block
                                                                let count = min(block, pixels - first)
                                                                let samples = (group * samplesPerItem)..<min(batch, (group + 1) * samplesPerItem)
                                                                // With a pool: the block's convolution pixels (whole rows) and their sums.
                                                                let convolutionFirst = first * window, convolutionCount = count * window
                                                                // The convolution's rows (batched: those of every step of every sample, packed),
                                                                // the neuron's currents (the rows themselves when not pooled), the bypass rows, and
                                                                // the spikes as planes [C][count].
                                                                let rowsNeeded = batched ? samples.count * steps * convolutionCount : convolutionBlock
                                                                let floatsNeeded = (rowsNeeded + 3 * block) * rowStride
                                                                let scratch = UnsafeMutableRawPointer.allocate(byteCount: floatsNeeded * 4, alignment: 64)
                                                                    .bindMemory(to: Float.self, capacity: floatsNeeded)
                                                                defer { scratch.deallocate() }
                                                                let pooledCurrents = scratch + rowsNeeded * rowStride
                                                                let added = pooledCurrents + block * rowStride, planes = added + block * rowStride
                                                                let fanouts = fp + first * rowStride
                                                                let range = convolutionFirst..<(convolutionFirst + convolutionCount)
                                                                if batched {
                                                                    withUnsafeTemporaryAllocation(of: Int.self, capacity: samples.count * steps) { images in
                                                                        for (i, n) in samples.enumerated() {
                                                                            for t in 0..<steps { images[i * steps + t] = t * batch + n }
                                                                        }
                                                                        if let matrix {
                                                                            matrix.accumulate(input, images: UnsafeBufferPointer(images), pixels: range, into: scratch,
                                                                                              imageStride: convolutionCount * rowStride, rowStride: rowStride)
                                                                        } else if let events, let listed {
                                                                            events.accumulate(listed, images: UnsafeBufferPointer(images), pixels: range, into: scratch,
                                                                                              imageStride: convolutionCount * rowStride, rowStride: rowStride)
                                                                        }
                                                                    }
                                                                }
                                                                for (i, n) in samples.enumerated() {
                                                                    let item = n * blocks + first / block
                                                                    let state = vp + (n * pixels + first) * rowStride
                                                                    let sumsOfItem = sump.map { $0 + (n * convolutionPixels + convolutionFirst) * rowStride }
                                                                    let maximaOfItem = maxp.map { $0 + (n * pixels + first) * rowStride }
                                                                    for t in 0..<steps {
                                                                        let image = t * batch + n
                                                                        let rows = batched ? scratch + (i * steps + t) * convolutionCount * rowStride : scratch
                                                                        let current = pool == nil ? rows : pooledCurrents
                                                                        var addedRows = UnsafePointer(added)
                                                                        if let lookupTable, let lookupSpikes {
                                                                            lookupTable._withUnsafeGuaranteedRef { $0.accumulate(lookupSpikes, image: image, pixels: range, into: added) }
                                                                        } else if let cp {
                                                                            if inPlace {
                                                                                addedRows = UnsafePointer(cp + (image * pixels + first) * rowStride)
                                                                            } else {
                                                                                PixelMajor.transpose(cp + image * cout * pixels + first, rows: cout, columns: count,
                                                                                                     sourceStride: pixels, into: added, destinationStride: rowStride)
                                                                            }
                                                                        }
                                                                        // The neuron update in place: each row's currents become its spikes, written
                                                                        // straight to the bit planes (`snn_fire_rows`, which reads a spike bypass from
                                                                        // its bits and adds the spikes to the gap probe's sums); the spike values go
                                                                        // back into the rows only when the float map reads them. The unrolled sliding
                                                                        // lookups run it on each output as it completes (`snn_slide_fire`).
                                                                        var lanes = IFLayerState.Lanes()
                                                                        let rowsOfItem = state - vp
                                                                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { weighted in
                                                                            let w = weighted.baseAddress!
                                                                            w.initialize(repeating: 0, count: 16)
                                                                            var step = snn_fire_rows_args(
                                                                                count: Int32(count), row_stride: Int32(rowStride), v: state, input: current,
                                                                                store_spikes: floats ? 1 : 0, extra: cp == nil && lookupTable == nil ? nil : addedRows,
                                                                                extra_bits: xp.map { $0 + image * groups * pixels + first }, amplitude: ap, theta: tp,
                                                                                fanout: fanouts, bits: pp + image * groups * pixels + first, plane: pixels, groups: Int32(groups),
                                                                                weighted: w, probe: probe.map { $0.sums + rowsOfItem },
                                                                                zero_reset: zeroReset ? 1 : 0)
                                                                            if let table, let spikes, pool == nil, firesWhileSliding {
                                                                                lanes.spikes = table._withUnsafeGuaranteedRef { $0.accumulate(spikes, image: image, pixels: range, firing: &step, weighted: w) }
                                                                            } else {
                                                                                if let table, let spikes {
                                                                                    table._withUnsafeGuaranteedRef { $0.accumulate(spikes, image: image, pixels: range, into: rows) }
                                                                                } else if !batched, let events, let listed {
                                                                                    events.accumulate(listed, image: image, pixels: range, into: rows, rowStride: rowStride)
                                                                                }
                                                                                if let sumsOfItem, let maximaOfItem, let pool {
                                                                                    Self.runningMaxIncrements(rows, sums: sumsOfItem, maxima: maximaOfItem, pixels: count,
                                                                                                              outW: outW, size: pool.size, rowStride: rowStride, into: pooledCurrents)
                                                                                }
                                                                                lanes.spikes = snn_fire_rows(&step)
                                                                            }
                                                                            lanes.weighted = load16(w)
                                                                        }
                                                                        // The float map, when a pool, sum or readout reads it.
                                                                        if floats {
                                                                            PixelMajor.transpose(current, rows: count, columns: cout, sourceStride: rowStride,
                                                                                                 into: planes, destinationStride: count)
                                                                            for c in 0..<cout {
                                                                                (op + (image * cout + c) * pixels + first).update(from: planes + c * count, count: count)
                                                                            }
                                                                        }
                                                                        (scp[t * items + item], ocp[t * items + item]) = lanes.totals
                                                                        if let probe, let k = probing.index(ofStep: t) {
                                                                            gp[k * items + item] = probe.gap(rowsOfItem..<(rowsOfItem + count * rowStride), step: probing.step(k))
                                                                        }
                                                                    }
                                                                }
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        neuron.record(spikeCounts, opCounts, gaps, checkpoints: probing.count, steps: steps, items: items)
        return IFLayerState.Output(floats: floats ? output : nil, patterns: patterns)
    }

    /// Convolution rows (output pixels x steps) a batched work item aims for: the matrix
    /// product and step-batched events stream their weights (up to 2.4 MB, from L3) once per
    /// item, so VGG's 2x2 and 4x4 maps (16-64 rows per sample and chunk) spent most of their
    /// time reading weights.
    static let rowsPerItem = 512

    /// Samples per batched work item: enough for `rowsPerItem` rows, but at least
    /// `minimumItems` items to share out (8 by default: event work varies with the input).
    /// Only the grouping changes, never a value.
    static func samplesPerItem(rowsPerSample: Int, batch: Int, blocks: Int, minimumItems: Int = 8) -> Int {
        let wanted = max(1, rowsPerItem / max(1, rowsPerSample))
        return max(1, min(batch, wanted, batch * blocks / max(1, minimumItems)))
    }

    /// The running-sum max pool for one block of whole pooled rows: the convolution's rows
    /// (`pixels` x size^2 of them, row-major over the block's convolution rows) add to their
    /// running sums; each pooled pixel's current is the maximum of its window's sums minus
    /// the maximum it had the step before (`RunningMaxPoolState`'s equations).
    @inline(__always)
    static func runningMaxIncrements(_ rows: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>, maxima: UnsafeMutablePointer<Float>,
                                     pixels: Int, outW: Int, size: Int, rowStride: Int, into currents: UnsafeMutablePointer<Float>) {
        let values = pixels * size * size * rowStride
        var i = 0
        while i < values {
            let sum = load16(sums + i) + load16(rows + i)
            UnsafeMutableRawPointer(sums + i).storeBytes(of: sum, as: SIMD16<Float>.self)
            i += 16
        }
        let inW = outW * size
        for q in 0..<pixels {
            let (oh, ow) = (q / outW, q % outW)
            let corner = sums + ((oh * size) * inW + ow * size) * rowStride
            for k in stride(from: 0, to: rowStride, by: 16) {
                var best = load16(corner + k)
                for i in 0..<size {
                    for j in 0..<size where i + j > 0 {
                        let v = load16(corner + (i * inW + j) * rowStride + k)
                        best = best.replacing(with: v, where: v .> best)
                    }
                }
                let at = q * rowStride + k
                UnsafeMutableRawPointer(currents + at).storeBytes(of: best - load16(maxima + at), as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(maxima + at).storeBytes(of: best, as: SIMD16<Float>.self)
            }
        }
    }
}

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
