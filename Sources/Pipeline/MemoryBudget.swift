import Foundation
import SNNConversion
import SNNData
import SNNEvaluation
import SNNGraph

/// How much memory a run may use, and the check that a batch fits in it before anything
/// is allocated for it.
///
/// A batch's activations grow linearly with its size (the weights do not), so the plan of
/// one sample gives the bytes of any batch, and the largest batch that fits.
public struct MemoryBudget: Sendable, Equatable {
    /// Bytes the run may use for activations.
    public var availableBytes: Int

    /// A budget of `availableBytes`.
    public init(availableBytes: Int) { self.availableBytes = availableBytes }

    /// What this machine has available now (MemAvailable of /proc/meminfo on Linux, the
    /// physical memory elsewhere).
    public static var machine: MemoryBudget {
        if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
           let kB = Int(line.split(separator: " ").dropFirst().first ?? "") {
            return MemoryBudget(availableBytes: kB * 1024)
        }
        return MemoryBudget(availableBytes: Int(ProcessInfo.processInfo.physicalMemory))
    }

    /// Throws `PipelineError` when `copies` times the activations of `graph` at `batch`
    /// samples of `sampleShape` exceed the budget, naming the largest tensor and the largest
    /// batch that fits. `what` names the run for the message ("simulating", "calibrating").
    /// An evaluation holds two copies (the clip-ANN's activations of every neuron layer, which
    /// the gaps compare with, and the simulator's state of the same sizes); calibration one.
    public func check(_ graph: Graph, sampleShape: [Int], batch: Int, copies: Int = 1, what: String) throws {
        guard let input = graph.runtimeInputs.first else { return }
        let plan: ExecutionPlan
        do { plan = try ExecutionPlan(graph: graph, inputShapes: [input.name: [1] + sampleShape]) } catch { return }  // planning errors surface later, named
        var perSample = plan.activationMemory
        perSample.bytes *= copies
        let (needed, overflow) = perSample.bytes.multipliedReportingOverflow(by: batch)
        guard overflow || needed > availableBytes else { return }
        let fits = perSample.bytes > 0 ? availableBytes / perSample.bytes : batch
        let largestBytes = perSample.largest.shape.reduce(1, *) * 4
        throw PipelineError(
            "\(what) a batch of \(batch) needs about \(Self.format(overflow ? Int.max : needed)) of activations "
                + "(the largest, '\(perSample.largest.name)', \(Self.format(largestBytes)) per sample), more than the "
                + "\(Self.format(availableBytes)) available; "
                + (fits > 0 ? "the largest batch that fits is \(fits): use --batch-size \(fits) or less"
                            : "not even one sample fits: use a machine with more memory"))
    }

    /// "1.5 GB", "320.0 MB".
    static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = Double(bytes), unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }
}

extension Pipeline {
    /// Checks that `graph` simulated and scored on `data`'s batches fits in `budget`
    /// (default: the machine's available memory).
    static func checkMemory(_ graph: Graph, evaluating data: any EvaluationData, budget: MemoryBudget?) throws {
        let batch = min(data.batchSize, max(data.sampleCount, 1))
        guard let shape = sampleShape(graph, source: (data as? LabeledBatches)?.source) else { return }
        try (budget ?? .machine).check(graph, sampleShape: shape, batch: batch, copies: 2, what: "simulating \(data.name):")
    }

    /// Checks that calibrating `graph` on `calibration`'s batches fits in the machine's memory.
    static func checkMemory(_ graph: Graph, calibrating calibration: any CalibrationSource) throws {
        guard let batches = calibration as? CalibrationBatches,
              let shape = sampleShape(graph, source: batches.source) else { return }
        try MemoryBudget.machine.check(graph, sampleShape: shape, batch: batches.batchSize, what: "calibrating on \(calibration.origin):")
    }

    /// One sample's shape: the data's, else what the model declares.
    private static func sampleShape(_ graph: Graph, source: (any DataSource)?) -> [Int]? {
        if let source { return source.sampleShape }
        guard let input = graph.runtimeInputs.first, let shape = try? graph.declaredInputShapes()[input.name] else { return nil }
        return Array(shape.dropFirst())
    }
}

