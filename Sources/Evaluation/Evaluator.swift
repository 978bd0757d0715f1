import Foundation
import SNNConversion
import SNNGraph
import SNNSimulation
import SNNTasks
import SNNTensor

/// Settings of an evaluation: the simulation, the readout delay and the task.
public struct EvaluationOptions: Sendable {
    /// Steps, checkpoints and kernel settings of the simulation.
    public var simulation: SimulationOptions
    /// The readout delay rule; none by default.
    public var delay: DelayMode = .none
    /// How the output is scored; top-1 and top-5 classification by default.
    public var task: EvaluationTask = .defaultClassification
    /// Options for `timeSteps` steps, scored at `checkpoints` (nil: powers of two up to T, and T).
    public init(timeSteps: Int, checkpoints: [Int]? = nil) {
        simulation = SimulationOptions(timeSteps: timeSteps, checkpoints: checkpoints)
    }
}

/// Ground truth that does not fit the network or the task, named with its data file.
public struct EvaluationError: Error, CustomStringConvertible, Equatable {
    /// The data file, and what is wrong with its ground truth or values.
    public var description: String
    init(data: String, _ error: TaskError) { description = "\(data): \(error)" }

    /// A NaN or infinity in the input: every output it reaches would be NaN, scored as a
    /// wrong answer with no word said.
    init(data: String, nonFiniteSample sample: Int, position: [Int], value: Float) {
        description = "\(data): image \(sample) holds \(value) at \(position) of its \(position.count == 3 ? "[channel, row, column]" : "axes"); " +
            "inputs must be finite numbers. Fix the file, or the preprocessing that produced it."
    }
}

/// Runs the ANN, the clip-ANN and the SNN on the same data and scores them with the task's
/// metric at every checkpoint of one simulation.
public struct Evaluator {
    /// The ANN the SNN is compared with.
    public let ann: Graph
    /// The converted network, simulated and run as the clip-ANN.
    public let converted: Graph
    /// Steps, checkpoints, delay and task.
    public var options: EvaluationOptions

    /// An evaluator of `converted` against `ann`.
    public init(ann: Graph, converted: Graph, options: EvaluationOptions) {
        self.ann = ann
        self.converted = converted
        self.options = options
    }

    /// Runs the ANN, the clip-ANN and the SNN on every batch of `data` and scores them; `progress` gets
    /// (samples done, samples in all).
    /// Throws `EvaluationError` for non-finite inputs or ground truth that does not fit the outputs.
    public func evaluate(_ data: any EvaluationData, progress: ((Int, Int) -> Void)? = nil) throws -> EvaluationResult {
        let start = Date()
        let sim = options.simulation
        let checkpoints = sim.checkpoints
        var simOptions = sim
        let starts = Set(checkpoints.map { options.delay.start(forSteps: $0) }).union(checkpoints)
        simOptions.windowStarts = starts.filter { $0 < sim.timeSteps }
        guard data.batchCount > 0, data.sampleCount > 0 else {
            throw SimulationError.invalidOptions("\(data.name): the evaluation data is empty")
        }
        let inputName = converted.runtimeInputs[0].name
        let outputNames = converted.outputs.map(\.name)
        let annOutputs = ann.outputs.map(\.name)
        var annPlans = [[Int]: ExecutionPlan](), clipPlans = [[Int]: ExecutionPlan](), simulators = [[Int]: Simulator]()
        // Windows (start, end] scored for the headline-metric matrix (classification only).
        let windowStarts = Array(Set([0] + checkpoints)).sorted()
        let scoresWindows: Bool
        if case .classification = options.task { scoresWindows = true } else { scoresWindows = false }

        var metrics: ScoreBoard? = nil
        var activity = ActivityTotals()
        var annMACs = 0.0
        var images = 0
        var gaps = [Double](repeating: 0, count: checkpoints.count)

        for b in 0..<data.batchCount {
            let (x, targets) = try data.batch(b)
            let shape = x.shape
            if let bad = x.firstNonFinite() {
                throw EvaluationError(data: data.name, nonFiniteSample: images + bad.position[0], position: Array(bad.position.dropFirst()),
                                      value: bad.value)
            }
            guard targets.count == shape[0] else {
                throw EvaluationError(data: data.name, .countMismatch(what: "ground truth of the batch starting at sample \(images)",
                                                                      expected: shape[0], actual: targets.count))
            }
            if annPlans[shape] == nil {
                let annPlan = try ExecutionPlan(graph: ann, inputShapes: [ann.runtimeInputs[0].name: shape])
                annPlans[shape] = annPlan
                if annMACs == 0 { annMACs = Double(annPlan.layerCosts().reduce(0) { $0 + $1.macs }) / Double(shape[0]) }
                let clipPlan = try ExecutionPlan(graph: converted, inputShapes: [inputName: shape])
                clipPlans[shape] = clipPlan
                simulators[shape] = try Simulator(graph: converted, inputShape: shape, options: simOptions)
                if metrics == nil {
                    let outputs = outputNames.map { (name: $0, shape: clipPlan.shapes[$0] ?? []) }
                    metrics = try wrap(data) {
                        try ScoreBoard(task: options.task, outputs: outputs, annOutputs: annOutputs, checkpoints: checkpoints,
                                       windowStarts: scoresWindows ? windowStarts : [])
                    }
                }
            }
            let annOut = try annPlans[shape]!.run([ann.runtimeInputs[0].name: x])
            var clipActivations = [String: Tensor]()
            let clipNodes = converted.nodes
            let clipOut = try clipPlans[shape]!.run([inputName: x], observe: { index, outputs in
                if case .ifNeuron = clipNodes[index].op { clipActivations[clipNodes[index].name] = outputs[0] }
            })
            let result = try simulators[shape]!.run(x, clipActivations: clipActivations)
            try wrap(data) {
                try metrics!.ann.add(ScoreBoard.renamed(annOut, from: annOutputs, to: outputNames), targets: targets)
                try metrics!.clipANN.add(clipOut, targets: targets)
                for (i, t) in checkpoints.enumerated() {
                    let plain = try result.outputs(from: 0, to: t)
                    try metrics!.plain[i].add(plain, targets: targets)
                    let t0 = options.delay.start(forSteps: t)
                    let delayed = t0 > 0 ? try result.outputs(from: t0, to: t) : plain
                    try metrics!.delayed[i].add(delayed, targets: targets)
                    gaps[i] += Self.relativeGap(outputNames.compactMap { delayed[$0] }, outputNames.compactMap { clipOut[$0] }) * Double(shape[0])
                    for s in windowStarts where scoresWindows && s < t {
                        // The plain and delayed windows are already averaged.
                        let window = s == 0 ? plain : (s == t0 ? delayed : try result.outputs(from: s, to: t))
                        try metrics!.windows["\(s)-\(t)"]!.add(window, targets: targets)
                    }
                }
            }
            activity.add(result, checkpoints: checkpoints.count)
            images += shape[0]
            progress?(images, data.sampleCount)
        }
        guard let metrics else { throw SimulationError.invalidOptions("\(data.name): the evaluation data is empty") }
        let n = Double(max(images, 1))
        let task = options.task
        let analogPerImage = activity.analogMACs / n
        let cumulativeOps = activity.cumulativeOpsPerImage(images: n, steps: sim.timeSteps)
        func energy(_ t: Int) -> [EnergyComparison] {
            EnergyPreset.all.map { EnergyComparison(preset: $0, steps: t, synapticOps: cumulativeOps[t], analogMACsPerStep: analogPerImage, annMACs: annMACs) }
        }
        let hasDelay = options.delay != .none
        let score = { (m: any TaskMetric) in TaskScore(values: m.values, primary: task.primaryMetric) }
        let scores = checkpoints.enumerated().map { i, t in
            CheckpointScore(steps: t, score: score(metrics.plain[i]), delayed: hasDelay ? score(metrics.delayed[i]) : nil,
                            windowStart: options.delay.start(forSteps: t), gapToClipANN: gaps[i] / n,
                            synapticOpsPerImage: cumulativeOps[t], energy: energy(t))
        }
        let annScore = score(metrics.ann)
        let reach = [0.9, 0.95, 0.99].map { f -> TargetReach in
            let hit = scores.first { $0.effective.primary >= f * annScore.primary }
            return TargetReach(fraction: f, steps: hit?.steps, synapticOpsPerImage: hit?.synapticOpsPerImage, energy: hit.map { energy($0.steps) } ?? [])
        }
        var windows = [WindowScore]()
        for t in checkpoints {
            for s in windowStarts where s < t {
                if let m = metrics.windows["\(s)-\(t)"] { windows.append(WindowScore(start: s, end: t, value: score(m).primary)) }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        return EvaluationResult(task: task.name, metricNames: task.metricNames, primaryMetric: task.primaryMetric,
                                images: images, timeSteps: sim.timeSteps, ann: annScore, clipANN: score(metrics.clipANN), snn: scores,
                                layers: activity.summaries(images: n, checkpoints: checkpoints, steps: sim.timeSteps),
                                annMACsPerImage: annMACs, analogMACsPerStepPerImage: analogPerImage, reach: reach, windows: windows,
                                seconds: seconds, imagesPerSecond: n / max(seconds, 1e-9))
    }

    /// Task errors concern the data's ground truth: name the data file.
    private func wrap<T>(_ data: any EvaluationData, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TaskError { throw EvaluationError(data: data.name, error) }
    }

    static func relativeGap(_ a: [Tensor], _ b: [Tensor]) -> Double {
        var d = 0.0, m = 0.0
        for (ta, tb) in zip(a, b) {
            for (x, y) in zip(ta.storage, tb.storage) { d += abs(Double(x - y)); m += abs(Double(y)) }
        }
        return m > 0 ? d / m : d
    }
}

/// One metric instance per scored network: the ANN, the clip-ANN, the SNN at each
/// checkpoint (plain and delayed readout) and each scored readout window.
struct ScoreBoard {
    var ann: any TaskMetric
    var clipANN: any TaskMetric
    var plain: [any TaskMetric]
    var delayed: [any TaskMetric]
    /// "start-end" -> metric.
    var windows: [String: any TaskMetric]

    init(task: EvaluationTask, outputs: [(name: String, shape: [Int])], annOutputs: [String], checkpoints: [Int], windowStarts: [Int]) throws {
        guard annOutputs.count == outputs.count else {
            throw TaskError.invalidArgument("the ANN has \(annOutputs.count) outputs but the converted model \(outputs.count); they must correspond")
        }
        let make = { try task.makeMetric(outputs: outputs) }
        ann = try make()
        clipANN = try make()
        plain = try checkpoints.map { _ in try make() }
        delayed = try checkpoints.map { _ in try make() }
        windows = [:]
        for t in checkpoints { for s in windowStarts where s < t { windows["\(s)-\(t)"] = try make() } }
    }

    /// The ANN's outputs under the converted model's output names (same order).
    static func renamed(_ outputs: [String: Tensor], from: [String], to: [String]) -> [String: Tensor] {
        var r = [String: Tensor]()
        for (a, b) in zip(from, to) { r[b] = outputs[a] }
        return r
    }
}
