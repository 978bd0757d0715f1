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
    /// Per lane membrane bounds of a saturating layer (padding lanes unbounded), or nil.
    let boundRows: (lower: [Float], upper: [Float])?
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
    /// `initialPotentials`: v(0) / theta per channel, or one ratio for all.
    init(convolution: SpikingConvolution, thresholds: [Float], sampleShape: [Int], initialPotentials: [Float], fanout: [Float],
         pool: (size: Int, convolutionShape: [Int])? = nil, reset: ResetMode = .subtract, bounds: MembraneBounds? = nil) {
        self.convolution = convolution
        zeroReset = reset == .zero
        self.thresholds = thresholds
        channels = sampleShape[0]
        paddedChannels = (sampleShape[0] + 15) / 16 * 16
        outputShape = sampleShape
        let pixels = sampleShape[1] * sampleShape[2], stride = paddedChannels, cout = channels
        let row = (0..<stride).map { $0 < cout ? thresholds[thresholds.count == 1 ? 0 : $0] : Float.infinity }
        thresholdRow = row
        func lanes(_ values: [Float], padding: Float) -> [Float] {
            (0..<stride).map { $0 < cout ? values[values.count == 1 ? 0 : $0] : padding }
        }
        boundRows = bounds.map { (lanes($0.lower, padding: -.infinity), lanes($0.upper, padding: .infinity)) }
        var fan = [Float](repeating: 0, count: pixels * stride)
        for c in 0..<cout where !fanout.isEmpty {
            for p in 0..<pixels { fan[p * stride + c] = fanout[c * pixels + p] }
        }
        fanoutRows = fan
        let ratios = lanes(initialPotentials, padding: 0)
        initialSample = (0..<(pixels * stride)).map { $0 % stride < cout ? ratios[$0 % stride] * row[$0 % stride] : 0 }
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
    ///
    /// Layouts, all pixel-major with `paddedChannels` floats per pixel (padding lanes stay
    /// 0 in `sums` and `pooled`, and never fire in `membrane`):
    /// - `membrane`: [batch][neuron pixels][paddedChannels], v(0) at first.
    /// - `sums`: [batch][convolution pixels][paddedChannels] when pooled, else empty.
    /// - `pooled`: like `membrane` when pooled, else empty.
    /// Written only by `step`, each pixel's rows by the one work item that owns the pixel.
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
    ///
    /// Prepares the chunk (`FusedChunk`), runs its work items over the cores and records
    /// the counts, summed in item order.
    func step(_ input: SpikePatterns, kernel: SpikingConvolution.Choice, batchingSteps: Bool = false, adding bypass: Bypass?, steps: Int,
              state: inout State, neuron: IFLayerState) -> IFLayerState.Output? {
        guard let prepared = FusedChunk.Kernel(convolution, kernel, input) else { return nil }
        let geometry = FusedChunk.Geometry(self, prepared, input: input, steps: steps, batchingSteps: batchingSteps)
        let floats = neuron.emitsFloats
        let shape = [input.images] + outputShape
        var output = floats ? Tensor(shape: shape) { _ in } : Tensor(shape: [0], storage: [])
        var patterns = SpikePatterns(shape: shape, amplitudes: thresholds) { _ in }
        let groups = patterns.groups
        var spikeCounts = [Double](repeating: 0, count: steps * geometry.items)
        var opCounts = [Double](repeating: 0, count: steps * geometry.items)
        let probing = GapProbe.Schedule(layer: neuron, steps: steps, items: geometry.items)
        var gaps = [Double](repeating: 0, count: max(1, probing.count * geometry.items))
        let extra = FusedChunk.Extra(bypass, layer: self)
        withBuffers(extra, &output, &patterns, &state, &spikeCounts, &opCounts, &gaps, neuron: neuron) { buffers in
            let chunk = FusedChunk(kernel: prepared, geometry: geometry, extra: extra, buffers: buffers, input: input, pool: pool,
                                   floats: floats, groups: groups, probing: probing, zeroReset: zeroReset)
            Parallel.forEach(geometry.workItems, minimumPerThread: 1) { work in chunk.run(work) }
        }
        neuron.record(spikeCounts, opCounts, gaps, checkpoints: probing.count, steps: steps, items: geometry.items)
        return IFLayerState.Output(floats: floats ? output : nil, patterns: patterns)
    }

    /// Runs `body` with the chunk's arrays pinned (`FusedChunk.Buffers`).
    private func withBuffers(_ extra: FusedChunk.Extra, _ output: inout Tensor, _ patterns: inout SpikePatterns, _ state: inout State,
                             _ spikeCounts: inout [Double], _ opCounts: inout [Double], _ gaps: inout [Double], neuron: IFLayerState,
                             _ body: (FusedChunk.Buffers) -> Void) {
        let none = [Float](repeating: 0, count: 1), noBits = [UInt8](repeating: 0, count: 1)
        (extra.currents?.storage ?? none).withUnsafeBufferPointer { currents in
        (extra.spikes?.bytes ?? noBits).withUnsafeBufferPointer { extraBits in
        extra.amplitudeRow.withUnsafeBufferPointer { amplitude in
        output.storage.withUnsafeMutableBufferPointer { out in
        patterns.bytes.withUnsafeMutableBufferPointer { bits in
        state.membrane.withUnsafeMutableBufferPointer { v in
        state.sums.withUnsafeMutableBufferPointer { sums in
        state.pooled.withUnsafeMutableBufferPointer { pooled in
        fanoutRows.withUnsafeBufferPointer { fan in
        thresholdRow.withUnsafeBufferPointer { theta in
        (boundRows?.lower ?? none).withUnsafeBufferPointer { lower in
        (boundRows?.upper ?? none).withUnsafeBufferPointer { upper in
        spikeCounts.withUnsafeMutableBufferPointer { sc in
        opCounts.withUnsafeMutableBufferPointer { oc in
        GapProbe.with(neuron, &gaps) { probe, gp in
            body(FusedChunk.Buffers(
                currents: extra.currents == nil ? nil : currents.baseAddress!, bypassBits: extra.spikes == nil ? nil : extraBits.baseAddress!,
                amplitude: amplitude.baseAddress!, output: out.baseAddress!, bits: bits.baseAddress!, membrane: v.baseAddress!,
                sums: sums.baseAddress, maxima: pooled.baseAddress, fanout: fan.baseAddress!, theta: theta.baseAddress!,
                lower: boundRows == nil ? nil : lower.baseAddress!, upper: boundRows == nil ? nil : upper.baseAddress!,
                spikeCounts: sc.baseAddress!, opCounts: oc.baseAddress!, probe: probe, gaps: gp))
        } } } } } } } } } } } } } } }
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
}
