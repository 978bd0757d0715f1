import Foundation
import Testing

/// The built `snnkit` executable, run as a subprocess the way a user or a script runs it.
///
/// The test target depends on the `snnkit` target, so `swift test` builds the binary into
/// the same folder as the test executable. `SNNKIT_BINARY` points the tests at another
/// build (a release binary, say).
struct SNNKitBinary {
    /// What one run printed and how it ended.
    struct Run: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String

        var description: String { "exit \(status)\nstdout:\n\(stdout.suffix(2000))\nstderr:\n\(stderr.suffix(2000))" }

        /// stdout parsed as one JSON object (the `--json` output).
        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
            return try #require(object as? [String: Any], "stdout is not a JSON object: \(stdout.prefix(300))")
        }
    }

    let url: URL

    /// The binary beside the running test executable (or at `SNNKIT_BINARY`); a missing
    /// binary fails the calling test instead of skipping it.
    static func locate() throws -> SNNKitBinary {
        if let path = ProcessInfo.processInfo.environment["SNNKIT_BINARY"] {
            guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingBinary(searched: [path]) }
            return SNNKitBinary(url: URL(fileURLWithPath: path))
        }
        // /proc/self/exe is the test runner itself (Linux); Bundle.main names the same folder elsewhere.
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var folders = [URL]()
        for folder in [runner.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
            where !folders.contains(where: { $0.path == folder.path }) {
            folders.append(folder)
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent("snnkit")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return SNNKitBinary(url: candidate) }
        }
        throw MissingBinary(searched: folders.map(\.path))
    }

    /// Thrown (and so recorded as a failure) when no binary is found.
    struct MissingBinary: Error, CustomStringConvertible {
        var searched: [String]
        var description: String {
            "the snnkit binary was not found in \(searched.joined(separator: ", ")): build it (swift build) or set SNNKIT_BINARY"
        }
    }

    /// Runs `snnkit arguments...` to completion. Output goes through temporary files, not
    /// pipes, so a chatty run cannot block on a full pipe buffer.
    func run(_ arguments: [String]) throws -> Run {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let out = folder.url.appendingPathComponent("stdout"), err = folder.url.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        defer { try? outHandle.close(); try? errHandle.close() }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                   stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

/// A fresh folder under the system's temporary directory; the caller removes it
/// (`defer { folder.remove() }`).
struct TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Deletes the folder and everything in it.
    func remove() { try? FileManager.default.removeItem(at: url) }
}
