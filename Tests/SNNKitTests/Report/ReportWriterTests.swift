import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import SNNKit

/// The report folder of a real (small) conversion and evaluation: the schema of
/// report.json, the shape of curves.csv, well-formed plots and page, and atomic writes.
@Suite struct ReportWriterTests {
    /// net_c_vgg converted on two batches of the end-to-end images and simulated to T = 8
    /// (under a second).
    static func makeReport() throws -> RunReport {
        let source = try DataSources.open(path: E2EFiles.data)
        let all = try source.batch(0..<source.count)
        let batches = [try source.batch(0..<8).images, try source.batch(8..<16).images]
        var options = ConversionOptions()
        options.budget = .fixed(2)
        let graph = try ONNXImporter.load(contentsOf: URL(fileURLWithPath: E2EFiles.model))
        let conversion = try Converter(options: options).convert(graph, calibration: InMemoryBatches(batches))
        var evaluation = EvaluationOptions(timeSteps: 8)
        evaluation.delay = .estimated(conversion.delay.steps)
        let data = InMemoryLabeledBatches(images: all.images, labels: all.labels ?? [], batchSize: 8)
        let result = try Evaluator(ann: try Converter.prepare(graph), converted: conversion.graph, options: evaluation).evaluate(data)
        return RunReport(command: "snnkit eval", model: E2EFiles.model, conversion: ConversionSummary(conversion), evaluation: result)
    }

    static let plots = ["top1.svg", "firing-rates.svg", "energy.svg", "thresholds.svg"]

    /// Writes the report into a fresh folder and hands it to `check`.
    func withWrittenReport(_ check: (RunReport, URL, [URL]) throws -> Void) throws {
        let report = try Self.makeReport()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let directory = folder.url.appendingPathComponent("report")
        let files = try ReportWriter.write(report, to: directory)
        try check(report, directory, files)
    }

    @Test func reportJSONHasTheDocumentedFieldsAndTypes() throws {
        try withWrittenReport { report, directory, _ in
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("report.json")))
                as? [String: Any])
            #expect(json["schema_version"] as? Int == 2)
            #expect(json["snnkit_version"] as? String == SNNKitVersion.current)
            #expect((json["created"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } != nil, "created is an ISO 8601 date")
            #expect(json["command"] as? String == "snnkit eval")
            #expect(json["model"] as? String == E2EFiles.model)
            #expect(json["baselines"] == nil, "absent when not run")

            let conversion = try #require(json["conversion"] as? [String: Any])
            #expect(conversion["method"] is String)
            #expect(conversion["calibration_batches"] as? Int == 2)
            #expect(conversion["batch_size"] as? Int == 8)
            for key in ["seconds", "images_per_second"] { #expect(conversion[key] is Double, "conversion.\(key)") }
            #expect((conversion["delay"] as? [String: Any])?["steps"] as? Int == report.conversion?.delay.steps)
            #expect(conversion["agreement_curve"] is [Any])
            let layers = try #require(conversion["layers"] as? [[String: Any]])
            #expect(layers.compactMap { $0["node"] as? String } == E2EFiles.reluNodes)
            for layer in layers {
                #expect(layer["channels"] is Int && layer["shape"] is [Int])
                for key in ["threshold_min", "threshold_median", "threshold_max", "clipped_fraction", "clipping_error"] {
                    #expect(layer[key] is Double, "conversion.layers.\(key)")
                }
            }

            let evaluation = try #require(json["evaluation"] as? [String: Any])
            #expect(evaluation["task"] as? String == "classification")
            #expect(evaluation["metric_names"] as? [String] == ["top1", "top5"])
            #expect(evaluation["primary_metric"] as? String == "top1")
            #expect(evaluation["images"] as? Int == 16)
            #expect(evaluation["time_steps"] as? Int == 8)
            for key in ["ann", "clip_ann"] {
                let score = try #require(evaluation[key] as? [String: Any], "evaluation.\(key)")
                #expect(Set(((score["values"] as? [String: Double]) ?? [:]).keys) == ["top1", "top5"])
                #expect(score["primary"] is Double)
            }
            // The labels are onnxruntime's answers (Tests/Fixtures/e2e/README.md).
            #expect(((evaluation["ann"] as? [String: Any])?["values"] as? [String: Double])?["top1"] == 1)
            // By hand: net_c_vgg's convolutions and Gemms (CLIToolsTests.vggMACsPerImage).
            #expect(evaluation["ann_macs_per_image"] as? Double == Double(CLIToolsTests.vggMACsPerImage))
            #expect(evaluation["analog_macs_per_step_per_image"] is Double)
            for key in ["seconds", "images_per_second"] { #expect(evaluation[key] is Double, "evaluation.\(key)") }
            #expect(evaluation["reach"] is [[String: Any]] && evaluation["windows"] is [[String: Any]])

            let snn = try #require(evaluation["snn"] as? [[String: Any]])
            #expect(snn.compactMap { $0["steps"] as? Int } == [1, 2, 4, 8])
            for row in snn {
                #expect(row["score"] is [String: Any] && row["delayed"] is [String: Any])
                #expect(row["window_start"] is Int)
                #expect(row["gap_to_clip_ann"] is Double && row["synaptic_ops_per_image"] is Double)
                let energy = try #require(row["energy"] as? [[String: Any]])
                #expect(energy.compactMap { $0["preset"] as? String }.count == 2)
                for e in energy { for key in ["snn_joules", "ann_joules", "efficiency_gain"] { #expect(e[key] is Double, "energy.\(key)") } }
            }
            let neuronLayers = try #require(evaluation["layers"] as? [[String: Any]])
            #expect(neuronLayers.count == 4)
            for layer in neuronLayers {
                #expect(layer["neurons"] is Int && layer["firing_rate"] is Double && layer["synaptic_ops_per_image"] is Double)
                #expect((layer["firing_rate_at_checkpoints"] as? [Double])?.count == 4)
                #expect((layer["gap_to_clip_ann"] as? [Double])?.count == 4)
            }
            // Every key is snake_case: lower-case words joined by single underscores.
            for key in Self.keys(of: json) {
                #expect(key.range(of: "^[a-z][a-z0-9]*(_[a-z0-9]+)*$", options: .regularExpression) != nil, "key '\(key)'")
            }
        }
    }

    /// Every object key anywhere in a parsed JSON value.
    static func keys(of value: Any) -> [String] {
        if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys(of:)) }
        if let array = value as? [Any] { return array.flatMap(keys(of:)) }
        return []
    }

    @Test func curvesCSVHasOneFullRowPerCheckpoint() throws {
        try withWrittenReport { report, directory, _ in
            let evaluation = try #require(report.evaluation)
            let text = try String(contentsOf: directory.appendingPathComponent("curves.csv"), encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let rows = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            try #require(rows.count == evaluation.snn.count + 1)
            let header = rows[0].map(String.init)
            #expect(header.first == "T" && Set(header).count == header.count, "named, distinct columns")
            for row in rows.dropFirst() {
                #expect(row.count == header.count)
                #expect(row.allSatisfy { $0.isEmpty || Double($0) != nil }, "\(row)")
            }
            let t = try #require(header.firstIndex(of: "T")), top1 = try #require(header.firstIndex(of: "snn_top1"))
            let sops = try #require(header.firstIndex(of: "sops_per_image"))
            for (row, score) in zip(rows.dropFirst(), evaluation.snn) {
                #expect(Int(row[t]) == score.steps)
                #expect(Double(row[top1]) == score.score["top1"])
                #expect(Double(row[sops]) == score.synapticOpsPerImage)
            }
        }
    }

    /// Collects parse errors of an XML document.
    final class XMLCheck: NSObject, XMLParserDelegate {
        var error: Error?
        var elements = 0
        func parser(_ parser: XMLParser, parseErrorOccurred parseError: Error) { error = parseError }
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) { elements += 1 }
    }

    @Test func plotsAreWellFormedSVGAndThePageEmbedsEachOne() throws {
        try withWrittenReport { report, directory, files in
            #expect(Set(files.map(\.lastPathComponent)) == Set(["report.json", "curves.csv", "report.html"] + Self.plots))
            let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
            for name in Self.plots {
                let data = try Data(contentsOf: directory.appendingPathComponent(name))
                let parser = XMLParser(data: data)
                let check = XMLCheck()
                parser.delegate = check
                #expect(parser.parse(), "\(name): \(String(describing: check.error))")
                #expect(check.elements > 10, "\(name) draws something")
                let svg = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "<?xml version=\"1.0\"?>", with: "")
                #expect(svg.contains("<svg"))
                #expect(html.contains(svg), "report.html embeds \(name)")
            }
            #expect(html.lowercased().hasPrefix("<!doctype html>") && html.hasSuffix("</html>\n"))
            for tag in ["table", "tr", "svg", "h2", "p"] {
                let open = html.components(separatedBy: "<\(tag)>").count + html.components(separatedBy: "<\(tag) ").count - 2
                #expect(open == html.components(separatedBy: "</\(tag)>").count - 1, "<\(tag)> elements are closed")
            }
            #expect(html.contains(report.evaluation!.layers[0].node))
        }
    }

    @Test func writesAreAtomicAndUnwritableFoldersThrow() throws {
        let report = try Self.makeReport()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let directory = folder.url.appendingPathComponent("report")
        let first = try ReportWriter.write(report, to: directory)
        // A second write replaces the files in place; no temporary file is left either time.
        let second = try ReportWriter.write(report, to: directory)
        #expect(first == second)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory.path)) == Set(first.map(\.lastPathComponent)))

        // A folder below a regular file cannot be created.
        let file = folder.url.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        let below = file.appendingPathComponent("report")
        let error = #expect(throws: OutputError.self) { try ReportWriter.write(report, to: below) }
        if case .unwritable(let path, _)? = error { #expect(path == below.path) }

        // report.json taken by a non-empty folder: the rename fails, the temporary file is removed.
        let taken = folder.url.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: taken.appendingPathComponent("report.json/inside"), withIntermediateDirectories: true)
        #expect(throws: OutputError.self) { try ReportWriter.write(report, to: taken) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: taken.path) == ["report.json"])
    }

    /// A conversion-only report (snnkit convert --report) is report.json alone, without
    /// an evaluation.
    @Test func aConversionOnlyReportIsJustTheJSON() throws {
        let report = try Self.makeReport()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let files = try ReportWriter.write(RunReport(command: "snnkit convert", model: "m.onnx", conversion: report.conversion), to: folder.url)
        #expect(files.map(\.lastPathComponent) == ["report.json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: files[0])) as? [String: Any])
        #expect(json["evaluation"] == nil && json["conversion"] is [String: Any])
    }
}
