// Saying when the network does not know. Two checks on each image, both fitted on the validation
// set (`CalibrationFit`), never on the test set:
// - "not a digit": the Mahalanobis distance of the image's pooled features to the nearest digit
//   class (after Lee, Lee, Lee and Shin, "A Simple Unified Framework for Detecting
//   Out-of-Distribution Samples and Adversarial Attacks", NeurIPS 2018: class means and covariances
//   of the training images' features), above the distance that 98.5% of validation digits stay
//   under;
// - "two digits alike": the two largest calibrated probabilities closer than the margin that only
//   0.5% of validation digits fall under.
// The features are the outputs of the three layers before the last (for the seed conv3, conv4 and
// conv5 + ReLU), each averaged over each channel's plane and joined: 32 + 64 + 64 = 160 values.
// Deviations from Lee et al.: each class has its own covariance (Lee et al. share one between the
// classes), one distance on the joined features instead of one per layer combined by a trained
// regression, and no input preprocessing (no gradient step on the image). The class's own
// covariance follows the shape of each digit's spread: with one shared covariance 39.5% of letters
// and 52% of symbols were flagged, with one per class 60% and 65%, MNIST test digits flagged 1.6%
// and 1.8% (README, "Try it in one minute"). Chosen over conv5 alone (64 or all 1,600 values),
// which misses noise and patterns almost entirely, and over 2×2-pooled planes, which miss more
// noise.
import AdderNet
import Foundation
import NNCore

/// Why an answer is flagged `unsure`.
public enum UnsureReason: String, Sendable, Codable, Equatable {
    /// The image's features lie far from every digit's (Mahalanobis distance above the threshold).
    case notADigit = "not a digit"
    /// The two most likely digits have calibrated probabilities closer than the margin threshold.
    case twoDigitsAlike = "two digits alike"
}

/// What the calibration says about one image.
public struct UnsureAssessment: Sendable, Equatable {
    /// softmax(logits / temperature): ten calibrated probabilities summing to 1.
    public var probabilities: [Float]
    /// Squared Mahalanobis distance of the pooled features to the nearest class mean, each class
    /// with its own precision (no unit).
    public var distance: Float
    /// The largest calibrated probability minus the second largest, in [0, 1].
    public var margin: Float
    /// The first check that failed, nil when the answer is trusted (`distance` first, then `margin`).
    public var reason: UnsureReason?
    /// True when `reason` is not nil.
    public var unsure: Bool { reason != nil }
}

/// The fitted calibration of a checkpoint: temperature, feature statistics and thresholds. Stored in
/// the checkpoint as F32 tensors under `Checkpoint.calibrationPrefix` (`calibration.temperature`
/// [], `calibration.feature_means` [10, F], `calibration.feature_precision` [10, F, F] (one per
/// class; [F, F], one shared by all classes as earlier checkpoints hold it, is read too),
/// `calibration.distance_threshold` [], `calibration.margin_threshold` []) and described in the
/// `calibration` metadata (JSON, `CalibrationReport`).
public struct Calibration: Sendable, Equatable {
    /// T of softmax(logits / T), fitted on the validation logits by minimising NLL.
    public var temperature: Float
    /// Mean pooled feature vector of each digit class over the training images, (10, F).
    public var featureMeans: Tensor
    /// Inverse of each class's covariance of the training features, (10, F, F); or one inverse
    /// shared by all classes, (F, F).
    public var featurePrecision: Tensor
    /// Squared Mahalanobis distance above which an image is "not a digit".
    public var distanceThreshold: Float
    /// Calibrated top-two probability margin below which the answer is "two digits alike".
    public var marginThreshold: Float

    /// A calibration from its parts; `featureMeans` is (C, F) and `featurePrecision` (C, F, F), one
    /// per class, or (F, F), shared.
    public init(temperature: Float, featureMeans: Tensor, featurePrecision: Tensor, distanceThreshold: Float, marginThreshold: Float) {
        precondition(featureMeans.rank == 2 && Self.precisionShapes(classes: featureMeans.shape[0], features: featureMeans.shape[1])
            .contains(featurePrecision.shape), "Calibration: means \(featureMeans.shape), precision \(featurePrecision.shape)")
        self.temperature = temperature
        self.featureMeans = featureMeans
        self.featurePrecision = featurePrecision
        self.distanceThreshold = distanceThreshold
        self.marginThreshold = marginThreshold
    }

    /// Pooled features per image: each tensor of `features` pooled (`pooledFeatures(_:)` of one) and
    /// the results joined in order; for the seed 32 + 64 + 64 = 160 values. Returns N rows.
    public static func pooledFeatures(_ features: [Tensor]) -> [[Float]] {
        let pooled = features.map { pooledFeatures($0) }
        guard let n = pooled.first?.count else { return [] }
        return (0..<n).map { i in pooled.flatMap { $0[i] } }
    }

    /// Pooled features per image: a (N, C, H, W) tensor averaged over each H×W plane, (N, C); a (N, F)
    /// tensor as it is. Returns N rows.
    public static func pooledFeatures(_ features: Tensor) -> [[Float]] {
        let n = features.shape.first ?? 0
        guard n > 0 else { return [] }
        let perImage = features.count / n
        let channels = features.rank == 4 ? features.shape[1] : perImage
        let plane = perImage / channels
        return (0..<n).map { i in
            (0..<channels).map { c in
                let start = i * perImage + c * plane
                var sum: Float = 0
                for j in start..<(start + plane) { sum += features.scalars[j] }
                return sum / Float(plane)
            }
        }
    }

    /// Number of pooled features F.
    public var featureCount: Int { featureMeans.shape[1] }

    /// The precision shapes a calibration of `classes` classes and `features` features accepts: one
    /// per class, (classes, F, F), or one shared, (F, F).
    public static func precisionShapes(classes: Int, features: Int) -> [[Int]] {
        [[classes, features, features], [features, features]]
    }

    /// The smallest squared Mahalanobis distance (f − μ_c)ᵀ P_c (f − μ_c) over the ten classes c, for
    /// one pooled feature vector of F values; P_c is class c's precision (the shared one for a
    /// (F, F) `featurePrecision`). Computed in Double, each row of P_c (f − μ_c) as eight partial sums
    /// (SIMD) added at the end, then the rows summed in order: the same value as the plain row-by-row
    /// sum to Double rounding (about 1e-16 relative), several times faster (the plain sum, one chain of
    /// dependent additions, took about 0.1 ms of each server answer). With no features (F = 0) the
    /// distance is 0, or infinity with no classes.
    public func distance(_ pooled: [Float]) -> Float {
        let f = featureCount
        precondition(pooled.count == f, "distance: \(pooled.count) features, expected \(f)")
        guard f > 0 else { return featureMeans.shape[0] > 0 ? 0 : .infinity }
        let perClass = featurePrecision.rank == 3
        var best = Double.infinity
        var diff = [Double](repeating: 0, count: f)
        featureMeans.scalars.withUnsafeBufferPointer { means in
            featurePrecision.scalars.withUnsafeBufferPointer { precision in
                diff.withUnsafeMutableBufferPointer { diff in
                    for c in 0..<featureMeans.shape[0] {
                        for j in 0..<f { diff[j] = Double(pooled[j]) - Double(means[c * f + j]) }
                        let base = precision.baseAddress! + (perClass ? c * f * f : 0)
                        var total = 0.0
                        for r in 0..<f {
                            total += diff[r] * Self.dot(base + r * f, UnsafePointer(diff.baseAddress!), count: f)
                        }
                        best = min(best, total)
                    }
                }
            }
        }
        return Float(best)
    }

    /// Σ Double(p[k])·d[k] for k < `count`, as eight partial sums (k mod 8) added at the end, then the rest.
    private static func dot(_ p: UnsafePointer<Float>, _ d: UnsafePointer<Double>, count: Int) -> Double {
        var partial = SIMD8<Double>()
        var k = 0
        while k + 8 <= count {
            let floats = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self)
            let doubles = UnsafeRawPointer(d + k).loadUnaligned(as: SIMD8<Double>.self)
            partial += SIMD8<Double>(floats) * doubles
            k += 8
        }
        var sum = partial.sum()
        while k < count {
            sum += Double(p[k]) * d[k]
            k += 1
        }
        return sum
    }

    /// The calibrated probabilities, the two scores and the verdict for one image's logits (10
    /// values) and pooled features (F values).
    public func assess(logits: ArraySlice<Float>, pooledFeatures: [Float]) -> UnsureAssessment {
        let probabilities = TemperatureScaling.probabilities(logits, temperature: temperature)
        let margin = Self.margin(probabilities)
        let distance = distance(pooledFeatures)
        let reason: UnsureReason? =
            !(distance <= distanceThreshold) ? .notADigit : margin < marginThreshold ? .twoDigitsAlike : nil
        return UnsureAssessment(probabilities: probabilities, distance: distance, margin: margin, reason: reason)
    }

    /// The largest of `probabilities` minus the second largest (0 for fewer than two).
    public static func margin(_ probabilities: [Float]) -> Float {
        var first: Float = -.infinity, second: Float = -.infinity
        for p in probabilities {
            if p > first { (first, second) = (p, first) } else if p > second { second = p }
        }
        return probabilities.count < 2 ? 0 : first - second
    }

    // MARK: - Storage

    /// The tensors under `Checkpoint.calibrationPrefix` that hold this calibration.
    public var tensors: [String: Tensor] {
        let p = Checkpoint.calibrationPrefix
        return [
            p + "temperature": Tensor(shape: [], scalars: [temperature]),
            p + "feature_means": featureMeans,
            p + "feature_precision": featurePrecision,
            p + "distance_threshold": Tensor(shape: [], scalars: [distanceThreshold]),
            p + "margin_threshold": Tensor(shape: [], scalars: [marginThreshold]),
        ]
    }

    /// The calibration stored in `file`, or nil when it holds no tensor under the prefix (a checkpoint
    /// that was never calibrated). Throws `CalibrationError.malformed` naming the tensor when one is
    /// missing, misshapen or not finite, or the temperature or a threshold is not positive.
    public init?(file: SafetensorsFile) throws {
        let p = Checkpoint.calibrationPrefix
        guard file.names.contains(where: { $0.hasPrefix(p) }) else { return nil }
        func read(_ name: String, _ check: (Tensor) -> String?) throws -> Tensor {
            guard file.names.contains(p + name) else {
                throw CalibrationError.malformed(tensor: p + name, expected: "present", found: "missing")
            }
            let tensor = try file.float32(p + name)
            if let index = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw CalibrationError.malformed(tensor: p + name, expected: "finite values", found: "\(tensor.scalars[index]) at \(index)")
            }
            if let problem = check(tensor) {
                throw CalibrationError.malformed(tensor: p + name, expected: problem, found: "shape \(tensor.shape), values \(tensor.scalars.prefix(3))")
            }
            return tensor
        }
        let positiveScalar: (Tensor) -> String? = { $0.count == 1 && $0.scalars[0] > 0 ? nil : "one positive number" }
        let temperature = try read("temperature", positiveScalar)
        let means = try read("feature_means") { $0.rank == 2 && $0.shape[0] == AdderNetwork.classes && $0.shape[1] > 0 ? nil : "shape [10, F]" }
        let f = means.shape[1]
        let shapes = Self.precisionShapes(classes: AdderNetwork.classes, features: f)
        let precision = try read("feature_precision") {
            shapes.contains($0.shape) ? nil : "shape [\(AdderNetwork.classes), \(f), \(f)] or [\(f), \(f)]"
        }
        let distance = try read("distance_threshold", positiveScalar)
        let margin = try read("margin_threshold") { $0.count == 1 && $0.scalars[0] >= 0 && $0.scalars[0] <= 1 ? nil : "one number in 0...1" }
        self.init(temperature: temperature.scalars[0], featureMeans: means, featurePrecision: precision,
                  distanceThreshold: distance.scalars[0], marginThreshold: margin.scalars[0])
    }
}

/// A checkpoint's calibration that cannot be used.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    /// A calibration tensor is missing, misshapen, not finite or out of range.
    case malformed(tensor: String, expected: String, found: String)
    /// The run kept no validation set aside, so there is nothing to calibrate on.
    case noValidationSet(checkpoint: String)
    /// The features of the network do not fit the stored calibration.
    case featureMismatch(expected: Int, found: Int)

    /// One line naming the problem, the expected and the found value.
    public var description: String {
        switch self {
        case .malformed(let tensor, let expected, let found):
            "calibration tensor '\(tensor)': expected \(expected), found \(found)"
        case .noValidationSet(let checkpoint):
            "\(checkpoint) was trained without a validation set: expected a run of `train --validation N` "
                + "(calibrating on trained-on or test images would be meaningless)"
        case .featureMismatch(let expected, let found):
            "the calibration holds \(expected) features per image but the network gives \(found)"
        }
    }
}
