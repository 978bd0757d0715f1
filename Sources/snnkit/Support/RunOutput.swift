import Foundation
import SNNKit

/// The end of simulate and eval: write the report folder, then print JSON or the tables.
enum RunOutput {
    static func finish(_ report: RunReport, folder: String?, json: Bool) throws {
        var files = [String]()
        if let folder { files = try ReportWriter.write(report, to: URL(fileURLWithPath: folder)).map(\.path) }
        if json { try JSONOutput.print(report); return }
        if let c = report.conversion {
            print("Conversion")
            print(String(format: "  %@: %d batches of %d, %.2f s, delay %d steps", c.method, c.calibrationBatches, c.batchSize, c.seconds, c.delay.steps))
        }
        if let q = report.quantization { print("integer SNN: " + q.summary) }
        if let e = report.evaluation {
            ResultPrinter.evaluation(e)
            if let b = report.baselines { ResultPrinter.baselines(b, main: e, conversion: report.conversion) }
        }
        if !files.isEmpty { print("\nreport: " + files.joined(separator: "\n        ")) }
    }
}
