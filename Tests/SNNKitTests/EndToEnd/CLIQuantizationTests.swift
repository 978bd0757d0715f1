import Foundation
import Testing
@testable import SNNKit

/// `convert --weight-bits` on a converted model, `inspect` of the integer SNN, `simulate`
/// of it and of a float SNN's integer forms (`--compare-bits`), and the refusals.
@Suite struct CLIQuantizationTests {
    @Test func quantizeInspectAndSimulateAnIntegerSNN() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = folder.path("vgg.w6.snn.onnx")
        let convert = try snnkit.run(["convert", E2EFiles.converted, "--weight-bits", "6", "--scale-granularity", "layer", "--state-bits", "20",
                                      "-o", output, "--json"])
        try #require(convert.status == 0, "\(convert)")
        let record = try convert.json()
        #expect(CLIPipelineTests.value(record, "options", "weight_bits") as? Int == 6)
        #expect(CLIPipelineTests.value(record, "options", "granularity") as? String == "layer")
        let layers = try #require(record["layers"] as? [[String: Any]])
        #expect(layers.compactMap { $0["neuron"] as? String } == Array(E2EFiles.reluNodes.dropFirst()), "the analog first layer stays float")
        #expect(layers.allSatisfy { ($0["exponents"] as? [Int])?.count == 1 }, "one threshold per layer")

        // The file holds the integers the record describes: INT8 weights read back exactly.
        let graph = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: output))
        #expect(graph.integerConstants.values.contains { $0.storageBits == 8 })
        for (name, encoding) in graph.integerConstants {
            let t = try #require(graph.floatConstant(name))
            let integers = try #require(encoding.integers(of: t.storage, shape: t.shape), "\(name)")
            if encoding.storageBits == 8 { #expect(integers.allSatisfy { abs($0) <= 31 }, "6-bit weights") }
        }

        let inspect = try snnkit.run(["inspect", output])
        #expect(inspect.status == 0 && inspect.stdout.contains("integer SNN: 6-bit weights, per-layer scales, 20-bit saturating state"), "\(inspect)")

        let simulate = try snnkit.run(["simulate", output, "--data", E2EFiles.data, "-T", "8", "--batch-size", "8", "--json"])
        try #require(simulate.status == 0, "\(simulate)")
        #expect((CLIPipelineTests.value(try simulate.json(), "evaluation", "snn") as? [[String: Any]])?.count == 4)
        #expect(CLIPipelineTests.value(try simulate.json(), "quantization", "options", "state_bits") as? Int == 20)
    }

    /// The float SNN and its integer forms on the same data: one more row each, scored
    /// like the library scores the same integer form.
    @Test func simulateComparesIntegerForms() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["simulate", E2EFiles.converted, "--data", E2EFiles.data, "-T", "8", "--batch-size", "8",
                                  "--compare-bits", "8,4", "--compare-granularity", "channel", "--json"])
        try #require(run.status == 0, "\(run)")
        let forms = try #require(try run.json()["baselines"] as? [[String: Any]])
        #expect(forms.compactMap { $0["method"] as? String } == ["8-bit, per channel", "4-bit, per channel"])
        let model = try ConvertedModel(contentsOf: E2EFiles.converted)
        let four = try Pipeline.quantize(model, options: QuantizationOptions(weightBits: 4))
        let source = try DataSources.open(path: E2EFiles.data)
        let all = try source.batch(0..<source.count)
        let data = InMemoryLabeledBatches(images: all.images, labels: try #require(all.labels), batchSize: 8)
        let expected = try Pipeline.simulate(four, on: data, settings: SimulationSettings(timeSteps: 8)).snn.map { $0.effective.primary }
        #expect(forms[1]["values"] as? [Double] == expected)
    }

    /// eval converts, quantizes and scores the integer SNN against the float ANN (whose
    /// answers are the labels, so it scores 100%); the scores are the library's for the
    /// same integer form.
    @Test func evalScoresTheIntegerSNNAgainstTheFloatANN() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["eval", E2EFiles.model, "--calib", E2EFiles.data, "--preset", "none", "--batch-size", "8",
                                  "--calib-batches", "2", "--data", E2EFiles.data, "-T", "8", "--weight-bits", "4", "--json"])
        try #require(run.status == 0, "\(run)")
        let report = try run.json()
        let evaluation = try #require(report["evaluation"] as? [String: Any])
        #expect(CLIPipelineTests.value(evaluation, "ann", "values", "top1") as? Double == 1, "the float ANN")
        #expect(CLIPipelineTests.value(report, "quantization", "options", "weight_bits") as? Int == 4, "the report names the integer form")
        let graph = try Pipeline.loadModel(E2EFiles.model)
        let source = try DataSources.open(path: E2EFiles.data)
        let all = try source.batch(0..<source.count)
        let data = InMemoryLabeledBatches(images: all.images, labels: try #require(all.labels), batchSize: 8)
        var conversion = ConversionOptions()
        conversion.budget = .fixed(2)
        let calibration = InMemoryBatches([all.images.samples(0..<8), all.images.samples(8..<16)])
        let expected = try Pipeline.evaluate(graph, calibration: calibration, conversion: conversion,
                                             quantization: QuantizationOptions(weightBits: 4), data: data,
                                             settings: SimulationSettings(timeSteps: 8)).evaluation
        let snn = try #require(evaluation["snn"] as? [[String: Any]])
        #expect(snn.compactMap { CLIPipelineTests.value($0, "score", "values") as? [String: Double] } == expected.snn.map(\.score.values))
        let operations = snn.compactMap { $0["synaptic_ops_per_image"] as? Double }
        #expect(operations == expected.snn.map(\.synapticOpsPerImage))
        let float = try Pipeline.evaluate(graph, calibration: calibration, conversion: conversion, data: data,
                                          settings: SimulationSettings(timeSteps: 8)).evaluation
        #expect(operations != float.snn.map(\.synapticOpsPerImage), "the integer SNN fires otherwise than the float one")
    }

    @Test func refusals() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let quantized = folder.path("q.snn.onnx")
        try #require(try snnkit.run(["convert", E2EFiles.converted, "--weight-bits", "4", "-o", quantized]).status == 0)
        let cases: [([String], Int32, [String])] = [
            (["convert", E2EFiles.converted, "--weight-bits", "9"], 64, ["weight bits must be 2 to 8"]),
            (["convert", E2EFiles.converted, "--weight-bits", "8", "--state-bits", "30"], 64, ["state bits must be 4 to 24"]),
            (["convert", E2EFiles.converted, "--state-bits", "16"], 64, ["--weight-bits"]),
            (["convert", E2EFiles.converted, "-o", folder.path("x.snn.onnx")], 65, ["already a spiking network", "--weight-bits"]),
            (["convert", quantized, "--weight-bits", "8", "-o", folder.path("x.snn.onnx")], 65, ["already quantized", "q.snn.onnx"]),
            (["convert", E2EFiles.converted, "--weight-bits", "8", "--state-bits", "4", "-o", folder.path("x.snn.onnx")], 65,
             ["state bits are too few", "--state-bits"]),
            (["simulate", E2EFiles.converted, "--data", E2EFiles.data, "--compare-bits", "1"], 64, ["weight bits must be 2 to 8"]),
            (["convert", E2EFiles.converted, "--weight-bits", "8", "--report", folder.path("r"), "-o", folder.path("x.snn.onnx")], 65,
             ["--report", "already converted"]),
        ]
        for (arguments, status, mentions) in cases {
            let run = try snnkit.run(arguments)
            #expect(run.status == status, "\(arguments): \(run)")
            for m in mentions { #expect(run.stderr.lowercased().contains(m.lowercased()), "\(arguments): \(run.stderr)") }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path("x.snn.onnx")), "a refused run writes nothing")
    }
}
