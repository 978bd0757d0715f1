/// Readout window starts chosen on held-out calibration data, per run length
/// (docs/method.md, "Readout and delay"): for a run of T steps the readout averages the
/// output over steps t0 + 1 ... T.
public struct ReadoutSchedule: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Run length T -> window start t0 (0 <= t0 < T).
    public var starts: [Int: Int]

    /// A schedule of `starts` (run length -> window start).
    public init(starts: [Int: Int]) { self.starts = starts }

    /// The start for a run of `t` steps: the one chosen for the longest calibrated run not
    /// longer than `t` (0 below the shortest), so the window only grows with `t`.
    public func start(forSteps t: Int) -> Int {
        guard let length = starts.keys.filter({ $0 <= t }).max(), let start = starts[length] else { return 0 }
        return min(start, max(t - 1, 0))
    }

    /// "T:t0" pairs by increasing T, comma-separated (the stored form).
    public var description: String {
        starts.keys.sorted().map { "\($0):\(starts[$0]!)" }.joined(separator: ",")
    }

    /// Parses `description`'s form; nil for anything else.
    public init?(parsing text: String) {
        var starts = [Int: Int]()
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: ":")
            guard parts.count == 2, let t = Int(parts[0]), let s = Int(parts[1]), t > 0, (0..<t).contains(s), starts[t] == nil else { return nil }
            starts[t] = s
        }
        guard !starts.isEmpty else { return nil }
        self.starts = starts
    }
}
