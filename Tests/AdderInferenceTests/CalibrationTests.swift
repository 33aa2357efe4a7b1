// Temperature scaling, ECE and the covariance inverse against references; the `unsure` verdict on
// both sides of each threshold.
import AdderInference
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import Testing

/// Overconfident fixed logits: the true class gets a large logit most of the time, a wrong one
/// sometimes, with noise; drawn from SplitMix64 so the test is the same everywhere.
private func fixedLogits(count: Int, seed: UInt64) -> (logits: [Float], labels: [Int]) {
    var g = SplitMix64(seed: seed)
    var logits: [Float] = [], labels: [Int] = []
    for _ in 0..<count {
        let label = Int(g.next() % 10)
        var row = (0..<10).map { _ in g.nextUniform(-2, 2) }
        let wrong = g.nextUniform(0, 1) < 0.1
        row[wrong ? (label + 1 + Int(g.next() % 9)) % 10 : label] += g.nextUniform(4, 12)
        logits += row
        labels.append(label)
    }
    return (logits, labels)
}

@Test("temperature, NLL and ECE match scipy's bounded search and a torch reference")
func temperatureMatchesScipy() throws {
    guard pythonHasScipy else { return }
    let (logits, labels) = fixedLogits(count: 3000, seed: 24)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("calibration-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Safetensors.writeAtomically(Safetensors.encode([
        "logits": Tensor(shape: [labels.count, 10], scalars: logits),
        "labels": Tensor(shape: [labels.count], scalars: labels.map(Float.init)),
    ]), to: url)
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/calibration/reference.py")
    let output = try Python.run([script.path, url.path])
    let reference = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Double])
    let t = TemperatureScaling.fit(logits: logits, labels: labels)
    let expected = try #require(reference["temperature"])
    #expect(t > 1.2, "the fixed logits are overconfident, T = \(t)")
    #expect(abs(t - expected) / expected < 1e-5, "T \(t) vs scipy \(expected)")
    let nllBefore = TemperatureScaling.negativeLogLikelihood(logits: logits, labels: labels, temperature: 1)
    let nllAfter = TemperatureScaling.negativeLogLikelihood(logits: logits, labels: labels, temperature: t)
    #expect(abs(nllBefore - (reference["nll_before"] ?? .nan)) < 1e-9)
    #expect(abs(nllAfter - (reference["nll_after"] ?? .nan)) < 1e-9)
    #expect(nllAfter < nllBefore)
    var before: [Float] = [], after: [Float] = []
    for i in labels.indices {
        before += TemperatureScaling.probabilities(logits[(i * 10)..<((i + 1) * 10)], temperature: 1)
        after += TemperatureScaling.probabilities(logits[(i * 10)..<((i + 1) * 10)], temperature: Float(t))
    }
    let eceBefore = TemperatureScaling.expectedCalibrationError(probabilities: before, labels: labels)
    let eceAfter = TemperatureScaling.expectedCalibrationError(probabilities: after, labels: labels)
    #expect(abs(eceBefore - (reference["ece_before"] ?? .nan)) < 1e-5, "ECE \(eceBefore) vs \(reference["ece_before"] ?? .nan)")
    #expect(abs(eceAfter - (reference["ece_after"] ?? .nan)) < 1e-5, "ECE \(eceAfter) vs \(reference["ece_after"] ?? .nan)")
    // (NLL, not ECE, is what the temperature minimises: on these synthetic logits ECE gets worse.)
}

@Test("ECE by hand: two bins, one of them off by 0.3")
func eceByHand() {
    // Confidence 0.9 right, 0.9 wrong (bin (0.8667, 0.9333]: accuracy 0.5, confidence 0.9, weight 1/2)
    // and 0.5 right twice (bin (0.4667, 0.5333]: accuracy 1, confidence 0.5, weight 1/2).
    func row(_ top: Int, _ p: Float) -> [Float] {
        (0..<10).map { $0 == top ? p : (1 - p) / 9 }
    }
    let probabilities = row(3, 0.9) + row(3, 0.9) + row(1, 0.5) + row(2, 0.5)
    let ece = TemperatureScaling.expectedCalibrationError(probabilities: probabilities, labels: [3, 4, 1, 2])
    #expect(abs(ece - (0.5 * 0.4 + 0.5 * 0.5)) < 1e-6, "\(ece)")
}

@Test("the covariance inverse times the matrix is the identity")
func choleskyInverse() throws {
    var g = SplitMix64(seed: 7)
    let n = 12
    let b = (0..<(n * n)).map { _ in Double(g.nextUniform(-1, 1)) }
    var a = [Double](repeating: 0, count: n * n)
    for r in 0..<n { for c in 0..<n { for k in 0..<n { a[r * n + c] += b[r * n + k] * b[c * n + k] } } }
    for j in 0..<n { a[j * n + j] += 0.1 }
    let inverse = try #require(CalibrationFit.symmetricPositiveDefiniteInverse(a, n: n))
    for r in 0..<n {
        for c in 0..<n {
            let product = (0..<n).reduce(0.0) { $0 + a[r * n + $1] * inverse[$1 * n + c] }
            #expect(abs(product - (r == c ? 1 : 0)) < 1e-9, "(\(r), \(c)): \(product)")
        }
    }
    #expect(CalibrationFit.symmetricPositiveDefiniteInverse([1, 2, 2, 1], n: 2) == nil)
}

@Test("feature statistics by hand: each class's covariance, the shared one for a class with too few images")
func featureStatistics() throws {
    // One feature. Class 0: 1, −1, 3, −3 (mean 0, variance 5); class 1: 4, 6, 4, 6 (mean 5,
    // variance 1); classes 2...9 have no images: the mean of all (2.5) and the shared within-class
    // variance (20 + 4) / 8 = 3. Each variance gets the ridge × itself.
    let features: [[Float]] = [[1], [-1], [3], [-3], [4], [6], [4], [6]]
    let (means, precision) = try CalibrationFit.featureStatistics(features, labels: [0, 0, 0, 0, 1, 1, 1, 1])
    #expect(means.shape == [10, 1] && precision.shape == [10, 1, 1])
    #expect(Array(means.scalars[0..<3]) == [0, 5, 2.5])
    let r = CalibrationFit.ridge
    let expected = [1 / (5 * (1 + r)), 1 / (1 * (1 + r))] + [Double](repeating: 1 / (3 * (1 + r)), count: 8)
    for (found, wanted) in zip(precision.scalars, expected) { #expect(abs(Double(found) - wanted) < 1e-6 * wanted, "\(found) vs \(wanted)") }
    // The distance uses each class's own precision: 7 is 2 from class 1's mean (4 × 1/1), 4.5 from
    // the empty classes' (20.25 × 1/3) and 7 from class 0's (49 × 1/5); −4 is nearest class 0
    // (16 × 1/5, against 42.25 × 1/3 and 81 × 1/1); 2 is nearest the empty classes (0.25 × 1/3).
    let c = Calibration(temperature: 1, featureMeans: means, featurePrecision: precision, distanceThreshold: 100, marginThreshold: 0)
    #expect(abs(Double(c.distance([7])) - 4 * expected[1]) < 1e-5)
    #expect(abs(Double(c.distance([-4])) - 16 * expected[0]) < 1e-5)
    #expect(abs(Double(c.distance([2])) - 0.25 * expected[2]) < 1e-6)
}

@Test("feature statistics match numpy: class means and the inverse of each class's covariance")
func featureStatisticsMatchNumpy() throws {
    guard Python.shouldRun(needing: "numpy, safetensors.numpy") else { return }
    var g = SplitMix64(seed: 11)
    let f = 4
    var features: [[Float]] = [], labels: [Int] = []
    for i in 0..<400 {
        let c = i % 10
        // Correlated features whose spread differs per class.
        let z: [Float] = (0..<f).map { _ in g.nextUniform(-1, 1) }
        var row = [Float](repeating: Float(c), count: f)
        for j in 0..<f {
            row[j] += z[j] * Float(1 + (c + j) % 3)
            if j > 0 { row[j] += 0.5 * z[j - 1] }
        }
        features.append(row)
        labels.append(c)
    }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("features-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Safetensors.writeAtomically(Safetensors.encode([
        "features": Tensor(shape: [features.count, f], scalars: features.flatMap { $0 }),
        "labels": Tensor(shape: [labels.count], scalars: labels.map(Float.init)),
    ]), to: url)
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/calibration/feature_reference.py")
    let output = try Python.run([script.path, url.path, "\(CalibrationFit.ridge)"])
    let reference = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    let means = try #require(reference["means"] as? [[Double]]).flatMap { $0 }
    let precisions = try #require(reference["precisions"] as? [[[Double]]]).flatMap { $0.flatMap { $0 } }
    let (foundMeans, foundPrecision) = try CalibrationFit.featureStatistics(features, labels: labels)
    #expect(foundPrecision.shape == [10, f, f])
    for (found, wanted) in zip(foundMeans.scalars, means) { #expect(abs(Double(found) - wanted) < 1e-5, "mean \(found) vs \(wanted)") }
    for (found, wanted) in zip(foundPrecision.scalars, precisions) {
        #expect(abs(Double(found) - wanted) < 1e-4 * max(1, abs(wanted)), "precision \(found) vs \(wanted)")
    }
}

/// A calibration with identity precision and class c's mean at (c, 0): distance = squared
/// Euclidean distance to the nearest (c, 0).
private func toyCalibration(distance: Float, margin: Float) -> Calibration {
    Calibration(
        temperature: 2, featureMeans: Tensor(shape: [10, 2], scalars: (0..<10).flatMap { [Float($0), 0] }),
        featurePrecision: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]), distanceThreshold: distance, marginThreshold: margin)
}

@Test("unsure on both sides of the distance threshold: not a digit above it")
func distanceThreshold() {
    let c = toyCalibration(distance: 4, margin: 0.1)
    let logits: [Float] = [0, 0, 0, 10, 0, 0, 0, 0, 0, 0]
    let near = c.assess(logits: logits[...], pooledFeatures: [3, 1.99])   // distance 3.96
    let far = c.assess(logits: logits[...], pooledFeatures: [3, 2.01])    // distance 4.04
    #expect(abs(near.distance - 3.9601) < 1e-4 && abs(far.distance - 4.0401) < 1e-4)
    #expect(!near.unsure && near.reason == nil)
    #expect(far.unsure && far.reason == .notADigit)
    #expect(UnsureReason.notADigit.rawValue == "not a digit")
    // Temperature 2: softmax(logits / 2).
    let e = exp(Float(5))
    #expect(abs(near.probabilities[3] - e / (e + 9)) < 1e-6)
}

@Test("unsure on both sides of the margin threshold: two digits alike below it")
func marginThreshold() {
    let c = toyCalibration(distance: 100, margin: 0.2)
    // Logits that at T = 2 give 3 and 8 probabilities (1 ± m)/2 (the rest ~0): a margin of m.
    func logits(margin m: Float) -> [Float] {
        (0..<10).map { $0 == 3 ? 2 * log(1 + m) : $0 == 8 ? 2 * log(1 - m) : -100 }
    }
    let close = c.assess(logits: logits(margin: 0.19)[...], pooledFeatures: [3, 0])
    let apart = c.assess(logits: logits(margin: 0.21)[...], pooledFeatures: [3, 0])
    #expect(abs(close.margin - 0.19) < 1e-5 && abs(apart.margin - 0.21) < 1e-5, "\(close.margin) \(apart.margin)")
    #expect(close.reason == .twoDigitsAlike)
    #expect(apart.reason == nil)
    // "Not a digit" is checked first.
    let both = c.assess(logits: logits(margin: 0.19)[...], pooledFeatures: [3, 11])
    #expect(both.reason == .notADigit)
}

@Test("the calibration round-trips through a checkpoint's calibration.* tensors; damaged ones are named")
func storage() throws {
    let c = toyCalibration(distance: 4, margin: 0.1)
    let network = AdderNetwork(.seed, seed: 0)
    let bytes = try Checkpoint.encode(network, extra: c.tensors)
    let file = try SafetensorsFile(bytes: bytes, source: "test")
    #expect(try Calibration(file: file) == c)
    // The network loads as before: the calibration's tensors are not its keys.
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("cal-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Safetensors.writeAtomically(bytes, to: url)
    #expect(try Checkpoint.load(contentsOf: url).network.parameters == network.parameters)
    // A plain checkpoint has none.
    #expect(try Calibration(file: SafetensorsFile(bytes: Checkpoint.encode(network), source: "plain")) == nil)
    var damaged = c.tensors
    damaged["calibration.temperature"] = Tensor(shape: [], scalars: [-1])
    let bad = try SafetensorsFile(bytes: Checkpoint.encode(network, extra: damaged), source: "bad")
    #expect(throws: CalibrationError.malformed(
        tensor: "calibration.temperature", expected: "one positive number", found: "shape [], values [-1.0]")) {
        try Calibration(file: bad)
    }
    // One precision per class, (10, F, F), round-trips too; a precision of another shape is named.
    var perClass = c
    perClass.featurePrecision = Tensor(shape: [10, 2, 2], scalars: (0..<10).flatMap { k in [Float(k + 1), 0, 0, 1] })
    #expect(try Calibration(file: SafetensorsFile(bytes: Checkpoint.encode(network, extra: perClass.tensors), source: "per class")) == perClass)
    damaged = c.tensors
    damaged["calibration.feature_precision"] = Tensor(shape: [3, 2, 2], scalars: [Float](repeating: 1, count: 12))
    let misshapen = try SafetensorsFile(bytes: Checkpoint.encode(network, extra: damaged), source: "misshapen")
    #expect(throws: CalibrationError.malformed(
        tensor: "calibration.feature_precision", expected: "shape [10, 2, 2] or [2, 2]", found: "shape [3, 2, 2], values [1.0, 1.0, 1.0]")) {
        try Calibration(file: misshapen)
    }
}

@Test("nearest-rank quantile")
func quantile() {
    let values: [Float] = [5, 1, 4, 2, 3]
    #expect(CalibrationFit.quantile(values, 0.985) == 5)
    #expect(CalibrationFit.quantile(values, 0.6) == 3)
    #expect(CalibrationFit.quantile(values, 0.005) == 1)
}

private let pythonHasScipy = Python.shouldRun(needing: "torch, scipy, safetensors.torch")
