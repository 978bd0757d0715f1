import SNNSimulation
import SNNTasks

/// Two tallies that cannot be added, or a decoded tally whose parts do not fit together.
public struct EvaluationTallyError: Error, CustomStringConvertible, Equatable {
    /// What differs or does not fit.
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The sufficient statistics of an evaluation: everything its `EvaluationResult` is
/// computed from, kept as counts and sums rather than averages, so that tallies of
/// consecutive parts of the data add up to the tally of one run over all of it.
///
/// Parts must follow the single run's batches (the same batch size, each part a run of
/// whole batches): a batch's spikes depend on the kernels its firing density picks, and
/// its clip-ANN gap is a ratio over the batch. Given that, every count is a sum of whole
/// numbers, exact in any order, and every other sum is kept per batch and added in batch
/// order, so `result` of a merged tally equals the single run's bit for bit (timings apart).
public struct EvaluationTally: Sendable, Codable {
    /// classification, segmentation or detection.
    public var task: String
    /// Metric names in report order; `primaryMetric` is the first.
    public var metricNames: [String]
    /// The headline metric's name.
    public var primaryMetric: String
    /// T_max: steps simulated.
    public var timeSteps: Int
    /// The checkpoints scored, in increasing T.
    public var checkpoints: [Int]
    /// Per checkpoint, the start of the delayed readout window (0 without delay).
    public var readoutStarts: [Int]
    /// Whether a readout delay is set (the delayed score is then reported).
    public var hasDelay: Bool
    /// Window starts of the scored readout-window matrix (empty when the task scores none).
    public var windowStarts: [Int]
    /// The ANN's multiply-accumulates per image.
    public var annMACsPerImage: Double
    /// Samples scored.
    public var images: Int
    /// Batches scored.
    public var batches: Int
    /// Wall-clock seconds spent scoring (summed over merged parts).
    public var seconds: Double

    var ann: MetricTally
    var clipANN: MetricTally
    var plain: [MetricTally]
    var delayed: [MetricTally]
    /// "start-end" -> the headline metric's statistics on that readout window.
    var windows: [String: MetricTally]
    var activity: ActivityTotals
    /// [batch][checkpoint]: the batch's relative output gap to the clip-ANN times its size.
    var outputGaps: [[Double]]

    /// Adds `later`, the tally of the batches that follow this one's, made with the same
    /// model and settings. Throws, saying what differs, when the two do not belong together.
    public mutating func append(_ later: EvaluationTally) throws {
        func same<T: Equatable>(_ a: T, _ b: T, _ what: String) throws {
            guard a == b else { throw EvaluationTallyError("\(what) differ: \(a) against \(b)") }
        }
        try same(task, later.task, "the tasks")
        try same(metricNames, later.metricNames, "the metrics")
        try same(timeSteps, later.timeSteps, "the time steps")
        try same(checkpoints, later.checkpoints, "the checkpoints")
        try same(readoutStarts, later.readoutStarts, "the delayed readout starts")
        try same(hasDelay, later.hasDelay, "the delay settings")
        try same(windowStarts, later.windowStarts, "the readout windows")
        try same(annMACsPerImage, later.annMACsPerImage, "the ANN's MACs per image")
        try same(Set(windows.keys), Set(later.windows.keys), "the readout windows")
        do {
            try ann.append(later.ann)
            try clipANN.append(later.clipANN)
            for i in plain.indices {
                try plain[i].append(later.plain[i])
                try delayed[i].append(later.delayed[i])
            }
            for key in windows.keys { try windows[key]!.append(later.windows[key]!) }
        } catch let error as TaskError {
            throw EvaluationTallyError("the scores do not add up: \(error)")
        }
        try activity.append(later.activity)
        outputGaps += later.outputGaps
        images += later.images
        batches += later.batches
        seconds += later.seconds
    }

    /// Throws unless a decoded tally is consistent: one statistic per checkpoint, activity
    /// arrays of the sizes the settings give, counts that are not negative.
    public func validate() throws {
        let n = checkpoints.count
        guard timeSteps > 0, n > 0, checkpoints.allSatisfy({ (1...timeSteps).contains($0) }), readoutStarts.count == n,
              plain.count == n, delayed.count == n, images > 0, batches > 0, outputGaps.count == batches,
              outputGaps.allSatisfy({ $0.count == n }), annMACsPerImage >= 0, seconds >= 0 else {
            throw EvaluationTallyError("the statistics do not fit \(n) checkpoints, \(batches) batches and \(images) images")
        }
        do {
            for tally in [ann, clipANN] + plain + delayed + Array(windows.values) { try tally.validate() }
        } catch let error as TaskError {
            throw EvaluationTallyError("damaged scores: \(error)")
        }
        try activity.validate(steps: timeSteps, checkpoints: n, batches: batches)
    }

    /// The scores, activity and energy the tally holds, as one run over its samples reports them.
    public func result() -> EvaluationResult {
        let n = Double(max(images, 1))
        let analogPerImage = activity.analogMACs / n
        let cumulativeOps = activity.cumulativeOpsPerImage(images: n, steps: timeSteps)
        let annMACs = annMACsPerImage
        func energy(_ t: Int) -> [EnergyComparison] {
            EnergyPreset.all.map { EnergyComparison(preset: $0, steps: t, synapticOps: cumulativeOps[t], analogMACsPerStep: analogPerImage, annMACs: annMACs) }
        }
        var gaps = [Double](repeating: 0, count: checkpoints.count)
        for batch in outputGaps { for i in gaps.indices { gaps[i] += batch[i] } }
        let primary = primaryMetric
        let score = { (m: MetricTally) in TaskScore(values: m.values, primary: primary) }
        let scores = checkpoints.enumerated().map { i, t in
            CheckpointScore(steps: t, score: score(plain[i]), delayed: hasDelay ? score(delayed[i]) : nil,
                            windowStart: readoutStarts[i], gapToClipANN: gaps[i] / n,
                            synapticOpsPerImage: cumulativeOps[t], energy: energy(t))
        }
        let annScore = score(ann)
        let reach = [0.9, 0.95, 0.99].map { f -> TargetReach in
            let hit = scores.first { $0.effective.primary >= f * annScore.primary }
            return TargetReach(fraction: f, steps: hit?.steps, synapticOpsPerImage: hit?.synapticOpsPerImage, energy: hit.map { energy($0.steps) } ?? [])
        }
        var windowScores = [WindowScore]()
        for t in checkpoints {
            for s in windowStarts where s < t {
                if let m = windows["\(s)-\(t)"] { windowScores.append(WindowScore(start: s, end: t, value: score(m).primary)) }
            }
        }
        return EvaluationResult(task: task, metricNames: metricNames, primaryMetric: primaryMetric,
                                images: images, timeSteps: timeSteps, ann: annScore, clipANN: score(clipANN), snn: scores,
                                layers: activity.summaries(images: n, checkpoints: checkpoints, steps: timeSteps),
                                annMACsPerImage: annMACs, analogMACsPerStepPerImage: analogPerImage, reach: reach, windows: windowScores,
                                seconds: seconds, imagesPerSecond: n / max(seconds, 1e-9))
    }
}
