// The API's unsure, reason and calibrated fields with a calibrated model, on both sides of the
// "not a digit" threshold, and the temperature applied to the probabilities.
import AdderInference
import AdderNet
import AdderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NNCore
import Testing

@Suite struct UnsureAPITests {
    /// A calibration for the seed's 160 pooled features: class means at 0, identity precision, so the
    /// distance is the squared norm of the pooled features; temperature 2.
    func calibration(distanceThreshold: Float) -> Calibration {
        Calibration(
            temperature: 2, featureMeans: Tensor(shape: [10, 160]),
            featurePrecision: Tensor(shape: [160, 160], scalars: (0..<(160 * 160)).map { $0 % 161 == 0 ? 1 : 0 }),
            distanceThreshold: distanceThreshold, marginThreshold: 0)
    }

    func answer(_ calibration: Calibration) async throws -> PredictionResponse {
        let app = try PredictionServer.makeApplication(
            model: ServedModel(network: network, metadata: metadata, calibration: calibration),
            configuration: ServerConfiguration())
        return try await app.test(.router) { client in
            let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 2]))
            #expect(response.status == .ok)
            return try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
        }
    }

    @Test func bothSidesOfTheDistanceThreshold() async throws {
        // The distance of this picture under the toy calibration, from the engine's own features.
        let scalars = samplePixels.map { (Float($0) / 255 - 0.1307) / 0.3081 }
        let out = AdderEngine(threads: 1).forwardWithFeatures(
            network, images: Tensor(shape: [1, 1, 28, 28], scalars: scalars), addends: [2])
        let distance = calibration(distanceThreshold: 1).distance(Calibration.pooledFeatures(out.features)[0])
        #expect(distance > 0)
        let sure = try await answer(calibration(distanceThreshold: distance * 1.01))
        #expect(sure.calibrated && !sure.unsure && sure.reason == nil)
        let doubtful = try await answer(calibration(distanceThreshold: distance * 0.99))
        #expect(doubtful.calibrated && doubtful.unsure && doubtful.reason == "not a digit")
        // softmax(logits / 2).
        let top = sure.logits.max() ?? 0
        let e = sure.logits.map { Foundation.exp(Double(($0 - top) / 2)) }
        for (p, x) in zip(sure.probabilities, e) { #expect(abs(p - x / e.reduce(0, +)) < 1e-6) }
    }

    @Test func uncalibratedModelSaysSo() async throws {
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 2]))
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            #expect(!p.calibrated)
            #expect(p.reason != "not a digit")
        }
    }
}
