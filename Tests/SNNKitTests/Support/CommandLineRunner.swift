import Foundation

/// Runs the `snnkit` binary built next to the test bundle, for tests that compare the
/// command line with the library.
enum CommandLineRunner {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("snnkit")
    }

    /// Runs `snnkit arguments`; returns the exit code, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    /// Writes float32 `values` of `shape` (or int64 labels) as a version 1 .npy file.
    static func writeNPY(_ url: URL, shape: [Int], floats: [Float]? = nil, int64: [Int]? = nil) throws {
        let descr = floats != nil ? "<f4" : "<i8"
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        data.append(contentsOf: [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)])
        data.append(Data(header.utf8))
        if let floats { floats.withUnsafeBytes { data.append(contentsOf: $0) } }
        if let int64 { int64.map { Int64($0).littleEndian }.withUnsafeBytes { data.append(contentsOf: $0) } }
        try data.write(to: url)
    }
}
