import SNNConversion
import SNNEvaluation
import SNNReport

extension RunReport {
    /// The report of a pipeline run.
    public init(command: String, model: String, run: PipelineRun) {
        self.init(command: command, model: model, conversion: run.conversion.map(ConversionSummary.init), evaluation: run.evaluation,
                  baselines: run.baselines, quantization: run.quantization)
    }

    /// The report of a conversion alone.
    public init(command: String, model: String, conversion: ConversionResult) {
        self.init(command: command, model: model, conversion: ConversionSummary(conversion))
    }
}
