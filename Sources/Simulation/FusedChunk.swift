import SNNAMX
import SNNSpikeKernels
import SNNTensor

/// One chunk of a `FusedSpikingLayer`, split into work items: each item is a block of
/// output pixels of one sample (of several, on small maps with the batched kernels),
/// carried through every step of the chunk (`run`).
///
/// Layouts of the buffers (`Buffers`), all per chunk:
/// - membranes and gap-probe sums: [batch][pixels][paddedChannels], pixel-major; with a
///   pool, running sums [batch][convolutionPixels][paddedChannels] and last maxima like
///   the membranes. Item (n, block) alone reads and writes its pixels' rows.
/// - spike bits: image (t * batch + n), channel group g, pixel q at
///   bits[(image * groups + g) * pixels + q]; the float map, when emitted, NCHW.
/// - counts: [step][item] and gaps [checkpoint][item], item = n * blocks + block, each
///   slot written by its item alone and summed in item order afterwards.
struct FusedChunk {
    let kernel: Kernel
    let geometry: Geometry
    let extra: Extra
    let buffers: Buffers
    let input: SpikePatterns
    let pool: (size: Int, height: Int, width: Int)?
    /// Whether the float map is written (a pool, sum or readout reads it).
    let floats: Bool
    /// Bytes per pixel of the spike bits (channel groups of eight).
    let groups: Int
    let probing: GapProbe.Schedule
    /// Reset to 0 instead of subtracting theta (`ResetMode.zero`).
    let zeroReset: Bool

    /// The chosen kernel and its input, prepared once per chunk: padded bit planes for the
    /// tables, event lists for the event kernel, or the packed spikes for the matrix.
    struct Kernel {
        let events: SparseInputConvolution?
        let listed: SparseInputConvolution.Events?
        /// The kernels are shared by the shards running side by side: calls through
        /// unretained references, or every call would bump their reference counts from both
        /// cores (the object's first cache line bouncing between them, its fields with it).
        let table: Unmanaged<SpikeTableConvolution>?
        let padded: SpikeTableConvolution.PaddedSpikes?
        let matrix: SpikeMatrixConvolution?
        /// Whether the tables' unrolled sliding loops fire each output as it completes.
        let firesWhileSliding: Bool
        /// Output pixels of the convolution per image.
        let convolutionPixels: Int

        /// Nil when the chosen kernel cannot be built.
        init?(_ convolution: SpikingConvolution, _ choice: SpikingConvolution.Choice, _ input: SpikePatterns) {
            events = choice == .events ? convolution.spikeEventKernel : nil
            table = (choice == .tables ? convolution.spikeTable : nil).map(Unmanaged.passUnretained)
            matrix = choice == .matrix ? convolution.spikeMatrix : nil
            padded = table?.takeUnretainedValue().padded(input)
            listed = events?.events(input)
            firesWhileSliding = table?.takeUnretainedValue().firesWhileSliding == true
            let matrixPixels = matrix.map { $0.window.outputHeight(input.shape[2]) * $0.window.outputWidth(input.shape[3]) }
            guard let pixels = padded.map({ $0.outH * $0.outW }) ?? listed.map({ $0.outH * $0.outW }) ?? matrixPixels else { return nil }
            convolutionPixels = pixels
        }
    }

    /// How the chunk is cut into work items.
    struct Geometry {
        let steps: Int, batch: Int
        /// Neuron pixels per sample and the map's width; floats per pixel row (channels
        /// padded to 16) and real channels.
        let pixels: Int, outW: Int, rowStride: Int, channels: Int
        /// Neuron pixels per block, blocks per sample, and counted items (batch x blocks).
        let block: Int, blocks: Int, items: Int
        /// Convolution pixels per neuron pixel (the pool's window, else 1).
        let window: Int
        /// Whether every step's convolution rows of an item are computed first.
        let batched: Bool
        /// Samples per work item, and groups of them.
        let samplesPerItem: Int, groupsOfSamples: Int

        init(_ layer: FusedSpikingLayer, _ kernel: Kernel, input: SpikePatterns, steps: Int, batchingSteps: Bool) {
            self.steps = steps
            batch = input.images / steps
            pixels = layer.outputShape[1] * layer.outputShape[2]
            outW = layer.outputShape[2]
            rowStride = layer.paddedChannels
            channels = layer.channels
            block = layer.blockPixels
            blocks = (pixels + block - 1) / block
            items = batch * blocks
            window = layer.pool.map { $0.size * $0.size } ?? 1
            // Weights too large for L2 are read once per chunk: every step's rows first.
            batched = (batchingSteps && kernel.events != nil) || kernel.matrix != nil
            // Those kernels read the whole weight set once per work item, so small maps carry
            // several samples per item (`samplesPerItem`). The whole-map product makes one row
            // per image and its work does not depend on the input, so its items only need to
            // keep the threads busy.
            let wholeMap = blocks == 1 && kernel.matrix?.wholeMap?.fits(input) == true
            let rowsPerSample = wholeMap ? steps : steps * min(block, pixels) * window
            let minimumItems = Parallel.workers == 1 ? 1 : (wholeMap ? Parallel.workers : 8)
            samplesPerItem = batched ? FusedSpikingLayer.samplesPerItem(rowsPerSample: rowsPerSample, batch: batch, blocks: blocks,
                                                                        minimumItems: minimumItems) : 1
            groupsOfSamples = (batch + samplesPerItem - 1) / samplesPerItem
        }

        /// Work items handed to the cores: groups of samples x blocks.
        var workItems: Int { groupsOfSamples * blocks }
    }

    /// The second current of a folded Add as the items read it: NCHW floats, pixel-major
    /// rows read in place, rows looked up per block, or spike bits carrying the amplitude
    /// of each (padded) channel.
    struct Extra {
        var currents: Tensor? = nil
        var inPlace = false
        var lookups: FusedSpikingLayer.Lookups? = nil
        var spikes: SpikePatterns? = nil
        /// The looked-up bypass's table, called unretained (see `Kernel.table`), and its input.
        let lookupTable: Unmanaged<SpikeTableConvolution>?
        let lookupSpikes: SpikeTableConvolution.PaddedSpikes?
        /// Per padded channel, the amplitude of a bypass spike (0 on padding lanes).
        let amplitudeRow: [Float]

        init(_ bypass: FusedSpikingLayer.Bypass?, layer: FusedSpikingLayer) {
            switch bypass {
            case .currents(let t): currents = t
            case .rows(let t): (currents, inPlace) = (t, true)
            case .lookups(let l):
                precondition(l.table.paddedOutputs == layer.paddedChannels, "the looked-up rows must have the membranes' layout")
                lookups = l
            case .spikes(let p): spikes = p
            case nil: break
            }
            lookupTable = lookups.map { Unmanaged.passUnretained($0.table) }
            lookupSpikes = lookups?.spikes
            let spikes = self.spikes, cout = layer.channels
            amplitudeRow = (0..<layer.paddedChannels).map { c -> Float in
                guard let a = spikes?.amplitudes, c < cout else { return 0 }
                return a[a.count == 1 ? 0 : c]
            }
        }

    }

    /// The chunk's arrays, pinned for the duration of the chunk (layouts above).
    struct Buffers {
        /// The bypass as floats (nil without), its spike bits (nil without) and their amplitudes.
        let currents: UnsafePointer<Float>?
        let bypassBits: UnsafePointer<UInt8>?
        let amplitude: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
        let bits: UnsafeMutablePointer<UInt8>
        let membrane: UnsafeMutablePointer<Float>
        /// The pool's running sums and last maxima (nil or empty without a pool).
        let sums: UnsafeMutablePointer<Float>?
        let maxima: UnsafeMutablePointer<Float>?
        let fanout: UnsafePointer<Float>
        let theta: UnsafePointer<Float>
        /// Per lane membrane bounds of a saturating layer (nil: unbounded).
        let lower: UnsafePointer<Float>?
        let upper: UnsafePointer<Float>?
        let spikeCounts: UnsafeMutablePointer<Double>
        let opCounts: UnsafeMutablePointer<Double>
        let probe: GapProbe?
        let gaps: UnsafeMutablePointer<Double>
    }
}
