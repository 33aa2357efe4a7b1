import AdderNet
import AdderServer
import DigitImage
import Foundation
import Hummingbird
import HummingbirdTesting
import NNCore
import Testing

/// The served network for every test: random weights, so predictions are arbitrary but deterministic.
let network = AdderNetwork(seed: 1)
let metadata = ["epoch": "3", "testAccuracy": "0.987"]

func makeApp(_ configuration: ServerConfiguration = ServerConfiguration()) throws -> some ApplicationProtocol {
    try PredictionServer.makeApplication(
        model: ServedModel(network: network, metadata: metadata), configuration: configuration)
}

/// A 28×28 MNIST-style digit: a thick ring on black, with a gradient of ink levels.
let samplePixels: [UInt8] = (0..<784).map { i in
    let y = Double(i / 28) - 13.5, x = Double(i % 28) - 13.5
    let r = (x * x / 36 + y * y / 81).squareRoot()
    return abs(r - 1) < 0.3 ? UInt8(150 + (i % 100)) : 0
}

/// What the engine gives for the same input (normalized as in training), for comparison.
func expectedForward(pixels: [UInt8], addend: Int) -> ForwardResult {
    let scalars = pixels.map { (Float($0) / 255 - 0.1307) / 0.3081 }
    return AdderEngine(threads: 1).forward(
        network, images: Tensor(shape: [1, 1, 28, 28], scalars: scalars), addends: [addend])
}

func json(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: (try? JSONSerialization.data(withJSONObject: object)) ?? Data())
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

func data(_ buffer: ByteBuffer) -> Data { Data(buffer.readableBytesView) }

func errorMessage(_ response: TestResponse) throws -> String {
    let object = try #require(try JSONSerialization.jsonObject(with: data(response.body)) as? [String: Any])
    #expect(object.count == 1)
    return try #require(object["error"] as? String)
}

func postPredict(
    _ client: some TestClientProtocol, _ body: ByteBuffer, headers: HTTPFields = jsonHeaders
) async throws -> TestResponse {
    try await client.execute(uri: "/api/predict", method: .post, headers: headers, body: body)
}

func checkConsistent(_ p: PredictionResponse, pixels: [UInt8], addend: Int) {
    #expect(p.probabilities.count == 10)
    #expect(abs(p.probabilities.reduce(0, +) - 1) <= 1e-5)
    #expect(p.probabilities.allSatisfy { $0 >= 0 && $0 <= 1 })
    let argmax = p.probabilities.indices.max { p.probabilities[$0] < p.probabilities[$1] }
    #expect(p.digit == argmax)
    let expected = expectedForward(pixels: pixels, addend: addend)
    #expect(p.digit == expected.digits[0])
    if p.batchSize == 1 {
        #expect(p.logits == expected.logits.scalars)
        #expect(p.sum == expected.sums.scalars[0])
    } else {
        // Batched with other requests: the engine may run other convolution algorithms for a larger
        // batch (ConvAlgorithmTable), so the last bits may differ.
        #expect(zip(p.logits, expected.logits.scalars).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        #expect(abs(p.sum - expected.sums.scalars[0]) <= 1e-4 * max(1, abs(expected.sums.scalars[0])))
    }
    #expect(p.roundedSum == Int(expected.sums.scalars[0].rounded()))
    #expect(p.addend == addend)
    #expect(p.milliseconds >= 0)
    // The echo of the network's input is a 28×28 gray PNG data URL holding exactly those pixels.
    #expect(echoedPixels(p.input) == pixels)
    #expect(p.input.pixels == nil)
}

/// The pixels of the 28×28 PNG data URL a prediction echoes (nil when it is not one).
func echoedPixels(_ input: InputSummary) -> [UInt8]? {
    let prefix = "data:image/png;base64,"
    guard input.image.hasPrefix(prefix), let png = Data(base64Encoded: String(input.image.dropFirst(prefix.count))),
        let image = try? PNGCodec.decode([UInt8](png), source: "echo"), image.width == 28, image.height == 28
    else { return nil }
    return stride(from: 0, to: image.pixels.count, by: 4).map { image.pixels[$0] }
}

@Suite struct PredictTests {
    @Test func pixelsGiveTheEnginesAnswer() async throws {
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 7]))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            checkConsistent(p, pixels: samplePixels, addend: 7)
            #expect(p.input.source == "pixels")
        }
    }

    @Test func softmaxMatchesLogits() async throws {
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 0]))
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            let top = Double(p.logits.max() ?? 0)
            let exps = p.logits.map { Foundation.exp(Double($0) - top) }
            let total = exps.reduce(0, +)
            // The server's softmax is NNCore's, in Float32 as torch.softmax on float32 logits.
            for (probability, e) in zip(p.probabilities, exps) {
                #expect(abs(probability - e / total) <= 1e-6 * max(1, e / total))
            }
        }
    }

    @Test(arguments: [true, false])
    func pngImageMatchesPixels(dataURLPrefix: Bool) async throws {
        let png = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
        let base64 = (dataURLPrefix ? "data:image/png;base64," : "") + Data(png).base64EncodedString()
        try await makeApp().test(.router) { client in
            let fromPixels = try JSONDecoder().decode(
                PredictionResponse.self,
                from: data(try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 4])).body))
            let response = try await postPredict(client, json(["image": base64, "addend": 4]))
            #expect(response.status == .ok)
            let fromImage = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            checkConsistent(fromImage, pixels: samplePixels, addend: 4)
            #expect(fromImage.digit == fromPixels.digit)
            #expect(fromImage.probabilities == fromPixels.probabilities)
            #expect(fromImage.sum == fromPixels.sum)
            #expect(fromImage.input.source == "image")
            #expect(fromImage.input.isPassThrough)
        }
    }

    @Test func canvasExportIsPreprocessed() async throws {
        // A 280×280 canvas export: black strokes (a thick "7") on a transparent background.
        var rgba = [UInt8](repeating: 0, count: 280 * 280 * 4)
        for y in 0..<280 {
            for x in 0..<280 {
                let top = (50..<72).contains(y) && (70..<210).contains(x)
                let stem = abs(Double(x) - (210 - Double(y - 50) * 0.45)) < 11 && (50..<240).contains(y)
                if top || stem { rgba[4 * (y * 280 + x) + 3] = 255 }
            }
        }
        let png = try PNGCodec.encodeRGBA(rgba, width: 280, height: 280)
        let expected = DigitPreprocessor.mnistPixels(from: try PNGCodec.decode(png, source: "test"))
        try await makeApp().test(.router) { client in
            let body = json(["image": "data:image/png;base64," + Data(png).base64EncodedString(), "addend": 9])
            let response = try await postPredict(client, body)
            #expect(response.status == .ok)
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            checkConsistent(p, pixels: expected.pixels, addend: 9)
            #expect(p.input.width == 280 && p.input.height == 280)
            #expect(p.input.wasInverted == expected.wasInverted)
            #expect(!p.input.isPassThrough)
        }
    }

    @Test func phonePhotoIsAdmittedByDefaultAndAveragedDown() async throws {
        // A 4032×3024 photo-sized gray picture (a dark bar on light paper): 12.2 megapixels, under the default
        // budget; the server answers what the preprocessing gives for the picture averaged down to 512×384.
        var gray = [UInt8](repeating: 220, count: 4032 * 3024)
        for y in 800..<2200 {
            for x in 1900..<2100 { gray[y * 4032 + x] = 30 }
        }
        let png = try PNGCodec.encodeGray(gray, width: 4032, height: 3024)
        let reduced = try PNGCodec.decodeReduced(png, source: "photo")
        #expect(reduced.image.width == 512 && reduced.image.height == 384)
        let expected = DigitPreprocessor.mnistPixels(from: reduced.image)
        #expect(!expected.isBlank && expected.wasInverted)
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, json(["image": Data(png).base64EncodedString(), "addend": 2]))
            #expect(response.status == .ok)
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            checkConsistent(p, pixels: expected.pixels, addend: 2)
            #expect(p.input.width == 4032 && p.input.height == 3024 && p.input.wasInverted)
        }
    }

    @Test func concurrentRequestsAllAnswer() async throws {
        let configuration = ServerConfiguration(engineCount: 2)
        try await makeApp(configuration).test(.router) { client in
            let results = try await withThrowingTaskGroup(of: PredictionResponse.self) { group in
                for addend in 0..<10 {
                    group.addTask {
                        let response = try await postPredict(
                            client, json(["pixels": samplePixels.map(Int.init), "addend": addend]))
                        return try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
                    }
                }
                var all: [PredictionResponse] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(Set(results.map(\.addend)) == Set(0..<10))
            for p in results {
                checkConsistent(p, pixels: samplePixels, addend: p.addend)
            }
        }
    }

    @Test func keepsServingAfterErrors() async throws {
        try await makeApp().test(.router) { client in
            #expect(try await postPredict(client, ByteBuffer(string: "{")).status == .badRequest)
            #expect(try await postPredict(client, json(["pixels": [1], "addend": 1])).status == .badRequest)
            let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": 1]))
            #expect(response.status == .ok)
        }
    }
}

@Suite struct RouteTests {
    @Test func modelSummaryAndMetadata() async throws {
        try await makeApp(ServerConfiguration(addendRange: 2...6)).test(.router) { client in
            let response = try await client.execute(uri: "/api/model", method: .get)
            #expect(response.status == .ok)
            let model = try JSONDecoder().decode(ModelResponse.self, from: data(response.body))
            #expect(model.summary.parameterCount == 100_461)
            #expect(model.summary.layers.map(\.name) == [
                "input1", "conv1", "conv2", "oneconv1", "conv3", "conv4", "conv5", "conv6", "input2", "layer1", "out2",
            ])
            let parameters = model.summary.layers.flatMap(\.parameters)
            #expect(parameters.map(\.name) == ModelDescription.seed.parameterNames)
            #expect(parameters.map(\.shape) == ModelDescription.seed.parameterShapes)
            #expect(parameters.map(\.count).reduce(0, +) == 100_461)
            #expect(model.summary.layers[2].description == "Conv2d(32, 64, kernel_size=3) + ReLU + MaxPool2d(2, 2)")
            #expect(model.metadata == metadata.mapValues(MetadataValue.string))
            #expect(model.addendMinimum == 2 && model.addendMaximum == 6)
        }
    }

    @Test func health() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            let object = try JSONSerialization.jsonObject(with: data(response.body)) as? [String: String]
            #expect(object == ["status": "ok"])
            #expect(try await client.execute(uri: "/healthz", method: .head).status == .ok)
        }
    }

    @Test func pageIsSelfContained() async throws {
        try await makeApp(ServerConfiguration(addendRange: 0...4)).test(.router) { client in
            let response = try await client.execute(uri: "/", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(decoding: data(response.body), as: UTF8.self)
            #expect(html.contains("<canvas id=\"pad\" width=\"280\" height=\"280\""))
            #expect(html.contains("\"/api/predict\""))
            #expect(html.contains("const MIN = 0, MAX = 4;"))
            #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("//cdn"))
        }
    }

    @Test(arguments: [
        ("/api/predict", HTTPRequest.Method.get, "POST"), ("/api/predict", .put, "POST"),
        ("/api/model", .post, "GET, HEAD"), ("/healthz", .delete, "GET, HEAD"), ("/", .post, "GET, HEAD"),
    ])
    func wrongMethodIs405(path: String, method: HTTPRequest.Method, allowed: String) async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.execute(uri: path, method: method, headers: jsonHeaders)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == allowed)
            let message = try errorMessage(response)
            #expect(message == "method \(method.rawValue) is not allowed on \(path), expected \(allowed)")
        }
    }

    @Test func unknownPathIs404() async throws {
        try await makeApp().test(.router) { client in
            let response = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(try errorMessage(response).hasPrefix("no such path /api/nothing"))
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func defaults() {
        let c = ServerConfiguration()
        #expect(c.host == "127.0.0.1" && c.port == 8080 && c.addendRange == 0...9)
        #expect(c.maximumBodyBytes == 1_048_576 && c.maximumImagePixels == 16_777_216 && c.engineCount >= 1)
        #expect(c.maximumImagePixels >= 4032 * 3024)
    }

    @Test(arguments: [
        (ServerConfiguration(port: 70_000), ServerConfigurationError.portOutOfRange(70_000)),
        (ServerConfiguration(host: ""), .emptyHost),
        (ServerConfiguration(maximumBodyBytes: 0), .bodyLimitNotPositive(0)),
        (ServerConfiguration(engineCount: 0), .engineCountOutOfRange(0, allowed: 1...256)),
        (ServerConfiguration(maximumImagePixels: 783), .imagePixelsOutOfRange(783, allowed: 784...268_435_456)),
        (ServerConfiguration(maximumImagePixels: 268_435_457), .imagePixelsOutOfRange(268_435_457, allowed: 784...268_435_456)),
        (ServerConfiguration(addendRange: 0...(1 << 21)), .addendRangeTooWide(0...(1 << 21), limit: 1 << 20)),
        (ServerConfiguration(batchWait: .milliseconds(-1)), .batchWaitOutOfRange(.milliseconds(-1))),
        (ServerConfiguration(batchWait: .milliseconds(1001)), .batchWaitOutOfRange(.milliseconds(1001))),
        (ServerConfiguration(maximumBatch: 0), .batchSizeOutOfRange(0, allowed: 1...256)),
        (ServerConfiguration(maximumBatch: 257), .batchSizeOutOfRange(257, allowed: 1...256)),
    ])
    func invalidConfigurationThrows(configuration: ServerConfiguration, error: ServerConfigurationError) {
        #expect(throws: error) { try makeApp(configuration) }
    }

    @Test func errorMessagesNameTheSetting() {
        #expect(ServerConfigurationError.portOutOfRange(70_000).description == "port 70000 is out of range, expected 0...65535")
        #expect(ServerConfigurationError.batchWaitOutOfRange(.milliseconds(1500)).description
            == "batch wait is 1.5 s, expected 0 s (no batching) to 1 s")
        #expect(ServerConfigurationError.batchSizeOutOfRange(0, allowed: 1...256).description
            == "largest batch is 0 images, expected 1...256")
    }
}
