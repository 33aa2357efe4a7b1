// JPEG request bodies, the compact echo of the network's input, and /api/model's metadata as JSON objects.
import AdderNet
import AdderServer
import DigitImage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct ImageAndModelJSONTests {
    /// Tests/DigitImageTests/Fixtures (written by scripts/make_jpeg_fixtures.py).
    static func fixture(_ name: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("DigitImageTests/Fixtures/\(name)")
        return [UInt8](try Data(contentsOf: url))
    }

    @Test func aJPEGBodyIsDecodedAndPreparedLikeItsPixels() async throws {
        let jpeg = try Self.fixture("jpeg-large-2048.jpg")
        let expected = DigitPreprocessor.mnistPixels(
            from: try JPEGCodec.decodeReduced(jpeg, source: "reference").image)
        try await makeApp().test(.router) { client in
            let body = json(["image": "data:image/jpeg;base64," + Data(jpeg).base64EncodedString(), "addend": 3])
            let response = try await postPredict(client, body)
            #expect(response.status == .ok)
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            #expect(p.input.width == 2048 && p.input.height == 1536 && p.input.wasInverted)
            checkConsistent(p, pixels: expected.pixels, addend: 3)
        }
    }

    @Test func aJPEGOverTheBudgetIsRefusedFromItsHeader() async throws {
        var configuration = ServerConfiguration()
        configuration.maximumImagePixels = 1 << 20
        let jpeg = try Self.fixture("jpeg-large-2048.jpg")
        try await makeApp(configuration).test(.router) { client in
            let response = try await postPredict(client, json(["image": Data(jpeg).base64EncodedString(), "addend": 1]))
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response)
                == "image is 2048×1536 (3145728 pixels), expected at most 1048576 pixels in all and 16384 per side")
        }
    }

    @Test func aBodyThatIsNoImageSaysWhatItIs() async throws {
        try await makeApp().test(.router) { client in
            let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0]
            let response = try await postPredict(client, json(["image": Data(gzip).base64EncodedString(), "addend": 1]))
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response)
                == "image: is a gzip file, expected a PNG or JPEG image (first bytes 1f 8b 08 00 00 00 00 00)")
        }
    }

    @Test func theEchoIsASmallPNGAndPixelsComeOnlyWhenAsked() async throws {
        try await makeApp().test(.router) { client in
            let plain = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 2]))
            let text = String(decoding: data(plain.body), as: UTF8.self)
            #expect(!text.contains("\"pixels\":"))
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(plain.body))
            #expect(p.input.image.hasPrefix("data:image/png;base64,") && p.input.image.count < 1200)
            #expect(echoedPixels(p.input) == samplePixels)
            let asked = try await postPredict(
                client, json(["pixels": samplePixels.map(Int.init), "addend": 2, "includePixels": true]))
            let q = try JSONDecoder().decode(PredictionResponse.self, from: data(asked.body))
            #expect(q.input.pixels == samplePixels)
            let wrong = try await postPredict(
                client, json(["pixels": samplePixels.map(Int.init), "addend": 2, "includePixels": "yes"]))
            #expect(wrong.status == .badRequest)
            #expect(try errorMessage(wrong) == "field 'includePixels' has the wrong type, expected true or false")
        }
    }

    @Test func metadataWrittenAsJSONComesBackAsObjects() async throws {
        let metadata = [
            "epoch": "10", "metrics": #"{"testAdditionAccuracy":0.99,"testClassificationAccuracy":0.995}"#,
            "addendRange": "[0,9]", "options": #"{"seed":42,"schedule":"onecycle"}"#,
            "format": "mnist-adder", "note": "[not json",
        ]
        let app = try PredictionServer.makeApplication(
            model: ServedModel(network: network, metadata: metadata), configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/api/model", method: .get)
            let object = try #require(try JSONSerialization.jsonObject(with: data(response.body)) as? [String: Any])
            let meta = try #require(object["metadata"] as? [String: Any])
            let metrics = try #require(meta["metrics"] as? [String: Any])
            #expect(metrics["testClassificationAccuracy"] as? Double == 0.995)
            #expect(meta["addendRange"] as? [Int] == [0, 9])
            #expect(meta["epoch"] as? String == "10")
            #expect(meta["format"] as? String == "mnist-adder")
            #expect(meta["note"] as? String == "[not json")
            let model = try JSONDecoder().decode(ModelResponse.self, from: data(response.body))
            #expect(model.metadata["options"] == .object(["seed": .integer(42), "schedule": .string("onecycle")]))
        }
    }

    @Test func theServedRangeMustLieWithinTheTrainedOne() throws {
        let trained = ServedModel(network: network, metadata: ["addendRange": "[0,5]"])
        #expect(trained.trainedAddendRange == 0...5)
        #expect(ServedModel(network: network).trainedAddendRange == 0...9)
        #expect(throws: AddendRangeBeyondTrainingError(configured: 0...9, trained: 0...5)) {
            try PredictionServer.makeApplication(model: trained, configuration: ServerConfiguration(addendRange: 0...9))
        }
        #expect(AddendRangeBeyondTrainingError(configured: 0...9, trained: 0...5).description
            == "addend range 0...9 reaches outside 0...5, the range the model was trained on; expected a range within it")
        _ = try PredictionServer.makeApplication(model: trained, configuration: ServerConfiguration(addendRange: 1...5))
    }
}
