import SNNGraph
import SNNSimulation
import SNNTasks
import SNNTensor

/// One evaluation in progress: the plans and simulators per batch shape, and the sums the
/// result is made of (metrics, spike and operation counts, clip-ANN gaps), batch by batch.
struct EvaluationRun {
    let evaluator: Evaluator
    let data: any EvaluationData
    let checkpoints: [Int]
    /// The simulation options with the readout windows the delay rule and checkpoints need.
    let simulation: SimulationOptions
    /// Window starts scored for the headline-metric matrix (classification only).
    let windowStarts: [Int]
    let scoresWindows: Bool
    let inputName: String
    let outputNames: [String]
    let annOutputs: [String]

    private var annPlans = [[Int]: ExecutionPlan](), clipPlans = [[Int]: ExecutionPlan](), simulators = [[Int]: Simulator]()
    private var metrics: ScoreBoard? = nil
    private var activity = ActivityTotals()
    private var annMACs = 0.0
    /// [batch][checkpoint] relative output gap times the batch size, summed in batch order at the end.
    private var outputGaps = [[Double]]()
    /// Samples scored so far.
    private(set) var images = 0
    private var batches = 0

    init(_ evaluator: Evaluator, data: any EvaluationData) {
        let options = evaluator.options
        let sim = options.simulation
        checkpoints = sim.checkpoints
        var simulation = sim
        let starts = Set(checkpoints.map { options.delay.start(forSteps: $0) }).union(checkpoints)
        simulation.windowStarts = starts.filter { $0 < sim.timeSteps }
        self.simulation = simulation
        windowStarts = Array(Set([0] + checkpoints)).sorted()
        if case .classification = options.task { scoresWindows = true } else { scoresWindows = false }
        inputName = evaluator.converted.runtimeInputs[0].name
        outputNames = evaluator.converted.outputs.map(\.name)
        annOutputs = evaluator.ann.outputs.map(\.name)
        self.evaluator = evaluator
        self.data = data
    }

    /// Runs the ANN, the clip-ANN and the SNN on one batch and adds their scores.
    mutating func add(_ x: Tensor, targets: TaskTargets) throws {
        let shape = x.shape
        if let bad = x.firstNonFinite() {
            throw EvaluationError(data: data.name, nonFiniteSample: images + bad.position[0], position: Array(bad.position.dropFirst()),
                                  value: bad.value)
        }
        guard targets.count == shape[0] else {
            throw EvaluationError(data: data.name, .countMismatch(what: "ground truth of the batch starting at sample \(images)",
                                                                  expected: shape[0], actual: targets.count))
        }
        if annPlans[shape] == nil { try prepare(for: shape) }
        let (ann, converted) = (evaluator.ann, evaluator.converted)
        let annOut = try annPlans[shape]!.run([ann.runtimeInputs[0].name: x])
        var clipActivations = [String: Tensor]()
        let clipNodes = converted.nodes
        let clipOut = try clipPlans[shape]!.run([inputName: x], observe: { index, outputs in
            if case .ifNeuron = clipNodes[index].op { clipActivations[clipNodes[index].name] = outputs[0] }
        })
        let result = try simulators[shape]!.run(x, clipActivations: clipActivations)
        try wrap { try score(result, ann: annOut, clipANN: clipOut, targets: targets, samples: shape[0]) }
        activity.add(result, checkpoints: checkpoints.count)
        images += shape[0]
        batches += 1
    }

    /// Plans the ANN, the clip-ANN and the simulator for a batch shape; the first shape
    /// also fixes the metrics and the ANN's MACs per image.
    private mutating func prepare(for shape: [Int]) throws {
        let (ann, converted) = (evaluator.ann, evaluator.converted)
        let annPlan = try ExecutionPlan(graph: ann, inputShapes: [ann.runtimeInputs[0].name: shape])
        annPlans[shape] = annPlan
        if annMACs == 0 { annMACs = Double(annPlan.layerCosts().reduce(0) { $0 + $1.macs }) / Double(shape[0]) }
        let clipPlan = try ExecutionPlan(graph: converted, inputShapes: [inputName: shape])
        clipPlans[shape] = clipPlan
        simulators[shape] = try Simulator(graph: converted, inputShape: shape, options: simulation)
        if metrics == nil {
            let outputs = outputNames.map { (name: $0, shape: clipPlan.shapes[$0] ?? []) }
            let (task, annOutputs, checkpoints) = (evaluator.options.task, annOutputs, checkpoints)
            let windowStarts = scoresWindows ? windowStarts : []
            metrics = try wrap {
                try ScoreBoard(task: task, outputs: outputs, annOutputs: annOutputs, checkpoints: checkpoints, windowStarts: windowStarts)
            }
        }
    }

    /// Scores one batch: the ANN, the clip-ANN, and the SNN's plain and delayed readout and
    /// readout windows at every checkpoint; adds the clip-ANN gaps weighted by the batch size.
    private mutating func score(_ result: SimulationResult, ann annOut: [String: Tensor], clipANN clipOut: [String: Tensor],
                                targets: TaskTargets, samples: Int) throws {
        let delay = evaluator.options.delay
        try metrics!.ann.add(ScoreBoard.renamed(annOut, from: annOutputs, to: outputNames), targets: targets)
        try metrics!.clipANN.add(clipOut, targets: targets)
        var gaps = [Double](repeating: 0, count: checkpoints.count)
        for (i, t) in checkpoints.enumerated() {
            let plain = try result.outputs(from: 0, to: t)
            try metrics!.plain[i].add(plain, targets: targets)
            let t0 = delay.start(forSteps: t)
            let delayed = t0 > 0 ? try result.outputs(from: t0, to: t) : plain
            try metrics!.delayed[i].add(delayed, targets: targets)
            gaps[i] = Evaluator.relativeGap(outputNames.compactMap { delayed[$0] }, outputNames.compactMap { clipOut[$0] }) * Double(samples)
            for s in windowStarts where scoresWindows && s < t {
                // The plain and delayed windows are already averaged.
                let window = s == 0 ? plain : (s == t0 ? delayed : try result.outputs(from: s, to: t))
                try metrics!.windows["\(s)-\(t)"]!.add(window, targets: targets)
            }
        }
        outputGaps.append(gaps)
    }

    /// The statistics of everything added, for a run that took `seconds`.
    func tally(seconds: Double) throws -> EvaluationTally {
        guard let metrics else { throw SimulationError.invalidOptions("\(data.name): the evaluation data is empty") }
        let options = evaluator.options
        return EvaluationTally(
            task: options.task.name, metricNames: options.task.metricNames, primaryMetric: options.task.primaryMetric,
            timeSteps: simulation.timeSteps, checkpoints: checkpoints, readoutStarts: checkpoints.map { options.delay.start(forSteps: $0) },
            hasDelay: options.delay != .none, windowStarts: scoresWindows ? windowStarts : [], annMACsPerImage: annMACs,
            images: images, batches: batches, seconds: seconds,
            ann: MetricTally(metrics.ann), clipANN: MetricTally(metrics.clipANN), plain: metrics.plain.map(MetricTally.init),
            delayed: metrics.delayed.map(MetricTally.init), windows: metrics.windows.mapValues(MetricTally.init),
            activity: activity, outputGaps: outputGaps)
    }

    /// Task errors concern the data's ground truth: name the data file.
    private func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as TaskError { throw EvaluationError(data: data.name, error) }
    }
}
