import Foundation
import Testing
@testable import SNNKit

/// Paths of the end-to-end fixtures: the VGG-like fixture network, its committed converted
/// form, and 16 labelled images the ANN classifies with 100% top-1 (labels are
/// onnxruntime's argmax, see Tests/Fixtures/e2e/README.md).
enum E2EFiles {
    static let model = Fixtures.onnx.appendingPathComponent("net_c_vgg/model.onnx").path
    static let converted = Fixtures.conversion.appendingPathComponent("net_c_vgg.snn.onnx").path
    static let data = Fixtures.e2e.appendingPathComponent("vgg_data.npz").path
    static let nanData = Fixtures.e2e.appendingPathComponent("vgg_nan.npz").path
    /// The ReLU nodes of net_c_vgg, which become the IF neuron layers.
    static let reluNodes = ["features.1", "features.3", "features.6", "classifier.1"]
}

/// convert, simulate and eval run as a user runs them, checked against the library and
/// against onnxruntime's labels.
@Suite struct CLIPipelineTests {
    /// A value at a path of nested JSON objects, e.g. `value(json, "evaluation", "ann")`.
    static func value(_ json: Any?, _ keys: String...) -> Any? {
        keys.reduce(json) { ($0 as? [String: Any])?[$1] }
    }

    @Test func convertWritesAModelThatSimulateReads() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = folder.path("vgg.snn.onnx"), clip = folder.path("vgg.clip.onnx")
        let convert = try snnkit.run(["convert", E2EFiles.model, "--calib", E2EFiles.data, "--preset", "none", "--batch-size", "8",
                                      "--calib-batches", "2", "-o", output, "--export-clip-onnx", clip, "--json", "--threads", "1"])
        try #require(convert.status == 0, "\(convert)")
        let json = try convert.json()
        #expect(json["command"] as? String == "snnkit convert")
        #expect(json["schema_version"] as? Int == RunReport.schemaVersion)
        let conversion = try #require(json["conversion"] as? [String: Any])
        #expect(conversion["calibration_batches"] as? Int == 2)
        #expect(conversion["batch_size"] as? Int == 8)
        let layers = try #require(conversion["layers"] as? [[String: Any]])
        #expect(layers.compactMap { $0["node"] as? String } == E2EFiles.reluNodes)

        // The file holds the thresholds the report describes, one per channel.
        let graph = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: output))
        let neurons = graph.neuronLayers()
        #expect(neurons.map(\.channels) == [8, 8, 16, 32])
        for (neuron, layer) in zip(neurons, layers) {
            let theta = try #require(graph.floatConstant(neuron.threshold))
            #expect(layer["channels"] as? Int == theta.count)
            #expect((layer["threshold_min"] as? Double).map(Float.init) == theta.storage.min())
            #expect((layer["threshold_max"] as? Double).map(Float.init) == theta.storage.max())
            #expect(theta.storage.allSatisfy { $0 > 0 && $0.isFinite })
        }
        #expect(graph.metadata["snnkit.source_model"] == "model.onnx")
        #expect(FileManager.default.fileExists(atPath: clip))

        let simulate = try snnkit.run(["simulate", output, "--data", E2EFiles.data, "-T", "8", "--batch-size", "8", "--json", "--threads", "1"])
        try #require(simulate.status == 0, "\(simulate)")
        let evaluation = try #require(try simulate.json()["evaluation"] as? [String: Any])
        #expect(evaluation["images"] as? Int == 16)
        // The labels are onnxruntime's answers, so the ANN recovered from the file scores 100%.
        #expect(Self.value(evaluation, "ann", "values", "top1") as? Double == 1)
        let snn = try #require(evaluation["snn"] as? [[String: Any]])
        #expect(snn.compactMap { $0["steps"] as? Int } == [1, 2, 4, 8])
    }

    /// The binary and the library, on the same file, data and options, give the same
    /// scores at every checkpoint: the CLI adds parsing and printing, nothing else.
    @Test func simulateMatchesTheLibraryEvaluator() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["simulate", E2EFiles.converted, "--data", E2EFiles.data, "-T", "16", "--batch-size", "8",
                                  "--json", "--threads", "1"])
        try #require(run.status == 0, "\(run)")
        let evaluation = try #require(try run.json()["evaluation"] as? [String: Any])

        let converted = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: E2EFiles.converted))
        var options = EvaluationOptions(timeSteps: 16)
        options.delay = converted.metadata["snnkit.delay"].flatMap(Int.init).map { .estimated($0) } ?? .none
        let source = try DataSources.open(path: E2EFiles.data)
        let all = try source.batch(0..<source.count)
        let data = InMemoryLabeledBatches(images: all.images, labels: try #require(all.labels), batchSize: 8)
        let expected = try Evaluator(ann: converted.restoringReLUs(), converted: converted, options: options).evaluate(data)

        #expect(evaluation["images"] as? Int == expected.images)
        #expect(Self.value(evaluation, "ann", "values") as? [String: Double] == expected.ann.values)
        #expect(Self.value(evaluation, "clip_ann", "values") as? [String: Double] == expected.clipANN.values)
        #expect(expected.ann["top1"] == 1, "the labels are the ANN's own answers")
        let snn = try #require(evaluation["snn"] as? [[String: Any]])
        try #require(snn.count == expected.snn.count)
        for (row, score) in zip(snn, expected.snn) {
            #expect(row["steps"] as? Int == score.steps)
            #expect(Self.value(row, "score", "values") as? [String: Double] == score.score.values, "T = \(score.steps)")
            #expect(Self.value(row, "delayed", "values") as? [String: Double] == score.delayed?.values, "T = \(score.steps)")
            #expect(row["synaptic_ops_per_image"] as? Double == score.synapticOpsPerImage, "T = \(score.steps)")
        }
        let layers = try #require(evaluation["layers"] as? [[String: Any]])
        #expect(layers.compactMap { $0["firing_rate"] as? Double } == expected.layers.map(\.firingRate))
    }

    @Test func evalConvertsScoresAndWritesTheSameReportItPrints() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let reportFolder = folder.path("report")
        let run = try snnkit.run(["eval", E2EFiles.model, "--calib", E2EFiles.data, "--calib-batches", "2", "--data", E2EFiles.data,
                                  "--batch-size", "8", "-T", "8", "--limit", "10", "--report", reportFolder, "--json", "--threads", "1"])
        try #require(run.status == 0, "\(run)")
        let printed = try run.json()
        #expect(printed["command"] as? String == "snnkit eval")
        #expect(Self.value(printed, "conversion", "calibration_batches") as? Int == 2)
        #expect(Self.value(printed, "evaluation", "images") as? Int == 10)
        #expect(Self.value(printed, "evaluation", "ann", "values", "top1") as? Double == 1)

        let files = try FileManager.default.contentsOfDirectory(atPath: reportFolder)
        #expect(Set(files) == ["report.json", "curves.csv", "top1.svg", "firing-rates.svg", "energy.svg", "thresholds.svg", "report.html"])
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportFolder).appendingPathComponent("report.json")))
        #expect(NSDictionary(dictionary: printed).isEqual(written), "report.json holds what --json printed")
    }
}
