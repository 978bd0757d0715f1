import Foundation

/// A minimal, dependency-free SVG chart: line series on linear or log axes, or bars.
/// Self-contained files (inline styles, no scripts or fonts) that render the same in a
/// browser, rsvg-convert or an editor.
struct SVGChart {
    struct Series {
        var name: String
        var points: [(x: Double, y: Double)]
        var color: String
        var dashed = false
        var markers = true
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series] = []
    /// Horizontal reference lines (e.g. the ANN's accuracy).
    var references: [(name: String, y: Double, color: String)] = []
    var logX = false
    var logY = false
    var yRange: (Double, Double)? = nil
    let width = 720.0, height = 420.0
    let left = 70.0, right = 180.0, top = 40.0, bottom = 55.0

    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    func render() -> String {
        let xs = series.flatMap { $0.points.map(\.x) }
        let ys = series.flatMap { $0.points.map(\.y) } + references.map(\.y)
        guard !xs.isEmpty else { return empty() }
        func tx(_ v: Double) -> Double { logX ? log2(max(v, 1e-12)) : v }
        func ty(_ v: Double) -> Double { logY ? log10(max(v, 1e-30)) : v }
        var (x0, x1) = (tx(xs.min()!), tx(xs.max()!))
        if x0 == x1 { x0 -= 1; x1 += 1 }
        var (y0, y1) = yRange.map { (ty($0.0), ty($0.1)) } ?? (ty(ys.min()!), ty(ys.max()!))
        if yRange == nil {
            let pad = (y1 - y0) * 0.05 + (y0 == y1 ? 1 : 0)
            y0 -= pad; y1 += pad
        }
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ v: Double) -> Double { left + (tx(v) - x0) / (x1 - x0) * plotW }
        func py(_ v: Double) -> Double { top + plotH - (ty(v) - y0) / (y1 - y0) * plotH }
        var s = header()
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>\n"
        // Axes ticks.
        for tick in ticks(x0, x1, log: logX) {
            let x = left + (tick.position - x0) / (x1 - x0) * plotW
            s += "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 18))\" font-size=\"12\" text-anchor=\"middle\">\(tick.label)</text>\n"
        }
        for tick in ticks(y0, y1, log: logY, base10: true) {
            let y = top + plotH - (tick.position - y0) / (y1 - y0) * plotH
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"12\" text-anchor=\"end\">\(tick.label)</text>\n"
        }
        var legend = [(String, String, Bool)]()
        for r in references {
            let y = py(r.y)
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"\(r.color)\" stroke-width=\"1.5\" stroke-dasharray=\"2,3\"/>\n"
            legend.append((r.name, r.color, true))
        }
        for ser in series where !ser.points.isEmpty {
            let path = ser.points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"2\"\(ser.dashed ? " stroke-dasharray=\"6,4\"" : "")/>\n"
            if ser.markers {
                for p in ser.points { s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(ser.color)\"/>\n" }
            }
            legend.append((ser.name, ser.color, ser.dashed))
        }
        for (i, item) in legend.enumerated() {
            let y = top + 10 + Double(i) * 20
            let x = left + plotW + 12
            s += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 22))\" y2=\"\(f(y))\" stroke=\"\(item.1)\" stroke-width=\"2\"\(item.2 ? " stroke-dasharray=\"5,3\"" : "")/>\n"
            s += "<text x=\"\(f(x + 28))\" y=\"\(f(y + 4))\" font-size=\"12\">\(escape(item.0))</text>\n"
        }
        s += axisLabels()
        return s + "</svg>\n"
    }

    /// Vertical bars with optional range whiskers (min, max) per category.
    func renderBars(labels: [String], values: [Double], ranges: [(Double, Double)]? = nil, color: String = "#1f77b4") -> String {
        guard !values.isEmpty else { return empty() }
        let top = self.top, plotW = width - left - 30, plotH = height - self.top - 110
        let maxV = max((ranges?.map(\.1).max() ?? 0), values.max() ?? 0, 1e-12) * 1.1
        var s = header()
        s += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" fill=\"none\" stroke=\"#444\"/>\n"
        for tick in ticks(0, maxV, log: false, base10: true) {
            let y = top + plotH - tick.position / maxV * plotH
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" font-size=\"12\" text-anchor=\"end\">\(tick.label)</text>\n"
        }
        let slot = plotW / Double(values.count)
        for (i, v) in values.enumerated() {
            let x = left + Double(i) * slot + slot * 0.15
            let h = v / maxV * plotH
            s += "<rect x=\"\(f(x))\" y=\"\(f(top + plotH - h))\" width=\"\(f(slot * 0.7))\" height=\"\(f(h))\" fill=\"\(color)\"/>\n"
            if let r = ranges?[i] {
                let cx = x + slot * 0.35
                s += "<line x1=\"\(f(cx))\" y1=\"\(f(top + plotH - r.0 / maxV * plotH))\" x2=\"\(f(cx))\" y2=\"\(f(top + plotH - r.1 / maxV * plotH))\" stroke=\"#222\" stroke-width=\"1.5\"/>\n"
            }
            let lx = x + slot * 0.35, ly = top + plotH + 10
            s += "<text x=\"\(f(lx))\" y=\"\(f(ly))\" font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 \(f(lx)) \(f(ly)))\">\(escape(Self.shortened(labels[i])))</text>\n"
        }
        s += "<text x=\"\(f(width / 2))\" y=\"24\" font-size=\"16\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(title))</text>\n"
        s += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">\(escape(yLabel))</text>\n"
        return s + "</svg>\n"
    }

    private func header() -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }

    private func axisLabels() -> String {
        let plotH = height - top - bottom
        return "<text x=\"\(f(width / 2 - right / 2 + left / 2))\" y=\"24\" font-size=\"16\" text-anchor=\"middle\" font-weight=\"bold\">\(escape(title))</text>\n" +
            "<text x=\"\(f(left + (width - left - right) / 2))\" y=\"\(f(height - 12))\" font-size=\"13\" text-anchor=\"middle\">\(escape(xLabel))</text>\n" +
            "<text x=\"18\" y=\"\(f(top + plotH / 2))\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">\(escape(yLabel))</text>\n"
    }

    private func empty() -> String { header() + "<text x=\"20\" y=\"40\">no data</text></svg>\n" }

    /// A category label that fits under its bar: the end of a layer's name is what tells
    /// layers apart, so a long one keeps its last characters after an ellipsis.
    static func shortened(_ label: String, to length: Int = 24) -> String {
        label.count <= length ? label : "\u{2026}" + label.suffix(length - 1)
    }

    /// Tick positions in transformed space with human labels. A base-10 log axis spanning
    /// under three decades also gets 2 and 5 times each power, or it may show one label.
    func ticks(_ lo: Double, _ hi: Double, log: Bool, base10: Bool = false) -> [(position: Double, label: String)] {
        if log {
            let step = Swift.max(1, ((hi - lo) / 8).rounded(.up))
            let decades = stride(from: lo.rounded(.up), through: hi, by: step).map { p in
                (position: p, label: base10 ? "1e\(Int(p))" : "\(Int(pow(2, p)))")
            }
            guard base10, hi - lo < 3 else { return decades }
            var all = [(position: Double, label: String)]()
            for k in Int(lo.rounded(.down))...Int(hi.rounded(.up)) {
                for m in [1.0, 2, 5] where (lo...hi).contains(Double(k) + log10(m)) {
                    all.append((Double(k) + log10(m), "\(Int(m))e\(k)"))
                }
            }
            return all
        }
        let raw = (hi - lo) / 6
        guard raw > 0 else { return [] }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        return stride(from: (lo / step).rounded(.up) * step, through: hi, by: step).map { ($0, label($0)) }
    }

    private func label(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e9 { return String(format: "%.3gG", v / 1e9) }
        if a >= 1e6 { return String(format: "%.3gM", v / 1e6) }
        if a >= 1e3 { return String(format: "%.3gK", v / 1e3) }
        return String(format: "%.3g", v)
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
