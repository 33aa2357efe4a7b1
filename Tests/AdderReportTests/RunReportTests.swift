// The run's pictures read back: the SVG text (axes, labels, values) and the PNG librsvg rendered from it
// (size, not blank, colours where the layout puts them), report.html finished and running, bad input refused.
import AdderNet
import AdderReport
import DigitImage
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The `<text>` elements of an SVG (with their attributes and their text, tspans included) and the
/// attributes of its `<g>` elements; fails on malformed XML.
private final class SVGText: NSObject, XMLParserDelegate {
    struct Element { var attributes: [String: String]; var text: String }
    var texts: [Element] = []
    var groups: [[String: String]] = []
    var rootAttributes: [String: String] = [:]
    var elementCounts: [String: Int] = [:]
    private var open: Element?
    private var groupStack: [[String: String]] = []

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if elementCounts.isEmpty { rootAttributes = attributes }
        elementCounts[name, default: 0] += 1
        if name == "text" { open = Element(attributes: attributes, text: "") }
        if name == "g" { groups.append(attributes) }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { open?.text += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let element = open {
            texts.append(element)
            open = nil
        }
    }

    /// The texts whose `class` is `name`.
    func texts(_ name: String) -> [String] { texts.filter { $0.attributes["class"] == name }.map(\.text) }

    static func read(_ svg: String) throws -> SVGText {
        let reader = SVGText()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = reader
        #expect(parser.parse(), "malformed SVG: \(String(describing: parser.parserError))")
        return reader
    }
}

/// Five epochs whose metrics differ in every field: error rates from 97 % (the sum in epoch 1) to 0.5 %.
private func sampleHistory(epochs: Int = 5) throws -> [EpochRecord] {
    let records = (1...epochs).map { e -> [String: Double] in
        let x = Double(e)
        return [
            "epoch": x, "loss": 40 / (x * x), "crossEntropy": 0.6 / x, "mse": 40 / (x * x) - 0.6 / x,
            "trainClassificationAccuracy": 0.95 + 0.008 * x, "trainAdditionAccuracy": e == 1 ? 0.03 : 0.9 + 0.015 * x,
            "testClassificationAccuracy": 0.97 + 0.005 * x, "testAdditionAccuracy": e == 1 ? 0.03 : 0.96 + 0.007 * x,
            "trainSeconds": 60 + x, "testSeconds": 3, "dataSeconds": 0.5, "learningRate": 0.001 * x,
        ]
    }
    return try JSONDecoder().decode([EpochRecord].self, from: JSONSerialization.data(withJSONObject: records))
}

private func sampleConfusion() -> [[Int]] {
    (0..<10).map { r in (0..<10).map { c in r == c ? 950 + 10 * r : (r * 7 + c * 3) % 11 == 0 ? r + c + 1 : 0 } }
}

private func sampleDigits(_ count: Int) -> [MisclassifiedDigit] {
    (0..<count).map { k in
        MisclassifiedDigit(
            testIndex: 100 * k + 7, pixels: (0..<784).map { UInt8(truncatingIfNeeded: $0 * 7 + k * 13) },
            label: k % 10, predicted: (k + 3) % 10, probability: 0.5 + Double(k % 50) / 100)
    }
}

private func details(planned: Int = 5) -> RunDetails {
    RunDetails(
        options: [RunSetting(name: "epochs", value: "\(planned)"), RunSetting(name: "learningRate", value: "0.003")],
        version: "abc1234", machine: MachineDescription(cpu: "Test CPU 9000", logicalCPUs: 8, threads: 2, blasKernel: "Haswell"),
        written: Date(timeIntervalSince1970: 1_800_000_000), plannedEpochs: planned)
}

private func finishedReport(digits: Int = 37) throws -> RunReport {
    try RunReport(
        title: "Test run", history: sampleHistory(),
        results: TestResults(confusion: sampleConfusion(), misclassifiedCount: digits + 5, misclassified: sampleDigits(digits)),
        details: details())
}

private func temporaryFolder() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("adder-report-\(UUID().uuidString)")
}

@Suite("Run report pictures")
struct RunReportTests {
    @Test("curves.svg: log loss axis, log error-rate axis in %, a zoomed panel of the last epochs, the learning rate")
    func curvesText() throws {
        let history = try sampleHistory()
        let svg = try SVGText.read(try finishedReport().curvesSVG())
        #expect(svg.rootAttributes["width"] == "900" && svg.rootAttributes["height"] == "1130")
        #expect(svg.texts("panel-title") == [
            "training loss per epoch (nats, log scale)", "error rate (% wrong, log scale)",
            "test error rate, last 3 epochs (%, zoomed)", "learning rate (at each epoch's end)",
        ])
        #expect(svg.groups.compactMap { $0["data-scale"] } == ["log", "log", "linear", "linear"])
        // Loss 0.12 (cross-entropy, epoch 5) ... 40 (epoch 1): log axis 0.1 ... 50, under 3 decades, so every
        // 1-2-5 tick labelled. Error rates 0.5 % (test digit, epoch 5) ... 97 % (sum, epoch 1): 0.5 ... 100.
        // Test errors of epochs 3-5 (1.5 ... 0.5 digit, 1.9 ... 0.5 sum): linear, 0.5 ... 2.0 by 0.5.
        // Learning rate 0.001 ... 0.005: linear from 0 by 0.002.
        #expect(abs((history.map(\.crossEntropy).min() ?? 0) - 0.12) < 1e-12 && history.map(\.loss).max() == 40)
        #expect(svg.texts("y-tick") == [
            "0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50",
            "0.5", "1", "2", "5", "10", "20", "50", "100",
            "0.5", "1.0", "1.5", "2.0",
            "0.000", "0.002", "0.004", "0.006",
        ])
        #expect(svg.texts("x-tick").prefix(5) == ["1", "2", "3", "4", "5"])
        // The legend ends with each series' last value: test digit error 100 − 99.5 = 0.50 %.
        let legend = svg.texts("legend")
        #expect(legend.contains("test digit (0.50 %)"))
        #expect(legend.contains("train sum (2.50 %)"))
        #expect(legend.contains("learning rate (0.005)"))
        #expect(legend.contains("loss (CE + MSE) (1.6)"))
        #expect(svg.elementCounts["polyline"] == 3 + 4 + 2 + 1)
    }

    @Test("confusion.svg holds every count as text, in its cell")
    func confusionText() throws {
        let svg = try SVGText.read(try #require(try finishedReport().confusionSVG()))
        let confusion = sampleConfusion()
        var drawn = [[Int?]](repeating: [Int?](repeating: nil, count: 10), count: 10)
        for element in svg.texts where element.attributes["class"] == "count" {
            guard let r = element.attributes["data-true"].flatMap(Int.init),
                  let c = element.attributes["data-predicted"].flatMap(Int.init) else { continue }
            drawn[r][c] = Int(element.text)
        }
        #expect(drawn == confusion.map { $0.map { Optional($0) } })
        #expect(svg.texts("predicted-digit") == (0..<10).map(String.init))
        #expect(svg.texts("axis-title") == ["predicted digit", "true digit"])
    }

    @Test("misclassified.svg gives each digit's test index, true and predicted digit and probability")
    func misclassifiedText() throws {
        let svg = try SVGText.read(try #require(try finishedReport(digits: 120).misclassifiedSVG()))
        let digits = sampleDigits(120).prefix(RunReport.maximumMisclassifiedShown)
        #expect(svg.groups.compactMap { $0["data-index"] } == digits.map { "\($0.testIndex)" })
        #expect(svg.texts("index") == digits.map { "#\($0.testIndex)" })
        #expect(svg.texts("classes") == digits.map { "\($0.label) → \($0.predicted)" })
        #expect(svg.texts("probability") == digits.map { String(format: "p %.2f", $0.probability) })
        #expect(svg.texts("subtitle").first?.hasPrefix("100 of 125 shown") == true)
        #expect(svg.elementCounts["image"] == 100)
    }

    @Test("write(to:): SVG and PNG of each picture, PNG at the SVG's size and not blank, report.html")
    func writesFiles() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let urls = try finishedReport().write(to: folder)
        #expect(urls.map(\.lastPathComponent) == [
            "curves.svg", "curves.png", "confusion.svg", "confusion.png", "misclassified.svg", "misclassified.png",
            "report.html",
        ])
        for name in ["curves", "confusion", "misclassified"] {
            let svg = try SVGText.read(try String(contentsOf: folder.appendingPathComponent(name + ".svg"), encoding: .utf8))
            let image = try PNGCodec.decode([UInt8](try Data(contentsOf: folder.appendingPathComponent(name + ".png"))), source: name)
            #expect("\(image.width)" == svg.rootAttributes["width"] && "\(image.height)" == svg.rootAttributes["height"], "\(name)")
            let reds = stride(from: 0, to: image.pixels.count, by: 4).map { image.pixels[$0] }
            let inked = reds.filter { $0 < 128 }.count
            #expect(Set(reds).count > 20, "\(name): \(Set(reds).count) shades, expected antialiased text and lines")
            #expect(inked > reds.count / 200, "\(name): \(inked) dark pixels of \(reds.count)")
        }
        // The PNG is the SVG's drawing: the largest count's cell (true 9, predicted 9) is dark blue, an empty
        // cell near white, and the title's text puts ink in the top band.
        let confusion = try PNGCodec.decode([UInt8](try Data(contentsOf: folder.appendingPathComponent("confusion.png"))), source: "c")
        func rgb(_ x: Int, _ y: Int) -> [UInt8] { Array(confusion.pixels[(4 * (y * confusion.width + x))...].prefix(3)) }
        #expect(rgb(80 + 56 * 9 + 4, 80 + 56 * 9 + 4) == [0x08, 0x30, 0x6B])
        #expect(sampleConfusion()[0][1] == 0 && rgb(80 + 56 + 4, 80 + 4) == [0xF7, 0xFB, 0xFF])
        let titleInk = (0..<30).flatMap { y in (0..<confusion.width).map { x in rgb(x, y)[0] } }.filter { $0 < 100 }.count
        #expect(titleInk > 200)
    }

    @Test("report.html: options, version, machine, date, table and inline SVGs; no reload once finished")
    func finishedPage() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try finishedReport().write(to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("http-equiv=\"refresh\""))
        #expect(html.contains("<th>version</th><td class=\"text\">abc1234</td>"))
        #expect(html.contains("<th>CPU</th><td class=\"text\">Test CPU 9000</td>"))
        #expect(html.contains("<th>BLAS kernel</th><td class=\"text\">Haswell</td>"))
        #expect(html.contains("2 worker threads (8 logical CPUs)"))
        #expect(html.contains("<th>learningRate</th><td class=\"text\">0.003</td>"))
        #expect(html.contains("2027-01-15 08:00:00 UTC"))
        // Time taken: 5 epochs of (60 + e) + 3 s = 330 s.
        #expect(html.contains("5 min 30 s"))
        #expect(html.contains("Finished 5 of 5 epochs"))
        #expect(html.components(separatedBy: "<tr><td>").count - 1 == 5)
        #expect(html.components(separatedBy: "<svg xmlns").count - 1 == 3)
        #expect(!html.contains("src=\"http") && !html.contains("<script"))
    }

    @Test("while running: curves only, a progress line with the time left, and a reload every 30 s")
    func runningPage() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let report = try RunReport(title: "Running", history: Array(try sampleHistory().prefix(2)), results: nil, details: details(planned: 10))
        #expect(report.isRunning)
        let urls = try report.write(to: folder)
        #expect(urls.map(\.lastPathComponent) == ["curves.svg", "curves.png", "report.html"])
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<meta http-equiv=\"refresh\" content=\"30\">"))
        // 2 epochs took 64 + 65 s; 8 more at the mean, 516 s.
        #expect(html.contains("Running: 2 of 10 epochs done (20 %), about 8 min 36 s left at the mean epoch time"))
        #expect(html.contains("<progress max=\"10\" value=\"2\">"))
        #expect(html.components(separatedBy: "<svg xmlns").count - 1 == 1)
    }

    @Test("stopped: the status says so with the note on going on, and the page no longer reloads")
    func stoppedPage() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var stopped = details(planned: 10)
        stopped.stoppedNote = "Go on with: mnist-adder train --resume 'runs/a b'"
        let report = try RunReport(title: "Stopped", history: Array(try sampleHistory().prefix(2)), results: nil, details: stopped)
        try report.write(to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(!html.contains("http-equiv=\"refresh\""))
        #expect(html.contains("<progress max=\"10\" value=\"2\"></progress> Stopped: 2 of 10 epochs done (written "), "\(html)")
        #expect(html.contains("). Go on with: mnist-adder train --resume &apos;runs/a b&apos;</p>"), "\(html.prefix(2000))")
        #expect(!html.contains("Running:"))
    }

    @Test("an empty history draws an empty chart that says so")
    func emptyHistory() throws {
        let report = try RunReport(title: "New", history: [], results: nil, details: details())
        let svg = try SVGText.read(report.curvesSVG())
        #expect(svg.texts.map(\.text).contains("no epochs recorded yet"))
        #expect(svg.elementCounts["polyline"] == nil)
    }

    @Test("bad values are refused with one line naming them")
    func refusesBadInput() throws {
        func results(_ confusion: [[Int]], _ digits: [MisclassifiedDigit] = []) -> TestResults {
            TestResults(confusion: confusion, misclassifiedCount: digits.count, misclassified: digits)
        }
        let cases: [(TestResults, String)] = [
            (results(Array(sampleConfusion().prefix(9))), "confusion matrix has 9 rows of 10, 10, 10, 10, 10, 10, 10, 10, 10 columns, expected 10 × 10"),
            (results(sampleConfusion().enumerated().map { r, row in r == 3 ? row.map { _ in -2 } : row }),
             "confusion count [3][0] is -2, expected 0 or more"),
            (results(sampleConfusion(), [MisclassifiedDigit(testIndex: 1, pixels: [0, 1], label: 1, predicted: 2, probability: 0.5)]),
             "misclassified digit 0 has 2 pixels, expected 784 (28 × 28)"),
            (results(sampleConfusion(), [MisclassifiedDigit(testIndex: 1, pixels: [UInt8](repeating: 0, count: 784), label: 1, predicted: 2, probability: 1.5)]),
             "misclassified digit 0 has true 1, predicted 2, probability 1.5; expected digits 0...9 and a probability in 0...1"),
        ]
        for (bad, message) in cases {
            #expect {
                _ = try RunReport(title: "bad", history: [], results: bad, details: details())
            } throws: { error in
                (error as? RunReportError)?.description == message
            }
        }
        #expect(throws: SVGRenderError.self) {
            _ = try SVGRasterizer.png(fromSVG: "<svg", width: 10, height: 10, name: "broken.svg")
        }
    }
}
