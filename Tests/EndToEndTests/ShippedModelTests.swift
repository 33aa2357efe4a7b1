// The model shipped in the package: its recorded SHA-256, the metrics recorded with it (evaluate
// without --checkpoint gives them again), its calibration, and the unsure flag on a digit and on
// noise.
import AdderInference
import DigitImage
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

@Test("the shipped model matches its recorded SHA-256 and carries a calibration")
func shippedModelHash() throws {
    let recorded = try ShippedModel.recordedSHA256()
    #expect(recorded.count == 64)
    #expect(try ShippedModel.verifiedSHA256() == recorded)
    let file = try SafetensorsFile(contentsOf: ShippedModel.url)
    let calibration = try #require(try Calibration(file: file))
    #expect(calibration.temperature > 1, "a network trained to 99.98% is overconfident: T = \(calibration.temperature)")
    // One precision per class over the 160 pooled features of conv3, conv4 and conv5.
    #expect(calibration.featurePrecision.shape == [10, 160, 160])
    let options = try #require(file.metadata["options"])
    #expect(options.contains("\"validation\":5000"))
}

@Test("evaluate without --checkpoint uses the shipped model and gives the metrics recorded with it")
func shippedModelMetrics() throws {
    let file = try SafetensorsFile(contentsOf: ShippedModel.url)
    let metrics = try #require(file.metadata["metrics"])
    let recorded = try #require(try JSONSerialization.jsonObject(with: Data(metrics.utf8)) as? [String: Any])
    let r = try runCLI(["evaluate", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("Model: the shipped model (seed.safetensors, SHA-256 \(try ShippedModel.recordedSHA256().prefix(12))"))
    let found = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    #expect(found["count"] as? Int == 10_000)
    #expect(found["classificationAccuracy"] as? Double == recorded["testClassificationAccuracy"] as? Double)
    #expect(found["additionAccuracy"] as? Double == recorded["testAdditionAccuracy"] as? Double)
}

@Test("predict with the shipped model: a test digit is sure, noise is 'not a digit'")
func shippedModelUnsure() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // Uniform noise over a 200×200 gray picture, from a fixed seed.
    var g = SplitMix64(seed: 24)
    let side = 200
    let noise = (0..<(side * side)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
    let noisePath = folder.appendingPathComponent("noise.png")
    try Data(PNGCodec.encodeGray(noise, width: side, height: side)).write(to: noisePath)
    let r = try runCLI(["predict", "--test-index", "0", "--image", noisePath.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let answers = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
    #expect(answers.count == 2)
    let digit = answers.first { ($0["source"] as? String) == "test[0]" }
    let picture = answers.first { ($0["source"] as? String) == noisePath.path }
    #expect(digit?["unsure"] as? Bool == false && digit?["digit"] as? Int == 7 && digit?["calibrated"] as? Bool == true)
    #expect(picture?["unsure"] as? Bool == true)
    #expect(picture?["reason"] as? String == "not a digit")
}
