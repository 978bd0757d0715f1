import Foundation
import SNNEvaluation
import SNNTasks

/// report.html: the tables and the plots of a run on one page (plots inlined).
enum HTMLReport {
    static func render(_ r: RunReport) -> String {
        var h = """
        <!doctype html><html><head><meta charset="utf-8"><title>SNNKit report: \(escape(r.model))</title>
        <style>body{font-family:Helvetica,Arial,sans-serif;max-width:1000px;margin:2em auto;color:#222}
        table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
        th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.plots svg{max-width:100%;height:auto}</style></head><body>
        <h1>SNNKit report</h1><p>Model <code>\(escape(r.model))</code>, command <code>\(escape(r.command))</code>, \(escape(r.created)), SNNKit \(r.snnkitVersion).</p>

        """
        if let c = r.conversion {
            h += "<h2>Conversion</h2><p>\(escape(c.method)), \(c.calibrationBatches) calibration batches of \(c.batchSize), " +
                String(format: "%.1f s (%.0f images/s)", c.seconds, c.imagesPerSecond) + ", estimated delay \(c.delay.steps) steps.</p>"
            h += table(["layer", "channels", "θ min", "θ median", "θ max", "clipped", "clip error"], c.layers.map {
                [$0.node, "\($0.channels)", g($0.thresholdMin), g($0.thresholdMedian), g($0.thresholdMax), pct($0.clippedFraction), g($0.clippingError)]
            })
        }
        if let q = r.quantization {
            h += "<h2>Integer SNN</h2><p>\(escape(q.summary)); " + String(format: "%.3f%%", q.clippedShare * 100) + " of its integer weights clipped.</p>"
        }
        if let e = r.evaluation {
            let label = EvaluationTask.label(e.primaryMetric)
            let annText = e.metricNames.map { "\(EvaluationTask.label($0)) \(pct(e.ann[$0] ?? 0))" }.joined(separator: ", ")
            h += "<h2>\(escape(e.task.capitalized))</h2><p>\(e.images) images. ANN \(escape(annText)); clip-ANN \(escape(label)) \(pct(e.clipANN.primary)).</p>"
            h += table(["T", "SNN \(label)", "delayed \(label)", "window", "gap to clip-ANN", "SOPs/image"] + (e.snn.first?.energy.map { "energy vs ANN (\($0.preset))" } ?? []),
                       e.snn.map { s in
                           ["\(s.steps)", pct(s.score.primary), s.delayed.map { pct($0.primary) } ?? "", "(\(s.windowStart), \(s.steps)]", g(s.gapToClipANN),
                            g(s.synapticOpsPerImage)] + s.energy.map { String(format: "%.3g×", 1 / max($0.efficiencyGain, 1e-30)) }
                       })
            h += "<h2>Reaching the ANN</h2>" + table(["target", "T", "SOPs/image"] + (e.snn.first?.energy.map { "ANN/SNN energy (\($0.preset))" } ?? []), e.reach.map { t in
                ["\(Int(t.fraction * 100))% of ANN", t.steps.map(String.init) ?? "not reached", t.synapticOpsPerImage.map(g) ?? ""] + t.energy.map { String(format: "%.1f×", $0.efficiencyGain) }
            })
            h += "<h2>Layers</h2><p>Gap: mean |SNN average output − clip-ANN activation| / mean |clip-ANN activation| of the layer at each checkpoint; a layer whose gap stays high costs accuracy.</p>"
            h += table(["layer", "neurons", "firing rate", "SOPs/image"] + e.snn.map { "gap T=\($0.steps)" },
                       e.layers.map { l in [l.node, "\(l.neurons)", g(l.firingRate), g(l.synapticOpsPerImage)] + l.gapToClipANN.map { g($0) } })
            h += "<div class=\"plots\">" + Plots.all(r).map { "<h3>\($0.0)</h3>" + $0.1.replacingOccurrences(of: "<?xml version=\"1.0\"?>", with: "") }.joined() + "</div>"
        }
        return h + "</body></html>\n"
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>" +
            rows.map { "<tr>" + $0.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }

    static func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
    static func g(_ v: Double) -> String { String(format: "%.4g", v) }
    static func g(_ v: Float) -> String { String(format: "%.4g", Double(v)) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
