import ArgumentParser
import Foundation
import SNNKit

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the parts of a split simulate or eval run into the report one process over all the data makes.",
        discussion: """
        Each part (snnkit simulate/eval ... --part K/N --part-file FILE) holds counts and sums, not averages, so the
        merged table, report.json, CSV and plots carry the same numbers as a single run (timings apart). Parts of
        different models, settings or data, a missing, repeated or overlapping part and a truncated file are refused,
        naming the files. Examples:
          snnkit merge parts/part-*.json --report out/
          snnkit merge parts/part-0.json parts/part-1.json --json
        """)

    @Argument(help: "Part files, every part of the run once, in any order.")
    var parts: [String] = []

    @Option(name: .long, help: "Folder for report.json, curves.csv, plots and report.html.")
    var report: String?

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if parts.isEmpty { throw ValidationError("give the part files to merge, e.g. snnkit merge parts/part-*.json") }
    }

    func run() throws {
        try common.apply()
        try Failure.run {
            try RunOutput.finish(try Pipeline.merge(partFiles: parts), folder: report, json: common.json)
        }
    }
}
