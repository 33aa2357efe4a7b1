// Fitting a checkpoint's calibration (`mnist-adder calibrate`, and the end of `train --validation`):
// class means and each class's covariance of the pooled features on the training images, the
// temperature and both thresholds on the validation images. The test set is never looked at here.
import AdderNet
import Foundation
import MNISTData
import NNCore

/// What a calibration was fitted on and how it does there; stored as JSON in the checkpoint's
/// `calibration` metadata. Fractions are in [0, 1].
public struct CalibrationReport: Codable, Sendable, Equatable {
    /// How the features are taken, in words.
    public var features: String
    /// Images the class means and covariance were computed on (the training images).
    public var trainingImages: Int
    /// Validation images the temperature and thresholds were fitted on.
    public var validationImages: Int
    /// The fitted temperature.
    public var temperature: Double
    /// Mean NLL of the validation set at temperature 1, in nats.
    public var validationNLLBefore: Double
    /// Mean NLL of the validation set at the fitted temperature, in nats.
    public var validationNLLAfter: Double
    /// The fraction of validation digits the distance threshold keeps (its quantile).
    public var distanceQuantile: Double
    /// The fraction of validation digits under the margin threshold (its quantile).
    public var marginQuantile: Double
    /// Fraction of validation digits flagged `unsure` for either reason.
    public var validationFlagged: Double
    /// Validation classification accuracy.
    public var validationAccuracy: Double
}

/// The logits, pooled features and labels of a dataset, in dataset order.
public struct DatasetScores: Sendable {
    /// N rows of 10 logits.
    public var logits: [Float]
    /// N pooled feature vectors (`Calibration.pooledFeatures`).
    public var pooledFeatures: [[Float]]
    /// N digit labels.
    public var labels: [Int]
}

/// Fits `Calibration`s.
public enum CalibrationFit {
    /// The quantile of validation distances taken as the "not a digit" threshold: 98.5% of
    /// validation digits pass it.
    public static let distanceQuantile = 0.985
    /// The quantile of validation top-two margins taken as the "two digits alike" threshold: 0.5% of
    /// validation digits fall under it.
    public static let marginQuantile = 0.005
    /// Relative ridge added to the covariance's diagonal before inverting it (× mean variance), so a
    /// channel that never fires (variance 0) still gives a finite precision.
    public static let ridge = 1e-4

    /// Runs `network` over `dataset` in batches of `batchSize` in evaluation mode and gathers logits,
    /// pooled features and labels. Throws `NonFiniteForwardError` for a non-finite forward pass.
    public static func scores(
        _ network: AdderNetwork, on dataset: AdderDataset, engine: AdderEngine, batchSize: Int = 1000
    ) throws -> DatasetScores {
        var result = DatasetScores(logits: [], pooledFeatures: [], labels: [])
        for batch in try dataset.batches(batchSize: batchSize, shuffle: false) {
            let out = engine.forwardWithFeatures(network, images: batch.images, addends: batch.addends)
            try engine.checkFinite(out.forward, network: network, images: batch.images, addends: batch.addends)
            result.logits += out.forward.logits.scalars
            result.pooledFeatures += Calibration.pooledFeatures(out.features)
            result.labels += batch.labels
        }
        return result
    }

    /// Fits the calibration: feature means and covariances per class on `training`
    /// (the images the network was trained on), then on `validation` (kept aside, never trained on)
    /// the temperature (`TemperatureScaling.fit`), the distance threshold (the `distanceQuantile`
    /// of validation distances) and the margin threshold (the `marginQuantile` of validation margins
    /// at that temperature). Quantiles are nearest-rank: the ⌈q·N⌉-th smallest value.
    /// Throws `EmptyDatasetError` for an empty set, `NonFiniteForwardError`, or
    /// `CalibrationError.malformed` when the covariance cannot be inverted.
    public static func fit(
        _ network: AdderNetwork, engine: AdderEngine, training: AdderDataset, validation: AdderDataset
    ) throws -> (calibration: Calibration, report: CalibrationReport) {
        guard training.count > 0 else { throw EmptyDatasetError(name: "training set") }
        guard validation.count > 0 else { throw EmptyDatasetError(name: "validation set") }
        let train = try scores(network, on: training, engine: engine)
        let (means, precision) = try featureStatistics(train.pooledFeatures, labels: train.labels)
        let held = try scores(network, on: validation, engine: engine)
        let temperature = TemperatureScaling.fit(logits: held.logits, labels: held.labels)
        var calibration = Calibration(
            temperature: Float(temperature), featureMeans: means, featurePrecision: precision,
            distanceThreshold: .greatestFiniteMagnitude, marginThreshold: 0)
        let classes = AdderNetwork.classes
        var distances: [Float] = [], margins: [Float] = [], correct = 0
        for i in held.labels.indices {
            let a = calibration.assess(logits: held.logits[(i * classes)..<((i + 1) * classes)], pooledFeatures: held.pooledFeatures[i])
            distances.append(a.distance)
            margins.append(a.margin)
            if a.probabilities.indices.max(by: { a.probabilities[$0] < a.probabilities[$1] }) == held.labels[i] { correct += 1 }
        }
        calibration.distanceThreshold = quantile(distances, distanceQuantile)
        calibration.marginThreshold = quantile(margins, marginQuantile)
        let flagged = held.labels.indices.filter {
            !(distances[$0] <= calibration.distanceThreshold) || margins[$0] < calibration.marginThreshold
        }.count
        let report = CalibrationReport(
            features: "outputs of the three layers before the last, each averaged over each channel's plane (\(means.shape[1]) values); "
                + "Mahalanobis distance with each class's own covariance",
            trainingImages: training.count, validationImages: validation.count, temperature: temperature,
            validationNLLBefore: TemperatureScaling.negativeLogLikelihood(logits: held.logits, labels: held.labels, temperature: 1),
            validationNLLAfter: TemperatureScaling.negativeLogLikelihood(logits: held.logits, labels: held.labels, temperature: temperature),
            distanceQuantile: distanceQuantile, marginQuantile: marginQuantile,
            validationFlagged: Double(flagged) / Double(held.labels.count),
            validationAccuracy: Double(correct) / Double(held.labels.count))
        return (calibration, report)
    }

    /// The nearest-rank quantile: the ⌈q·N⌉-th smallest of `values` (the smallest for q·N ≤ 1).
    public static func quantile(_ values: [Float], _ q: Double) -> Float {
        precondition(!values.isEmpty, "quantile of no values")
        let sorted = values.sorted()
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    /// Class means (10, F) and the inverse of each class's covariance (10, F, F) of `features` (N
    /// vectors of F values) with their `labels`: for class c with images I_c,
    /// Σ_c = 1/|I_c| Σ_{i∈I_c} (fᵢ − μ_c)(fᵢ − μ_c)ᵀ + ridge·tr(Σ_c)/F·I, inverted by Cholesky, all in
    /// Double. A class with F images or fewer (too few for its own covariance) takes the shared
    /// within-class covariance of all images, 1/N Σᵢ (fᵢ − μ_yᵢ)(fᵢ − μ_yᵢ)ᵀ, with the same ridge; a
    /// class without images also takes the mean of all features. Matches `numpy.cov(x, rowvar=False,
    /// bias=True)` per class plus the ridge, then `numpy.linalg.inv`. Throws
    /// `CalibrationError.malformed` when a covariance is not positive definite.
    public static func featureStatistics(_ features: [[Float]], labels: [Int]) throws -> (means: Tensor, precision: Tensor) {
        let classes = AdderNetwork.classes
        let f = features.first?.count ?? 0
        var sums = [[Double]](repeating: [Double](repeating: 0, count: f), count: classes)
        var counts = [Int](repeating: 0, count: classes)
        var all = [Double](repeating: 0, count: f)
        for (x, y) in zip(features, labels) {
            counts[y] += 1
            for j in 0..<f {
                sums[y][j] += Double(x[j])
                all[j] += Double(x[j])
            }
        }
        let means = (0..<classes).map { c in
            (0..<f).map { j in counts[c] > 0 ? sums[c][j] / Double(counts[c]) : all[j] / Double(max(1, features.count)) }
        }
        // Upper triangles of each class's scatter Σᵢ dᵢdᵢᵀ, dᵢ = fᵢ − μ_yᵢ.
        var scatter = [[Double]](repeating: [Double](repeating: 0, count: f * f), count: classes)
        var d = [Double](repeating: 0, count: f)
        for (x, y) in zip(features, labels) {
            for j in 0..<f { d[j] = Double(x[j]) - means[y][j] }
            scatter[y].withUnsafeMutableBufferPointer { s in
                for r in 0..<f where d[r] != 0 {
                    for k in r..<f { s[r * f + k] += d[r] * d[k] }
                }
            }
        }
        var shared = [Double](repeating: 0, count: f * f)
        for c in 0..<classes { for i in 0..<(f * f) { shared[i] += scatter[c][i] } }
        func precision(_ upper: [Double], count: Int, name: String) throws -> [Double] {
            var covariance = upper
            let n = Double(max(1, count))
            for r in 0..<f {
                for k in r..<f {
                    covariance[r * f + k] /= n
                    covariance[k * f + r] = covariance[r * f + k]
                }
            }
            let meanVariance = (0..<f).reduce(0.0) { $0 + covariance[$1 * f + $1] } / Double(max(1, f))
            for j in 0..<f { covariance[j * f + j] += ridge * max(meanVariance, 1e-12) }
            guard let inverse = symmetricPositiveDefiniteInverse(covariance, n: f) else {
                throw CalibrationError.malformed(tensor: name, expected: "positive definite", found: "a singular matrix")
            }
            return inverse
        }
        let sharedPrecision = try precision(shared, count: features.count, name: "shared feature covariance")
        var precisions: [Double] = []
        precisions.reserveCapacity(classes * f * f)
        for c in 0..<classes {
            if counts[c] > f {
                precisions += try precision(scatter[c], count: counts[c], name: "feature covariance of class \(c)")
            } else {
                precisions += sharedPrecision
            }
        }
        return (Tensor(shape: [classes, f], scalars: means.flatMap { $0.map(Float.init) }),
                Tensor(shape: [classes, f, f], scalars: precisions.map(Float.init)))
    }

    /// The inverse of a symmetric positive definite n×n matrix (row-major) by Cholesky
    /// (A = L Lᵀ, then A⁻¹ = L⁻ᵀ L⁻¹), or nil when a pivot is not positive.
    public static func symmetricPositiveDefiniteInverse(_ a: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        // M = L⁻¹ (lower triangular), by forward substitution column by column.
        var m = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            for i in c..<n {
                var s = i == c ? 1.0 : 0.0
                for k in c..<i { s -= l[i * n + k] * m[k * n + c] }
                m[i * n + c] = s / l[i * n + i]
            }
        }
        // A⁻¹ = Mᵀ M.
        var inverse = [Double](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in r..<n {
                var s = 0.0
                for k in c..<n { s += m[k * n + r] * m[k * n + c] }
                inverse[r * n + c] = s
                inverse[c * n + r] = s
            }
        }
        return inverse
    }
}
