import Foundation
import SNNEvaluation
import SNNReport

extension Pipeline {
    /// `snnkit merge`: reads the part files of a split run and returns the report one
    /// process over all the data would have made, with the same numbers (timings apart: the
    /// merged `seconds` are the parts' sum).
    ///
    /// Refuses, naming the files: a file that is not a complete part, parts of different
    /// models, settings, data or releases, a part given twice, parts that overlap, and a
    /// missing part (with the command that reruns it).
    public static func merge(partFiles: [String]) throws -> RunReport {
        guard !partFiles.isEmpty else { throw PipelineError("no part files given: pass every part of the run, e.g. parts/part-*.json") }
        let parts = try partFiles.map { try EvaluationPart(contentsOf: $0) }
        let first = parts[0], firstFile = partFiles[0]
        for (part, file) in zip(parts, partFiles).dropFirst() {
            func same<T: Equatable>(_ a: T, _ b: T, _ what: String, _ shown: (T) -> String) throws {
                guard a == b else {
                    throw PipelineError("\(firstFile) and \(file) disagree on \(what): \(shown(a)) against \(shown(b)); "
                                        + "every part of a run must come from the same command on the same model and data")
                }
            }
            try same(first.command, part.command, "the command", { $0 })
            try same(first.modelFingerprint, part.modelFingerprint, "the model file", { "\($0)" })
            try same(first.data, part.data, "the data", { $0 })
            try same(first.totalSamples, part.totalSamples, "the number of samples", { "\($0)" })
            try same(first.totalBatches, part.totalBatches, "the number of batches", { "\($0)" })
            try same(first.part.count, part.part.count, "the number of parts", { "\($0)" })
            for key in Set(first.settings.keys).union(part.settings.keys).sorted() {
                try same(first.settings[key], part.settings[key], "the setting '\(key)'", { $0 ?? "(not set)" })
            }
            try same(first.baselines?.map(\.method), part.baselines?.map(\.method), "the compared forms", { $0?.joined(separator: ", ") ?? "none" })
        }
        let count = first.part.count
        var byIndex = [Int: Int]()
        for (i, part) in parts.enumerated() {
            if let j = byIndex[part.part.index] {
                throw PipelineError("\(partFiles[j]) and \(partFiles[i]) are both part \(part.part); give each part once")
            }
            byIndex[part.part.index] = i
        }
        let sorted = parts.indices.sorted { parts[$0].firstBatch < parts[$1].firstBatch }
        for (a, b) in zip(sorted, sorted.dropFirst()) where parts[a].batchRange.overlaps(parts[b].batchRange) {
            throw PipelineError("\(partFiles[a]) and \(partFiles[b]) overlap: batches \(parts[a].batchRange) and \(parts[b].batchRange); "
                                + "they were not split the same way")
        }
        for (i, part) in parts.enumerated() {
            let expected = try part.part.batches(of: part.totalBatches)
            guard expected == part.batchRange else {
                throw PipelineError("\(partFiles[i]) is part \(part.part) but covers batches \(part.batchRange), not \(expected)")
            }
        }
        let missing = (0..<count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let list = missing.map { "\($0)/\(count)" }.joined(separator: ", ")
            throw PipelineError("part\(missing.count == 1 ? "" : "s") \(list) of the run \(missing.count == 1 ? "is" : "are") missing "
                                + "(\(parts.count) of \(count) given); run \(missing.count == 1 ? "it" : "them") again "
                                + "(with Slurm: sbatch --array=\(missing.map(String.init).joined(separator: ",")) ...) and merge all \(count)")
        }
        var ordered = (0..<count).map { parts[byIndex[$0]!] }
        var merged = ordered.removeFirst()
        do {
            for part in ordered {
                try merged.tally.append(part.tally)
                if var forms = merged.baselines, let later = part.baselines {
                    for i in forms.indices { try forms[i].append(later[i]) }
                    merged.baselines = forms
                }
            }
        } catch let error as EvaluationTallyError {
            throw PipelineError("the parts do not add up: \(error)")
        }
        return RunReport(command: merged.command, model: merged.model, conversion: merged.conversion, evaluation: merged.tally.result(),
                         baselines: merged.baselines?.map(\.run), quantization: merged.quantization)
    }
}
