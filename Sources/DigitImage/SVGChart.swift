// Layout shared by the SVG and PNG renderings of the training curves and the confusion matrix, so that the two
// pictures of one run agree pixel for pixel on where things are; plus the SVG renderers.
import Foundation

/// A numeric axis with "nice" tick values (steps of 1, 2, 2.5 or 5 times a power of ten).
struct ChartAxis {
    var low: Double
    var high: Double
    var step: Double

    /// Covers `low...high` with at most about `maxTicks` ticks; a degenerate range is widened by one step.
    init(covering low: Double, _ high: Double, maxTicks: Int = 6, integerSteps: Bool = false) {
        var lo = low, hi = high
        if !(hi > lo) {
            lo -= 1
            hi += 1
        }
        let rough = (hi - lo) / Double(max(1, maxTicks - 1))
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        var step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) } ?? 10 * magnitude
        if integerSteps { step = max(1, step.rounded(.up)) }
        self.step = step
        self.low = (lo / step * (1 + 1e-12)).rounded(.down) * step
        self.high = (hi / step * (1 - 1e-12)).rounded(.up) * step
    }

    var ticks: [Double] {
        let count = Int(((high - low) / step).rounded())
        return (0...count).map { low + Double($0) * step }
    }

    /// A tick label with as many decimals as the step needs.
    func label(_ value: Double) -> String {
        let decimals = (0...4).first { d in
            let scaled = step * pow(10, Double(d))
            return abs(scaled - scaled.rounded()) < 1e-6
        } ?? 4
        return String(format: "%.\(decimals)f", value)
    }
}

/// One line of a chart: finite points joined in order; a non-finite value breaks the line.
struct ChartSeries {
    var name: String
    var color: RGB
    var dashed: Bool
    var points: [(x: Double, y: Double)]

    /// Runs of consecutive finite points.
    var segments: [[(x: Double, y: Double)]] {
        var runs: [[(x: Double, y: Double)]] = [[]]
        for p in points {
            if p.x.isFinite, p.y.isFinite {
                runs[runs.count - 1].append(p)
            } else if !(runs.last?.isEmpty ?? true) {
                runs.append([])
            }
        }
        return runs.filter { !$0.isEmpty }
    }
}

/// One plot area with its axes, the label of its y axis and its series.
struct ChartPanel {
    var left: Double
    var top: Double
    var width: Double
    var height: Double
    var xAxis: ChartAxis
    var yAxis: ChartAxis
    var yTitle: String
    var series: [ChartSeries]

    func px(_ x: Double) -> Double { left + (x - xAxis.low) / (xAxis.high - xAxis.low) * width }
    func py(_ y: Double) -> Double { top + height - (y - yAxis.low) / (yAxis.high - yAxis.low) * height }
}

/// The training-curves picture: loss on top, the four accuracies (in percent) below, 800 × 600 pixels.
struct CurvesLayout {
    static let width = 800
    static let height = 600
    static let legendLeft = 600.0
    var title: String
    var panels: [ChartPanel]

    init(title: String, epochs: [EpochMetrics]) {
        self.title = title
        let xs = epochs.map { Double($0.epoch) }
        let xAxis = ChartAxis(
            covering: xs.min() ?? 1, xs.max() ?? 1, maxTicks: 10, integerSteps: true)
        let losses = epochs.map(\.trainLoss).filter(\.isFinite)
        let lossAxis = ChartAxis(covering: 0, max(losses.max() ?? 1, 1e-6), maxTicks: 6)
        let percents = epochs.flatMap {
            [$0.trainClassificationAccuracy, $0.trainAdditionAccuracy,
             $0.testClassificationAccuracy, $0.testAdditionAccuracy]
        }.map { $0 * 100 }.filter(\.isFinite)
        var accuracyAxis = ChartAxis(covering: max(0, min(percents.min() ?? 0, 99)), 100, maxTicks: 6)
        accuracyAxis.low = max(0, accuracyAxis.low)
        accuracyAxis.high = min(100, max(accuracyAxis.high, accuracyAxis.low + accuracyAxis.step))

        func series(_ name: String, _ color: RGB, _ dashed: Bool, _ value: (EpochMetrics) -> Double) -> ChartSeries {
            ChartSeries(name: name, color: color, dashed: dashed, points: epochs.map { (Double($0.epoch), value($0)) })
        }
        let blue = RGB(hex: 0x1F77B4), orange = RGB(hex: 0xD9620B), red = RGB(hex: 0xB2182B)
        panels = [
            ChartPanel(
                left: 80, top: 60, width: 500, height: 190, xAxis: xAxis, yAxis: lossAxis,
                yTitle: "training loss (nats)",
                series: [series("train loss", red, false) { $0.trainLoss }]),
            ChartPanel(
                left: 80, top: 350, width: 500, height: 190, xAxis: xAxis, yAxis: accuracyAxis,
                yTitle: "accuracy (%)",
                series: [
                    series("train classification", blue, false) { $0.trainClassificationAccuracy * 100 },
                    series("test classification", blue, true) { $0.testClassificationAccuracy * 100 },
                    series("train addition", orange, false) { $0.trainAdditionAccuracy * 100 },
                    series("test addition", orange, true) { $0.testAdditionAccuracy * 100 },
                ]),
        ]
    }
}

/// The confusion-matrix picture: a 10 × 10 grid of 56-pixel cells, 664 × 664 pixels.
enum ConfusionLayout {
    static let cell = 56
    static let left = 80
    static let top = 80
    static let size = left + 10 * cell + 24
    static let low = RGB(hex: 0xF7FBFF)
    static let high = RGB(hex: 0x08306B)

    /// Shade on a log scale, `log(1 + count) / log(1 + largest)`, so that the few errors stay visible next to
    /// the large diagonal.
    static func shade(_ count: Int, largest: Int) -> Double {
        largest > 0 ? log1p(Double(count)) / log1p(Double(largest)) : 0
    }

    static func fill(_ count: Int, largest: Int) -> RGB { low.mixed(with: high, shade(count, largest: largest)) }

    static func ink(_ count: Int, largest: Int) -> RGB { shade(count, largest: largest) > 0.6 ? .white : .black }
}

/// Builders of the SVG pictures.
enum SVGChart {
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    private static func n(_ v: Double) -> String { String(format: "%.2f", v) }

    private static func header(width: Int, height: Int, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
        viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif" font-size="13">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>

        """
    }

    static func curves(_ layout: CurvesLayout, epochCount: Int) -> String {
        var svg = header(width: CurvesLayout.width, height: CurvesLayout.height, title: layout.title)
        svg += "<text x=\"\(CurvesLayout.width / 2)\" y=\"28\" text-anchor=\"middle\" font-size=\"18\" "
            + "font-weight=\"bold\">\(escape(layout.title))</text>\n"
        if epochCount == 0 {
            svg += "<text x=\"400\" y=\"300\" text-anchor=\"middle\">no epochs recorded</text>\n</svg>\n"
            return svg
        }
        for panel in layout.panels {
            let bottom = panel.top + panel.height
            svg += "<g class=\"panel\">\n"
            for tick in panel.yAxis.ticks {
                let y = panel.py(tick)
                svg += "<line x1=\"\(n(panel.left))\" y1=\"\(n(y))\" x2=\"\(n(panel.left + panel.width))\" "
                    + "y2=\"\(n(y))\" stroke=\"#e3e3e3\"/>\n"
                svg += "<text x=\"\(n(panel.left - 8))\" y=\"\(n(y + 4))\" text-anchor=\"end\">"
                    + "\(panel.yAxis.label(tick))</text>\n"
            }
            for tick in panel.xAxis.ticks {
                let x = panel.px(tick)
                svg += "<line x1=\"\(n(x))\" y1=\"\(n(bottom))\" x2=\"\(n(x))\" y2=\"\(n(bottom + 5))\" "
                    + "stroke=\"#333333\"/>\n"
                svg += "<text x=\"\(n(x))\" y=\"\(n(bottom + 20))\" text-anchor=\"middle\">"
                    + "\(panel.xAxis.label(tick))</text>\n"
            }
            svg += "<rect x=\"\(n(panel.left))\" y=\"\(n(panel.top))\" width=\"\(n(panel.width))\" "
                + "height=\"\(n(panel.height))\" fill=\"none\" stroke=\"#333333\"/>\n"
            svg += "<text x=\"\(n(panel.left))\" y=\"\(n(panel.top - 10))\" font-weight=\"bold\">"
                + "\(escape(panel.yTitle))</text>\n"
            svg += "<text x=\"\(n(panel.left + panel.width / 2))\" y=\"\(n(bottom + 40))\" "
                + "text-anchor=\"middle\">epoch</text>\n"
            for (k, series) in panel.series.enumerated() {
                let dash = series.dashed ? " stroke-dasharray=\"6 4\"" : ""
                for run in series.segments {
                    let points = run.map { "\(n(panel.px($0.x))),\(n(panel.py($0.y)))" }.joined(separator: " ")
                    svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(series.color.css)\" "
                        + "stroke-width=\"2\"\(dash)/>\n"
                    for p in run {
                        svg += "<circle cx=\"\(n(panel.px(p.x)))\" cy=\"\(n(panel.py(p.y)))\" r=\"3\" "
                            + "fill=\"\(series.color.css)\"/>\n"
                    }
                }
                let ly = panel.top + 12 + Double(k) * 22
                let lx = CurvesLayout.legendLeft
                svg += "<line x1=\"\(n(lx))\" y1=\"\(n(ly))\" x2=\"\(n(lx + 30))\" y2=\"\(n(ly))\" "
                    + "stroke=\"\(series.color.css)\" stroke-width=\"2\"\(dash)/>\n"
                svg += "<text x=\"\(n(lx + 38))\" y=\"\(n(ly + 4))\">\(escape(series.name))</text>\n"
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    static func confusion(_ counts: [[Int]], title: String) -> String {
        let size = ConfusionLayout.size, cell = ConfusionLayout.cell
        let left = ConfusionLayout.left, top = ConfusionLayout.top
        let largest = counts.flatMap { $0 }.max() ?? 0
        var svg = header(width: size, height: size, title: title)
        svg += "<text x=\"\(left + 5 * cell)\" y=\"24\" text-anchor=\"middle\" font-size=\"18\" "
            + "font-weight=\"bold\">\(escape(title))</text>\n"
        svg += "<text x=\"\(left + 5 * cell)\" y=\"50\" text-anchor=\"middle\" font-weight=\"bold\">"
            + "predicted digit</text>\n"
        svg += "<text x=\"24\" y=\"\(top + 5 * cell)\" text-anchor=\"middle\" font-weight=\"bold\" "
            + "transform=\"rotate(-90 24 \(top + 5 * cell))\">true digit</text>\n"
        for d in 0..<10 {
            svg += "<text x=\"\(left + d * cell + cell / 2)\" y=\"\(top - 10)\" text-anchor=\"middle\">\(d)</text>\n"
            svg += "<text x=\"\(left - 12)\" y=\"\(top + d * cell + cell / 2 + 5)\" text-anchor=\"end\">\(d)</text>\n"
        }
        for row in 0..<10 {
            for column in 0..<10 {
                let count = counts[row][column]
                let x = left + column * cell, y = top + row * cell
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" "
                    + "fill=\"\(ConfusionLayout.fill(count, largest: largest).css)\" stroke=\"#ffffff\"/>\n"
                svg += "<text class=\"count\" data-true=\"\(row)\" data-predicted=\"\(column)\" "
                    + "x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 5)\" text-anchor=\"middle\" "
                    + "fill=\"\(ConfusionLayout.ink(count, largest: largest).css)\">\(count)</text>\n"
            }
        }
        svg += "</svg>\n"
        return svg
    }
}
