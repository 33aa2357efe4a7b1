// `mnist-adder unsure-report`: how the `unsure` flag does on MNIST's test digits and on a folder of
// non-digit pictures (scripts/nondigits/report builds them): the rate flagged per kind at the
// checkpoint's thresholds, and the AUROC of the "not a digit" score, MNIST test against each kind.
import AdderInference
import AdderNet
import ArgumentParser
import DigitImage
import Foundation
import MNISTData
import NNCore

struct UnsureReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsure-report",
        abstract: "Rate of unsure answers on MNIST test digits and on non-digit pictures, with AUROC.",
        discussion: """
            --nondigits DIR holds one folder per kind of picture (letters, symbols, ...), each of PNG files; \
            every picture is prepared exactly as `predict` prepares a drawing. A picture the preparation finds \
            blank counts as flagged (predict answers it "blank"). AUROC compares the squared Mahalanobis distance \
            of MNIST's 10,000 test digits with each kind's (1 = every picture scores above every digit); \
            the max-probability column is the usual baseline, 1 − the largest calibrated probability.
            """)

    @Option(help: "A calibrated model.safetensors or run folder. (default: the shipped model)") var checkpoint: String?
    @Option(help: "Folder with one subfolder of PNG pictures per kind.") var nondigits: String
    @Flag(help: "Print the table as JSON.") var json = false
    @Option(help: "Also write each kind's prepared 28×28 pixels into this folder as KIND.u8 (N×784 bytes), for cross-checks. (default: none)")
    var savePrepared: String?
    @OptionGroup var data: DataOptions

    struct Row: Encodable {
        let kind: String
        let images: Int
        let flagged: Double
        let notADigit: Int
        let twoDigitsAlike: Int
        let blank: Int
        let aurocDistance: Double?
        let aurocMaxProbability: Double?
    }

    func run() throws {
        // The folder first: a mistyped one fails at once, before the test set's pass.
        let folder = URL(fileURLWithPath: nondigits)
        let kinds = try subfolders(of: folder)
        guard !kinds.isEmpty else {
            throw CommandError("--nondigits \(folder.path): no subfolders, expected one folder of PNG pictures per kind (scripts/nondigits/report makes them)")
        }
        let model = try loadModel(checkpoint)
        guard let calibration = model.calibration else {
            throw CommandError(
                "\(model.url.path) has no calibration: expected a checkpoint of `train --validation N` or `calibrate`",
                status: .dataError)
        }
        let engine = AdderEngine()
        let test = try AdderDataset.load(.test, from: data.directory, seed: 0)
        let scores = try namingCheckpoint(model.url) { try CalibrationFit.scores(model.network, on: test, engine: engine) }
        let digits = assess(scores.logits, scores.pooledFeatures, calibration)
        var rows = [row("MNIST test digits", digits, blank: 0, against: nil)]
        for kind in kinds {
            let files = try FileManager.default.contentsOfDirectory(atPath: kind.path)
                .filter { $0.lowercased().hasSuffix(".png") }.sorted()
            var pixels: [[UInt8]] = [], blank = 0
            for name in files {
                let path = kind.appendingPathComponent(name).path
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                let digit = try DigitInference.prepare(png: bytes, source: path, maximumPixels: PNGCodec.defaultMaximumPixelCount).digit
                if digit.isBlank { blank += 1 } else { pixels.append(digit.pixels) }
            }
            if let savePrepared {
                let out = URL(fileURLWithPath: savePrepared)
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                try Data(pixels.flatMap { $0 }).write(to: out.appendingPathComponent(kind.lastPathComponent + ".u8"))
            }
            var logits: [Float] = [], pooled: [[Float]] = []
            for start in stride(from: 0, to: pixels.count, by: 500) {
                let chunk = Array(pixels[start..<min(pixels.count, start + 500)])
                let input = MNISTNormalization.images(chunk.flatMap { $0 })
                let out = engine.forwardWithFeatures(model.network, images: input, addends: [Int](repeating: 0, count: chunk.count))
                logits += out.forward.logits.scalars
                pooled += Calibration.pooledFeatures(out.features)
            }
            rows.append(row(kind.lastPathComponent, assess(logits, pooled, calibration), blank: blank, against: digits))
        }
        if json {
            print(try prettyJSON(rows))
            return
        }
        print(String(format: "Thresholds: not a digit above distance %.2f, two digits alike below margin %.4f (temperature %.4f)",
                     calibration.distanceThreshold, calibration.marginThreshold, calibration.temperature))
        print("| kind | images | flagged unsure | not a digit | two digits alike | blank | AUROC (distance) | AUROC (max probability) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows {
            let auroc = { (v: Double?) in v.map { String(format: "%.4f", $0) } ?? "–" }
            print("| \(r.kind) | \(r.images) | \(percent(r.flagged)) | \(r.notADigit) | \(r.twoDigitsAlike) | \(r.blank) | "
                  + "\(auroc(r.aurocDistance)) | \(auroc(r.aurocMaxProbability)) |")
        }
    }

    /// Per image: the verdict, the distance and 1 − the largest calibrated probability.
    private func assess(_ logits: [Float], _ pooled: [[Float]], _ calibration: Calibration) -> [(reason: UnsureReason?, distance: Float, maxProbability: Float)] {
        let classes = AdderNetwork.classes
        return pooled.indices.map { i in
            let a = calibration.assess(logits: logits[(i * classes)..<((i + 1) * classes)], pooledFeatures: pooled[i])
            return (a.reason, a.distance, 1 - (a.probabilities.max() ?? 0))
        }
    }

    private func row(
        _ kind: String, _ items: [(reason: UnsureReason?, distance: Float, maxProbability: Float)], blank: Int,
        against digits: [(reason: UnsureReason?, distance: Float, maxProbability: Float)]?
    ) -> Row {
        let notADigit = items.filter { $0.reason == .notADigit }.count
        let alike = items.filter { $0.reason == .twoDigitsAlike }.count
        let total = items.count + blank
        // A blank picture scores above every digit: it is never answered as one.
        let blanks = [Float](repeating: .infinity, count: blank)
        return Row(
            kind: kind, images: total, flagged: Double(notADigit + alike + blank) / Double(max(1, total)),
            notADigit: notADigit, twoDigitsAlike: alike, blank: blank,
            aurocDistance: digits.map { auroc(negatives: $0.map(\.distance), positives: items.map(\.distance) + blanks) },
            aurocMaxProbability: digits.map { auroc(negatives: $0.map(\.maxProbability), positives: items.map(\.maxProbability) + blanks) })
    }

    private func subfolders(of folder: URL) throws -> [URL] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw CommandError(
                "--nondigits \(folder.path): cannot list the folder (\(error.localizedDescription))", status: .noInput)
        }
        return names.sorted().map { folder.appendingPathComponent($0) }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}

/// Area under the ROC curve of a score that should be higher for `positives` than for `negatives`:
/// the probability that a random positive scores above a random negative, ties counting one half
/// (the Mann–Whitney U statistic over |P|·|N|). Matches `sklearn.metrics.roc_auc_score`.
func auroc(negatives: [Float], positives: [Float]) -> Double {
    guard !negatives.isEmpty, !positives.isEmpty else { return .nan }
    let all = (negatives.map { ($0, false) } + positives.map { ($0, true) }).sorted { $0.0 < $1.0 }
    // Mid-ranks (1-based) over ties, summed for the positives.
    var rankSum = 0.0
    var i = 0
    while i < all.count {
        var j = i
        while j + 1 < all.count && all[j + 1].0 == all[i].0 { j += 1 }
        let midRank = Double(i + j) / 2 + 1
        for k in i...j where all[k].1 { rankSum += midRank }
        i = j + 1
    }
    let p = Double(positives.count), n = Double(negatives.count)
    return (rankSum - p * (p + 1) / 2) / (p * n)
}
