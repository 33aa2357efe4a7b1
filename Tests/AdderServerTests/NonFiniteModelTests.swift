// A served checkpoint with finite but huge weights: the server answers a JSON error naming the
// layer where the network's output stopped being finite, and goes on serving.
import AdderNet
import AdderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NNCore
import Testing

@Suite struct NonFiniteModelTests {
    @Test("weights ×1e30: 500 with a JSON error naming conv1 + ReLU, not 'internal error'")
    func hugeWeights() async throws {
        var huge = AdderNetwork(seed: 1)
        huge.parameters = huge.parameters.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * 1e30 }) }
        let app = try PredictionServer.makeApplication(
            model: ServedModel(network: huge, metadata: metadata), configuration: ServerConfiguration())
        try await app.test(.router) { client in
            for _ in 0..<2 {
                let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 3]))
                #expect(response.status == .internalServerError)
                let message = try errorMessage(response)
                #expect(message.hasPrefix(
                    "the served model cannot answer: the network's output is not finite: layer 'conv1 + ReLU' (plan step 2) gives"),
                    "\(message)")
                #expect(!message.contains("internal error"))
            }
        }
    }
}
