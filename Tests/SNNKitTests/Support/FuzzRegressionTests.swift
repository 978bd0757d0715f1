import Foundation
import Testing
import SNNFuzzing
@testable import SNNKit

/// Replays through the fuzz harness (`FuzzTarget`, the code `snnkit-fuzz` runs) every input
/// that once crashed, hung or exhausted a target, kept in Tests/Fixtures/fuzz/<target>/,
/// and the seed corpora of Fuzz/Corpus/<target>/: each must now end in a result or a clear
/// error, never a crash.
@Suite struct FuzzRegressionTests {
    static let repository = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()

    /// The files of `folder`, sorted; none when it does not exist.
    static func files(_ folder: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
            .filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }
    }

    /// Runs `target` on `file` in a scratch folder of its own; returns the reader's error.
    static func replay(_ target: FuzzTarget, _ file: URL) throws -> Error? {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-fuzz-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        return target.run(try Data(contentsOf: file), scratch: scratch)
    }

    /// Every input that once crashed a target now ends cleanly: refused with an error that
    /// says what is wrong, or, for the valid inputs that crashed it (named `*.valid.*`), read.
    @Test(arguments: FuzzTarget.allCases)
    func findingsEndCleanly(_ target: FuzzTarget) throws {
        for file in Self.files(Fixtures.root.appendingPathComponent("fuzz/\(target.rawValue)")) {
            let error = try Self.replay(target, file)
            if file.lastPathComponent.contains(".valid.") {
                #expect(error == nil, "\(file.lastPathComponent): \(error.map { "\($0)" } ?? "")")
            } else {
                #expect(error != nil, "\(file.lastPathComponent) was accepted")
                #expect(!"\(error.map { "\($0)" } ?? "")".isEmpty)
            }
        }
    }

    /// ONNX allows two nodes to share a name; the importer renames the later one after its
    /// index, so planning (which finds nodes by name) sees each node once.
    @Test func repeatedNodeNamesAreMadeUnique() throws {
        let url = Fixtures.root.appendingPathComponent("fuzz/converted-model/repeated-node-name.valid.onnx")
        let graph = try ONNXImporter.load(contentsOf: url)
        let names = graph.nodes.map(\.name)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(names.filter { $0.hasPrefix("l1.relu2") }.sorted() == ["l1.relu2", "l1.relu2_10"], "\(names)")
    }

    /// The seeds run through the harness: the valid ones are read, the damaged ones refused.
    @Test(arguments: FuzzTarget.allCases)
    func seedsRun(_ target: FuzzTarget) throws {
        let seeds = Self.files(Self.repository.appendingPathComponent("Fuzz/Corpus/\(target.rawValue)"))
        #expect(!seeds.isEmpty, "no seeds for \(target.rawValue): run Scripts/make_fuzz_corpus.sh")
        var accepted = 0
        for file in seeds where try Self.replay(target, file) == nil { accepted += 1 }
        #expect(accepted > 0, "the harness reads none of the \(seeds.count) seeds of \(target.rawValue)")
    }
}
