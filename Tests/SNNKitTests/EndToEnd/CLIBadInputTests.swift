import Foundation
import Testing
@testable import SNNKit

/// What the binary does with bad input: the documented exit code (64 usage, 65 bad model
/// or data, 73 unwritable output) and a message on stderr naming what is wrong, never a
/// crash.
@Suite struct CLIBadInputTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var status: Int32
        /// Texts stderr must contain (case-insensitive).
        var mentions: [String]
        var testDescription: String { name }
    }

    static let model = E2EFiles.model, converted = E2EFiles.converted, data = E2EFiles.data
    static let bad = Fixtures.bad.path
    /// A path below a regular file: no process can create it, whoever runs the tests (root included).
    static let underAFile = E2EFiles.data + "/out"

    static let cases: [Case] = [
        Case(name: "missing model", arguments: ["simulate", Fixtures.e2e.appendingPathComponent("no-such-model.snn.onnx").path, "--data", data],
             status: 65, mentions: ["no-such-model.snn.onnx"]),
        Case(name: "missing data", arguments: ["simulate", converted, "--data", Fixtures.e2e.appendingPathComponent("no-such-data.npz").path],
             status: 65, mentions: ["no-such-data.npz"]),
        Case(name: "garbage ONNX", arguments: ["inspect", bad + "/garbage.onnx"], status: 65, mentions: ["garbage.onnx"]),
        Case(name: "truncated ONNX", arguments: ["simulate", bad + "/truncated.onnx", "--data", data], status: 65, mentions: ["truncated.onnx"]),
        Case(name: "unconverted model given to simulate", arguments: ["simulate", model, "--data", data],
             status: 65, mentions: ["model.onnx", "convert"]),
        Case(name: "NaN in the evaluation data", arguments: ["simulate", converted, "--data", E2EFiles.nanData, "-T", "2"],
             status: 65, mentions: ["vgg_nan.npz", "image 1", "[2, 3, 4]", "finite"]),
        Case(name: "NaN in the calibration data", arguments: ["convert", model, "--calib", E2EFiles.nanData, "--batch-size", "2",
                                                              "--calib-batches", "1", "-o", underAFile + "/model.snn.onnx"],
             status: 65, mentions: ["vgg_nan.npz", "image 1", "[2, 3, 4]", "finite"]),
        Case(name: "unwritable converted model", arguments: ["convert", model, "--calib", data, "--batch-size", "8", "--calib-batches", "1",
                                                             "-o", underAFile + "/model.snn.onnx"],
             status: 73, mentions: ["model.snn.onnx", "writable"]),
        Case(name: "unwritable report folder", arguments: ["simulate", converted, "--data", data, "-T", "2", "--report", underAFile],
             status: 73, mentions: [underAFile, "writable"]),
        Case(name: "unwritable demo folder", arguments: ["demo", "--output", underAFile, "-T", "2", "--images", "10"],
             status: 73, mentions: [underAFile, "writable"]),
        Case(name: "-T 0", arguments: ["simulate", converted, "--data", data, "-T", "0"], status: 64, mentions: ["t (time steps) must be positive"]),
        Case(name: "--batch-size 0", arguments: ["simulate", converted, "--data", data, "--batch-size", "0"], status: 64, mentions: ["--batch-size"]),
        Case(name: "--threads 0", arguments: ["inspect", model, "--threads", "0"], status: 64, mentions: ["--threads"]),
        Case(name: "--calib-batches many", arguments: ["convert", model, "--calib", data, "--calib-batches", "many"], status: 64,
             mentions: ["--calib-batches"]),
        Case(name: "checkpoint beyond T", arguments: ["simulate", converted, "--data", data, "-T", "4", "--checkpoints", "2,8"], status: 64,
             mentions: ["checkpoint 8"]),
        Case(name: "unparsable --input-shape", arguments: ["inspect", model, "--input-shape", "1,3,abc,16"], status: 64, mentions: ["--input-shape"]),
        Case(name: "--input-shape with a stray separator", arguments: ["inspect", model, "--input-shape", "1,x,3"], status: 64, mentions: ["--input-shape"]),
        Case(name: "unknown flag", arguments: ["inspect", model, "--no-such-flag"], status: 64, mentions: ["--no-such-flag"]),
    ]

    @Test(arguments: cases) func exitsWithTheDocumentedCodeAndSaysWhy(_ c: Case) throws {
        let snnkit = try SNNKitBinary.locate()
        let run = try snnkit.run(c.arguments + ["--quiet"])
        #expect(run.status == c.status, "\(run)")
        for text in c.mentions {
            #expect(run.stderr.lowercased().contains(text.lowercased()), "stderr does not mention '\(text)': \(run.stderr)")
        }
    }

    /// A failed conversion leaves no file behind, not even the temporary one.
    @Test func aFailedWriteLeavesNothingBehind() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // The output is an existing folder: the temporary file is written, the rename fails.
        let target = folder.path("taken")
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        let run = try snnkit.run(["convert", Self.model, "--calib", Self.data, "--batch-size", "8", "--calib-batches", "1", "-o", target, "--quiet"])
        #expect(run.status == 73, "\(run)")
        #expect(run.stderr.contains(target), "\(run)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["taken"])
    }
}
