// Pictures and a self-contained HTML page describing one training run: curves, confusion matrix and the
// misclassified test digits. Inputs are plain values, so the module needs nothing from the training code.
import Foundation

/// Metrics of one epoch. Accuracies are fractions in 0...1 (drawn as percent); non-finite values are drawn as
/// gaps in the curves and as "nan" in the table.
public struct EpochMetrics: Sendable, Equatable, Codable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean training loss over the epoch's batches, in nats, as the trainer reports it.
    public var trainLoss: Double
    /// Fraction of training digits classified correctly (first output).
    public var trainClassificationAccuracy: Double
    /// Fraction of training samples whose digit + integer sum is right (second output).
    public var trainAdditionAccuracy: Double
    /// Fraction of test digits classified correctly.
    public var testClassificationAccuracy: Double
    /// Fraction of test samples whose sum is right.
    public var testAdditionAccuracy: Double
    /// Wall-clock duration of the epoch in seconds.
    public var seconds: Double

    /// Makes one epoch's metrics; no validation (any value can be drawn).
    public init(
        epoch: Int, trainLoss: Double, trainClassificationAccuracy: Double, trainAdditionAccuracy: Double,
        testClassificationAccuracy: Double, testAdditionAccuracy: Double, seconds: Double
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainClassificationAccuracy = trainClassificationAccuracy
        self.trainAdditionAccuracy = trainAdditionAccuracy
        self.testClassificationAccuracy = testClassificationAccuracy
        self.testAdditionAccuracy = testAdditionAccuracy
        self.seconds = seconds
    }
}

/// A test digit the network got wrong.
public struct MisclassifiedDigit: Sendable, Equatable {
    /// 784 bytes, 28 × 28 row-major, MNIST convention (0 background, 255 ink).
    public var pixels: [UInt8]
    /// The digit the network predicted, 0...9.
    public var predicted: Int
    /// The true digit (MNIST label), 0...9.
    public var label: Int

    /// Makes one entry; `RunReport.init` checks the sizes and ranges.
    public init(pixels: [UInt8], predicted: Int, label: Int) {
        self.pixels = pixels
        self.predicted = predicted
        self.label = label
    }
}

/// The size of a picture in pixels.
public struct ImageSize: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int

    /// Makes a size.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
}

/// Invalid report input or an unwritable output folder.
public enum RunReportError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The confusion matrix is not 10 × 10 (`columns` lists each row's length).
    case badConfusionShape(rows: Int, columns: [Int])
    /// A confusion-matrix entry is negative.
    case negativeCount(row: Int, column: Int, value: Int)
    /// Misclassified digit number `index` does not have 784 pixels.
    case badDigitPixels(index: Int, count: Int)
    /// Misclassified digit number `index` has a label or prediction outside 0...9.
    case badDigitClass(index: Int, label: Int, predicted: Int)
    /// A file or the folder could not be written.
    case cannotWrite(path: String, reason: String)

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case .badConfusionShape(let rows, let columns):
            return "confusion matrix is \(rows) rows with lengths \(columns), expected 10 rows of 10"
        case .negativeCount(let row, let column, let value):
            return "confusion matrix entry [\(row)][\(column)] is \(value), expected a count ≥ 0"
        case .badDigitPixels(let index, let count):
            return "misclassified digit \(index) has \(count) pixels, expected 784 (28 × 28)"
        case .badDigitClass(let index, let label, let predicted):
            return "misclassified digit \(index) has label \(label) and prediction \(predicted), expected 0...9"
        case .cannotWrite(let path, let reason):
            return "\(path): cannot write (\(reason))"
        }
    }
}

/// The pictures and HTML page of one training run.
///
/// `write(to:)` creates, in one folder:
/// - `curves.svg`, `curves.png`: 800 × 600 px; loss per epoch (top) and the four accuracies in percent (bottom:
///   classification blue, addition orange, train solid, test dashed), with ticks, axis titles and legends.
/// - `confusion.svg`, `confusion.png`: 664 × 664 px; 10 × 10 cells of 56 px (rows true digit, columns
///   predicted), each with its count, shaded on a log scale from white to dark blue.
/// - `misclassified.png`: 656 px wide, `28 + 76 · rows + 8` px high with `rows = max(1, ⌈n / 10⌉)` for the first
///   `n ≤ 100` digits; each digit ×2 (56 × 56 px) as dark ink on white, labelled "T:true" and, in red, "P:predicted".
/// - `report.html`: self-contained (SVGs inline, PNGs as data URIs): per-epoch table, final test metrics,
///   per-digit accuracy and most frequent confusion.
public struct RunReport: Sendable {
    /// Heading of the page and the pictures.
    public let title: String
    /// Metrics per epoch, in order.
    public let epochs: [EpochMetrics]
    /// 10 × 10 test confusion counts, `confusion[trueDigit][predictedDigit]` (checked by `init`).
    public let confusion: [[Int]]
    /// Misclassified test digits (checked by `init`); the first `maximumMisclassifiedShown` are drawn.
    public let misclassified: [MisclassifiedDigit]

    /// Most misclassified digits drawn in `misclassified.png`.
    public static let maximumMisclassifiedShown = 100
    /// Size of `curves.svg` and `curves.png`.
    public static let curvesSize = ImageSize(width: CurvesLayout.width, height: CurvesLayout.height)
    /// Size of `confusion.svg` and `confusion.png`.
    public static let confusionSize = ImageSize(width: ConfusionLayout.size, height: ConfusionLayout.size)
    /// Names of the files `write(to:)` creates, in the order it returns them.
    public static let fileNames = [
        "curves.svg", "curves.png", "confusion.svg", "confusion.png", "misclassified.png", "report.html",
    ]

    /// Size of `misclassified.png` for `count` misclassified digits (at most 100 are drawn, 10 per row).
    public static func misclassifiedSize(count: Int) -> ImageSize {
        let shown = min(max(count, 0), maximumMisclassifiedShown)
        let rows = max(1, (shown + 9) / 10)
        return ImageSize(width: 2 * gridMargin + 10 * tileWidth, height: gridHeader + rows * tileHeight + gridMargin)
    }

    /// Checks and stores the run's values.
    /// - Throws: `RunReportError.badConfusionShape`, `.negativeCount`, `.badDigitPixels`, `.badDigitClass`.
    public init(
        title: String, epochs: [EpochMetrics], confusion: [[Int]], misclassified: [MisclassifiedDigit]
    ) throws {
        guard confusion.count == 10, confusion.allSatisfy({ $0.count == 10 }) else {
            throw RunReportError.badConfusionShape(rows: confusion.count, columns: confusion.map(\.count))
        }
        for (r, row) in confusion.enumerated() {
            for (c, value) in row.enumerated() where value < 0 {
                throw RunReportError.negativeCount(row: r, column: c, value: value)
            }
        }
        for (i, digit) in misclassified.enumerated() {
            guard digit.pixels.count == 784 else {
                throw RunReportError.badDigitPixels(index: i, count: digit.pixels.count)
            }
            guard (0...9).contains(digit.label), (0...9).contains(digit.predicted) else {
                throw RunReportError.badDigitClass(index: i, label: digit.label, predicted: digit.predicted)
            }
        }
        self.title = title
        self.epochs = epochs
        self.confusion = confusion
        self.misclassified = misclassified
    }

    /// Fraction of each true digit classified correctly (`confusion[d][d] / Σ confusion[d]`), nil for a digit
    /// with no test samples. Matches the per-class recall of `sklearn.metrics.classification_report`.
    public var perDigitAccuracy: [Double?] {
        confusion.enumerated().map { d, row in
            let total = row.reduce(0, +)
            return total > 0 ? Double(row[d]) / Double(total) : nil
        }
    }

    /// `curves.svg`: 800 × 600 px, see the type's documentation.
    public func curvesSVG() -> String {
        SVGChart.curves(CurvesLayout(title: title + " · training curves", epochs: epochs), epochCount: epochs.count)
    }

    /// `confusion.svg`: 664 × 664 px; each count is a `<text class="count" data-true="r" data-predicted="c">`.
    public func confusionSVG() -> String {
        SVGChart.confusion(confusion, title: title + " · test confusion matrix")
    }

    /// `curves.png`: 800 × 600 px, 8-bit RGB, the same layout as `curvesSVG()` drawn with a 5 × 7 pixel font.
    /// Throws `PNGError.encodingFailed` only if libpng fails.
    public func curvesPNG() throws -> [UInt8] {
        let layout = CurvesLayout(title: title, epochs: epochs)
        var raster = Raster(width: CurvesLayout.width, height: CurvesLayout.height)
        let dark = RGB(hex: 0x333333), grid = RGB(hex: 0xE3E3E3)
        raster.text("TRAINING CURVES", centerX: CurvesLayout.width / 2, y: 14, scale: 2, .black)
        if epochs.isEmpty {
            raster.text("NO EPOCHS RECORDED", centerX: CurvesLayout.width / 2, y: 300, scale: 2, dark)
        } else {
            for panel in layout.panels {
                let left = Int(panel.left), top = Int(panel.top)
                let width = Int(panel.width), height = Int(panel.height)
                for tick in panel.yAxis.ticks {
                    let y = Int(panel.py(tick).rounded())
                    raster.fill(x: left, y: y, width: width, height: 1, grid)
                    let label = panel.yAxis.label(tick)
                    raster.text(label, x: left - 8 - BitmapFont.width(of: label), y: y - 3, dark)
                }
                for tick in panel.xAxis.ticks {
                    let x = Int(panel.px(tick).rounded())
                    raster.fill(x: x, y: top + height, width: 1, height: 6, dark)
                    raster.text(panel.xAxis.label(tick), centerX: x, y: top + height + 10, dark)
                }
                raster.strokeRect(x: left, y: top, width: width + 1, height: height + 1, dark)
                raster.text(panel.yTitle.uppercased(), x: left, y: top - 16, .black)
                raster.text("EPOCH", centerX: left + width / 2, y: top + height + 28, dark)
                for (k, series) in panel.series.enumerated() {
                    let dash: (Double, Double)? = series.dashed ? (6, 4) : nil
                    for run in series.segments {
                        for (a, b) in zip(run, run.dropFirst()) {
                            raster.line(
                                panel.px(a.x), panel.py(a.y), panel.px(b.x), panel.py(b.y), series.color,
                                thickness: 2, dash: dash)
                        }
                        for p in run {
                            raster.fill(
                                x: Int(panel.px(p.x).rounded()) - 2, y: Int(panel.py(p.y).rounded()) - 2,
                                width: 5, height: 5, series.color)
                        }
                    }
                    let ly = panel.top + 12 + Double(k) * 22
                    raster.line(
                        CurvesLayout.legendLeft, ly, CurvesLayout.legendLeft + 30, ly, series.color, thickness: 2,
                        dash: dash)
                    raster.text(
                        series.name.uppercased(), x: Int(CurvesLayout.legendLeft) + 38, y: Int(ly) - 3, .black)
                }
            }
        }
        return try PNGCodec.encodeRGB(raster.pixels, width: raster.width, height: raster.height)
    }

    /// `confusion.png`: 664 × 664 px, 8-bit RGB; cell (r, c) spans x `80 + 56c ..< 136 + 56c`,
    /// y `80 + 56r ..< 136 + 56r`, with its count centred (5 × 7 font, ×2 up to 4 digits).
    public func confusionPNG() throws -> [UInt8] {
        let size = ConfusionLayout.size, cell = ConfusionLayout.cell
        let left = ConfusionLayout.left, top = ConfusionLayout.top
        let largest = confusion.flatMap { $0 }.max() ?? 0
        var raster = Raster(width: size, height: size)
        raster.text("CONFUSION MATRIX (TEST)", centerX: left + 5 * cell, y: 10, scale: 2, .black)
        raster.text("PREDICTED DIGIT", centerX: left + 5 * cell, y: 38, scale: 2, .black)
        raster.verticalText("TRUE DIGIT", centerX: 22, centerY: top + 5 * cell, scale: 2, .black)
        for d in 0..<10 {
            raster.text("\(d)", centerX: left + d * cell + cell / 2, y: top - 22, scale: 2, .black)
            raster.text("\(d)", x: left - 22, y: top + d * cell + cell / 2 - 7, scale: 2, .black)
        }
        for row in 0..<10 {
            for column in 0..<10 {
                let count = confusion[row][column]
                let x = left + column * cell, y = top + row * cell
                raster.fill(x: x, y: y, width: cell, height: cell, ConfusionLayout.fill(count, largest: largest))
                raster.strokeRect(x: x, y: y, width: cell, height: cell, .white)
                let text = "\(count)"
                let scale = text.count <= 4 ? 2 : 1
                raster.text(
                    text, centerX: x + cell / 2, y: y + cell / 2 - 7 * scale / 2, scale: scale,
                    ConfusionLayout.ink(count, largest: largest))
            }
        }
        return try PNGCodec.encodeRGB(raster.pixels, width: size, height: size)
    }

    /// `misclassified.png`: size `misclassifiedSize(count: misclassified.count)`, 8-bit RGB; tile k (k < 100)
    /// at x `8 + 64 (k mod 10)`, y `28 + 76 ⌊k / 10⌋`, the digit ×2 at offset (4, 4) inside the tile.
    public func misclassifiedPNG() throws -> [UInt8] {
        let shown = Array(misclassified.prefix(Self.maximumMisclassifiedShown))
        let size = Self.misclassifiedSize(count: shown.count)
        var raster = Raster(width: size.width, height: size.height)
        raster.text(
            "MISCLASSIFIED: \(shown.count) OF \(misclassified.count)  (T = TRUE, P = PREDICTED)",
            x: Self.gridMargin, y: 10, .black)
        if shown.isEmpty {
            raster.text("NONE", centerX: size.width / 2, y: Self.gridHeader + 30, scale: 2, .black)
        }
        let red = RGB(hex: 0xC0392B), frame = RGB(hex: 0xBBBBBB)
        for (k, digit) in shown.enumerated() {
            let x = Self.gridMargin + (k % 10) * Self.tileWidth
            let y = Self.gridHeader + (k / 10) * Self.tileHeight
            raster.strokeRect(x: x + 3, y: y + 3, width: 58, height: 58, frame)
            raster.grayDigit(digit.pixels, side: 28, x: x + 4, y: y + 4, scale: 2)
            raster.text("T:\(digit.label)", x: x + 6, y: y + 65, .black)
            raster.text("P:\(digit.predicted)", x: x + 34, y: y + 65, red)
        }
        return try PNGCodec.encodeRGB(raster.pixels, width: size.width, height: size.height)
    }

    /// `report.html`: one self-contained page (inline SVG, PNGs as base64 data URIs, no scripts).
    /// Throws `PNGError.encodingFailed` only if libpng fails.
    public func html() throws -> String {
        let esc = SVGChart.escape
        func percent(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", v * 100) : "nan" }
        func number(_ v: Double, _ decimals: Int) -> String { v.isFinite ? String(format: "%.\(decimals)f", v) : "nan" }
        let misclassifiedURI = "data:image/png;base64," + Data(try misclassifiedPNG()).base64EncodedString()

        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>\(esc(title))</title>
            <style>
            body { background: #fafafa; color: #222; font-family: Helvetica, Arial, sans-serif; margin: 2em auto;
                   max-width: 900px; line-height: 1.4; }
            h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; background: #fff; }
            th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
            th { background: #eef3f8; }
            .figure { background: #fff; border: 1px solid #ddd; padding: 8px; display: inline-block; }
            .final { font-size: 1.1em; }
            </style>
            </head>
            <body>
            <h1>\(esc(title))</h1>

            """
        page += "<h2>Final test metrics</h2>\n"
        if let last = epochs.last {
            page += "<p class=\"final\">After epoch \(last.epoch): classification accuracy <b>"
                + "\(percent(last.testClassificationAccuracy))</b>, addition accuracy <b>"
                + "\(percent(last.testAdditionAccuracy))</b>.</p>\n"
        } else {
            page += "<p>No epochs recorded.</p>\n"
        }
        let total = confusion.flatMap { $0 }.reduce(0, +)
        let correct = (0..<10).reduce(0) { $0 + confusion[$1][$1] }
        page += "<p>Confusion matrix: \(correct) of \(total) test digits correct"
            + (total > 0 ? " (\(percent(Double(correct) / Double(total))))" : "") + ".</p>\n"

        page += "<h2>Per epoch</h2>\n<table>\n<tr><th>epoch</th><th>train loss</th>"
            + "<th>train classification</th><th>train addition</th><th>test classification</th>"
            + "<th>test addition</th><th>seconds</th></tr>\n"
        for e in epochs {
            page += "<tr><td>\(e.epoch)</td><td>\(number(e.trainLoss, 4))</td>"
                + "<td>\(percent(e.trainClassificationAccuracy))</td><td>\(percent(e.trainAdditionAccuracy))</td>"
                + "<td>\(percent(e.testClassificationAccuracy))</td><td>\(percent(e.testAdditionAccuracy))</td>"
                + "<td>\(number(e.seconds, 1))</td></tr>\n"
        }
        page += "</table>\n"

        page += "<h2>Training curves</h2>\n<div class=\"figure\">\n\(curvesSVG())</div>\n"

        page += "<h2>Per-digit test accuracy</h2>\n<table>\n<tr><th>digit</th><th>test samples</th>"
            + "<th>accuracy</th><th>most often predicted instead</th></tr>\n"
        for (d, accuracy) in perDigitAccuracy.enumerated() {
            let row = confusion[d]
            let confused = (0..<10).filter { $0 != d }.max { row[$0] < row[$1] }
            let instead = confused.flatMap { row[$0] > 0 ? "\($0) (\(row[$0])×)" : nil } ?? "—"
            page += "<tr><td>\(d)</td><td>\(row.reduce(0, +))</td>"
                + "<td>\(accuracy.map(percent) ?? "—")</td><td>\(instead)</td></tr>\n"
        }
        page += "</table>\n"

        page += "<h2>Confusion matrix</h2>\n<p>Rows: true digit; columns: predicted digit; shading on a "
            + "log scale.</p>\n<div class=\"figure\">\n\(confusionSVG())</div>\n"
        page += "<h2>Misclassified test digits</h2>\n<p>\(misclassified.count) misclassified; the first "
            + "\(min(misclassified.count, Self.maximumMisclassifiedShown)) shown. T = true digit, "
            + "P = predicted (red).</p>\n<div class=\"figure\"><img alt=\"misclassified digits\" "
            + "src=\"\(misclassifiedURI)\"></div>\n"
        page += "<p>Files: <a href=\"curves.svg\">curves.svg</a>, <a href=\"curves.png\">curves.png</a>, "
            + "<a href=\"confusion.svg\">confusion.svg</a>, <a href=\"confusion.png\">confusion.png</a>, "
            + "<a href=\"misclassified.png\">misclassified.png</a>.</p>\n</body>\n</html>\n"
        return page
    }

    /// Writes the six files named in `fileNames` into `directory` (created if missing, files replaced) and
    /// returns their URLs in that order.
    /// - Throws: `RunReportError.cannotWrite` naming the path, or `PNGError.encodingFailed`.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunReportError.cannotWrite(path: directory.path, reason: error.localizedDescription)
        }
        let contents: [[UInt8]] = [
            Array(curvesSVG().utf8), try curvesPNG(), Array(confusionSVG().utf8), try confusionPNG(),
            try misclassifiedPNG(), Array(try html().utf8),
        ]
        var urls: [URL] = []
        for (name, bytes) in zip(Self.fileNames, contents) {
            let url = directory.appendingPathComponent(name)
            do {
                try Data(bytes).write(to: url, options: .atomic)
            } catch {
                throw RunReportError.cannotWrite(path: url.path, reason: error.localizedDescription)
            }
            urls.append(url)
        }
        return urls
    }

    private static let tileWidth = 64
    private static let tileHeight = 76
    private static let gridMargin = 8
    private static let gridHeader = 28
}
