import SNNEvaluation
import SNNTasks
import SNNTensor

/// "Part k of n" of an evaluation: a deterministic split of the data's batches into n
/// runs of consecutive whole batches, k counted from 0 (as Slurm's array task ids and
/// Kubernetes' completion indices are).
///
/// Part k holds batches [k·B/n, (k+1)·B/n) of the B batches. Splitting at batch boundaries
/// keeps every batch exactly the batch a single run sees, which is what makes the merged
/// result equal to the single run's (see `EvaluationTally`).
public struct DataPart: Sendable, Equatable, Codable, CustomStringConvertible {
    /// k, in 0..<count.
    public var index: Int
    /// n, the number of parts.
    public var count: Int

    /// Part `index` of `count`; throws unless 0 <= index < count.
    public init(index: Int, count: Int) throws {
        guard count > 0, (0..<count).contains(index) else {
            throw PipelineError.setting("part \(index) of \(count) does not exist: parts are numbered 0 to \(max(count - 1, 0)), and there must be at least one")
        }
        self.index = index
        self.count = count
    }

    /// Parses "k/n", e.g. "0/4" ... "3/4".
    public init(parsing text: String) throws {
        let fields = text.split(separator: "/", omittingEmptySubsequences: false)
        guard fields.count == 2, let k = Int(fields[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(fields[1].trimmingCharacters(in: .whitespaces)) else {
            throw PipelineError.setting("a part is written k/n (part k of n, k from 0 to n-1, e.g. 0/4), not '\(text)'")
        }
        try self.init(index: k, count: n)
    }

    /// "k/n".
    public var description: String { "\(index)/\(count)" }

    /// The batches of this part, out of `batches`; throws when the data has fewer batches than parts.
    public func batches(of batches: Int) throws -> Range<Int> {
        guard batches >= count else {
            throw PipelineError.setting("the data has \(batches) batch\(batches == 1 ? "" : "es"), too few for \(count) parts; "
                                        + "use at most \(batches) parts or a smaller batch size")
        }
        return (index * batches / count)..<((index + 1) * batches / count)
    }
}

/// The batches of one part of evaluation data, served as data of their own.
struct PartOfData: EvaluationData {
    let whole: any EvaluationData
    let part: DataPart
    let batches: Range<Int>
    /// The samples of the part, in the whole data's numbering.
    let samples: Range<Int>

    init(_ whole: any EvaluationData, part: DataPart) throws {
        self.whole = whole
        self.part = part
        batches = try part.batches(of: whole.batchCount)
        let size = whole.batchSize
        samples = (batches.lowerBound * size)..<min(whole.sampleCount, batches.upperBound * size)
    }

    var name: String { "\(whole.name) (part \(part), samples \(samples.lowerBound)..<\(samples.upperBound))" }
    var batchCount: Int { batches.count }
    var batchSize: Int { whole.batchSize }
    var sampleCount: Int { samples.count }
    func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) { try whole.batch(batches.lowerBound + index) }
}
