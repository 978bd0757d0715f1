import Foundation
import Testing
@testable import SNNKit

/// `simulate`/`eval --part k/n`, then `merge`: the same report as one process over all the
/// data, and every kind of bad part set refused with the files named.
@Suite struct CLIPartsTests {
    /// report.json with its timings and date left out.
    static func comparable(_ path: String) throws -> NSDictionary {
        func strip(_ value: Any) -> Any {
            if let d = value as? [String: Any] {
                var r = [String: Any]()
                for (k, v) in d where !["created", "seconds", "images_per_second"].contains(k) { r[k] = strip(v) }
                return r
            }
            if let a = value as? [Any] { return a.map(strip) }
            return value
        }
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        return try #require(strip(object) as? [String: Any]) as NSDictionary
    }

    static let simulateArguments = ["--data", E2EFiles.data, "-T", "16", "--batch-size", "4", "--delay", "3", "--quiet"]

    /// Runs `simulate` in `parts` parts of the fixture into `folder`, returning the part files.
    static func simulateParts(_ snnkit: SNNKitBinary, _ folder: TemporaryFolder, parts: Int, model: String = E2EFiles.converted,
                              extra: [String] = [], prefix: String = "part") throws -> [String] {
        try (0..<parts).map { k in
            let file = folder.path("\(prefix)-\(k).json")
            let run = try snnkit.run(["simulate", model] + simulateArguments + extra + ["--part", "\(k)/\(parts)", "--part-file", file])
            try #require(run.status == 0, "\(run)")
            #expect(run.stdout.contains("part \(k)/\(parts): samples"))
            return file
        }
    }

    /// Three parts of a simulation with an integer form beside it merge into the single
    /// run's report.json, curves.csv and plots.
    @Test func mergedSimulationEqualsOneProcess() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let compare = ["--compare-bits", "6"]
        let single = try snnkit.run(["simulate", E2EFiles.converted] + Self.simulateArguments + compare + ["--report", folder.path("single")])
        try #require(single.status == 0, "\(single)")
        let parts = try Self.simulateParts(snnkit, folder, parts: 3, extra: compare)
        let merge = try snnkit.run(["merge"] + parts.reversed() + ["--report", folder.path("merged")])
        try #require(merge.status == 0, "\(merge)")
        let expected = try Self.comparable(folder.path("single/report.json"))
        #expect(try Self.comparable(folder.path("merged/report.json")) == expected)
        #expect((expected["baselines"] as? [Any])?.count == 1, "the integer form's curve is merged too")
        for file in ["curves.csv", "top1.svg", "energy.svg", "firing-rates.svg"] {
            #expect(FileManager.default.contents(atPath: folder.path("merged/\(file)")) == FileManager.default.contents(atPath: folder.path("single/\(file)")), "\(file)")
        }
        // The terminal table: the same rows apart from the throughput line and the file list.
        let rows = { (text: String) in text.split(separator: "\n").filter { !$0.contains("images/s") && !$0.contains(folder.url.path) } }
        let terminalSingle = try snnkit.run(["simulate", E2EFiles.converted] + Self.simulateArguments + compare)
        #expect(rows(try snnkit.run(["merge"] + parts).stdout) == rows(terminalSingle.stdout))
    }

    /// eval converts in every part (deterministically) and scores the baselines per part too.
    @Test func mergedEvalEqualsOneProcess() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let arguments = ["eval", E2EFiles.model, "--calib", E2EFiles.data, "--preset", "none", "--batch-size", "4", "--calib-batches", "2",
                         "--data", E2EFiles.data, "-T", "8", "--baselines", "--quiet"]
        let single = try snnkit.run(arguments + ["--report", folder.path("single")])
        try #require(single.status == 0, "\(single)")
        var files = [String]()
        for k in 0..<2 {
            files.append(folder.path("eval-\(k).json"))
            let run = try snnkit.run(arguments + ["--part", "\(k)/2", "--part-file", files[k]])
            try #require(run.status == 0, "\(run)")
        }
        let merge = try snnkit.run(["merge"] + files + ["--report", folder.path("merged")])
        try #require(merge.status == 0, "\(merge)")
        let expected = try Self.comparable(folder.path("single/report.json"))
        #expect((expected["baselines"] as? [Any])?.count == 3)
        #expect(try Self.comparable(folder.path("merged/report.json")) == expected)
    }

    /// Each kind of bad part set: exit 65 and a message naming the files.
    @Test func badPartSetsAreRefused() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let parts = try Self.simulateParts(snnkit, folder, parts: 3)
        func refused(_ files: [String], _ words: [String]) throws {
            let run = try snnkit.run(["merge"] + files)
            #expect(run.status == 65, "\(run)")
            for w in words { #expect(run.stderr.contains(w), "'\(w)' in \(run.stderr)") }
        }
        try refused([parts[0], parts[2]], ["part 1/3 of the run is missing", "sbatch --array=1"])
        try refused(parts + [parts[1]], [parts[1], "are both part 1/3"])
        // Another T.
        let otherT = folder.path("other-t.json")
        let run = try snnkit.run(["simulate", E2EFiles.converted] + Self.simulateArguments + ["-T", "8", "--part", "1/3", "--part-file", otherT])
        try #require(run.status == 0, "\(run)")
        try refused([parts[0], otherT, parts[2]], [parts[0], otherT, "disagree on the setting 'simulation'"])
        // Another model file.
        let otherModel = folder.path("other.snn.onnx")
        let quantize = try snnkit.run(["convert", E2EFiles.converted, "--weight-bits", "8", "-o", otherModel, "--quiet"])
        try #require(quantize.status == 0, "\(quantize)")
        let foreign = try Self.simulateParts(snnkit, folder, parts: 3, model: otherModel, prefix: "foreign")
        try refused([parts[0], foreign[1], parts[2]], [foreign[1], "disagree on the model file"])
        // Another split.
        let halves = try Self.simulateParts(snnkit, folder, parts: 2, prefix: "half")
        try refused([parts[0], halves[1]], ["disagree on the number of parts: 3 against 2"])
        // Truncated, and not a part file at all.
        let truncated = folder.path("truncated.json")
        let bytes = try #require(FileManager.default.contents(atPath: parts[1]))
        FileManager.default.createFile(atPath: truncated, contents: bytes.prefix(bytes.count / 2))
        try refused([parts[0], truncated, parts[2]], [truncated, "not a complete part file"])
        let report = folder.path("report.json")
        FileManager.default.createFile(atPath: report, contents: Data("{\"schema_version\": 2}".utf8))
        try refused([parts[0], report], [report, "not an SNNKit part file"])
        // Overlapping batches (a part file edited to claim another part's batches).
        var object = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        object["firstBatch"] = 0
        let overlapping = folder.path("overlapping.json")
        FileManager.default.createFile(atPath: overlapping, contents: try JSONSerialization.data(withJSONObject: object))
        try refused([parts[0], overlapping, parts[2]], [parts[0], overlapping, "overlap"])
        // Statistics that do not fit the settings.
        var tally = try #require(object["tally"] as? [String: Any])
        tally["outputGaps"] = [[0.5]]
        object["tally"] = tally
        object["firstBatch"] = 1
        let damaged = folder.path("damaged.json")
        FileManager.default.createFile(atPath: damaged, contents: try JSONSerialization.data(withJSONObject: object))
        try refused([parts[0], damaged, parts[2]], [damaged, "damaged part file"])
    }

    /// An infinite value (an output gap of a model whose outputs overflow) is written and
    /// read back as report.json writes it, not refused.
    @Test func nonFiniteValuesSurviveThePartFile() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try Self.simulateParts(snnkit, folder, parts: 1)[0]
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: file))) as? [String: Any])
        var tally = try #require(object["tally"] as? [String: Any])
        var gaps = try #require(tally["outputGaps"] as? [[Any]])
        gaps[0][0] = "inf"
        tally["outputGaps"] = gaps
        object["tally"] = tally
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: file))
        let part = try EvaluationPart(contentsOf: file)
        #expect(part.tally.result().snn[0].gapToClipANN == .infinity)
        let copy = folder.path("copy.json")
        try part.write(to: copy)
        #expect(try EvaluationPart(contentsOf: copy).tally.result().snn[0].gapToClipANN == .infinity)
    }

    /// Bad --part values are usage errors (exit 64), and a part never writes a report.
    @Test func badPartFlagsAreUsageErrors() throws {
        let snnkit = try SNNKitBinary.locate()
        let base = ["simulate", E2EFiles.converted, "--data", E2EFiles.data]
        for (extra, words) in [(["--part", "4/4", "--part-file", "p.json"], "numbered 0 to 3"),
                               (["--part", "1-4", "--part-file", "p.json"], "written k/n"),
                               (["--part", "0/2"], "needs --part-file"),
                               (["--part-file", "p.json"], "needs --part"),
                               (["--part", "0/2", "--part-file", "p.json", "--report", "out"], "snnkit merge")] {
            let run = try snnkit.run(base + extra)
            #expect(run.status == 64 && run.stderr.contains(words), "\(extra): \(run)")
        }
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let tooMany = try snnkit.run(base + ["--batch-size", "8", "--part", "2/3", "--part-file", folder.path("p.json")])
        #expect(tooMany.status == 65 && tooMany.stderr.contains("2 batches, too few for 3 parts"), "\(tooMany)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("p.json")))
        let none = try snnkit.run(["merge"])
        #expect(none.status == 64)
    }

    /// The thread count changes nothing in the report: classification through the binary,
    /// segmentation and detection through the library.
    @Test func reportsAreIdenticalForOneAndTwoThreads() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for threads in ["1", "2"] {
            let run = try snnkit.run(["simulate", E2EFiles.converted] + Self.simulateArguments + ["--threads", threads, "--report", folder.path(threads)])
            try #require(run.status == 0, "\(run)")
        }
        #expect(try Self.comparable(folder.path("1/report.json")) == Self.comparable(folder.path("2/report.json")))

        defer { Parallel.threads = 0 }
        let x = Tensor(shape: [4, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1, 0.3, -0.7, 0.1, 0.2, -0.4, 0.9, -0.1, 0.6])
        let graph = TaskEvaluationTests.signSegmenter()
        var options = EvaluationOptions(timeSteps: 16)
        options.task = .segmentation(ignoreLabel: 255)
        let evaluator = Evaluator(ann: graph, converted: try TaskEvaluationTests.convert(graph, x), options: options)
        let data = TaskEvaluationTests.Data(images: x, targets: [.masks([0, 1, 1, 255, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0], shape: [4, 2, 2])])
        var results = [String]()
        for threads in [1, 2] {
            Parallel.threads = threads
            results.append(try EvaluationTallyTests.json(evaluator.evaluate(data)))
        }
        #expect(results[0] == results[1])
    }
}

