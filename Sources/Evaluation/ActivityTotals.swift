import SNNSimulation

/// Spike, synaptic-operation and gap counts of an evaluation, batch by batch, turned into
/// per-image and per-neuron figures at the end.
///
/// Spike and operation counts are whole numbers held in doubles (fan-outs are whole
/// numbers), exact below 2^53, so their sums do not depend on the order of addition and
/// two parts of a run add up to the whole. The layers' clip-ANN gaps are not whole: they
/// are kept per batch and summed in batch order when asked for, which makes a merged run's
/// sums the very sums one run over all batches makes.
struct ActivityTotals: Sendable, Codable, Equatable {
    /// Neuron layer names and neurons per sample, in execution order.
    private(set) var names = [String](), neurons = [Int]()
    /// [layer][step] spikes and synaptic operations summed over every sample.
    private var spikes = [[Double]](), ops = [[Double]]()
    /// [batch][layer]: the checkpoint gap numerators, then the clip-ANN magnitude.
    private var batchGaps = [[[Double]]]()
    /// MACs of the analog layers per step, summed over every sample.
    private(set) var analogMACs = 0.0

    mutating func add(_ result: SimulationResult, checkpoints: Int) {
        if spikes.isEmpty {
            spikes = result.layers.map { _ in [Double](repeating: 0, count: result.timeSteps) }
            ops = spikes
            neurons = result.layers.map(\.neurons)
            names = result.layers.map(\.node)
        }
        var gaps = [[Double]]()
        for (l, layer) in result.layers.enumerated() {
            gaps.append((0..<checkpoints).map { $0 < layer.gapToClipANN.count ? layer.gapToClipANN[$0] : 0 } + [layer.clipANNMagnitude])
            for t in 0..<result.timeSteps {
                spikes[l][t] += layer.spikesPerStep[t]
                ops[l][t] += layer.synapticOpsPerStep[t]
            }
        }
        batchGaps.append(gaps)
        analogMACs += Double(result.analogMACsPerStep)
    }

    /// Adds the totals of `later`, the batches after this one's, with the same layers.
    mutating func append(_ later: ActivityTotals) throws {
        guard later.names == names, later.neurons == neurons, later.spikes.map(\.count) == spikes.map(\.count) else {
            throw EvaluationTallyError("the neuron layers differ (\(names.count) layers against \(later.names.count))")
        }
        for l in spikes.indices {
            for t in spikes[l].indices {
                spikes[l][t] += later.spikes[l][t]
                ops[l][t] += later.ops[l][t]
            }
        }
        batchGaps += later.batchGaps
        analogMACs += later.analogMACs
    }

    /// Throws unless every per-layer array has the sizes `steps` and `checkpoints` give.
    func validate(steps: Int, checkpoints: Int, batches: Int) throws {
        let layers = names.count
        guard neurons.count == layers, spikes.count == layers, ops.count == layers,
              spikes.allSatisfy({ $0.count == steps }), ops.allSatisfy({ $0.count == steps }), batchGaps.count == batches,
              batchGaps.allSatisfy({ $0.count == layers && $0.allSatisfy { $0.count == checkpoints + 1 } }) else {
            throw EvaluationTallyError("the activity counts do not fit \(layers) layers, \(steps) steps, \(checkpoints) checkpoints and \(batches) batches")
        }
    }

    /// Synaptic operations per image over steps 1...t, for t in 0...steps.
    func cumulativeOpsPerImage(images n: Double, steps: Int) -> [Double] {
        var cumulative = [Double](repeating: 0, count: steps + 1)
        for t in 0..<steps { cumulative[t + 1] = cumulative[t] + ops.reduce(0) { $0 + $1[t] } / n }
        return cumulative
    }

    func summaries(images n: Double, checkpoints: [Int], steps: Int) -> [LayerSummary] {
        var gapSums = names.map { _ in [Double](repeating: 0, count: checkpoints.count) }
        var magnitudes = [Double](repeating: 0, count: names.count)
        for batch in batchGaps {
            for (l, terms) in batch.enumerated() {
                for i in checkpoints.indices { gapSums[l][i] += terms[i] }
                magnitudes[l] += terms[checkpoints.count]
            }
        }
        return names.indices.map { l -> LayerSummary in
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
