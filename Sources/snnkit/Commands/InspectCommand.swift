import ArgumentParser
import Foundation
import SNNKit

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a model's layers with shapes, parameters and MACs, and flag what cannot be converted.",
        discussion: "Example: snnkit inspect resnet18.onnx --input-shape 1,3,224,224")

    @Argument(help: "ONNX model file.")
    var model: String

    @Option(name: .long, help: "Input shape, e.g. 1,3,224,224 (default: the model's declared shape, batch 1).")
    var inputShape: ShapeArgument?

    @OptionGroup var common: CommonOptions

    struct Report: Encodable {
        var model: String
        var opset: String
        var producer: String
        var inputs: [String: [Int]]
        var outputs: [String: [Int]]
        var layers: [LayerCost]
        var parameters: Int
        var macs: Int
        var operators: [String: Int]
        var blockers: [Blocker]
        /// Integrate-and-fire layers, when the model is a converted SNN.
        var neuronLayers: Int
        /// The integer form's widths and thresholds, when it is a quantized SNN.
        var quantization: QuantizationRecord?
        /// The readout starts chosen on data ("T:start" pairs), when the model holds them.
        var readoutStarts: String?
        /// The run length its initial potentials were calibrated for, when they were.
        var potentialSteps: Int?
    }

    struct Blocker: Encodable {
        var node: String
        var op: String
        var reason: String
    }

    func run() throws {
        try common.apply()
        try Failure.run {
            let graph = try ModelLoader.load(model)
            var operatorCounts = [String: Int]()
            for node in graph.nodes { operatorCounts[node.op.onnxType, default: 0] += 1 }
            let blockers = graph.conversionBlockers().map { Blocker(node: $0.node, op: $0.op, reason: $0.reason) }
            // Unsupported operators cannot be planned: report them without layer costs.
            let runnable = !graph.nodes.contains { if case .unsupported = $0.op { true } else { false } }
            var layers = [LayerCost]()
            var inputs = [String: [Int]](), outputs = [String: [Int]]()
            if runnable {
                let shapes = try ModelLoader.inputShapes(graph, given: inputShape)
                let plan = try ModelLoader.plan(graph, shapes)
                layers = plan.layerCosts()
                inputs = plan.inputShapes
                for o in graph.outputs { outputs[o.name] = plan.shapes[o.name] ?? [] }
            }
            let parameterCount = graph.parameterCount()
            let info = try ConvertedModelInfo(reading: graph)
            let report = Report(model: model, opset: graph.metadata["onnx.opset"] ?? "?", producer: graph.metadata["onnx.producer"] ?? "",
                                inputs: inputs, outputs: outputs, layers: layers, parameters: parameterCount,
                                macs: layers.reduce(0) { $0 + $1.macs }, operators: operatorCounts, blockers: blockers,
                                neuronLayers: graph.neuronLayers().count, quantization: try QuantizationRecord(reading: graph),
                                readoutStarts: info?.readoutSchedule?.description, potentialSteps: info?.potentialSteps)
            if common.json {
                try JSONOutput.print(report)
            } else {
                printTable(report, graph: graph)
            }
        }
    }

    func printTable(_ r: Report, graph: Graph) {
        print("\(r.model)  (opset \(r.opset)\(r.producer.isEmpty ? "" : ", \(r.producer)"))")
        for (name, shape) in r.inputs.sorted(by: { $0.key < $1.key }) { print("  input  \(name): \(Format.shape(shape))") }
        for (name, shape) in r.outputs.sorted(by: { $0.key < $1.key }) { print("  output \(name): \(Format.shape(shape))") }
        print("")
        var table = TextTable(["#", "node", "op", "output", "params", "MACs"], leftAligned: [1, 2, 3])
        for (i, l) in r.layers.enumerated() {
            table.add(["\(i)", l.node, l.op, Format.shape(l.outputShape), l.parameters > 0 ? Format.count(Double(l.parameters)) : "",
                       l.macs > 0 ? Format.count(Double(l.macs)) : ""])
        }
        if !r.layers.isEmpty { print(table.render()) }
        print("")
        print("parameters: \(Format.count(Double(r.parameters)))   MACs per run: \(Format.count(Double(r.macs)))   nodes: \(graph.nodes.count)")
        print("operators: " + r.operators.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
        if r.neuronLayers > 0 {
            print("spiking network: \(r.neuronLayers) integrate-and-fire layers")
            if let q = r.quantization {
                print(String(format: "integer SNN: %@; %.3f%% of its integer weights clipped", q.summary, q.clippedShare * 100))
            }
            if let t = r.potentialSteps { print("initial potentials: calibrated per channel for T = \(t)") }
            if let starts = r.readoutStarts { print("readout starts chosen on data (T:start): \(starts)") }
        } else if r.blockers.isEmpty {
            let neurons = graph.nodes.filter { $0.op.conversionRole == .neuron }.count
            print("conversion: ok, \(neurons) ReLU layers become integrate-and-fire neurons")
        } else {
            print("conversion: blocked by \(r.blockers.count) node(s):")
            for b in r.blockers { print("  \(b.node) (\(b.op)): \(b.reason)") }
        }
    }
}
