import SNNTensor

/// What simulating one shard of a batch produced; `Simulator.run` merges the shards.
struct ShardRun {
    /// Per neuron layer (in `SimulationPlan.neuronLayers` order): the shard's spike and
    /// synaptic-operation counts and gap sums.
    var layers: [LayerActivity]
    /// Running sums of the readout values at the kept steps, for the shard's samples.
    var readoutSums: [String: [Int: Tensor]]
    /// Seconds per part, when timings are collected.
    var timings: [String: Double]
}
