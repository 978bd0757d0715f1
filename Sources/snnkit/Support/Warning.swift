import Foundation

/// Warnings go to standard error, so they reach the user even with --json on standard output.
enum Warning {
    static func print(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}
