// The pictures and the page of one training run: what they show, checked once, and the files written.
import AdderNet
import Foundation
import NNCore

/// One named setting of the run, as shown in the report (`epochs` = `10`).
public struct RunSetting: Sendable, Equatable {
    /// The option's name, as in `TrainingOptions` (e.g. `learningRate`).
    public var name: String
    /// Its value as text.
    public var value: String

    /// A setting.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The stored properties of `options` in JSON key order (its `Codable` form), values as JSON text
    /// without quotes around strings; an empty list if it does not encode to a JSON object.
    public static func list(_ options: TrainingOptions) -> [RunSetting] {
        guard let data = try? JSONOutput.encoder().encode(options),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return [] }
        return object.keys.sorted().map { key in
            let value = object[key].map { value -> String in
                if let string = value as? String { return string }
                if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]),
                   let text = String(data: data, encoding: .utf8) { return text }
                return "\(value)"
            } ?? ""
            return RunSetting(name: key, value: value)
        }
    }
}

/// Who made the run, where and when.
public struct RunDetails: Sendable, Equatable {
    /// The training options.
    public var options: [RunSetting]
    /// The mnist-adder version (git commit) that made the run, or "unknown".
    public var version: String
    /// CPU, threads, BLAS kernel.
    public var machine: MachineDescription
    /// When the report was written.
    public var written: Date
    /// Epochs the run is set to train (the progress line's total).
    public var plannedEpochs: Int
    /// Said under the machine when `machine` is not the one that trained (`mnist-adder report` later).
    public var machineNote: String?
    /// Set when the run was stopped (Ctrl-C, SIGTERM): the commands that go on or finish it, shown in the
    /// status line instead of the time left; the page then no longer reloads itself.
    public var stoppedNote: String?

    /// The details of a run.
    public init(
        options: [RunSetting], version: String, machine: MachineDescription, written: Date, plannedEpochs: Int,
        machineNote: String? = nil, stoppedNote: String? = nil
    ) {
        self.options = options
        self.version = version
        self.machine = machine
        self.written = written
        self.plannedEpochs = plannedEpochs
        self.machineNote = machineNote
        self.stoppedNote = stoppedNote
    }
}

/// The test-set results of the finished run's model.
public struct TestResults: Sendable, Equatable {
    /// `confusion[true][predicted]`, 10 × 10 counts.
    public var confusion: [[Int]]
    /// How many test digits were misclassified in all.
    public var misclassifiedCount: Int
    /// The first of them (at most `RunReport.maximumMisclassifiedShown` are drawn).
    public var misclassified: [MisclassifiedDigit]

    /// Results; checked by `RunReport.init`.
    public init(confusion: [[Int]], misclassifiedCount: Int, misclassified: [MisclassifiedDigit]) {
        self.confusion = confusion
        self.misclassifiedCount = misclassifiedCount
        self.misclassified = misclassified
    }
}

/// A value `RunReport` cannot draw.
public enum RunReportError: Error, Equatable, CustomStringConvertible {
    /// The confusion matrix is not 10 × 10.
    case badConfusionShape(rows: Int, columns: [Int])
    /// A confusion count below zero.
    case negativeCount(row: Int, column: Int, value: Int)
    /// A misclassified digit without 784 pixels.
    case badDigitPixels(index: Int, count: Int)
    /// A misclassified digit whose true or predicted class is outside 0...9, or whose probability is outside 0...1.
    case badDigit(index: Int, label: Int, predicted: Int, probability: Double)
    /// A file that could not be written.
    case cannotWrite(path: String, reason: String)

    /// One line naming the value, what was expected and what was found.
    public var description: String {
        switch self {
        case .badConfusionShape(let rows, let columns):
            "confusion matrix has \(rows) rows of \(columns.map(String.init).joined(separator: ", ")) columns, expected 10 × 10"
        case .negativeCount(let row, let column, let value):
            "confusion count [\(row)][\(column)] is \(value), expected 0 or more"
        case .badDigitPixels(let index, let count):
            "misclassified digit \(index) has \(count) pixels, expected 784 (28 × 28)"
        case .badDigit(let index, let label, let predicted, let probability):
            "misclassified digit \(index) has true \(label), predicted \(predicted), probability \(probability); "
                + "expected digits 0...9 and a probability in 0...1"
        case .cannotWrite(let path, let reason):
            "cannot write \(path): \(reason)"
        }
    }
}

/// The pictures and `report.html` of a training run, finished (with test results) or still running.
///
/// Every picture is drawn once as SVG (text as `<text>`) and its PNG rendered from that SVG by librsvg
/// (`SVGRasterizer`). `report.html` holds the SVGs inline, so the one file works offline.
public struct RunReport: Sendable {
    /// At most this many misclassified digits are drawn.
    public static let maximumMisclassifiedShown = 100

    /// The page's and pictures' title, e.g. `mnist-adder: runs/seed`.
    public var title: String
    /// One record per completed epoch.
    public var history: [EpochRecord]
    /// The test results of the final model; nil while the run is going.
    public var results: TestResults?
    /// Options, version, machine, date.
    public var details: RunDetails

    /// Checks and stores the run's values.
    /// - Throws: `RunReportError.badConfusionShape`, `.negativeCount`, `.badDigitPixels`, `.badDigit`.
    public init(title: String, history: [EpochRecord], results: TestResults?, details: RunDetails) throws {
        if let results {
            let confusion = results.confusion
            guard confusion.count == 10, confusion.allSatisfy({ $0.count == 10 }) else {
                throw RunReportError.badConfusionShape(rows: confusion.count, columns: confusion.map(\.count))
            }
            for (r, row) in confusion.enumerated() {
                for (c, value) in row.enumerated() where value < 0 {
                    throw RunReportError.negativeCount(row: r, column: c, value: value)
                }
            }
            for (i, digit) in results.misclassified.enumerated() {
                guard digit.pixels.count == 784 else { throw RunReportError.badDigitPixels(index: i, count: digit.pixels.count) }
                guard (0...9).contains(digit.label), (0...9).contains(digit.predicted),
                      (0...1).contains(digit.probability)
                else {
                    throw RunReportError.badDigit(
                        index: i, label: digit.label, predicted: digit.predicted, probability: digit.probability)
                }
            }
        }
        self.title = title
        self.history = history
        self.results = results
        self.details = details
    }

    /// Whether the run is still going (no test results yet).
    public var isRunning: Bool { results == nil }

    /// `curves.svg`: 900 × 1130 px; loss (log), error rates (log, %), the last epochs' test error (zoomed),
    /// learning rate.
    public func curvesSVG() -> String { CurvesChart.svg(history, title: title + " · training curves") }

    /// `confusion.svg`: 664 × 664 px with every count as `<text class="count">`; nil while running.
    public func confusionSVG() -> String? {
        results.map { ConfusionChart.svg($0.confusion, title: "test confusion matrix (rows: true, columns: predicted)") }
    }

    /// `misclassified.svg`: 900 px wide, 104 px per row of 10 digits; nil while running.
    /// Throws `PNGError.encodingFailed` only if libpng fails on a digit.
    public func misclassifiedSVG() throws -> String? {
        guard let results else { return nil }
        return try MisclassifiedChart.svg(
            Array(results.misclassified.prefix(Self.maximumMisclassifiedShown)), total: results.misclassifiedCount,
            title: "misclassified test digits")
    }

    /// The pictures as (file stem, SVG text, width, height): curves always, confusion and misclassified when
    /// finished.
    func pictures() throws -> [(name: String, svg: String, width: Int, height: Int)] {
        var list = [("curves", curvesSVG(), CurvesChart.width, CurvesChart.height)]
        if let confusion = confusionSVG() {
            list.append(("confusion", confusion, ConfusionChart.size, ConfusionChart.size))
        }
        if let wrong = try misclassifiedSVG(), let results {
            let size = MisclassifiedChart.size(shown: min(results.misclassified.count, Self.maximumMisclassifiedShown))
            list.append(("misclassified", wrong, size.width, size.height))
        }
        return list
    }

    /// Writes `NAME.svg` and `NAME.png` of each picture (PNG only when `SVGRasterizer.isAvailable`) and
    /// `report.html` into `directory` (created if missing; files replaced atomically) and returns their URLs.
    /// - Throws: `RunReportError.cannotWrite` naming the path, `SVGRenderError`, `PNGError.encodingFailed`.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RunReportError.cannotWrite(path: directory.path, reason: error.localizedDescription)
        }
        let pictures = try pictures()
        var files: [(String, [UInt8])] = []
        for picture in pictures {
            files.append((picture.name + ".svg", Array(picture.svg.utf8)))
            if SVGRasterizer.isAvailable {
                files.append((picture.name + ".png", try SVGRasterizer.png(
                    fromSVG: picture.svg, width: picture.width, height: picture.height, name: picture.name + ".svg")))
            }
        }
        files.append((RunFolder.reportFile, Array(ReportPage.html(self, pictures: pictures).utf8)))
        var urls: [URL] = []
        for (name, bytes) in files {
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
}
