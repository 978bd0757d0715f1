import Foundation

/// Whole-file replacement that never leaves a half-written file behind.
///
/// The data goes to a hidden temporary file in the target's folder (same file system, so
/// the rename is atomic), then `rename(2)` puts it in place: a reader sees the old file or
/// the new one, and a process killed mid-write leaves at most the temporary file, which the
/// next write of the same file removes.
public enum AtomicFile {
    /// Writes `data` to `url` atomically, replacing any existing file.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = temporaryURL(for: url)
        do {
            try data.write(to: temporary)
        } catch {
            throw OutputError.unwritable(file: url.path, reason: reason(error))
        }
        try moveIntoPlace(temporary, url)
    }

    /// The hidden file beside `url` this process writes before renaming it into place,
    /// `.NAME.tmp-PID`. Temporary files of the same name left by processes that no longer
    /// run (killed while writing) are removed first.
    public static func temporaryURL(for url: URL) -> URL {
        let directory = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).tmp-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            }
        }
        return directory.appendingPathComponent(prefix + "\(ProcessInfo.processInfo.processIdentifier)")
    }

    /// Renames a finished temporary file over `url`; removes the temporary file on failure.
    public static func moveIntoPlace(_ temporary: URL, _ url: URL) throws {
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw OutputError.unwritable(file: url.path, reason: "cannot replace the file: \(reason)")
        }
    }

    /// Creates `directory` and its parents if missing.
    public static func makeDirectory(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputError.unwritable(file: directory.path, reason: reason(error))
        }
    }

    /// The operating system's words for a failed file operation: Foundation on Linux wraps
    /// the errno in an NSError whose own text ("error 512") says nothing.
    public static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
