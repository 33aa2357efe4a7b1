// `report.html`: one self-contained page (inline CSS and SVG, no scripts, no outside requests) with the
// run's options, version, machine, date, time, per-epoch table and pictures. While the run is going it
// says how far it is and reloads itself every 30 s (`<meta http-equiv="refresh">`, left out once finished
// or stopped).
import AdderNet
import Foundation

enum ReportPage {
    /// Seconds between reloads of a running run's page.
    static let refreshSeconds = 30

    static func html(_ report: RunReport, pictures: [(name: String, svg: String, width: Int, height: Int)]) -> String {
        let esc = SVGDocument.escape
        let details = report.details
        let history = report.history
        let totalSeconds = history.reduce(0) { $0 + $1.trainSeconds + $1.testSeconds }
        var page = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">

            """
        if report.isRunning && details.stoppedNote == nil {
            page += "<meta http-equiv=\"refresh\" content=\"\(refreshSeconds)\">\n"
        }
        page += """
            <title>\(esc(report.title))</title>
            <style>
            body { background: #fafafa; color: #222; font-family: "DejaVu Sans", Helvetica, Arial, sans-serif;
                   margin: 1.5em auto; max-width: 940px; padding: 0 12px; line-height: 1.4; }
            h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
            table { border-collapse: collapse; background: #fff; }
            th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
            th { background: #eef3f8; } td.text { text-align: left; }
            .scroll { overflow-x: auto; }
            .figure { background: #fff; border: 1px solid #ddd; padding: 6px; }
            .figure svg { max-width: 100%; height: auto; display: block; }
            .progress { background: #fff4d6; border: 1px solid #e0c36c; padding: 8px 12px; }
            .done { background: #e7f5e9; border: 1px solid #8cc49a; padding: 8px 12px; }
            </style>
            </head>
            <body>
            <h1>\(esc(report.title))</h1>

            """
        page += statusLine(report, totalSeconds: totalSeconds) + "\n"

        page += "<h2>Run</h2>\n<table>\n"
        let machine = details.machine
        let rows: [(String, String)] = [
            ("version", details.version),
            ("written", dateText(details.written)),
            ("time taken", durationText(totalSeconds) + " (training and test passes of \(history.count) epochs)"),
            ("CPU", machine.cpu),
            ("threads", "\(machine.threads) worker threads (\(machine.logicalCPUs) logical CPUs)"),
            ("BLAS kernel", machine.blasKernel),
        ]
        for (name, value) in rows {
            page += "<tr><th>\(esc(name))</th><td class=\"text\">\(esc(value))</td></tr>\n"
        }
        page += "</table>\n"
        if let note = details.machineNote { page += "<p class=\"machine-note\">\(esc(note))</p>\n" }

        page += "<h2>Options</h2>\n<table class=\"options\">\n"
        for setting in details.options {
            page += "<tr><th>\(esc(setting.name))</th><td class=\"text\">\(esc(setting.value))</td></tr>\n"
        }
        page += "</table>\n"

        page += "<h2>Per epoch</h2>\n<div class=\"scroll\"><table class=\"epochs\">\n<tr><th>epoch</th><th>loss</th>"
            + "<th>cross-entropy</th><th>MSE</th><th>train digit</th><th>train sum</th><th>test digit</th>"
            + "<th>test sum</th><th>learning rate</th><th>seconds</th></tr>\n"
        for e in history {
            page += "<tr><td>\(e.epoch)</td><td>\(number(e.loss, 4))</td><td>\(number(e.crossEntropy, 4))</td>"
                + "<td>\(number(e.mse, 4))</td><td>\(percent(e.trainClassificationAccuracy))</td>"
                + "<td>\(percent(e.trainAdditionAccuracy))</td><td>\(percent(e.testClassificationAccuracy))</td>"
                + "<td>\(percent(e.testAdditionAccuracy))</td><td>\(String(format: "%.3g", e.learningRate))</td>"
                + "<td>\(number(e.trainSeconds + e.testSeconds, 1))</td></tr>\n"
        }
        page += "</table></div>\n"

        let headings = [
            "curves": "Training curves",
            "confusion": "Confusion matrix (test set)",
            "misclassified": "Misclassified test digits",
        ]
        for picture in pictures {
            page += "<h2>\(headings[picture.name] ?? picture.name)</h2>\n"
            if picture.name == "confusion", let results = report.results {
                page += perDigitTable(results.confusion)
            }
            page += "<div class=\"figure\" id=\"\(picture.name)\">\n\(picture.svg)</div>\n"
            page += "<p>Files: <a href=\"\(picture.name).svg\">\(picture.name).svg</a>"
                + (SVGRasterizer.isAvailable ? ", <a href=\"\(picture.name).png\">\(picture.name).png</a>" : "")
                + ".</p>\n"
        }
        page += "</body>\n</html>\n"
        return page
    }

    /// The progress line of a running run (epochs done, share, time left at the mean epoch time), of a
    /// stopped one (epochs done, how to go on), or the final line of a finished one.
    static func statusLine(_ report: RunReport, totalSeconds: Double) -> String {
        let done = report.history.count, planned = max(report.details.plannedEpochs, done)
        guard report.isRunning else {
            let last = report.history.last
            let final = last.map {
                ": after epoch \($0.epoch), test digit accuracy <b>\(percent($0.testClassificationAccuracy))</b>, "
                    + "sum accuracy <b>\(percent($0.testAdditionAccuracy))</b>"
            } ?? ""
            return "<p class=\"done\" id=\"status\">Finished \(done) of \(planned) epochs in \(durationText(totalSeconds))\(final).</p>"
        }
        let share = planned > 0 ? Double(done) / Double(planned) : 0
        if let note = report.details.stoppedNote {
            return "<p class=\"progress\" id=\"status\"><progress max=\"\(planned)\" value=\"\(done)\"></progress> "
                + "Stopped: \(done) of \(planned) epochs done (written \(dateText(report.details.written))). \(SVGDocument.escape(note))</p>"
        }
        var line = "Running: \(done) of \(planned) epochs done (\(Int((share * 100).rounded())) %)"
        if done > 0, planned > done {
            line += ", about \(durationText(totalSeconds / Double(done) * Double(planned - done))) left at the mean epoch time"
        }
        line += ". This page reloads every \(refreshSeconds) s; written \(dateText(report.details.written))."
        return "<p class=\"progress\" id=\"status\"><progress max=\"\(planned)\" value=\"\(done)\"></progress> \(line)</p>"
    }

    private static func perDigitTable(_ confusion: [[Int]]) -> String {
        var table = "<div class=\"scroll\"><table class=\"per-digit\">\n<tr><th>true digit</th>"
            + (0..<10).map { "<th>\($0)</th>" }.joined() + "</tr>\n<tr><th>test images</th>"
        table += confusion.map { "<td>\($0.reduce(0, +))</td>" }.joined() + "</tr>\n<tr><th>accuracy</th>"
        table += confusion.enumerated().map { d, row in
            let total = row.reduce(0, +)
            return "<td>" + (total > 0 ? percent(Double(row[d]) / Double(total)) : "—") + "</td>"
        }.joined() + "</tr>\n</table></div>\n"
        return table
    }

    static func percent(_ v: Double) -> String { v.isFinite ? String(format: "%.2f %%", v * 100) : "nan" }

    static func number(_ v: Double, _ decimals: Int) -> String { v.isFinite ? String(format: "%.\(decimals)f", v) : "nan" }

    /// `2026-12-07 05:30:12 UTC`.
    static func dateText(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    /// `42 s`, `6 min 12 s`, `1 h 03 min`.
    static func durationText(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "unknown" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        return String(format: "%d h %02d min", s / 3600, (s % 3600) / 60)
    }
}
