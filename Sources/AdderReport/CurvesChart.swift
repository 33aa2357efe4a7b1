// `curves.svg`: the run's history in four stacked panels, 900 × 1130 px.
//   1. loss (total, cross-entropy, MSE; training, per epoch) on a log axis;
//   2. error rate in % (100 − accuracy) of train and test, digit and sum, on a log axis, so that both the
//      first epoch's 97 % of the sum and the last epochs' 0.5 % of the digit can be read;
//   3. the test error rates of the last epochs alone (the second half of the run, at least 2 epochs) on a
//      linear axis zoomed to their range, where their differences show;
//   4. the learning rate at each epoch's end.
import AdderNet
import Foundation

/// One line of a panel: its name in the legend, colour, dash, and a value per epoch (non-finite or not
/// shown on the axis: the line breaks there).
struct ChartSeries {
    var name: String
    var color: RGB
    var dashed: Bool
    var points: [(x: Double, y: Double)]

    /// SVG stroke-dasharray: test digit lines "6 4"; test sum lines "4 6" shifted by 5, so that where the
    /// two coincide (the adder right whenever the digit is) both colours show.
    var dashAttributes: String {
        guard dashed else { return "" }
        return color == CurvesChart.orange ? " stroke-dasharray=\"4 6\" stroke-dashoffset=\"5\"" : " stroke-dasharray=\"6 4\""
    }
}

/// One plot area: position, axes, title, lines.
struct ChartPanel {
    var top: Double
    var height: Double
    var xAxis: ChartAxis
    var yAxis: ChartAxis
    var title: String
    var series: [ChartSeries]
}

enum CurvesChart {
    static let width = 900
    static let height = 1130
    static let left = 90.0
    static let plotWidth = 540.0
    static let legendLeft = 660.0

    static let blue = RGB(hex: 0x1F77B4), orange = RGB(hex: 0xD9620B), red = RGB(hex: 0xB2182B)
    static let green = RGB(hex: 0x2CA02C), purple = RGB(hex: 0x7B3294)

    /// The four panels for `history` (empty history: none).
    static func panels(_ history: [EpochRecord]) -> [ChartPanel] {
        guard !history.isEmpty else { return [] }
        let xs = history.map { Double($0.epoch) }
        let xAxis = ChartAxis.linear(covering: xs.min() ?? 1, xs.max() ?? 1, maxTicks: 11, integerSteps: true)
        func series(_ name: String, _ color: RGB, _ dashed: Bool, _ records: [EpochRecord], _ value: (EpochRecord) -> Double) -> ChartSeries {
            ChartSeries(name: name, color: color, dashed: dashed, points: records.map { (Double($0.epoch), value($0)) })
        }
        func errorPercent(_ accuracy: Double) -> Double { (1 - accuracy) * 100 }

        let losses = [
            series("loss (CE + MSE)", red, false, history) { $0.loss },
            series("cross-entropy", blue, false, history) { $0.crossEntropy },
            series("MSE of the sum", orange, false, history) { $0.mse },
        ]
        let errors = [
            series("train digit", blue, false, history) { errorPercent($0.trainClassificationAccuracy) },
            series("test digit", blue, true, history) { errorPercent($0.testClassificationAccuracy) },
            series("train sum", orange, false, history) { errorPercent($0.trainAdditionAccuracy) },
            series("test sum", orange, true, history) { errorPercent($0.testAdditionAccuracy) },
        ]
        let lastCount = max(2, (history.count + 1) / 2)
        let last = Array(history.suffix(lastCount))
        let lastXs = last.map { Double($0.epoch) }
        let zoomedX = ChartAxis.linear(covering: lastXs.min() ?? 1, lastXs.max() ?? 1, maxTicks: 11, integerSteps: true)
        let zoomed = [
            series("test digit", blue, true, last) { errorPercent($0.testClassificationAccuracy) },
            series("test sum", orange, true, last) { errorPercent($0.testAdditionAccuracy) },
        ]
        let zoomedValues = zoomed.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let rates = [series("learning rate", purple, false, history) { $0.learningRate }]
        let rateValues = rates[0].points.map(\.y).filter(\.isFinite)

        return [
            ChartPanel(
                top: 70, height: 200, xAxis: xAxis, yAxis: .log(covering: losses.flatMap { $0.points.map(\.y) }),
                title: "training loss per epoch (nats, log scale)", series: losses),
            ChartPanel(
                top: 350, height: 280, xAxis: xAxis,
                yAxis: .log(covering: errors.flatMap { $0.points.map(\.y) }, ceiling: 100),
                title: "error rate (% wrong, log scale)", series: errors),
            ChartPanel(
                top: 710, height: 170, xAxis: zoomedX,
                yAxis: .linear(covering: zoomedValues.min() ?? 0, zoomedValues.max() ?? 1, maxTicks: 5),
                title: "test error rate, last \(last.count) epochs (%, zoomed)", series: zoomed),
            ChartPanel(
                top: 960, height: 110, xAxis: xAxis,
                yAxis: .linear(covering: 0, rateValues.max() ?? 1, maxTicks: 4),
                title: "learning rate (at each epoch's end)", series: rates),
        ]
    }

    /// The SVG text of the picture titled `title`.
    static func svg(_ history: [EpochRecord], title: String) -> String {
        var doc = SVGDocument(width: width, height: height, title: title)
        doc.text(title, x: Double(width) / 2, y: 30, anchor: "middle", size: 18, bold: true, attributes: "class=\"title\"")
        let panels = panels(history)
        if panels.isEmpty {
            doc.text("no epochs recorded yet", x: Double(width) / 2, y: Double(height) / 2, anchor: "middle", size: 16)
        }
        for panel in panels { draw(panel, into: &doc) }
        return doc.text
    }

    private static func draw(_ panel: ChartPanel, into doc: inout SVGDocument) {
        let n = SVGDocument.n
        let bottom = panel.top + panel.height
        func px(_ x: Double) -> Double? { panel.xAxis.fraction(x).map { left + $0 * plotWidth } }
        func py(_ y: Double) -> Double? {
            guard let f = panel.yAxis.fraction(y), f >= -1e-9, f <= 1 + 1e-9 else { return nil }
            return bottom - f * panel.height
        }
        let gray = RGB(hex: 0x333333)
        doc.add("<g class=\"panel\" data-scale=\"\(panel.yAxis.scale == .log ? "log" : "linear")\">")
        doc.text(panel.title, x: left, y: panel.top - 12, bold: true, attributes: "class=\"panel-title\"")
        for tick in panel.yAxis.ticks {
            guard let y = py(tick.value) else { continue }
            doc.line(left, y, left + plotWidth, y, color: RGB(hex: tick.label == nil ? 0xF0F0F0 : 0xDDDDDD))
            if let label = tick.label {
                doc.text(label, x: left - 8, y: y + 4, anchor: "end", attributes: "class=\"y-tick\"")
            }
        }
        for tick in panel.xAxis.ticks {
            guard let x = px(tick.value) else { continue }
            doc.line(x, bottom, x, bottom + 5, color: gray)
            doc.text(tick.label ?? "", x: x, y: bottom + 20, anchor: "middle", attributes: "class=\"x-tick\"")
        }
        doc.add("<rect x=\"\(n(left))\" y=\"\(n(panel.top))\" width=\"\(n(plotWidth))\" height=\"\(n(panel.height))\" "
            + "fill=\"none\" stroke=\"\(gray.css)\"/>")
        doc.text("epoch", x: left + plotWidth / 2, y: bottom + 38, anchor: "middle", color: gray, attributes: "class=\"x-title\"")
        for (k, series) in panel.series.enumerated() {
            var runs: [[(Double, Double)]] = [[]]
            for p in series.points {
                if let x = px(p.x), let y = py(p.y) {
                    runs[runs.count - 1].append((x, y))
                } else if !(runs.last?.isEmpty ?? true) {
                    runs.append([])
                }
            }
            for run in runs where !run.isEmpty {
                let points = run.map { "\(n($0.0)),\(n($0.1))" }.joined(separator: " ")
                doc.add("<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(series.color.css)\" stroke-width=\"2\""
                    + series.dashAttributes + "/>")
                for p in run {
                    doc.add("<circle cx=\"\(n(p.0))\" cy=\"\(n(p.1))\" r=\"3\" fill=\"\(series.color.css)\"/>")
                }
            }
            let ly = panel.top + 14 + Double(k) * 22
            doc.add("<line x1=\"\(n(legendLeft))\" y1=\"\(n(ly))\" x2=\"\(n(legendLeft + 30))\" y2=\"\(n(ly))\" "
                + "stroke=\"\(series.color.css)\" stroke-width=\"2\"\(series.dashAttributes)/>")
            let lastValue = series.points.last.map { " " + valueText($0.y, panel: panel) } ?? ""
            doc.text(series.name + lastValue, x: legendLeft + 38, y: ly + 4, attributes: "class=\"legend\"")
        }
        doc.add("</g>")
    }

    /// The last value of a series for the legend: `0.52 %` on percentage panels, else 3 significant digits.
    private static func valueText(_ v: Double, panel: ChartPanel) -> String {
        guard v.isFinite else { return "(nan)" }
        return panel.title.contains("%") ? String(format: "(%.2f %%)", v) : String(format: "(%.3g)", v)
    }
}
