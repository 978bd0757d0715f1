import SNNSimulation

/// Spike, synaptic-operation and gap counts summed over the batches of an evaluation,
/// turned into per-image and per-neuron figures at the end.
struct ActivityTotals {
    private var spikes = [[Double]](), ops = [[Double]]()
    private var neurons = [Int](), names = [String]()
    private var gapSums = [[Double]](), magnitudes = [Double]()
    private(set) var analogMACs = 0.0

    mutating func add(_ result: SimulationResult, checkpoints: Int) {
        if spikes.isEmpty {
            gapSums = result.layers.map { _ in [Double](repeating: 0, count: checkpoints) }
            magnitudes = [Double](repeating: 0, count: result.layers.count)
            spikes = result.layers.map { _ in [Double](repeating: 0, count: result.timeSteps) }
            ops = spikes
            neurons = result.layers.map(\.neurons)
            names = result.layers.map(\.node)
        }
        for (l, layer) in result.layers.enumerated() {
            for (i, g) in layer.gapToClipANN.enumerated() where i < checkpoints { gapSums[l][i] += g }
            magnitudes[l] += layer.clipANNMagnitude
            for t in 0..<result.timeSteps {
                spikes[l][t] += layer.spikesPerStep[t]
                ops[l][t] += layer.synapticOpsPerStep[t]
            }
        }
        analogMACs += Double(result.analogMACsPerStep)
    }

    /// Synaptic operations per image over steps 1...t, for t in 0...steps.
    func cumulativeOpsPerImage(images n: Double, steps: Int) -> [Double] {
        var cumulative = [Double](repeating: 0, count: steps + 1)
        for t in 0..<steps { cumulative[t + 1] = cumulative[t] + ops.reduce(0) { $0 + $1[t] } / n }
        return cumulative
    }

    func summaries(images n: Double, checkpoints: [Int], steps: Int) -> [LayerSummary] {
        names.indices.map { l -> LayerSummary in
            let perNeuronStep = Double(neurons[l]) * n
            var running = 0.0, rates = [Double]()
            var next = 0
            for t in 0..<steps {
                running += spikes[l][t]
                if next < checkpoints.count && checkpoints[next] == t + 1 {
                    rates.append(running / (perNeuronStep * Double(t + 1)))
                    next += 1
                }
            }
            return LayerSummary(node: names[l], neurons: neurons[l], firingRate: running / (perNeuronStep * Double(steps)),
                                firingRateAtCheckpoints: rates, synapticOpsPerImage: ops[l].reduce(0, +) / n,
                                gapToClipANN: gapSums[l].map { magnitudes[l] > 0 ? $0 / magnitudes[l] : 0 })
        }
    }
}
