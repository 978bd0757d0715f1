import Foundation
import Testing
@testable import SNNKit

/// Where the atomic-output tests find strace.
private let straceTool = "/usr/bin/strace"

/// A run killed while it writes its outputs leaves only complete files under their names:
/// strace kills `snnkit` at its n-th write(2) system call, for every n until the run gets
/// through, and each report folder or part file left behind is checked. Needs strace
/// (Scripts/test.sh installs it where it can).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: straceTool), "strace is not installed"))
struct CLIAtomicWriteTests {
    static let strace = straceTool
    static let simulate = ["simulate", E2EFiles.converted, "--data", E2EFiles.data, "-T", "8", "--batch-size", "8", "--quiet"]

    /// Runs `arguments` with a SIGKILL injected at the `n`-th write; returns whether it was
    /// killed (strace passes the signal on) or the program's exit status when it made fewer writes.
    static func killed(atWrite n: Int, _ snnkit: SNNKitBinary, _ arguments: [String]) throws -> (killed: Bool, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: strace)
        process.arguments = ["-f", "-o", "/dev/null", "-e", "trace=write", "-e", "inject=write:signal=KILL:when=\(n)", snnkit.url.path] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let killed = process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        return (killed, process.terminationStatus)
    }

    /// Every file of the folder under its own name is complete: as in `reference`, or, for
    /// the files that hold the date and timings, whole JSON and HTML.
    static func checkComplete(_ folder: String, reference: String) throws {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !name.hasPrefix(".") {
            let data = try #require(FileManager.default.contents(atPath: "\(folder)/\(name)"))
            switch name {
            case "report.json": #expect((try? JSONSerialization.jsonObject(with: data)) != nil, "\(folder)/\(name) is not whole JSON")
            case "report.html": #expect(String(decoding: data, as: UTF8.self).hasSuffix("</html>\n"), "\(folder)/\(name) is cut")
            default: #expect(data == FileManager.default.contents(atPath: "\(reference)/\(name)"), "\(folder)/\(name) differs from a whole run's")
            }
        }
    }

    @Test func aReportKilledWhileWritingLeavesOnlyWholeFiles() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let reference = folder.path("reference")
        let whole = try snnkit.run(Self.simulate + ["--report", reference])
        try #require(whole.status == 0, "\(whole)")
        var kills = 0
        for n in 1...200 {
            let out = folder.path("killed-\(n)")
            let run = try Self.killed(atWrite: n, snnkit, Self.simulate + ["--report", out])
            try Self.checkComplete(out, reference: reference)
            if !run.killed {
                #expect(run.status == 0, "write \(n): exit \(run.status)")
                break
            }
            kills += 1
        }
        #expect(kills >= 6, "a kill at each of the report's writes (6 files), got \(kills)")
        // The next run into a folder left by a killed one removes its temporary files.
        let left = folder.path("killed-\(kills / 2)")
        let again = try snnkit.run(Self.simulate + ["--report", left])
        try #require(again.status == 0, "\(again)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: left).filter { $0.hasPrefix(".") } == [])
        try Self.checkComplete(left, reference: reference)
    }

    @Test func aPartKilledWhileWritingLeavesNoPartFile() throws {
        let snnkit = try SNNKitBinary.locate()
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = folder.path("part-0-of-1.json")
        var killedBeforeTheFile = 0
        for n in 1...200 {
            try? FileManager.default.removeItem(atPath: file)
            let run = try Self.killed(atWrite: n, snnkit, Self.simulate + ["--part", "0/1", "--part-file", file])
            // Killed before the rename: no file; after it (printing the summary): a whole one.
            if FileManager.default.fileExists(atPath: file) { _ = try EvaluationPart(contentsOf: file) } else { killedBeforeTheFile += 1 }
            if !run.killed {
                #expect(run.status == 0, "write \(n): exit \(run.status)")
                break
            }
        }
        #expect(killedBeforeTheFile >= 1, "a kill while the part file was written")
        #expect(try Pipeline.merge(partFiles: [file]).evaluation != nil, "the run that got through wrote a whole part")
    }
}
