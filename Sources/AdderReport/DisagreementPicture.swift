// The picture of `mnist-adder compare`: the test images on which two networks disagree, each with its
// true digit and both predictions. SVG only: the digits are vector paths, the labels `<text>`.
import Foundation

/// One test item on which two networks disagree: its image, the truth and both answers.
public struct DisagreementItem: Sendable, Equatable {
    /// The item's index in the test set.
    public var index: Int
    /// The 28 × 28 image, row-major, 0 = background, 255 = ink (MNIST's convention): 784 values.
    public var pixels: [UInt8]
    /// The true digit, 0...9.
    public var label: Int
    /// The first network's predicted digit, 0...9.
    public var firstDigit: Int
    /// The second network's predicted digit, 0...9.
    public var secondDigit: Int
    /// The true sum (digit + integer).
    public var sum: Int
    /// The first network's rounded sum (−1 when it was not finite).
    public var firstSum: Int
    /// The second network's rounded sum.
    public var secondSum: Int

    /// An item from its fields; `DisagreementPicture.init` checks them.
    public init(
        index: Int, pixels: [UInt8], label: Int, firstDigit: Int, secondDigit: Int, sum: Int, firstSum: Int,
        secondSum: Int
    ) {
        self.index = index
        self.pixels = pixels
        self.label = label
        self.firstDigit = firstDigit
        self.secondDigit = secondDigit
        self.sum = sum
        self.firstSum = firstSum
        self.secondSum = secondSum
    }
}

/// Invalid input to `DisagreementPicture`.
public enum DisagreementPictureError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The item at test index `index` does not have 784 pixels (`count` found).
    case badPixels(index: Int, count: Int)
    /// Item `index` has a true or predicted digit outside 0...9.
    case badDigit(index: Int, label: Int, first: Int, second: Int)

    /// One line naming the item, the expected and the found value.
    public var description: String {
        switch self {
        case let .badPixels(index, count):
            return "disagreement at test index \(index) has \(count) pixels, expected 784 (28 × 28)"
        case let .badDigit(index, label, first, second):
            return "disagreement at test index \(index) has digits \(label), \(first), \(second), expected 0...9"
        }
    }
}

/// An SVG grid of the items two networks disagree on.
///
/// Layout: `width` = 736 px; a 60 px header (title, the two networks' names, the count shown), then 10 tiles
/// of 72 × 104 px per row for the first `maximumShown` items. In tile k (x `8 + 72 (k mod 10)`,
/// y `60 + 104 ⌊k / 10⌋`): the digit ×2 (56 × 56 px, dark ink on white, 16 gray levels) at (8, 4) in a frame,
/// then "#index", "T:true", "A:first  B:second" with a wrong prediction in red, and "sum" with both sums
/// when either is wrong. Each tile is a `<g class="tile" data-index data-true data-first data-second>`.
/// SVG 1.1 with no scripts, fonts or external references, so any viewer (and librsvg) draws it.
public struct DisagreementPicture: Sendable {
    /// Most items drawn; the header says how many of how many.
    public static let maximumShown = 200
    /// Picture width in pixels.
    public static let width = 2 * margin + 10 * tileWidth
    static let margin = 8
    static let header = 60
    static let tileWidth = 72
    static let tileHeight = 104

    /// The title line.
    public let title: String
    /// The first network's name (shown as A).
    public let firstName: String
    /// The second network's name (shown as B).
    public let secondName: String
    /// Every disagreement, in test order; the first `maximumShown` are drawn.
    public let items: [DisagreementItem]

    /// Checks every item. Throws `DisagreementPictureError.badPixels` for an image that is not 784 values and
    /// `.badDigit` for a digit outside 0...9.
    public init(title: String, firstName: String, secondName: String, items: [DisagreementItem]) throws {
        for item in items {
            guard item.pixels.count == 784 else {
                throw DisagreementPictureError.badPixels(index: item.index, count: item.pixels.count)
            }
            guard [item.label, item.firstDigit, item.secondDigit].allSatisfy((0...9).contains) else {
                throw DisagreementPictureError.badDigit(
                    index: item.index, label: item.label, first: item.firstDigit, second: item.secondDigit)
            }
        }
        self.title = title
        self.firstName = firstName
        self.secondName = secondName
        self.items = items
    }

    /// Height in pixels for `count` items: the header plus `max(1, ⌈min(count, 200) / 10⌉)` rows and a margin.
    public static func height(count: Int) -> Int {
        let rows = max(1, (min(count, maximumShown) + 9) / 10)
        return header + rows * tileHeight + margin
    }

    /// The SVG text (UTF-8), `width` × `height(count: items.count)` px.
    public func svg() -> String {
        let esc = SVGDocument.escape
        let shown = items.prefix(Self.maximumShown)
        let height = Self.height(count: items.count)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.width)" height="\(height)" \
            viewBox="0 0 \(Self.width) \(height)" font-family="Helvetica, Arial, sans-serif" font-size="11">
            <title>\(esc(title))</title>
            <rect x="0" y="0" width="\(Self.width)" height="\(height)" fill="#ffffff"/>
            <text x="\(Self.margin)" y="20" font-size="15" font-weight="bold">\(esc(title))</text>
            <text x="\(Self.margin)" y="38">A = \(esc(firstName))</text>
            <text x="\(Self.margin)" y="52">B = \(esc(secondName)) · \(shown.count) of \(items.count) shown; \
            T = true digit, wrong answers in red</text>

            """
        if shown.isEmpty {
            svg += "<text x=\"\(Self.width / 2)\" y=\"\(Self.header + 50)\" text-anchor=\"middle\" font-size=\"15\">"
                + "no disagreements</text>\n"
        }
        let red = "#c0392b", black = "#000000"
        for (k, item) in shown.enumerated() {
            let x = Self.margin + (k % 10) * Self.tileWidth
            let y = Self.header + (k / 10) * Self.tileHeight
            svg += "<g class=\"tile\" data-index=\"\(item.index)\" data-true=\"\(item.label)\" "
                + "data-first=\"\(item.firstDigit)\" data-second=\"\(item.secondDigit)\" "
                + "transform=\"translate(\(x) \(y))\">\n"
            svg += "<rect x=\"7.5\" y=\"3.5\" width=\"57\" height=\"57\" fill=\"#ffffff\" stroke=\"#bbbbbb\"/>\n"
            svg += Self.digitPaths(item.pixels, x: 8, y: 4, scale: 2)
            svg += "<text x=\"8\" y=\"73\">#\(item.index)  T:\(item.label)</text>\n"
            svg += "<text x=\"8\" y=\"86\"><tspan fill=\"\(item.firstDigit == item.label ? black : red)\">"
                + "A:\(item.firstDigit)</tspan>  <tspan fill=\"\(item.secondDigit == item.label ? black : red)\">"
                + "B:\(item.secondDigit)</tspan></text>\n"
            if item.firstSum != item.sum || item.secondSum != item.sum {
                svg += "<text x=\"8\" y=\"99\" font-size=\"10\">sum \(item.sum): "
                    + "<tspan fill=\"\(item.firstSum == item.sum ? black : red)\">\(item.firstSum)</tspan>, "
                    + "<tspan fill=\"\(item.secondSum == item.sum ? black : red)\">\(item.secondSum)</tspan></text>\n"
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        return svg
    }

    /// A 28 × 28 digit as one `<path>` per gray level (16 levels; background left out), each pixel a
    /// `scale`-sized square at (`x`, `y`), horizontal runs of one level merged into one rectangle.
    static func digitPaths(_ pixels: [UInt8], x: Int, y: Int, scale: Int) -> String {
        var runs = [String](repeating: "", count: 16)
        for row in 0..<28 {
            var column = 0
            while column < 28 {
                let level = (Int(pixels[row * 28 + column]) + 8) / 17  // 0...15
                var end = column + 1
                while end < 28, (Int(pixels[row * 28 + end]) + 8) / 17 == level { end += 1 }
                if level > 0 {
                    runs[level] += "M\(column) \(row)h\(end - column)v1h-\(end - column)z"
                }
                column = end
            }
        }
        var out = "<g transform=\"translate(\(x) \(y)) scale(\(scale))\" shape-rendering=\"crispEdges\">"
        for level in 1..<16 where !runs[level].isEmpty {
            let gray = String(format: "%02x", 255 - level * 17)
            out += "<path fill=\"#\(gray)\(gray)\(gray)\" d=\"\(runs[level])\"/>"
        }
        return out + "</g>\n"
    }
}
