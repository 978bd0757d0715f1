import SNNSpikeKernels
import SNNTensor

/// What passes between the nodes of one chunk outside the plan's own values: packed
/// spikes, results a fused layer computed ahead of its neuron node, currents kept for
/// folded Adds and bypasses left for fused layers. Empty at the start of every chunk.
struct ChunkTraffic {
    /// Packed spikes and their density, by value name, for the convolutions reading them.
    var spikeMaps: [String: (patterns: SpikePatterns, density: Double)] = [:]
    /// Fused layers' results, waiting for their neuron node (by neuron name).
    var fusedResults: [String: IFLayerState.Output] = [:]
    /// The second current of a folded Add, waiting for its neuron (by neuron name).
    var bypass: [String: Tensor] = [:]
    /// The currents fused layers' folded Adds need, kept when produced (by value name).
    var kept: [String: Tensor] = [:]
    /// Bypasses a convolution left for its fused layer (`SpikingConvolution.bypass`).
    var preparedBypasses: [String: FusedSpikingLayer.Bypass] = [:]
    /// The spike kernel each convolution ran, by dynamic node index (timings only).
    var kernelRan: [Int: SpikingConvolution.Choice] = [:]
}
