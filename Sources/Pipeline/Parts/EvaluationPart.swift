import Foundation
import SNNConversion
import SNNData
import SNNEvaluation
import SNNReport
import SNNSupport

/// What one part of a split `simulate` or `eval` run writes: the identity of the run and
/// the sufficient statistics of its batches (see `EvaluationTally`), from which
/// `Pipeline.merge` makes the report one process over all the data would have made.
public struct EvaluationPart: Sendable, Codable {
    /// The file's kind, so that another JSON file is refused by name.
    public static let kind = "snnkit evaluation part"
    /// The layout version this build writes and reads.
    public static let layoutVersion = 1

    /// `kind`.
    public var format: String = EvaluationPart.kind
    /// `layoutVersion`.
    public var version: Int = EvaluationPart.layoutVersion
    /// The SNNKit release that wrote it (parts of different releases are not merged).
    public var snnkitVersion: String = SNNKitVersion.current
    /// The command that produced it, e.g. "snnkit simulate".
    public var command: String
    /// The model file as given.
    public var model: String
    /// The model file's size and checksum: every part must have read the same file.
    public var modelFingerprint: FileFingerprint
    /// The evaluation data, named as on the command line.
    public var data: String
    /// Every setting that changes the numbers (T, checkpoints, delay, kernels, task,
    /// preprocessing, batch size, conversion and integer forms), as text to compare.
    public var settings: [String: String]
    /// Which part this is.
    public var part: DataPart
    /// The batches of the whole data this part scored, and the whole data's batch count.
    public var firstBatch: Int, batches: Int, totalBatches: Int
    /// The samples this part scored, and the whole data's sample count.
    public var firstSample: Int, samples: Int, totalSamples: Int
    /// The statistics of the simulated model.
    public var tally: EvaluationTally
    /// The statistics of each compared form (baseline rules or integer forms), when run.
    public var baselines: [BaselineTally]?
    /// The simulated SNN's integers, when it is an integer SNN.
    public var quantization: QuantizationRecord?
    /// The conversion, when the part converted the model (`eval`); every part converts the
    /// same way, so the first part's is reported.
    public var conversion: ConversionSummary?

    /// The batches of the whole data this part covers.
    public var batchRange: Range<Int> { firstBatch..<(firstBatch + batches) }

    /// Writes the part as JSON, atomically: a task killed while writing leaves no part file.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw PipelineError("cannot encode the part for \(path): \(error)")
        }
        let url = URL(fileURLWithPath: path)
        try AtomicFile.makeDirectory(url.deletingLastPathComponent())
        try AtomicFile.write(data, to: url)
    }

    /// Reads and checks a part file; throws `PipelineError` naming the file when it cannot be
    /// read, is not a part file, is truncated or damaged, or comes from another release.
    public init(contentsOf path: String) throws {
        // An empty file is said to be one (and Foundation's reader leaks a page on it).
        if (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) == 0 {
            throw PipelineError("\(path) is empty, not a complete part file; run that part again")
        }
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PipelineError("\(path): cannot read the part file: \(AtomicFile.reason(error))")
        }
        struct Header: Decodable { var format: String?; var version: Int?; var snnkitVersion: String? }
        guard let header = try? JSONDecoder().decode(Header.self, from: bytes) else {
            throw PipelineError("\(path) is not a complete part file (truncated or not JSON, \(bytes.count) bytes); run that part again")
        }
        guard header.format == Self.kind else {
            throw PipelineError("\(path) is not an SNNKit part file (it is JSON, but not what snnkit simulate/eval --part writes)")
        }
        guard header.version == Self.layoutVersion, header.snnkitVersion == SNNKitVersion.current else {
            throw PipelineError("\(path) was written by SNNKit \(header.snnkitVersion ?? "?") (part layout \(header.version ?? 0)); "
                                + "this is \(SNNKitVersion.current) (layout \(Self.layoutVersion)): run every part with the same release")
        }
        // Non-finite values (a model's NaN detection score, say) are written as strings, as report.json writes them.
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { self = try decoder.decode(Self.self, from: bytes) } catch {
            throw PipelineError("\(path) is a damaged part file: \(Self.describe(error)); run that part again")
        }
        do {
            try tally.validate()
            for b in baselines ?? [] { try b.tally.validate() }
        } catch let error as EvaluationTallyError {
            throw PipelineError("\(path) is a damaged part file: \(error)")
        }
        guard part.count > 0, (0..<part.count).contains(part.index), batches == tally.batches, samples == tally.images,
              firstBatch >= 0, firstBatch + batches <= totalBatches, firstSample >= 0, firstSample + samples <= totalSamples else {
            throw PipelineError("\(path) is a damaged part file: part \(part) claims batches \(firstBatch)..<\(firstBatch + batches) of "
                                + "\(totalBatches) and samples \(firstSample)..<\(firstSample + samples) of \(totalSamples), "
                                + "but its statistics hold \(tally.batches) batches and \(tally.images) samples")
        }
    }

    /// A decoding error in words: the coding path and what was wrong there.
    static func describe(_ error: Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error as? DecodingError {
        case .dataCorrupted(let c)?: return "\(c.debugDescription) at \(path(c))"
        case .keyNotFound(let key, let c)?: return "'\(key.stringValue)' missing at \(path(c))"
        case .typeMismatch(_, let c)?, .valueNotFound(_, let c)?: return "\(c.debugDescription) at \(path(c))"
        default: return "\(error)"
        }
    }
}
