import SNNConversion
import SNNEvaluation
import SNNGraph
import SNNNIR
import SNNTasks

extension Pipeline {
    /// The integer form of a converted (float) SNN: thresholds folded into the weights, then
    /// weights, biases and thresholds on the power-of-two grids of `QuantizeWeights`. The
    /// conversion settings stay in the metadata beside the `QuantizationRecord`.
    public static func quantize(_ model: ConvertedModel, options: QuantizationOptions) throws -> ConvertedModel {
        try options.validate()
        if model.quantization != nil {
            let name = model.graph.source.isEmpty ? "the model" : model.graph.source
            throw PipelineError("\(name) is already quantized (\(model.quantization!.summary)); quantize the float SNN it came from instead")
        }
        let folded = try model.graph.foldingThresholds(shapes: NIRExporter.plannedShapes(model.graph))
        return try ConvertedModel(try QuantizeWeights(options: options).apply(to: folded))
    }
}

extension Pipeline {
    /// The integer forms of `model` at each of `widths`, each simulated on `data` like the
    /// model itself: one more curve per form for the table and the report's plots.
    public static func simulateIntegerForms(of model: ConvertedModel, widths: [QuantizationOptions], on data: any EvaluationData,
                                            task: EvaluationTask = .defaultClassification, settings: SimulationSettings,
                                            progress: ((String) -> Void)? = nil) throws -> [BaselineRun] {
        try integerFormTallies(of: model, widths: widths, on: data, task: task, settings: settings, progress: progress).map(\.run)
    }

    /// The statistics behind `simulateIntegerForms`.
    static func integerFormTallies(of model: ConvertedModel, widths: [QuantizationOptions], on data: any EvaluationData,
                                   task: EvaluationTask, settings: SimulationSettings, progress: ((String) -> Void)?) throws -> [BaselineTally] {
        let forms = try widths.map { try quantize(model, options: $0) }  // every width checked before the first simulation
        return try zip(widths, forms).map { width, form in
            let name = "\(width.weightBits)-bit, per \(width.granularity.rawValue)" +
                (width.stateBits == QuantizationOptions.widestState ? "" : ", \(width.stateBits)-bit state")
            progress?(name)
            let evaluator = try form.evaluator(settings, task: task)
            let tally = try evaluator.tally(data)
            var delay = 0
            switch evaluator.options.delay {
            case .estimated(let d), .fixed(let d): delay = d
            case .calibrated(let schedule): delay = schedule.start(forSteps: settings.timeSteps)
            case .none, .half: break
            }
            return BaselineTally(method: name, calibrationBatches: model.info?.calibrationBatches ?? 0, delay: delay, tally: tally)
        }
    }
}
