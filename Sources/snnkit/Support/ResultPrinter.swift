import Foundation
import SNNKit

/// Terminal tables shared by convert, simulate, eval and demo.
enum ResultPrinter {
    static func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }
    static func num(_ v: Double) -> String { Format.count(v) }

    static func conversion(_ r: ConversionResult) {
        print(String(format: "calibration: %@, %d batches of %d images, %.2f s (%.0f images/s)", r.method, r.batchesUsed, r.batchSize,
                     r.seconds, r.imagesPerSecond))
        if r.distinctBatches > 0 && r.distinctBatches < r.batchesUsed {
            print(String(format: "note: the %d batches reuse %d distinct ones (each about %.0f times); more calibration images give LTB fresh data",
                         r.batchesUsed, r.distinctBatches, Double(r.batchesUsed) / Double(r.distinctBatches)))
        }
        if !r.curve.isEmpty {
            print("agreement of the clip-ANN with the ANN on held-out batches (top-1 agreement for class scores, else 1 - relative L2 distance):")
            print("  " + r.curve.map { "\($0.batches) batches: \(pct($0.agreement))" }.joined(separator: ", "))
        }
        var table = TextTable(["layer", "channels", "θ min", "θ median", "θ max", "clipped", "clip error"])
        for l in r.layers {
            table.add([l.node, "\(l.channels)", String(format: "%.4g", l.thresholdMin), String(format: "%.4g", l.thresholdMedian),
                       String(format: "%.4g", l.thresholdMax), pct(l.clippedFraction), String(format: "%.2e", l.clippingError)])
        }
        print(table.render())
        print("estimated delay: \(r.delay.steps) steps (sum of per-layer terms " + r.delay.perLayer.map { String(format: "%.1f", $0) }.joined(separator: " + ") + ")")
    }

    /// The integer layers of a quantized SNN: thresholds and clipped weights.
    static func quantization(_ q: QuantizationRecord) {
        print("integer SNN: " + q.summary)
        var table = TextTable(["layer", "scales", "threshold min", "threshold max", "clipped weights"])
        for l in q.layers {
            let thresholds = l.exponents.map { 1 << $0 }
            table.add([l.neuron, "\(l.exponents.count)", "\(thresholds.min()!)", "\(thresholds.max()!)",
                       pct(Double(l.clippedWeights) / Double(max(1, l.weights)))])
        }
        print(table.render())
    }

    /// What the low-latency calibrations measured and chose.
    static func tuning(_ t: LatencyTuning, _ r: LatencyTuningReport) {
        if let p = t.potentials, let rounds = r.potentialRounds {
            print("initial potentials calibrated for T = \(p.steps): channels' mean shortfall against the clip-ANN, before and after each pass: "
                  + rounds.map { pct($0.relativeError) }.joined(separator: " -> ")
                  + String(format: " (%.1f s)", rounds.reduce(0) { $0 + $1.seconds }))
        }
        if let starts = r.readoutStarts {
            print(String(format: "readout starts chosen on held-out batches (T:start): %@ (%.1f s)", starts, r.readoutSeconds ?? 0))
        }
    }

    static func evaluation(_ e: EvaluationResult) {
        let names = e.metricNames
        let label = EvaluationTask.label(e.primaryMetric)
        print("\(e.task): ANN " + names.map { "\(EvaluationTask.label($0)) \(pct(e.ann[$0] ?? 0))" }.joined(separator: ", ")
              + ", clip-ANN \(label) \(pct(e.clipANN.primary)) on \(e.images) images")
        let delayed = e.snn.contains { $0.delayed != nil }
        var headers = ["T"] + names.map { "SNN \(EvaluationTask.label($0))" }
        if delayed { headers += names.map { "delayed \(EvaluationTask.label($0))" } + ["window"] }
        headers += ["gap to clip-ANN", "SOPs/image"]
        let presets = e.snn.first?.energy.map { $0.preset.components(separatedBy: " ").first ?? $0.preset } ?? []
        headers += presets.map { "E(SNN)/E(ANN) \($0)" }
        var table = TextTable(headers, leftAligned: [])
        for s in e.snn {
            var row = ["\(s.steps)"] + names.map { pct(s.score[$0] ?? 0) }
            if delayed { row += names.map { n in s.delayed.map { pct($0[n] ?? 0) } ?? "" } + ["(\(s.windowStart), \(s.steps)]"] }
            row += [String(format: "%.3f", s.gapToClipANN), num(s.synapticOpsPerImage)]
            row += s.energy.map { String(format: "%.3f", 1 / max($0.efficiencyGain, 1e-30)) }
            table.add(row)
        }
        print(table.render())
        print("")
        var reach = TextTable(["target", "first T", "SOPs/image"] + presets.map { "ANN/SNN energy \($0)" })
        for r in e.reach {
            reach.add(["\(Int(r.fraction * 100))% of ANN \(label)", r.steps.map(String.init) ?? "not reached",
                       r.synapticOpsPerImage.map(num) ?? ""] + r.energy.map { String(format: "%.1f×", $0.efficiencyGain) })
        }
        print(reach.render())
        print("")
        let marks = [e.snn.first?.steps, e.snn.count > 2 ? e.snn[e.snn.count / 2].steps : nil, e.snn.last?.steps].compactMap { $0 }
        let markIndex = marks.map { m in e.snn.firstIndex { $0.steps == m }! }
        var layers = TextTable(["layer", "neurons", "firing rate", "SOPs/image"] + marks.map { "gap to clip-ANN @T=\($0)" })
        for l in e.layers {
            layers.add([l.node, num(Double(l.neurons)), String(format: "%.4f", l.firingRate), num(l.synapticOpsPerImage)] +
                       markIndex.map { $0 < l.gapToClipANN.count ? String(format: "%.3f", l.gapToClipANN[$0]) : "" })
        }
        print(layers.render())
        print(String(format: "ANN: %@ MACs/image; SNN analog input layer: %@ MACs/image per step; simulated %d images at %.1f images/s (T = %d)",
                     num(e.annMACsPerImage), num(e.analogMACsPerStepPerImage), e.images, e.imagesPerSecond, e.timeSteps))
    }

    /// The other forms beside the main run (threshold rules on the same calibration batches,
    /// or integer forms); `conversion` is the main run's own conversion, whose batch count
    /// and estimated delay head the table.
    static func baselines(_ runs: [BaselineRun], main: EvaluationResult, conversion: ConversionSummary?) {
        print("\nOther forms of the network on the same data (\(EvaluationTask.label(main.primaryMetric)), delayed when a delay is set):")
        var table = TextTable(["form", "batches", "delay", "clip-ANN"] + main.snn.map { "T=\($0.steps)" })
        table.add([conversion?.method ?? "this model", conversion.map { "\($0.calibrationBatches)" } ?? "",
                   conversion.map { "\($0.delay.steps)" } ?? "", pct(main.clipANN.primary)] +
                  main.snn.map { pct($0.effective.primary) })
        for r in runs { table.add([r.method, "\(r.calibrationBatches)", "\(r.delay)", pct(r.clipANN)] + r.values.map(pct)) }
        print(table.render())
    }
}
