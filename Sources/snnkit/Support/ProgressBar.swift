import Foundation

/// A one-line progress bar on standard error with rate and ETA. Silent when standard
/// error is not a terminal or when --quiet is given, so logs and pipes stay clean.
final class ProgressBar {
    let label: String
    let unit: String
    let enabled: Bool
    let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String, unit: String, quiet: Bool) {
        self.label = label
        self.unit = unit
        enabled = !quiet && isatty(STDERR_FILENO) == 1
    }

    func update(done: Int, total: Int, extraUnits: Int? = nil) {
        guard enabled else { return }
        let now = Date()
        guard done >= total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let width = 28
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = Double(extraUnits ?? done) / max(elapsed, 1e-9)
        let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
        let line = String(format: "\r%@ %@ %3.0f%% %d/%d  %.0f %@/s  ETA %@ ", label, bar, fraction * 100, done, total, rate, unit, Self.duration(eta))
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.0fs", seconds) }
        if seconds < 3600 { return String(format: "%dm%02ds", Int(seconds) / 60, Int(seconds) % 60) }
        return String(format: "%dh%02dm", Int(seconds) / 3600, (Int(seconds) % 3600) / 60)
    }
}
