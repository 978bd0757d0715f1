import Foundation
import SNNConversion
import SNNData
import SNNEvaluation
import SNNGraph
import SNNReport
import SNNTasks

extension Pipeline {
    /// `snnkit simulate --part k/n`: simulates the converted model in `modelFile` on part
    /// `part` of `data` (and its integer forms at `integerForms`), and returns the part's
    /// statistics for `merge`. `identity` names what else changes the numbers (the ground
    /// truth file, say), to be compared across parts.
    public static func simulatePart(modelFile: String, data: any EvaluationData, part: DataPart, task: EvaluationTask = .defaultClassification,
                                    settings: SimulationSettings, integerForms: [QuantizationOptions] = [], identity: [String: String] = [:],
                                    progress: PipelineProgress = PipelineProgress()) throws -> EvaluationPart {
        try settings.validate()
        let fingerprint = try FileFingerprint(ofFileAt: modelFile)
        let converted = try ConvertedModel(contentsOf: modelFile)
        let slice = try PartOfData(data, part: part)
        try checkMemory(converted.graph, evaluating: data, budget: settings.memoryBudget)
        let main = try converted.evaluator(settings, task: task).tally(slice, progress: progress.simulation)
        let forms = integerForms.isEmpty ? nil
            : try integerFormTallies(of: converted, widths: integerForms, on: slice, task: task, settings: settings, progress: progress.baseline)
        var keys = partSettings(settings, task: task, data: data, identity: identity)
        keys["integer forms"] = integerForms.map { "\($0)" }.joined(separator: "; ")
        return EvaluationPart(command: "snnkit simulate", model: modelFile, modelFingerprint: fingerprint, data: data.name, settings: keys,
                              part: part, slice: slice, tally: main, baselines: forms, quantization: converted.quantization, conversion: nil)
    }

    /// `snnkit eval --part k/n`: `evaluate` on part `part` of `data`. Every part converts
    /// the model on the same calibration batches, which gives the same converted model
    /// (the conversion is deterministic); the first part's conversion is reported.
    public static func evaluatePart(modelFile: String, calibration: (any CalibrationSource)?, conversion: ConversionOptions = ConversionOptions(),
                                    tuning: LatencyTuning = .standard, quantization: QuantizationOptions? = nil, data: any EvaluationData, part: DataPart,
                                    task: EvaluationTask = .defaultClassification, settings: SimulationSettings, baselines: Bool = false,
                                    identity: [String: String] = [:], progress: PipelineProgress = PipelineProgress()) throws -> EvaluationPart {
        try settings.validate()
        let fingerprint = try FileFingerprint(ofFileAt: modelFile)
        let model = try loadModel(modelFile)
        let slice = try PartOfData(data, part: part)
        let t = try evaluationTallies(model, calibration: calibration, conversion: conversion, tuning: tuning, quantization: quantization, data: slice,
                                      task: task, settings: settings, baselines: baselines, progress: progress)
        var keys = partSettings(settings, task: task, data: data, identity: identity)
        keys["conversion"] = "\(conversion)"
        keys["tuning"] = "\(tuning)"
        keys["calibration"] = calibration.map { "\($0.origin), \($0.distinctBatches) batches" } ?? "none"
        keys["quantization"] = quantization.map { "\($0)" } ?? "none"
        keys["baselines"] = "\(baselines)"
        return EvaluationPart(command: "snnkit eval", model: modelFile, modelFingerprint: fingerprint, data: data.name, settings: keys,
                              part: part, slice: slice, tally: t.main, baselines: t.baselines, quantization: t.quantization,
                              conversion: t.conversion.map { conversion in
                                  var summary = ConversionSummary(conversion)
                                  summary.including(t.tuning)
                                  return summary
                              })
    }

    /// The settings of a part that change its numbers, as text to compare across parts.
    static func partSettings(_ settings: SimulationSettings, task: EvaluationTask, data: any EvaluationData,
                             identity: [String: String]) -> [String: String] {
        var keys = identity
        keys["simulation"] = "\(settings)"
        keys["task"] = "\(task)"
        keys["batch size"] = "\(data.batchSize)"
        if let labeled = data as? LabeledBatches, let source = labeled.source as? ArraySource {
            keys["preprocessing"] = "\(source.preprocessing)"
            keys["image layout"] = "\(source.storedLayout)"
        }
        return keys
    }
}

extension EvaluationPart {
    /// A part of the run `command` on `model`, covering `slice`.
    init(command: String, model: String, modelFingerprint: FileFingerprint, data: String, settings: [String: String], part: DataPart,
         slice: PartOfData, tally: EvaluationTally, baselines: [BaselineTally]?, quantization: QuantizationRecord?,
         conversion: ConversionSummary?) {
        self.command = command
        self.model = model
        self.modelFingerprint = modelFingerprint
        self.data = data
        self.settings = settings
        self.part = part
        firstBatch = slice.batches.lowerBound
        batches = slice.batches.count
        totalBatches = slice.whole.batchCount
        firstSample = slice.samples.lowerBound
        samples = slice.samples.count
        totalSamples = slice.whole.sampleCount
        self.tally = tally
        self.baselines = baselines
        self.quantization = quantization
        self.conversion = conversion
    }
}
