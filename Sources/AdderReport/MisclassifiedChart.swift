// `misclassified.svg`: the first misclassified test digits, 10 per row, each with its test index, true and
// predicted digit and the probability the network gave its prediction. Each digit is embedded as a 28 × 28
// grayscale PNG data URL (drawn at 2×), so the file stands alone.
import DigitImage
import Foundation

/// A test digit the network got wrong.
public struct MisclassifiedDigit: Sendable, Equatable {
    /// Index in the test set (0-based, the order of `t10k-images-idx3-ubyte`).
    public var testIndex: Int
    /// 28 × 28 grayscale pixels, row-major, 0 = black background as stored in MNIST.
    public var pixels: [UInt8]
    /// The true digit, 0...9.
    public var label: Int
    /// The digit the network predicted, 0...9.
    public var predicted: Int
    /// The softmax probability of `predicted`, 0...1.
    public var probability: Double

    /// A misclassified digit; checked by `RunReport.init`.
    public init(testIndex: Int, pixels: [UInt8], label: Int, predicted: Int, probability: Double) {
        self.testIndex = testIndex
        self.pixels = pixels
        self.label = label
        self.predicted = predicted
        self.probability = probability
    }
}

enum MisclassifiedChart {
    static let perRow = 10
    static let tileWidth = 88
    static let tileHeight = 104
    static let margin = 10
    static let header = 52

    /// Width and height of the picture for `shown` tiles.
    static func size(shown: Int) -> (width: Int, height: Int) {
        let rows = max(1, (shown + perRow - 1) / perRow)
        return (2 * margin + perRow * tileWidth, header + rows * tileHeight + margin)
    }

    /// The SVG text for `shown` (at most `RunReport.maximumMisclassifiedShown`) of `total` misclassified digits.
    /// Each tile is a `<g class="digit" data-index="I" data-true="T" data-predicted="P" data-probability="0.87">`.
    static func svg(_ shown: [MisclassifiedDigit], total: Int, title: String) throws -> String {
        let (width, height) = size(shown: shown.count)
        var doc = SVGDocument(width: width, height: height, title: title)
        doc.text(title, x: Double(margin), y: 22, size: 16, bold: true, attributes: "class=\"title\"")
        doc.text("\(shown.count) of \(total) shown · #test index · true → predicted (red) · probability of the prediction",
                 x: Double(margin), y: 42, size: 12, color: RGB(hex: 0x555555), attributes: "class=\"subtitle\"")
        if shown.isEmpty {
            doc.text("none", x: Double(width) / 2, y: Double(header + 50), anchor: "middle", size: 16)
        }
        let red = RGB(hex: 0xC0392B)
        for (k, digit) in shown.enumerated() {
            let x = margin + (k % perRow) * tileWidth, y = header + (k / perRow) * tileHeight
            let png = try PNGCodec.encodeGray(digit.pixels, width: 28, height: 28)
            let probability = String(format: "%.2f", digit.probability)
            doc.add("<g class=\"digit\" data-index=\"\(digit.testIndex)\" data-true=\"\(digit.label)\" "
                + "data-predicted=\"\(digit.predicted)\" data-probability=\"\(probability)\">")
            doc.add("<rect x=\"\(x + 15)\" y=\"\(y + 1)\" width=\"58\" height=\"58\" fill=\"#000000\" stroke=\"#bbbbbb\"/>")
            doc.add("<image x=\"\(x + 16)\" y=\"\(y + 2)\" width=\"56\" height=\"56\" style=\"image-rendering:pixelated\" "
                + "href=\"data:image/png;base64,\(Data(png).base64EncodedString())\"/>")
            let cx = Double(x + tileWidth / 2)
            doc.text("#\(digit.testIndex)", x: cx, y: Double(y + 74), anchor: "middle", size: 11,
                     color: RGB(hex: 0x555555), attributes: "class=\"index\"")
            doc.add("<text x=\"\(cx)\" y=\"\(y + 89)\" text-anchor=\"middle\" font-size=\"13\" class=\"classes\">"
                + "\(digit.label) → <tspan fill=\"\(red.css)\" font-weight=\"bold\">\(digit.predicted)</tspan></text>")
            doc.text("p \(probability)", x: cx, y: Double(y + 102), anchor: "middle", size: 11, attributes: "class=\"probability\"")
            doc.add("</g>")
        }
        return doc.text
    }
}
