import Foundation
import Testing
@testable import SNNKit

/// The settings types check their values once, with messages that name the setting, and a
/// converted model's settings survive the trip through its ONNX file.
@Suite struct PipelineSettingsTests {
    @Test func simulationSettingsRefuseOutOfRangeValues() throws {
        func message(_ change: (inout SimulationSettings) -> Void) -> String? {
            var s = SimulationSettings(timeSteps: 8)
            change(&s)
            do { try s.validate(); return nil } catch { return "\(error)" }
        }
        #expect(message { _ in } == nil)
        #expect(message { $0.timeSteps = 0 }?.contains("T (time steps) must be positive") == true)
        #expect(message { $0.checkpoints = [2, 9] }?.contains("checkpoint 9 is outside 1...8") == true)
        #expect(message { $0.checkpoints = [0] }?.contains("checkpoint 0") == true)
        #expect(message { $0.delay = .steps(-1) }?.contains("delay") == true)
        #expect(message { $0.chunk = 0 }?.contains("chunk") == true)
        #expect(message { $0.shardSize = 0 }?.contains("shard") == true)
    }

    @Test func evaluationOptionsFollowTheSettings() throws {
        var s = SimulationSettings(timeSteps: 8, checkpoints: [8, 2, 2])
        #expect(try s.evaluationOptions(storedDelay: 3).delay == .estimated(3), "auto uses the stored estimate")
        #expect(try s.evaluationOptions(storedDelay: nil).delay == DelayMode.none, "auto without an estimate averages from the start")
        #expect(try s.evaluationOptions(storedDelay: 3).simulation.checkpoints == [2, 8], "sorted, duplicates dropped")
        s.delay = .half
        #expect(try s.evaluationOptions(storedDelay: 3).delay == .half)
        s.delay = .steps(5)
        #expect(try s.evaluationOptions(storedDelay: 3).delay == .fixed(5))
        #expect(SimulationSettings(timeSteps: 8).checkpoints == nil)
        #expect(try SimulationSettings(timeSteps: 8).evaluationOptions(storedDelay: nil).simulation.checkpoints == [1, 2, 4, 8])
    }

    @Test func conversionOptionsParseAndRefuse() throws {
        let o = try ConversionOptions(method: "ltb-layer", eta: 0.25, calibrationBatches: "auto", maxCalibrationBatches: 50, initialPotential: 0)
        #expect(o.method == .layerLTB(eta: 0.25))
        #expect(o.budget == .auto(maximum: 50, minimumGain: 0.001))
        #expect(o.initialPotential == 0)
        #expect(try ConversionOptions(method: "robust-norm:99", calibrationBatches: "7").budget == .fixed(7))
        for (make, fragment) in [
            ({ try ConversionOptions(method: "ltb", calibrationBatches: "many") }, "--calib-batches"),
            ({ try ConversionOptions(method: "ltb", maxCalibrationBatches: 0) }, "--max-calib-batches"),
            ({ try ConversionOptions(method: "fancy") }, "--method"),
            ({ try ConversionOptions(method: "ltb", eta: .nan) }, "--eta"),
            ({ try ConversionOptions(method: "ltb", initialPotential: 1.5) }, "--initial-potential"),
        ] as [(() throws -> ConversionOptions, String)] {
            let error = #expect(throws: PipelineError.self) { _ = try make() }
            #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
        }
    }

    static let info = ConvertedModelInfo(method: "ltb", eta: 0.75, calibrationBatches: 12, batchSize: 50, delay: 9, initialPotential: 0.5,
                                         sourceModel: "net.onnx")

    /// A tiny ReLU network written and read back as ONNX.
    static func graph() -> Graph {
        Graph(name: "g", nodes: [Node(name: "relu", op: .relu, inputs: ["x"], outputs: ["y"])],
              inputs: [ValueInfo(name: "x", dimensions: [.fixed(1), .fixed(2)])], outputs: [ValueInfo(name: "y", dimensions: nil)],
              constants: [:])
    }

    @Test func convertedModelInfoRoundTripsThroughTheFile() throws {
        var g = Self.graph()
        g.metadata["snnkit.stale"] = "left by an older writer"
        Self.info.write(into: &g)
        #expect(g.metadata["snnkit.stale"] == nil, "the record replaces every snnkit.* entry")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("info-\(UUID().uuidString).onnx")
        defer { try? FileManager.default.removeItem(at: url) }
        try ONNXExporter.write(g, to: url)
        let read = try ONNXImporter.load(contentsOf: url)
        #expect(try ConvertedModelInfo(reading: read) == Self.info)
        #expect(read.metadata["snnkit.delay"] == "9", "stored under the documented key")
        #expect(try ConvertedModelInfo(reading: Self.graph()) == nil, "no record in a model SNNKit did not convert")
        var maxNorm = Self.info
        maxNorm.eta = nil
        maxNorm.sourceModel = nil
        var h = Self.graph()
        maxNorm.write(into: &h)
        #expect(try ConvertedModelInfo(reading: h) == maxNorm)
    }

    @Test(arguments: [("snnkit.delay", "soon", "holds 'soon'"), ("snnkit.batch_size", "0", "holds '0'"),
                      ("snnkit.initial_potential", "nan", "holds 'nan'"), ("snnkit.eta", "-1", "holds '-1'")])
    func malformedMetadataNamesTheFileAndKey(key: String, value: String, fragment: String) throws {
        var g = Self.graph()
        g.source = "model.snn.onnx"
        Self.info.write(into: &g)
        g.metadata[key] = value
        let error = #expect(throws: ConversionError.self) { _ = try ConvertedModelInfo(reading: g) }
        let text = "\(error!)"
        #expect(text.contains("model.snn.onnx") && text.contains("'\(key)'") && text.contains(fragment), "\(text)")
    }

    @Test func missingMetadataIsNamed() throws {
        var g = Self.graph()
        Self.info.write(into: &g)
        g.metadata["snnkit.calibration_batches"] = nil
        let error = #expect(throws: ConversionError.self) { _ = try ConvertedModelInfo(reading: g) }
        #expect("\(error!)".contains("'snnkit.calibration_batches' is missing"))
    }

    @Test func aModelWithoutNeuronsIsNotAConvertedModel() throws {
        var g = Self.graph()
        g.source = "plain.onnx"
        let error = #expect(throws: PipelineError.self) { _ = try ConvertedModel(g) }
        #expect(error?.description.contains("plain.onnx has no IF neurons: convert it first") == true)
    }
}
