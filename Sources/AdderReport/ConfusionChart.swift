// `confusion.svg`: the test confusion matrix, 664 × 664 px, 10 × 10 cells of 56 px with their counts.
import Foundation

enum ConfusionChart {
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

    /// The SVG text; cell (r, c) spans x `80 + 56c ..< 136 + 56c`, y `80 + 56r ..< 136 + 56r`, and its count
    /// is a `<text class="count" data-true="r" data-predicted="c">`. `counts` is 10 × 10 (checked by `RunReport`).
    static func svg(_ counts: [[Int]], title: String) -> String {
        let largest = counts.flatMap { $0 }.max() ?? 0
        var doc = SVGDocument(width: size, height: size, title: title)
        let middle = Double(left + 5 * cell)
        doc.text(title, x: middle, y: 24, anchor: "middle", size: 17, bold: true, attributes: "class=\"title\"")
        doc.text("predicted digit", x: middle, y: 50, anchor: "middle", bold: true, attributes: "class=\"axis-title\"")
        doc.text("true digit", x: 24, y: Double(top + 5 * cell), anchor: "middle", bold: true,
                 attributes: "class=\"axis-title\" transform=\"rotate(-90 24 \(top + 5 * cell))\"")
        for d in 0..<10 {
            doc.text("\(d)", x: Double(left + d * cell + cell / 2), y: Double(top - 10), anchor: "middle",
                     attributes: "class=\"predicted-digit\"")
            doc.text("\(d)", x: Double(left - 12), y: Double(top + d * cell + cell / 2 + 5), anchor: "end",
                     attributes: "class=\"true-digit\"")
        }
        for row in 0..<10 {
            for column in 0..<10 {
                let count = counts[row][column]
                let x = left + column * cell, y = top + row * cell
                let shade = shade(count, largest: largest)
                doc.add("<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" "
                    + "fill=\"\(low.mixed(with: high, shade).css)\" stroke=\"#ffffff\"/>")
                doc.text("\(count)", x: Double(x + cell / 2), y: Double(y + cell / 2 + 5), anchor: "middle",
                         size: count >= 10_000 ? 11 : 14, bold: row == column,
                         color: shade > 0.6 ? .white : .black,
                         attributes: "class=\"count\" data-true=\"\(row)\" data-predicted=\"\(column)\"")
            }
        }
        return doc.text
    }
}
