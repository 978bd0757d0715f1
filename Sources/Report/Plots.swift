import Foundation
import SNNEvaluation
import SNNTasks

/// The report's figures, each a self-contained SVG file.
enum Plots {
    static func all(_ report: RunReport) -> [(String, String)] {
        guard let e = report.evaluation else { return [] }
        var plots = [("\(e.primaryMetric).svg", headline(e, baselines: report.baselines ?? [])), ("firing-rates.svg", firingRates(e)), ("energy.svg", energy(e))]
        if let c = report.conversion { plots.append(("thresholds.svg", thresholds(c))) }
        return plots
    }

    /// The task's headline metric (top-1, mIoU, mAP@0.5) against T.
    static func headline(_ e: EvaluationResult, baselines: [BaselineRun]) -> String {
        let label = EvaluationTask.label(e.primaryMetric)
        var chart = SVGChart(title: "\(label) vs time steps", xLabel: "time steps T", yLabel: "\(label) (%)")
        chart.logX = true
        chart.series.append(.init(name: "SNN", points: e.snn.map { (Double($0.steps), $0.score.primary * 100) }, color: SVGChart.palette[0]))
        if e.snn.contains(where: { $0.delayed != nil }) {
            chart.series.append(.init(name: "SNN, delayed", points: e.snn.compactMap { s in s.delayed.map { (Double(s.steps), $0.primary * 100) } },
                                      color: SVGChart.palette[1]))
        }
        for (i, b) in baselines.enumerated() {
            chart.series.append(.init(name: b.method, points: zip(b.steps, b.values).map { (Double($0), $1 * 100) },
                                      color: SVGChart.palette[2 + i % 6], dashed: true))
        }
        chart.references = [("ANN \(String(format: "%.2f", e.ann.primary * 100))%", e.ann.primary * 100, "#000000"),
                            ("clip-ANN \(String(format: "%.2f", e.clipANN.primary * 100))%", e.clipANN.primary * 100, "#888888")]
        chart.yRange = (0, 100)
        return chart.render()
    }

    static func firingRates(_ e: EvaluationResult) -> String {
        let chart = SVGChart(title: "Firing rate per neuron layer (T = \(e.timeSteps))", xLabel: "", yLabel: "spikes per neuron per step")
        return chart.renderBars(labels: e.layers.map(\.node), values: e.layers.map(\.firingRate))
    }

    static func thresholds(_ c: ConversionSummary) -> String {
        let chart = SVGChart(title: "Thresholds per layer (\(c.method)): median, min-max", xLabel: "", yLabel: "threshold")
        return chart.renderBars(labels: c.layers.map(\.node), values: c.layers.map { Double($0.thresholdMedian) },
                                ranges: c.layers.map { (Double($0.thresholdMin), Double($0.thresholdMax)) }, color: "#2ca02c")
    }

    static func energy(_ e: EvaluationResult) -> String {
        var chart = SVGChart(title: "Energy per image vs time steps", xLabel: "time steps T", yLabel: "joules per image")
        chart.logX = true
        chart.logY = true
        let presets = e.snn.first?.energy.map(\.preset) ?? []
        for (i, preset) in presets.enumerated() {
            let short = preset.components(separatedBy: " ").first ?? preset
            chart.series.append(.init(name: "SNN \(short)", points: e.snn.map { s in (Double(s.steps), s.energy[i].snnJoules) },
                                      color: SVGChart.palette[i]))
            if let ann = e.snn.first?.energy[i].annJoules { chart.references.append(("ANN \(short)", ann, SVGChart.palette[i])) }
        }
        return chart.render()
    }
}
