import ArgumentParser
import Foundation
import SNNKit

/// `--part k/n --part-file FILE`: evaluate one part of the data and write its statistics
/// for `snnkit merge`, shared by simulate and eval.
struct PartFlags: ParsableArguments {
    @Option(name: .long, help: "Evaluate only part K of N of the data (K from 0 to N-1: whole batches, split evenly; e.g. --part $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT) and write its statistics to --part-file for snnkit merge.")
    var part: String?

    @Option(name: .customLong("part-file"), help: "Where --part writes the part's statistics (JSON, written atomically).")
    var partFile: String?

    /// The part asked for, or nil for a run over all the data.
    func selected() throws -> DataPart? {
        guard let part else { return nil }
        do { return try DataPart(parsing: part) } catch let error as PipelineError { throw ValidationError(error.description) }
    }

    /// Checks that --part and --part-file come together and that the report comes from merge.
    func validate(report: String?) throws {
        _ = try selected()
        switch (part, partFile) {
        case (nil, nil): return
        case (nil, _?): throw ValidationError("--part-file needs --part K/N")
        case (_?, nil): throw ValidationError("--part K/N needs --part-file FILE: where the part's statistics go for snnkit merge")
        case (_?, _?):
            if report != nil { throw ValidationError("--part writes statistics, not a report: run snnkit merge PARTS... --report DIR once every part is done") }
        }
    }

    /// Writes `part` and says where, with the samples it covers.
    func finish(_ part: EvaluationPart, json: Bool) throws {
        try part.write(to: partFile!)
        if json {
            try JSONOutput.print(PartSummary(part: part.part.description, file: partFile!, firstSample: part.firstSample, samples: part.samples,
                                             totalSamples: part.totalSamples, seconds: part.tally.seconds))
        } else {
            print("part \(part.part): samples \(part.firstSample)..<\(part.firstSample + part.samples) of \(part.totalSamples) "
                  + String(format: "in %.1f s", part.tally.seconds) + "; statistics written to \(partFile!)")
            print("merge every part with: snnkit merge PART-FILES... --report DIR")
        }
    }

    /// What `--json` prints for a part.
    struct PartSummary: Encodable {
        var part: String
        var file: String
        var firstSample: Int
        var samples: Int
        var totalSamples: Int
        var seconds: Double
    }
}
