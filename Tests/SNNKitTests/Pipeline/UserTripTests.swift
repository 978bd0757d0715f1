import Foundation
import Testing
@testable import SNNKit

/// Three places where a new user went wrong: normalisation constants on the wrong scale,
/// detection ground truth as a flat list, and constants counted as parameters.
@Suite struct UserTripTests {
    static let u8 = DataFixtures.path("u8_nchw.npy")

    func warning(_ path: String, _ preprocessing: Preprocessing?) throws -> String? {
        try DataSources.open(path: path, preprocessing: preprocessing).preprocessingWarning()
    }

    @Test func byteScaleConstantsAfterScalingToUnitAreCaught() throws {
        // --mean 127.5 --std 63.75 on bytes: scaled to [0, 1] first, so inputs become about -2.
        var p = Preprocessing(mean: [127.5], std: [63.75])
        p.scaleFollowsDataType = true
        let text = try #require(try warning(Self.u8, p))
        #expect(text.contains("u8_nchw.npy") && text.contains("--mean 0.5 --std 0.25") && text.contains("--scale 1"), "\(text)")
        // The same constants on unscaled bytes are right, and so are the presets.
        #expect(try warning(Self.u8, Preprocessing(scale: 1, mean: [127.5], std: [63.75])) == nil)
        #expect(try warning(Self.u8, .cifar10) == nil)
        #expect(try warning(Self.u8, .unit) == nil)
        #expect(try warning(Self.u8, nil) == nil)
    }

    @Test func unitScaleConstantsOnUnscaledValuesAreCaught() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let raw = dir.appendingPathComponent("raw.npy"), unit = dir.appendingPathComponent("unit.npy")
        let pixels: [Float] = (0..<48).map { (i: Int) -> Float in Float((i * 5) % 256) }
        try CommandLineRunner.writeNPY(raw, shape: [4, 3, 2, 2], floats: pixels)
        try CommandLineRunner.writeNPY(unit, shape: [4, 3, 2, 2], floats: pixels.map { $0 / 255 })
        let normalise = Preprocessing(mean: [0.5], std: [0.25])
        let text = try #require(try warning(raw.path, normalise))
        #expect(text.contains("raw.npy") && text.contains("--scale 0.00392156862745098"), "\(text)")
        #expect(try warning(unit.path, normalise) == nil, "unit-range floats with unit-range constants")
    }

    @Test func theCommandLineWarnsOnStandardError() throws {
        let r = try CommandLineRunner.run(["convert", Fixtures.onnx.appendingPathComponent("net_a_classifier/model.onnx").path,
                                           "--calib", Self.u8, "--mean", "127.5", "--std", "63.75", "--batch-size", "1",
                                           "--calib-batches", "1", "-o", FileManager.default.temporaryDirectory.appendingPathComponent("x-\(UUID()).onnx").path])
        #expect(r.stderr.contains("warning: ") && r.stderr.contains("--mean 0.5 --std 0.25"), "\(r.stderr)")
    }

    @Test func flatDetectionGroundTruthEqualsThePaddedLayout() throws {
        guard case .boxes(let flat)? = try Annotations.open(path: DataFixtures.path("det_boxes_flat.npz"), imageCount: 3),
              case .boxes(let padded)? = try Annotations.open(path: DataFixtures.path("det_boxes.npz"), imageCount: 3) else {
            Issue.record("no boxes found"); return
        }
        // The two fixtures hold the same objects (Scripts/make_data_fixtures.py).
        #expect(try flat.objects(0..<3) == padded.objects(0..<3))
        #expect(try flat.objects(1..<3).map(\.count) == [1, 0])
        #expect(try flat.objects(0..<1)[0][1] == BoxAnnotations.Object(x1: 1, y1: 2, x2: 7, y2: 8, classIndex: 2))
    }

    @Test func flatGroundTruthErrorsNameTheFileAndRow() throws {
        let bad = #expect(throws: DataError.self) { try Annotations.open(path: DataFixtures.badPath("boxes_flat_bad_image.npz"), imageCount: 3) }
        let text = "\(bad!)"
        #expect(text.contains("boxes_flat_bad_image.npz") && text.contains("row 1 names image 3, outside 0..<3"), "\(text)")
        let missing = #expect(throws: DataError.self) { try Annotations.open(path: DataFixtures.badPath("boxes_flat_without_index.npz"), imageCount: 3) }
        #expect("\(missing!)".contains("image_index"), "\(missing!)")
    }

    @Test func parametersAreWeightsOnly() throws {
        // Python's onnx counts 1099 weights in net_d_segmentation (see the inspect test);
        // its Resize scales and an added float offset are constants, not parameters.
        var g = try ONNXImporter.load(contentsOf: Fixtures.onnx.appendingPathComponent("net_d_segmentation/model.onnx"))
        #expect(g.parameterCount() == 1099)
        let output = g.outputs[0].name
        g.constants["offset"] = .float(Tensor(shape: [1, 1, 4, 4], repeating: 0.5))
        g.nodes.append(Node(name: "decode", op: .binary(.add), inputs: [output, "offset"], outputs: ["decoded"]))
        g.outputs[0].name = "decoded"
        #expect(g.parameterCount() == 1099)
    }
}
