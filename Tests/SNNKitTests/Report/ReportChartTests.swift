import Foundation
import Testing
@testable import SNNReport

/// The SVG charts' axis and label choices, which decide whether a plot can be read.
@Suite struct ReportChartTests {
    @Test func longLayerNamesKeepTheirEndBehindAnEllipsis() {
        #expect(SVGChart.shortened("/features/features.2/Relu") == "\u{2026}eatures/features.2/Relu")
        #expect(SVGChart.shortened("/features/features.10/Relu").count == 24)
        #expect(SVGChart.shortened("/features/features.10/Relu").hasSuffix("features.10/Relu"))
        #expect(SVGChart.shortened("conv1/Relu") == "conv1/Relu")
    }

    /// Energies from 8e-6 to 7e-4 J: the decades alone would label only 1e-5 and 1e-4.
    @Test func shortLogAxesGetTwoAndFiveTicks() {
        let chart = SVGChart(title: "", xLabel: "", yLabel: "")
        let ticks = chart.ticks(log10(8e-6), log10(7e-4), log: true, base10: true)
        #expect(ticks.map(\.label) == ["1e-5", "2e-5", "5e-5", "1e-4", "2e-4", "5e-4"])
        for t in ticks { #expect(abs(pow(10, t.position) - Double(t.label)!) < 1e-12) }
        // Wide ranges keep one tick per (few) decades; the binary axis is untouched.
        #expect(chart.ticks(-12, -2, log: true, base10: true).map(\.label) == ["1e-12", "1e-10", "1e-8", "1e-6", "1e-4", "1e-2"])
        #expect(chart.ticks(0, 3, log: true).map(\.label) == ["1", "2", "4", "8"])
    }
}
