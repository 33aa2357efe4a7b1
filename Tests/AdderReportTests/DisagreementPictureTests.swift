// The picture of `mnist-adder compare`: well-formed SVG of the documented size, one tile per item with its
// labels, the digit's pixels drawn where they are, bad items refused.
import AdderReport
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A 28 × 28 image with ink only where `ink` says (index → value).
private func image(_ ink: [Int: UInt8]) -> [UInt8] {
    var pixels = [UInt8](repeating: 0, count: 784)
    for (i, v) in ink { pixels[i] = v }
    return pixels
}

private func item(_ index: Int, pixels: [UInt8], label: Int = 7, first: Int = 7, second: Int = 1) -> DisagreementItem {
    DisagreementItem(index: index, pixels: pixels, label: label, firstDigit: first, secondDigit: second,
                     sum: label + 3, firstSum: first + 3, secondSum: second + 3)
}

@Suite("DisagreementPicture")
struct DisagreementPictureTests {
    @Test("the SVG parses, has the documented size and one labelled tile per item")
    func tilesAndSize() throws {
        let items = (0..<13).map { item(100 + $0, pixels: image([$0 * 29: 255])) }
        let picture = try DisagreementPicture(title: "t & <u>", firstName: "a", secondName: "b", items: items)
        let svg = picture.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "malformed SVG: \(parser.parserError.map { "\($0)" } ?? "")")
        // 13 items: 2 rows of 104 px under a 60 px header, plus the 8 px margin.
        #expect(DisagreementPicture.height(count: 13) == 60 + 2 * 104 + 8)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"736\" height=\"276\""))
        #expect(svg.contains("t &amp; &lt;u&gt;"))
        #expect(svg.components(separatedBy: "<g class=\"tile\"").count - 1 == 13)
        // Tile 12 sits in row 1, column 2: x = 8 + 2 · 72, y = 60 + 104.
        #expect(svg.contains("data-index=\"112\" data-true=\"7\" data-first=\"7\" data-second=\"1\" "
                             + "transform=\"translate(152 164)\""))
        #expect(svg.contains("#112  T:7"))
        // The second network is wrong: its answer is red; the first one's is black.
        #expect(svg.contains("<tspan fill=\"#000000\">A:7</tspan>  <tspan fill=\"#c0392b\">B:1</tspan>"))
    }

    @Test("ink is drawn at its pixel, runs of one gray level merged, background left out")
    func pixelsWhereTheyAre() throws {
        // Row 3: full ink at columns 5, 6, 7; row 10: gray 128 (level 8 of 15, drawn #777777) at column 0.
        let pixels = image([3 * 28 + 5: 255, 3 * 28 + 6: 255, 3 * 28 + 7: 250, 10 * 28: 128])
        let svg = try DisagreementPicture(title: "t", firstName: "a", secondName: "b", items: [item(0, pixels: pixels)]).svg()
        #expect(svg.contains("<path fill=\"#000000\" d=\"M5 3h3v1h-3z\"/>"), "\(svg)")
        #expect(svg.contains("<path fill=\"#777777\" d=\"M0 10h1v1h-1z\"/>"), "\(svg)")
        #expect(svg.components(separatedBy: "<path ").count - 1 == 2)
    }

    @Test("at most 200 tiles; none gives a note instead")
    func limits() throws {
        let many = (0..<230).map { item($0, pixels: image([:])) }
        let svg = try DisagreementPicture(title: "t", firstName: "a", secondName: "b", items: many).svg()
        #expect(svg.components(separatedBy: "<g class=\"tile\"").count - 1 == 200)
        #expect(svg.contains("200 of 230 shown"))
        let none = try DisagreementPicture(title: "t", firstName: "a", secondName: "b", items: []).svg()
        #expect(none.contains("no disagreements") && DisagreementPicture.height(count: 0) == 60 + 104 + 8)
    }

    @Test("an image that is not 28 × 28 or a digit outside 0...9 is refused, naming the test index")
    func badItems() {
        #expect(throws: DisagreementPictureError.badPixels(index: 42, count: 783)) {
            try DisagreementPicture(title: "t", firstName: "a", secondName: "b",
                                    items: [item(42, pixels: [UInt8](repeating: 0, count: 783))])
        }
        #expect(throws: DisagreementPictureError.badDigit(index: 9, label: 7, first: 10, second: 1)) {
            try DisagreementPicture(title: "t", firstName: "a", secondName: "b",
                                    items: [item(9, pixels: image([:]), first: 10)])
        }
    }
}
