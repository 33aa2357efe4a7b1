// The report folder: files present, PNG sizes as documented (read back with our own decoder), SVG well-formed,
// confusion counts drawn equal to the input, digits drawn where documented, bad input refused.
import DigitImage
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects the `<text class="count">` cells of a confusion SVG and counts elements, failing on malformed XML.
private final class SVGReader: NSObject, XMLParserDelegate {
    var counts: [[Int?]] = Array(repeating: Array(repeating: nil, count: 10), count: 10)
    var elements: [String: Int] = [:]
    var rootName: String?
    private var cell: (Int, Int)?
    private var text = ""

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if rootName == nil { rootName = name }
        elements[name, default: 0] += 1
        if name == "text", attributes["class"] == "count", let r = attributes["data-true"].flatMap(Int.init),
            let c = attributes["data-predicted"].flatMap(Int.init)
        {
            cell = (r, c)
            text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let (r, c) = cell {
            counts[r][c] = Int(text)
            cell = nil
        }
    }

    static func read(_ svg: String) -> (ok: Bool, reader: SVGReader) {
        let reader = SVGReader()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = reader
        return (parser.parse(), reader)
    }
}

/// A confusion matrix with a strong diagonal and a few errors, different in every cell of interest.
private func sampleConfusion() -> [[Int]] {
    (0..<10).map { r in (0..<10).map { c in r == c ? 950 + 10 * r : (r * 7 + c * 3) % 11 == 0 ? r + c + 1 : 0 } }
}

private func sampleEpochs() -> [EpochMetrics] {
    (1...5).map { e in
        let x = Double(e)
        return EpochMetrics(
            epoch: e, trainLoss: 2.0 / x, trainClassificationAccuracy: 0.9 + 0.015 * x,
            trainAdditionAccuracy: 0.85 + 0.02 * x, testClassificationAccuracy: 0.91 + 0.012 * x,
            testAdditionAccuracy: 0.86 + 0.018 * x, seconds: 12.5 + x)
    }
}

private func sampleDigits(_ count: Int) -> [MisclassifiedDigit] {
    (0..<count).map { k in
        MisclassifiedDigit(
            pixels: (0..<784).map { UInt8(truncatingIfNeeded: $0 * 7 + k * 13) }, predicted: (k + 3) % 10,
            label: k % 10)
    }
}

@Suite("Run report pictures")
struct RunReportTests {
    @Test("write(to:) creates every file; PNGs decode at the documented sizes; SVGs are well-formed")
    func writesFolder() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("digitimage-report-\(UUID().uuidString)/nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let report = try RunReport(
            title: "Test run", epochs: sampleEpochs(), confusion: sampleConfusion(), misclassified: sampleDigits(37))
        let urls = try report.write(to: directory)
        #expect(urls.map(\.lastPathComponent) == RunReport.fileNames)
        #expect(RunReport.fileNames.count == 6)

        let sizes: [String: ImageSize] = [
            "curves.png": RunReport.curvesSize, "confusion.png": RunReport.confusionSize,
            "misclassified.png": RunReport.misclassifiedSize(count: 37),
        ]
        #expect(RunReport.curvesSize == ImageSize(width: 800, height: 600))
        #expect(RunReport.confusionSize == ImageSize(width: 664, height: 664))
        #expect(RunReport.misclassifiedSize(count: 37) == ImageSize(width: 656, height: 28 + 4 * 76 + 8))
        for (name, size) in sizes {
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
            let image = try PNGCodec.decode(bytes, source: name)
            #expect(image.width == size.width && image.height == size.height, "\(name)")
            // Not a blank canvas: several colours are drawn.
            #expect(Set(stride(from: 0, to: image.pixels.count, by: 4).map { image.pixels[$0] }).count > 3, "\(name)")
        }
        for name in ["curves.svg", "confusion.svg"] {
            let svg = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            let (ok, reader) = SVGReader.read(svg)
            #expect(ok, "\(name) is not well-formed XML")
            #expect(reader.rootName == "svg")
        }
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("data:image/png;base64,"))
        #expect(html.components(separatedBy: "<svg").count == 3)
    }

    @Test("the confusion SVG shows exactly the input counts")
    func confusionCounts() throws {
        let confusion = sampleConfusion()
        let report = try RunReport(title: "c", epochs: [], confusion: confusion, misclassified: [])
        let (ok, reader) = SVGReader.read(report.confusionSVG())
        #expect(ok)
        #expect(reader.counts == confusion.map { $0.map { Optional($0) } })
        #expect(reader.elements["rect"] == 101)
    }

    @Test("confusion PNG cells are shaded in the order of their counts")
    func confusionShading() throws {
        let confusion = sampleConfusion()
        let report = try RunReport(title: "c", epochs: [], confusion: confusion, misclassified: [])
        let image = try PNGCodec.decode(try report.confusionPNG(), source: "confusion.png")
        // Cell (r, c) spans 80 + 56c ..< 136 + 56c; a pixel 3 px inside its top-left corner is never text.
        func luminance(_ r: Int, _ c: Int) -> Int {
            let i = 4 * ((80 + 56 * r + 3) * image.width + 80 + 56 * c + 3)
            return Int(image.pixels[i]) * 299 + Int(image.pixels[i + 1]) * 587 + Int(image.pixels[i + 2]) * 114
        }
        let cells = (0..<100).map { ($0 / 10, $0 % 10) }
        for (a, b) in zip(cells, cells.dropFirst()) {
            let ca = confusion[a.0][a.1], cb = confusion[b.0][b.1]
            if ca < cb { #expect(luminance(a.0, a.1) > luminance(b.0, b.1), "\(a) vs \(b)") }
            if ca == cb { #expect(luminance(a.0, a.1) == luminance(b.0, b.1), "\(a) vs \(b)") }
        }
        #expect(luminance(0, 1) == 247 * 299 + 251 * 587 + 255 * 114)
    }

    @Test("misclassified digits are drawn ×2, dark on white, where documented; at most 100")
    func misclassifiedTiles() throws {
        let digits = sampleDigits(130)
        let report = try RunReport(title: "m", epochs: sampleEpochs(), confusion: sampleConfusion(), misclassified: digits)
        let image = try PNGCodec.decode(try report.misclassifiedPNG(), source: "misclassified.png")
        #expect(image.width == 656 && image.height == 28 + 10 * 76 + 8)
        #expect(RunReport.misclassifiedSize(count: 130) == RunReport.misclassifiedSize(count: 100))
        #expect(RunReport.misclassifiedSize(count: 0) == ImageSize(width: 656, height: 112))
        var wrong = 0
        for k in [0, 9, 10, 57, 99] {
            let originX = 8 + 64 * (k % 10) + 4, originY = 28 + 76 * (k / 10) + 4
            for row in 0..<28 {
                for col in 0..<28 {
                    let expected = 255 - digits[k].pixels[row * 28 + col]
                    for (dy, dx) in [(0, 0), (1, 1)] {
                        let i = 4 * ((originY + 2 * row + dy) * image.width + originX + 2 * col + dx)
                        if image.pixels[i] != expected || image.pixels[i + 1] != expected { wrong += 1 }
                    }
                }
            }
        }
        #expect(wrong == 0)
    }

    @Test("curves survive a diverged run (NaN loss) and a single epoch")
    func curvesEdgeCases() throws {
        var epochs = sampleEpochs()
        epochs[2].trainLoss = .nan
        epochs[3].testAdditionAccuracy = .infinity
        for run in [epochs, [sampleEpochs()[0]], []] {
            let report = try RunReport(title: "edge <&>", epochs: run, confusion: sampleConfusion(), misclassified: [])
            let (ok, reader) = SVGReader.read(report.curvesSVG())
            #expect(ok)
            #expect(reader.rootName == "svg")
            let png = try PNGCodec.decode(try report.curvesPNG(), source: "curves.png")
            #expect(png.width == 800 && png.height == 600)
            #expect(try report.html().contains("edge &lt;&amp;&gt;"))
        }
        let report = try RunReport(title: "t", epochs: epochs, confusion: sampleConfusion(), misclassified: [])
        // Loss panel: the NaN at epoch 3 splits the loss line into two runs (two polylines); 4 accuracy lines,
        // one of them split by the infinity: 1 + 1 + 1 + 2 = 5 more.
        #expect(SVGReader.read(report.curvesSVG()).reader.elements["polyline"] == 2 + 5)
    }

    @Test("the HTML lists every epoch, the final test metrics and per-digit accuracy")
    func htmlContents() throws {
        let confusion = sampleConfusion()
        let report = try RunReport(title: "Run", epochs: sampleEpochs(), confusion: confusion, misclassified: [])
        let html = try report.html()
        #expect(html.contains("classification accuracy <b>97.00 %</b>"))
        #expect(html.contains("addition accuracy <b>95.00 %</b>"))
        // Header rows of the two tables + 5 epochs + 10 digits.
        #expect(html.components(separatedBy: "<tr>").count - 1 == 2 + 5 + 10)
        let accuracy = report.perDigitAccuracy
        for d in 0..<10 {
            let row = confusion[d]
            #expect(accuracy[d] == Double(row[d]) / Double(row.reduce(0, +)))
        }
    }

    @Test("invalid input is refused with typed errors")
    func invalidInput() {
        var short = sampleConfusion()
        short[4].removeLast()
        #expect(throws: RunReportError.badConfusionShape(rows: 10, columns: short.map(\.count))) {
            try RunReport(title: "", epochs: [], confusion: short, misclassified: [])
        }
        var negative = sampleConfusion()
        negative[2][7] = -1
        #expect(throws: RunReportError.negativeCount(row: 2, column: 7, value: -1)) {
            try RunReport(title: "", epochs: [], confusion: negative, misclassified: [])
        }
        var digits = sampleDigits(3)
        digits[1].pixels.removeLast()
        #expect(throws: RunReportError.badDigitPixels(index: 1, count: 783)) {
            try RunReport(title: "", epochs: [], confusion: sampleConfusion(), misclassified: digits)
        }
        digits = sampleDigits(3)
        digits[2].predicted = 10
        #expect(throws: RunReportError.badDigitClass(index: 2, label: 2, predicted: 10)) {
            try RunReport(title: "", epochs: [], confusion: sampleConfusion(), misclassified: digits)
        }
    }

    @Test("an unwritable folder is a typed error naming the path")
    func unwritable() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("digitimage-file-\(UUID().uuidString)")
        try Data([1]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let report = try RunReport(title: "", epochs: [], confusion: sampleConfusion(), misclassified: [])
        let error = #expect(throws: RunReportError.self) { try report.write(to: file.appendingPathComponent("sub")) }
        #expect(error?.description.contains(file.lastPathComponent) == true)
    }
}
