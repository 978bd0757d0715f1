import SNNConversion
import SNNEvaluation
import SNNReport

extension RunReport {
    /// The report of a pipeline run.
    public init(command: String, model: String, run: PipelineRun) {
        var conversion = run.conversion.map(ConversionSummary.init)
        conversion?.including(run.tuning)
        self.init(command: command, model: model, conversion: conversion, evaluation: run.evaluation,
                  baselines: run.baselines, quantization: run.quantization)
    }

    /// The report of a conversion alone, and of the tuning after it when one ran.
    public init(command: String, model: String, conversion: ConversionResult, tuning: LatencyTuningReport? = nil) {
        var summary = ConversionSummary(conversion)
        summary.including(tuning)
        self.init(command: command, model: model, conversion: summary)
    }
}

extension ConversionSummary {
    /// Adds what the low-latency tuning measured and chose.
    mutating func including(_ tuning: LatencyTuningReport?) {
        guard let tuning else { return }
        potentialSteps = tuning.potentialSteps
        potentialShortfall = tuning.potentialRounds?.map(\.relativeError)
        readoutStarts = tuning.readoutStarts
    }
}
