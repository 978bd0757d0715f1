import Foundation
import Testing
@testable import SNNKit

/// inspect, verify and bench, run as a user runs them.
@Suite struct CLIToolsTests {
    /// net_c_vgg's multiply-accumulates per image, by hand from its layer shapes: three 3x3
    /// convolutions (3->8 and 8->8 channels on 16x16, 8->16 on 8x8) and two Gemms (256->32, 32->10).
    static let vggMACsPerImage = 8 * 3 * 9 * 256 + 8 * 8 * 9 * 256 + 16 * 8 * 9 * 64 + 256 * 32 + 32 * 10

    @Test func inspectCountsLayersShapesAndMACs() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["inspect", E2EFiles.model, "--input-shape", "1,3,16,16", "--json"])
        try #require(run.status == 0, "\(run)")
        let json = try run.json()
        #expect(json["inputs"] as? [String: [Int]] == ["input": [1, 3, 16, 16]])
        #expect(json["outputs"] as? [String: [Int]] == ["logits": [1, 10]])
        #expect(json["macs"] as? Int == Self.vggMACsPerImage)
        // Weights and biases of the five layers (8*27+8, 8*72+8, 16*72+16, 32*256+32, 10*32+10);
        // Dropout's ratio scalar is a constant, not a parameter.
        #expect(json["parameters"] as? Int == 224 + 584 + 1168 + 8224 + 330)
        #expect(json["operators"] as? [String: Int] == ["Conv": 3, "Relu": 4, "MaxPool": 2, "Flatten": 1, "Gemm": 2, "Dropout": 1])
        #expect((json["blockers"] as? [Any])?.isEmpty == true)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.reduce(0) { $0 + ($1["macs"] as? Int ?? 0) } == Self.vggMACsPerImage)

        // Without --input-shape the declared batch of 2 is used.
        let declared = try snnkit.run(["inspect", E2EFiles.model, "--json"])
        try #require(declared.status == 0, "\(declared)")
        #expect(try declared.json()["macs"] as? Int == 2 * Self.vggMACsPerImage)

        let table = try snnkit.run(["inspect", E2EFiles.model])
        #expect(table.status == 0)
        #expect(table.stdout.contains("conversion: ok, 4 ReLU layers"), "\(table)")
    }

    @Test func inspectNamesTheNodeThatBlocksConversion() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["inspect", Fixtures.bad.appendingPathComponent("unknown_op.onnx").path, "--json"])
        try #require(run.status == 0, "\(run)")
        let blockers = try #require(try run.json()["blockers"] as? [[String: Any]])
        #expect(blockers.contains { $0["node"] as? String == "fancy_1" && $0["op"] as? String == "FancyOp" }, "\(blockers)")
    }

    @Test func verifyPassesOnOnnxruntimeOutputsAndFailsOnOthers() throws {
        let snnkit = try SNNKitBinary.locate()
        let pass = try snnkit.run(["verify", E2EFiles.model, "--data", Fixtures.onnx.appendingPathComponent("net_c_vgg").path, "--json"])
        #expect(pass.status == 0, "\(pass)")
        let json = try pass.json()
        #expect(json["passed"] as? Bool == true)
        #expect(try #require(json["max_rel_error"] as? Double) <= 1e-4)
        let outputs = try #require(json["outputs"] as? [[String: Any]])
        #expect(outputs.count == 1 && outputs.first?["name"] as? String == "logits")

        // The conversion fixture's outputs are the clip-ANN's (onnxruntime: max |ANN - clip-ANN| is
        // 1.0786 of the largest clip-ANN logit), so the plain ANN must fail against them, with exit 1.
        let fail = try snnkit.run(["verify", E2EFiles.model, "--data", Fixtures.conversion.appendingPathComponent("net_c_vgg").path, "--json"])
        #expect(fail.status == 1, "\(fail)")
        let failed = try fail.json()
        #expect(failed["passed"] as? Bool == false)
        #expect(abs(try #require(failed["max_rel_error"] as? Double) - 1.0786) < 1e-3)
    }

    @Test func benchANNReportsTheModelsMACs() throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(["bench", "ann", E2EFiles.model, "--batch", "2", "--iterations", "1", "--threads", "1", "--json"])
        try #require(run.status == 0, "\(run)")
        let json = try run.json()
        #expect(json["macs_per_image"] as? Int == Self.vggMACsPerImage)
        #expect(json["batch"] as? Int == 2)
        #expect(json["threads"] as? Int == 1)
        #expect(try #require(json["images_per_second"] as? Double) > 0)
    }

    // `bench snn` is left out: it always measures the core's FMA peak (ArithmeticPeak,
    // 3 x 20M rounds), which takes minutes in a debug build on a loaded machine.
}
