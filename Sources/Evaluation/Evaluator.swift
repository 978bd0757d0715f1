import Foundation
import SNNConversion
import SNNGraph
import SNNSimulation
import SNNTasks
import SNNTensor

/// Labeled evaluation data, batch by batch.
public protocol LabeledBatchSource {
    var batchCount: Int { get }
    var sampleCount: Int { get }
    func batch(_ index: Int) throws -> (images: Tensor, labels: [Int])
}

/// Where the readout average starts (shared/method.md, section 4).
public enum DelayMode: Sendable, Equatable, Codable {
    /// Average from the first step.
    case none
    /// Average over (t0, T] with the delay estimated at conversion time (t0 = T - 4 when T < t0 + 4).
    case estimated(Int)
    /// A user-fixed t0 (same rule for short runs).
    case fixed(Int)
    /// t0 = T/2 (the paper's choice for segmentation).
    case half

    public func start(forSteps t: Int) -> Int {
        switch self {
        case .none: return 0
        case .estimated(let d), .fixed(let d): return DelayEstimate(steps: d, perLayer: []).start(forSteps: t)
        case .half: return t / 2
        }
    }
}

public struct EvaluationOptions: Sendable {
    public var simulation: SimulationOptions
    public var delay: DelayMode = .none
    public var topK: [Int] = [1, 5]
    public init(timeSteps: Int, checkpoints: [Int]? = nil) {
        simulation = SimulationOptions(timeSteps: timeSteps, checkpoints: checkpoints)
    }
}

/// Top-k accuracies (fractions) for one network or one checkpoint.
public struct Accuracy: Sendable, Codable, Equatable {
    public var top1: Double
    public var top5: Double
}

public struct CheckpointScore: Sendable, Codable, Equatable {
    public var steps: Int
    /// Averaging from the first step.
    public var accuracy: Accuracy
    /// Averaging over (windowStart, steps] (delayed evaluation), when a delay is set.
    public var delayed: Accuracy?
    public var windowStart: Int
    /// Mean absolute gap between the SNN readout (delayed window when set) and the clip-ANN
    /// output, relative to the clip-ANN's mean magnitude: how far the simulation still is
    /// from the network it converges to.
    public var gapToClipANN: Double
    /// Synaptic operations per image over steps 1...steps.
    public var synapticOpsPerImage: Double
    public var energy: [EnergyComparison]
}

public struct LayerSummary: Sendable, Codable, Equatable {
    public var node: String
    public var neurons: Int
    /// Spikes per neuron per step, over the whole run.
    public var firingRate: Double
    /// Spikes per neuron per step at each checkpoint (rate over steps 1...T).
    public var firingRateAtCheckpoints: [Double]
    /// Synaptic operations per image over the whole run.
    public var synapticOpsPerImage: Double
    /// At each checkpoint: mean |SNN average output - clip-ANN activation| over mean
    /// |clip-ANN activation| for this layer. Where it stays high, this layer costs accuracy.
    public var gapToClipANN: [Double]
}

public struct TargetReach: Sendable, Codable, Equatable {
    /// Fraction of the ANN's top-1 (0.9, 0.95, 0.99).
    public var fraction: Double
    /// First checkpoint T where the SNN (delayed if set) reaches it, or nil.
    public var steps: Int?
    public var synapticOpsPerImage: Double?
    public var energy: [EnergyComparison]
}

public struct EvaluationResult: Sendable, Codable {
    public var images: Int
    public var timeSteps: Int
    public var ann: Accuracy
    public var clipANN: Accuracy
    public var snn: [CheckpointScore]
    public var layers: [LayerSummary]
    public var annMACsPerImage: Double
    public var analogMACsPerStepPerImage: Double
    public var reach: [TargetReach]
    /// Top-1 for readout windows (start, end], start in [0] + checkpoints, end in checkpoints.
    public var windowTop1: [WindowScore]
    public var seconds: Double
    public var imagesPerSecond: Double
}

public struct WindowScore: Sendable, Codable, Equatable {
    public var start: Int
    public var end: Int
    public var top1: Double
}

/// Runs the ANN, the clip-ANN and the SNN on the same labeled data and scores them at
/// every checkpoint of one simulation.
public struct Evaluator {
    public let ann: Graph
    public let converted: Graph
    public var options: EvaluationOptions

    public init(ann: Graph, converted: Graph, options: EvaluationOptions) {
        self.ann = ann
        self.converted = converted
        self.options = options
    }

    public func evaluate(_ data: any LabeledBatchSource, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let start = Date()
        let sim = options.simulation
        let checkpoints = sim.checkpoints
        var simOptions = sim
        let starts = Set(checkpoints.map { options.delay.start(forSteps: $0) }).union(checkpoints)
        simOptions.windowStarts = starts.filter { $0 < sim.timeSteps }
        guard data.batchCount > 0 else { throw SimulationError.invalidOptions("the evaluation data is empty") }
        let inputName = converted.runtimeInputs[0].name
        let outputName = converted.outputs[0].name
        var annPlans = [[Int]: ExecutionPlan](), clipPlans = [[Int]: ExecutionPlan](), simulators = [[Int]: Simulator]()

        var images = 0
        var annHits = [0, 0], clipHits = [0, 0]
        var hits = [[Int]](repeating: [0, 0], count: checkpoints.count)
        var delayedHits = [[Int]](repeating: [0, 0], count: checkpoints.count)
        var gaps = [Double](repeating: 0, count: checkpoints.count)
        var windowStarts = [0] + checkpoints
        windowStarts = Array(Set(windowStarts)).sorted()
        var windowHits = [String: Int]()
        var spikes = [[Double]](), ops = [[Double]]()
        var neurons = [Int](), names = [String]()
        var analogMACs = 0.0
        var annMACs = 0.0
        var gapSums = [[Double]](), magnitudes = [Double]()
        let k5 = options.topK.last ?? 5

        for b in 0..<data.batchCount {
            let (x, labels) = try data.batch(b)
            let shape = x.shape
            if annPlans[shape] == nil {
                annPlans[shape] = try ExecutionPlan(graph: ann, inputShapes: [ann.runtimeInputs[0].name: shape])
                if annMACs == 0 { annMACs = Double(annPlans[shape]!.layerCosts().reduce(0) { $0 + $1.macs }) / Double(shape[0]) }
                clipPlans[shape] = try ExecutionPlan(graph: converted, inputShapes: [inputName: shape])
                simulators[shape] = try Simulator(graph: converted, inputShape: shape, options: simOptions)
            }
            let annOut = try annPlans[shape]!.run([ann.runtimeInputs[0].name: x])[ann.outputs[0].name]!
            var clipActivations = [String: Tensor]()
            let clipNodes = converted.nodes
            let clipOut = try clipPlans[shape]!.run([inputName: x], observe: { index, outputs in
                if case .ifNeuron = clipNodes[index].op { clipActivations[clipNodes[index].name] = outputs[0] }
            })[outputName]!
            annHits[0] += Classification.correct(scores: annOut, labels: labels, k: 1)
            annHits[1] += Classification.correct(scores: annOut, labels: labels, k: k5)
            clipHits[0] += Classification.correct(scores: clipOut, labels: labels, k: 1)
            clipHits[1] += Classification.correct(scores: clipOut, labels: labels, k: k5)
            let result = try simulators[shape]!.run(x, clipActivations: clipActivations)
            for (i, t) in checkpoints.enumerated() {
                let plain = try result.outputs(from: 0, to: t)[outputName]!
                hits[i][0] += Classification.correct(scores: plain, labels: labels, k: 1)
                hits[i][1] += Classification.correct(scores: plain, labels: labels, k: k5)
                let t0 = options.delay.start(forSteps: t)
                let delayed = t0 > 0 ? try result.outputs(from: t0, to: t)[outputName]! : plain
                delayedHits[i][0] += Classification.correct(scores: delayed, labels: labels, k: 1)
                delayedHits[i][1] += Classification.correct(scores: delayed, labels: labels, k: k5)
                gaps[i] += Self.relativeGap(delayed, clipOut) * Double(labels.count)
                for s in windowStarts where s < t && s > 0 {
                    let out = try result.outputs(from: s, to: t)[outputName]!
                    windowHits["\(s)-\(t)", default: 0] += Classification.correct(scores: out, labels: labels, k: 1)
                }
                windowHits["0-\(t)", default: 0] += Classification.correct(scores: plain, labels: labels, k: 1)
            }
            if spikes.isEmpty {
                gapSums = result.layers.map { _ in [Double](repeating: 0, count: checkpoints.count) }
                magnitudes = [Double](repeating: 0, count: result.layers.count)
                spikes = result.layers.map { _ in [Double](repeating: 0, count: sim.timeSteps) }
                ops = spikes
                neurons = result.layers.map(\.neurons)
                names = result.layers.map(\.node)
            }
            for (l, layer) in result.layers.enumerated() {
                for (i, g) in layer.gapToClipANN.enumerated() where i < checkpoints.count { gapSums[l][i] += g }
                magnitudes[l] += layer.clipANNMagnitude
                for t in 0..<sim.timeSteps {
                    spikes[l][t] += layer.spikesPerStep[t]
                    ops[l][t] += layer.synapticOpsPerStep[t]
                }
            }
            analogMACs += Double(result.analogMACsPerStep)
            images += labels.count
            progress?(images, data.sampleCount)
        }
        let n = Double(max(images, 1))
        let analogPerImage = analogMACs / n
        // Cumulative SOPs per image.
        var cumulativeOps = [Double](repeating: 0, count: sim.timeSteps + 1)
        for t in 0..<sim.timeSteps { cumulativeOps[t + 1] = cumulativeOps[t] + ops.reduce(0) { $0 + $1[t] } / n }
        func energy(_ t: Int) -> [EnergyComparison] {
            EnergyPreset.all.map { EnergyComparison(preset: $0, steps: t, synapticOps: cumulativeOps[t], analogMACsPerStep: analogPerImage, annMACs: annMACs) }
        }
        let delayed = options.delay != .none
        let scores = checkpoints.enumerated().map { i, t in
            CheckpointScore(steps: t, accuracy: Accuracy(top1: Double(hits[i][0]) / n, top5: Double(hits[i][1]) / n),
                            delayed: delayed ? Accuracy(top1: Double(delayedHits[i][0]) / n, top5: Double(delayedHits[i][1]) / n) : nil,
                            windowStart: options.delay.start(forSteps: t), gapToClipANN: gaps[i] / n,
                            synapticOpsPerImage: cumulativeOps[t], energy: energy(t))
        }
        let annAccuracy = Accuracy(top1: Double(annHits[0]) / n, top5: Double(annHits[1]) / n)
        let reach = [0.9, 0.95, 0.99].map { f -> TargetReach in
            let hit = scores.first { ($0.delayed ?? $0.accuracy).top1 >= f * annAccuracy.top1 }
            return TargetReach(fraction: f, steps: hit?.steps, synapticOpsPerImage: hit?.synapticOpsPerImage, energy: hit.map { energy($0.steps) } ?? [])
        }
        let layers = names.indices.map { l -> LayerSummary in
            let perNeuronStep = Double(neurons[l]) * n
            var running = 0.0, rates = [Double]()
            var next = 0
            for t in 0..<sim.timeSteps {
                running += spikes[l][t]
                if next < checkpoints.count && checkpoints[next] == t + 1 {
                    rates.append(running / (perNeuronStep * Double(t + 1)))
                    next += 1
                }
            }
            return LayerSummary(node: names[l], neurons: neurons[l], firingRate: running / (perNeuronStep * Double(sim.timeSteps)),
                                firingRateAtCheckpoints: rates, synapticOpsPerImage: ops[l].reduce(0, +) / n,
                                gapToClipANN: gapSums[l].map { magnitudes[l] > 0 ? $0 / magnitudes[l] : 0 })
        }
        var windows = [WindowScore]()
        for t in checkpoints { for s in windowStarts where s < t { windows.append(WindowScore(start: s, end: t, top1: Double(windowHits["\(s)-\(t)"] ?? 0) / n)) } }
        let seconds = Date().timeIntervalSince(start)
        return EvaluationResult(images: images, timeSteps: sim.timeSteps, ann: annAccuracy,
                                clipANN: Accuracy(top1: Double(clipHits[0]) / n, top5: Double(clipHits[1]) / n), snn: scores, layers: layers,
                                annMACsPerImage: annMACs, analogMACsPerStepPerImage: analogPerImage, reach: reach, windowTop1: windows,
                                seconds: seconds, imagesPerSecond: n / max(seconds, 1e-9))
    }

    static func relativeGap(_ a: Tensor, _ b: Tensor) -> Double {
        var d = 0.0, m = 0.0
        for (x, y) in zip(a.storage, b.storage) { d += abs(Double(x - y)); m += abs(Double(y)) }
        return m > 0 ? d / m : d
    }
}

/// Labeled images held in memory, served in batches (the demo, tests).
public struct InMemoryLabeledBatches: LabeledBatchSource {
    public let images: Tensor
    public let labels: [Int]
    public let batchSize: Int

    public init(images: Tensor, labels: [Int], batchSize: Int) {
        self.images = images
        self.labels = labels
        self.batchSize = max(1, batchSize)
    }

    public var sampleCount: Int { labels.count }
    public var batchCount: Int { (labels.count + batchSize - 1) / batchSize }

    public func batch(_ index: Int) throws -> (images: Tensor, labels: [Int]) {
        let lo = index * batchSize, hi = min(labels.count, lo + batchSize)
        let per = images.count / max(images.shape[0], 1)
        return (Tensor(shape: [hi - lo] + images.shape.dropFirst(), storage: Array(images.storage[(lo * per)..<(hi * per)])),
                Array(labels[lo..<hi]))
    }
}
