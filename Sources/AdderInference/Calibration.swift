// Calibrated probabilities: temperature scaling (Guo, Pleiss, Sun and Weinberger, "On Calibration
// of Modern Neural Networks", ICML 2017), fitted on the validation set's logits by minimising the
// negative log-likelihood, and the expected calibration error (15 equal-width confidence bins) that
// measures it. Everything here is plain arithmetic on logits, in Double.
import Foundation

/// Temperature scaling: probabilities softmax(logits / T) with one T > 0 for every image.
public enum TemperatureScaling {
    /// The range of temperatures `fit` searches, (lower, upper).
    public static let searchRange: (lower: Double, upper: Double) = (0.05, 20)

    /// Mean negative log-likelihood, in nats, of `labels` under softmax(logits / temperature):
    /// `logits` holds N rows of `classes` values (row-major), `labels` N classes in 0..<classes.
    /// Computed in Double with the row maximum subtracted. Matches
    /// `torch.nn.functional.cross_entropy(logits / T, labels)`.
    public static func negativeLogLikelihood(
        logits: [Float], labels: [Int], temperature: Double, classes: Int = 10
    ) -> Double {
        precondition(logits.count == labels.count * classes && temperature > 0, "NLL: logits \(logits.count), labels \(labels.count)")
        guard !labels.isEmpty else { return 0 }
        var total = 0.0
        for (i, label) in labels.enumerated() {
            let row = logits[(i * classes)..<((i + 1) * classes)].map { Double($0) / temperature }
            let m = row.max() ?? 0
            let logSum = log(row.reduce(0) { $0 + exp($1 - m) }) + m
            total += logSum - row[label]
        }
        return total / Double(labels.count)
    }

    /// The temperature in `searchRange` minimising `negativeLogLikelihood` on (`logits`, `labels`).
    ///
    /// A golden-section search on log T (the NLL is convex in 1/T, so it has one minimum on the
    /// log scale), 80 steps, which pins T far below Float's precision. Matches
    /// `scipy.optimize.minimize_scalar(nll, bounds=searchRange, method="bounded")` to its tolerance.
    /// Returns 1 for no labels.
    public static func fit(logits: [Float], labels: [Int], classes: Int = 10) -> Double {
        guard !labels.isEmpty else { return 1 }
        func f(_ logT: Double) -> Double {
            negativeLogLikelihood(logits: logits, labels: labels, temperature: exp(logT), classes: classes)
        }
        let ratio = (sqrt(5.0) - 1) / 2
        var a = log(searchRange.lower), b = log(searchRange.upper)
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<80 {
            if fc <= fd {
                (b, d, fd) = (d, c, fc)
                c = b - ratio * (b - a)
                fc = f(c)
            } else {
                (a, c, fc) = (c, d, fd)
                d = a + ratio * (b - a)
                fd = f(d)
            }
        }
        return exp((a + b) / 2)
    }

    /// softmax(logits / temperature) of one row, in Float (the row maximum subtracted first).
    public static func probabilities(_ logits: ArraySlice<Float>, temperature: Float) -> [Float] {
        let scaled = logits.map { $0 / temperature }
        let m = scaled.max() ?? 0
        let e = scaled.map { exp($0 - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// Expected calibration error (Naeini et al. 2015, as Guo et al. 2017 measure it): the images are
    /// put in `bins` equal-width bins by confidence (the largest probability; bin m holds confidences in
    /// ((m−1)/bins, m/bins]), and ECE = Σ |B_m|/N · |accuracy(B_m) − mean confidence(B_m)|, a fraction
    /// in [0, 1]. `probabilities` holds N rows of `classes`; the prediction is each row's argmax
    /// (the first on a tie). Returns 0 for no rows.
    public static func expectedCalibrationError(
        probabilities: [Float], labels: [Int], classes: Int = 10, bins: Int = 15
    ) -> Double {
        precondition(probabilities.count == labels.count * classes && bins >= 1, "ECE: \(probabilities.count) values, \(labels.count) labels")
        guard !labels.isEmpty else { return 0 }
        var count = [Int](repeating: 0, count: bins)
        var correct = [Int](repeating: 0, count: bins)
        var confidence = [Double](repeating: 0, count: bins)
        for (i, label) in labels.enumerated() {
            let row = probabilities[(i * classes)..<((i + 1) * classes)]
            var best = row.startIndex
            for j in row.indices where row[j] > row[best] { best = j }
            let p = Double(row[best])
            // ((m−1)/bins, m/bins] → m−1; a confidence of exactly 0 goes to the first bin.
            let bin = min(bins - 1, max(0, Int((p * Double(bins)).rounded(.up)) - 1))
            count[bin] += 1
            confidence[bin] += p
            if best - row.startIndex == label { correct[bin] += 1 }
        }
        var ece = 0.0
        for m in 0..<bins where count[m] > 0 {
            ece += abs(Double(correct[m]) - confidence[m]) / Double(labels.count)
        }
        return ece
    }
}
