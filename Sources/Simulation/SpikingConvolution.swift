import Foundation
import SNNGraph
import SNNSpikeKernels
import SNNTensor

/// The faster kernels one convolution of the spiking part can use instead of the dense
/// GEMM, and the rule that picks one per chunk of steps from the measured input density.
///
/// - Fed straight by a neuron layer, the input is binary per channel (0 or the threshold),
///   so the table kernel applies: per tap and block of 16 outputs it does C_in / k adds
///   (k = 4 or 8 channels per lookup) where the event kernel does density x C_in, and
///   only for taps inside the input. Events win when density x `eventWeight` is below
///   `SimulationOptions.tableCrossover`.
/// - Fed by anything else (pooled increments, sums), only the event kernel can skip work,
///   and only while the input is sparse (`denseAbove`).
/// - On CPUs with AMX, the matrix product of the spikes (`SpikeMatrixConvolution`) stands
///   in for the GEMM on packed spikes, for events below 128 output channels or above a
///   density (`SimulationOptions.matrixCrossover`), and for tables from 32 input channels.
///
/// The choice depends only on the layer and the input, never on timings, so a run is
/// reproducible. Tables are built on first use: wide layers that fire sparsely never
/// pay their memory.
final class SpikingConvolution {
    /// Builds each kernel on first use: the event kernel for float inputs, and when the
    /// input is a neuron layer's spikes, the table kernel, an event kernel whose weights
    /// carry the spike amplitudes and, with AMX, the matrix kernel (nil makers otherwise).
    private let makeEvents: () -> SparseInputConvolution?
    private let makeSpikeEvents: (() -> SparseInputConvolution?)?
    private let makeTable: (() -> SpikeTableConvolution?)?
    private let makeMatrix: (() -> SpikeMatrixConvolution?)?
    private lazy var builtEvents = makeEvents()
    private lazy var builtSpikeEvents = makeSpikeEvents?()
    private lazy var builtTable = makeTable?()
    private lazy var builtMatrix = makeMatrix?()
    /// Batch shards running side by side may ask for a kernel first at the same time.
    private let building = NSLock()
    private var events: SparseInputConvolution? { building.withLock { builtEvents } }
    private var spikeEvents: SparseInputConvolution? { building.withLock { builtSpikeEvents } }
    private var table: SpikeTableConvolution? { building.withLock { builtTable } }
    private var matrix: SpikeMatrixConvolution? { building.withLock { builtMatrix } }
    /// Bits per table lookup, known before the tables exist.
    let tableBits: Int
    /// Whether `.auto` considers the event kernel. Below 64 output channels the per-tap
    /// bookkeeping (short event loops whose trip counts the branch predictor cannot learn)
    /// outweighs the skipped zeros: measured on a CIFAR ResNet-20, its 16- and 32-channel
    /// convolutions ran 2-4x slower event-driven than through the GEMM.
    let eventsPayOff: Bool
    /// Event work per unit of table work at density 1 (see `choose(density:_:)`): the
    /// fraction of (output pixel, tap) pairs inside the input (events skip the padding,
    /// lookups do not) times channels per lookup. Measured on ResNet-20's 64-channel 8x8
    /// layers at input densities 0.08-0.14, events ran 10-50% faster than 8-bit lookups;
    /// on VGG-11's 32 -> 64 layer at density 0.27, 15% slower: both sides of density x
    /// this weight = 1.
    let eventWeight: Double
    /// Whether `.auto` runs the AMX matrix product wherever it would run events: below 128
    /// output channels the event kernel's 64-lane blocks are at their least efficient, and
    /// the matrix product measured twice as fast on ResNet-20's 64-channel 8x8 layers
    /// (input densities 0.08-0.14). Wider layers compare densities (`matrixCrossover`).
    let matrixReplacesEvents: Bool
    /// Whether `.auto` runs the matrix product where it would look up tables. Where the
    /// tables slide along rows with unrolled loops (3x3 at stride 1, two or four 8-bit
    /// groups), by a cost model in units of one 16-lane table add: the tables do
    /// pixels x taps x groups x output blocks of them, the matrix product costs 17 per tile
    /// product plus 50 per output pixel (im2col row, recombination). Fitted on ResNet-20's
    /// 32 -> 32 (16x16) and 64 -> 64 (8x8) layers at firing 0.18: tables 0.058 s against
    /// 0.065 and 0.072 against 0.033 per profile; it keeps VGG-11's 32 -> 64 layer on the
    /// product (0.106 against 0.156) and the 16-channel layers on tables. Elsewhere: 32
    /// or more input channels and a kernel wider than 1x1 (the 1x1 layers' rows are padded
    /// to 64 bytes, 2-4x the products).
    let matrixReplacesTables: Bool
    /// The share of (output pixel, tap) pairs inside the input: events skip the rest.
    let insideFraction: Double
    /// How much `SimulationOptions.matrixCrossover` grows for this layer: 1.5 on output maps
    /// under 16 pixels (where the im2col product computes every padding tap: without the
    /// whole-map product, VGG-11's 2x2 layers tie with events at 0.096-0.107, its 4x4 and
    /// 8x8 layers at 0.065-0.075), times the share of tile products left where the
    /// whole-map product applies (0.44 on those 2x2 layers).
    let matrixCrossoverScale: Double

    /// Bytes of the convolution's weights (what the event kernel reads per step).
    let eventWeightBytes: Int

    enum Choice: String { case dense, events, tables, matrix }

    /// The kernels for `node`, a Conv whose input has `inputShape` (NCHW), or nil when
    /// only the dense path fits.
    init?(node: Node, in graph: Graph, inputShape: [Int], producers: [String: Int], tableMemoryLimit: Int = Int.max) throws {
        guard case .conv(let a) = node.op, inputShape.count == 4, a.group == 1,
              let w = node.input(1).flatMap({ graph.floatConstant($0) }), w.rank == 4 else { return nil }
        let geometry = try WindowGeometry.resolve(node: node.name, kernel: Array(w.shape[2...]), strides: a.strides,
                                                  dilations: a.dilations, pads: a.pads, autoPad: a.autoPad,
                                                  inputSpatial: [inputShape[2], inputShape[3]])
        let bias = node.input(2).flatMap { graph.floatConstant($0)?.storage }
        let (cin, cout) = (inputShape[1], w.shape[0])
        eventWeightBytes = w.count * MemoryLayout<Float>.stride
        let bits = SpikeTableConvolution.groupBits(inputChannels: cin, outputChannels: cout, taps: w.shape[2] * w.shape[3])
        tableBits = bits
        if let p = producers[node.inputs[0]], case .ifNeuron = graph.nodes[p].op, w.shape[1] == cin,
           let thresholds = graph.floatConstant(graph.nodes[p].inputs[1])?.storage, thresholds.count == 1 || thresholds.count == cin {
            let tableBytes = SpikeTableConvolution.tableBytes(inputChannels: cin, outputChannels: cout, taps: w.shape[2] * w.shape[3],
                                                              groupBits: bits)
            makeTable = tableBytes > tableMemoryLimit ? nil : {
                SpikeTableConvolution(weights: w.storage, bias: bias, amplitudes: thresholds, inputChannels: cin, outputChannels: cout,
                                      groups: 1, window: geometry, groupBits: bits)
            }
            makeSpikeEvents = {
                SparseInputConvolution(weights: w.storage, bias: bias, inputChannels: cin, outputChannels: cout, groups: 1,
                                       window: geometry, spikeAmplitudes: thresholds)
            }
            makeMatrix = !SpikeMatrixConvolution.isAvailable ? nil : {
                SpikeMatrixConvolution(weights: w.storage, bias: bias, amplitudes: thresholds, inputChannels: cin, outputChannels: cout,
                                       groups: 1, window: geometry, inputSize: (inputShape[2], inputShape[3]))
            }
        } else {
            makeTable = nil
            makeSpikeEvents = nil
            makeMatrix = nil
        }
        makeEvents = {
            SparseInputConvolution(weights: w.storage, bias: bias, inputChannels: cin, outputChannels: cout, groups: 1, window: geometry)
        }
        eventsPayOff = cout >= 64 && cout % 16 == 0
        var inside = 0
        let (outH, outW) = (geometry.outputHeight(inputShape[2]), geometry.outputWidth(inputShape[3]))
        for oh in 0..<outH {
            for ow in 0..<outW {
                for ki in 0..<geometry.kernel.h {
                    for kj in 0..<geometry.kernel.w where geometry.inputPixel(output: oh, ow, tap: ki, kj, inputSize: (inputShape[2], inputShape[3])) != nil {
                        inside += 1
                    }
                }
            }
        }
        let pairs = max(1, outH * outW * geometry.kernel.h * geometry.kernel.w)
        insideFraction = Double(inside) / Double(pairs)
        eventWeight = insideFraction * Double(bits)
        matrixReplacesEvents = cout < 128
        let taps = geometry.kernel.h * geometry.kernel.w, groupsOfBits = (cin + bits - 1) / bits, blocks = (cout + 15) / 16
        if SpikeTableConvolution.slidesUnrolled(geometry, inputChannels: cin, groupBits: bits) {
            let pixels = outH * outW, depthTiles = (taps * ((cin + 7) / 8 * 8) + 63) / 64
            let products = (pixels + 15) / 16 * depthTiles * 3 * blocks
            matrixReplacesTables = 17 * products + 50 * pixels < pixels * taps * groupsOfBits * blocks
        } else {
            matrixReplacesTables = cin >= 32 && taps > 1
        }
        // Where the whole-map product applies it does the same work in fewer tile products.
        let wholeMapShare = WholeMapProduct.productShare(inputChannels: cin, outputChannels: cout, window: geometry,
                                                         inputSize: (inputShape[2], inputShape[3])) ?? 1
        matrixCrossoverScale = (outH * outW < 16 ? 1.5 : 1) * wholeMapShare
        if !eventsPayOff && makeTable == nil && makeSpikeEvents == nil && makeMatrix == nil { return nil }
    }

    /// The spike kernels, built on first use (nil when this convolution has none).
    var spikeTable: SpikeTableConvolution? { table }
    var spikeEventKernel: SparseInputConvolution? { spikeEvents }
    var spikeMatrix: SpikeMatrixConvolution? { matrix }

    /// Whether every kernel `options` can pick here reads packed spikes, so the neuron
    /// layer feeding it may skip its float map and the convolution may run fused with the
    /// neuron layer it feeds. Decided without building the tables.
    func readsPatterns(_ options: SimulationOptions) -> Bool {
        switch options.convolutionKernel {
        case .dense: return false
        case .events: return spikeEvents != nil
        case .tables: return makeTable != nil
        case .matrix, .auto: return makeMatrix != nil || makeTable != nil
        }
    }

    /// Which kernel runs the float map `input` under `options`.
    func choose(for input: Tensor, _ options: SimulationOptions) -> Choice {
        if options.convolutionKernel == .auto && !eventsPayOff { return makeTable != nil ? .tables : .dense }
        if options.convolutionKernel == .matrix { return makeTable != nil ? .tables : .dense }
        return choose(density: SparseInputConvolution.density(input), spikes: false, options)
    }

    /// Which kernel runs an input of this density under `options`; `spikes`: the input
    /// comes packed (then events run on the amplitude-weighted kernel).
    func choose(density: Double, spikes: Bool, _ options: SimulationOptions) -> Choice {
        let tables = makeTable != nil
        let hasEvents = spikes ? spikeEvents != nil : events != nil
        // The matrix kernel is built on first asking, only where it would run (nil for
        // weights it cannot hold), so layers that stay on tables or events never pay for it.
        func matrix() -> Bool { spikes && self.matrix != nil }
        switch options.convolutionKernel {
        case .dense: return .dense
        case .events: return hasEvents ? .events : .dense
        case .tables: return tables ? .tables : .dense
        case .matrix: return matrix() ? .matrix : (tables ? .tables : .dense)
        case .auto:
            let pick: Choice
            if !eventsPayOff || !hasEvents {
                pick = tables ? .tables : .dense
            } else if tables {
                pick = density * eventWeight < options.tableCrossover ? .events : .tables
            } else {
                pick = density < options.denseAbove ? .events : .dense
            }
            // The matrix product stands in for the GEMM whenever it can (packed input, any
            // density), and for events and tables where it measured faster.
            let replace: Bool
            switch pick {
            case .dense: replace = true
            case .events: replace = matrixReplacesEvents || density * insideFraction >= options.matrixCrossover * matrixCrossoverScale
            case .tables: replace = matrixReplacesTables
            case .matrix: replace = false
            }
            if replace, matrix() { return .matrix }
            return pick
        }
    }

    /// The convolution of `input` by the chosen kernel, or nil for the dense path.
    func forward(_ input: Tensor, _ choice: Choice) -> Tensor? {
        switch choice {
        case .dense: return nil
        case .events: return events?.forward(input)
        case .tables: return table?.forward(input)
        case .matrix: return nil
        }
    }

    /// This convolution of packed spikes as a fused layer's bypass, for a layer that alone
    /// reads it (`FusedSpikingLayer.Bypass`): with tables, the kernel and its padded input,
    /// so the layer looks up each block's rows itself and they are never stored; with the
    /// matrix product, its rows left pixel-major. Nil for the other kernels.
    func bypass(_ input: SpikePatterns, _ choice: Choice) -> FusedSpikingLayer.Bypass? {
        switch choice {
        case .tables: return table.map { .lookups(FusedSpikingLayer.Lookups(table: $0, spikes: $0.padded(input))) }
        case .matrix: return matrix.map { .rows($0.forwardRows(input)) }
        case .dense, .events: return nil
        }
    }

    /// The convolution of packed spikes (`readsPatterns` was true, so `choice` is a spike
    /// kernel; nil otherwise).
    func forward(_ input: SpikePatterns, _ choice: Choice) -> Tensor? {
        switch choice {
        case .dense: return nil
        case .events: return spikeEvents?.forward(input)
        case .tables: return table?.forward(input)
        case .matrix: return matrix?.forward(input)
        }
    }
}
