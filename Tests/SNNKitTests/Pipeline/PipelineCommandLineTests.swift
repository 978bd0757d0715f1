import Foundation
import Testing
@testable import SNNDemo
@testable import SNNKit

/// The library calls of SNNPipeline give what `snnkit convert` and `snnkit simulate` print:
/// the CLI is a thin layer over them. The demo model and its data, written as .npy files,
/// go through both paths; the numbers must agree exactly (results do not depend on threads).
@Suite(.serialized) struct PipelineCommandLineTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-pipeline-\(UUID().uuidString)")

    func writeDemoData(_ assets: Demo.Assets) throws -> (train: String, test: String, labels: String) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let train = dir.appendingPathComponent("train.npy"), test = dir.appendingPathComponent("test.npy")
        let labels = dir.appendingPathComponent("labels.npy")
        // 400 training images (4 batches) and 200 test images keep the run short.
        let per = assets.trainImages.count / assets.trainImages.shape[0]
        try CommandLineRunner.writeNPY(train, shape: [400] + assets.trainImages.shape.dropFirst(), floats: Array(assets.trainImages.storage[0..<(400 * per)]))
        try CommandLineRunner.writeNPY(test, shape: [200] + assets.testImages.shape.dropFirst(), floats: Array(assets.testImages.storage[0..<(200 * per)]))
        try CommandLineRunner.writeNPY(labels, shape: [200], int64: Array(assets.testLabels[0..<200]))
        return (train.path, test.path, labels.path)
    }

    @Test func convertAndSimulateMatchTheCommandLine() throws {
        defer { try? FileManager.default.removeItem(at: dir) }
        let assets = try Demo.loadAssets()
        let files = try writeDemoData(assets)
        let modelPath = try Demo.resource("digits-cnn.onnx").path
        let cliModel = dir.appendingPathComponent("cli.snn.onnx").path

        let convert = try CommandLineRunner.run(["convert", modelPath, "--calib", files.train, "--calib-batches", "3", "--eta", "0.5",
                                                 "-o", cliModel, "--json", "--quiet"])
        #expect(convert.status == 0, "\(convert.stderr)")
        let simulate = try CommandLineRunner.run(["simulate", cliModel, "--data", files.test, "--labels", files.labels, "-T", "16",
                                                  "--checkpoints", "4,16", "--json", "--quiet"])
        #expect(simulate.status == 0, "\(simulate.stderr)")

        // The same through the library.
        let data = DataSettings(batchSize: 100)
        let options = try ConversionOptions(method: "ltb", eta: 0.5, calibrationBatches: "3")
        let conversion = try Pipeline.convert(try Pipeline.loadModel(modelPath), calibration: try data.calibration(files.train), options: options)
        // convert tunes the readout starts on the held-out batches by default.
        let (model, _) = try Pipeline.tune(try ConvertedModel(conversion), calibration: try data.calibration(files.train), tuning: .standard,
                                           options: options)
        let test = try EvaluationDataSettings(data: files.test, labels: files.labels).open(data)
        let result = try Pipeline.simulate(model, on: test, task: test.task, settings: SimulationSettings(timeSteps: 16, checkpoints: [4, 16]))

        let cliConversion = try #require(try JSONSerialization.jsonObject(with: Data(convert.stdout.utf8)) as? [String: Any])["conversion"] as? [String: Any]
        #expect(cliConversion?["calibration_batches"] as? Int == conversion.batchesUsed)
        #expect((cliConversion?["delay"] as? [String: Any])?["steps"] as? Int == conversion.delay.steps)
        let cliLayers = try #require(cliConversion?["layers"] as? [[String: Any]])
        #expect(cliLayers.map { ($0["threshold_max"] as? Double).map(Float.init) } == conversion.layers.map(\.thresholdMax))

        // The file the CLI wrote carries the same settings, read back through ConvertedModelInfo.
        let cliInfo = try #require(try ConvertedModel(contentsOf: cliModel).info)
        #expect(cliInfo.method == "ltb" && cliInfo.eta == 0.5 && cliInfo.calibrationBatches == 3 && cliInfo.delay == conversion.delay.steps)
        #expect(cliInfo.sourceModel == "digits-cnn.onnx" && cliInfo == model.info)

        let evaluation = try #require(try JSONSerialization.jsonObject(with: Data(simulate.stdout.utf8)) as? [String: Any])["evaluation"] as? [String: Any]
        #expect(evaluation?["images"] as? Int == 200)
        #expect(((evaluation?["ann"] as? [String: Any])?["primary"] as? Double) == result.ann.primary)
        #expect(((evaluation?["clip_ann"] as? [String: Any])?["primary"] as? Double) == result.clipANN.primary)
        let rows = try #require(evaluation?["snn"] as? [[String: Any]])
        #expect(rows.map { $0["steps"] as? Int } == [4, 16])
        for (row, score) in zip(rows, result.snn) {
            #expect(((row["delayed"] as? [String: Any])?["primary"] as? Double) == score.delayed?.primary)
            #expect(((row["score"] as? [String: Any])?["primary"] as? Double) == score.score.primary)
            // Large non-integral numbers come back from JSONSerialization within an ulp or so.
            let ops = try #require(row["synaptic_ops_per_image"] as? Double)
            #expect(abs(ops - score.synapticOpsPerImage) <= 1e-12 * score.synapticOpsPerImage)
        }
        #expect(result.ann.primary > 0.9, "the demo classifier is trained")
    }

    @Test func inspectCountsOnlyWeights() throws {
        // net_d_segmentation: convolutions, a transposed convolution and a Resize whose
        // scales are a 4-element float initializer. Its parameters, counted with onnx in
        // Python over the Conv/ConvTranspose weight and bias inputs, are 1099; all float
        // initializers together are 1103.
        let path = Fixtures.onnx.appendingPathComponent("net_d_segmentation/model.onnx").path
        let inspect = try CommandLineRunner.run(["inspect", path, "--json"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])
        #expect(json["parameters"] as? Int == 1099)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.reduce(0) { $0 + ($1["parameters"] as? Int ?? 0) } == 1099, "the per-layer counts agree")
    }

    @Test func badSettingsAreUsageErrorsBeforeAnyWork() throws {
        let modelPath = try Demo.resource("digits-cnn.onnx").path
        let cases: [([String], String)] = [
            (["eval", modelPath, "--calib", "missing.npy", "--data", "missing.npy", "-T", "8", "--checkpoints", "4,9"], "checkpoint 9 is outside 1...8"),
            (["eval", modelPath, "--calib", "missing.npy", "--data", "missing.npy", "--max-calib-batches", "0"], "--max-calib-batches"),
            (["eval", modelPath, "--calib", "missing.npy", "--data", "missing.npy", "--eta", "-1"], "--eta"),
            (["convert", modelPath, "--calib", "missing.npy", "--initial-potential", "2"], "--initial-potential"),
            (["simulate", modelPath, "--data", "missing.npy", "-T", "0"], "T (time steps) must be positive"),
        ]
        for (arguments, fragment) in cases {
            let r = try CommandLineRunner.run(arguments)
            #expect(r.status == 64, "\(arguments): \(r.stderr)")
            #expect(r.stderr.contains(fragment), "\(arguments): \(r.stderr)")
        }
    }
}
