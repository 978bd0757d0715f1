import Foundation
import Testing
@testable import SNNKit

/// `snnkit demo` as a first-time user runs it: embedded model and data, no arguments needed.
@Suite struct CLIDemoTests {
    @Test func demoExitsZeroAndWritesTheReportItPrints() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = folder.path("demo")
        let run = try snnkit.run(["demo", "--output", output, "-T", "8", "--images", "50", "--threads", "1", "--json"])
        try #require(run.status == 0, "\(run)")
        let printed = try run.json()
        #expect(printed["command"] as? String != nil)
        let evaluation = try #require(printed["evaluation"] as? [String: Any])
        #expect(evaluation["images"] as? Int == 50)
        #expect((evaluation["snn"] as? [[String: Any]])?.compactMap { $0["steps"] as? Int } == [1, 2, 4, 8])
        let annTop1 = try #require((evaluation["ann"] as? [String: Any]).flatMap { ($0["values"] as? [String: Double])?["top1"] })
        #expect(annTop1 > 0.9, "the embedded model is a trained digit classifier")

        let files = try FileManager.default.contentsOfDirectory(atPath: output)
        #expect(Set(files) == ["report.json", "curves.csv", "top1.svg", "firing-rates.svg", "energy.svg", "thresholds.svg", "report.html"])
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output).appendingPathComponent("report.json")))
        #expect(NSDictionary(dictionary: printed).isEqual(written), "report.json holds what --json printed")

        // The table form tells the story in its numbered sections and lists the files.
        let table = try snnkit.run(["demo", "--output", output, "-T", "4", "--images", "20", "--threads", "1", "--quiet"])
        try #require(table.status == 0, "\(table)")
        for text in ["1. Conversion", "2. Simulation", "report.html"] { #expect(table.stdout.contains(text), "\(text)") }
    }
}
