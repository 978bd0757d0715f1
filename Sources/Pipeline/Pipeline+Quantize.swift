import SNNConversion
import SNNGraph
import SNNNIR

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
