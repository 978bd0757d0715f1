import Foundation
import SNNConversion
import SNNGraph
import SNNONNX

/// A converted (spiking) model with the settings it was converted with.
public struct ConvertedModel: Sendable {
    /// The graph with integrate-and-fire neurons.
    public var graph: Graph
    /// The stored conversion settings; nil for a model converted by something else.
    public var info: ConvertedModelInfo?
    /// The integer widths and thresholds of a quantized SNN; nil for a float one.
    public var quantization: QuantizationRecord?

    /// Wraps `graph`, reading its stored settings; throws unless it has neurons.
    public init(_ graph: Graph) throws {
        guard !graph.neuronLayers().isEmpty else {
            let name = graph.source.isEmpty ? "the model" : graph.source
            throw PipelineError("\(name) has no IF neurons: convert it first (snnkit convert \(name) --calib DATA)")
        }
        self.graph = graph
        info = try ConvertedModelInfo(reading: graph)
        quantization = try QuantizationRecord(reading: graph)
    }

    /// The converted model of a conversion run.
    public init(_ result: ConversionResult) throws { try self.init(result.graph) }

    /// Reads a converted model (.snn.onnx) from `path`.
    public init(contentsOf path: String) throws {
        try self.init(try ONNXImporter.load(contentsOf: URL(fileURLWithPath: path)))
    }

    /// The ANN it came from (neurons back to ReLU), to score the SNN against.
    public var ann: Graph { graph.restoringReLUs() }

    /// Writes the model as ONNX (with its settings in the metadata), atomically.
    public func write(to path: String) throws {
        try ONNXExporter.write(graph, to: URL(fileURLWithPath: path))
    }

    /// Writes the clip-ANN (ReLU then Min with the thresholds) as standard ONNX, planned
    /// for inputs of `inputShape`.
    public func writeClipANN(to path: String, inputShape: [Int]) throws {
        let plan: ExecutionPlan
        do {
            plan = try ExecutionPlan(graph: graph, inputShapes: [graph.runtimeInputs[0].name: inputShape],
                                     options: PlanOptions(fuseActivations: false))
        } catch let error as GraphError {
            throw ONNXError.graph(file: graph.source, error)
        }
        try ONNXExporter.write(graph.clipANNForExport(shapes: plan.shapes), to: URL(fileURLWithPath: path))
    }

    /// Where `snnkit convert` writes the converted form of `model`: MODEL.snn.onnx.
    public static func defaultPath(for model: String) -> String {
        URL(fileURLWithPath: model).deletingPathExtension().path + ".snn.onnx"
    }
}
