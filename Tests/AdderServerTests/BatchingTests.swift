// Batched predictions (`ServerConfiguration.batchWait`, `maximumBatch`): concurrent requests share forward
// passes, and each client still gets its own image's answer, equal to the answer it gets alone to within
// the last bits (a batch of n images may run other convolution algorithms than a single image:
// ConvAlgorithmTable chooses by piece size).
import AdderInference
import AdderNet
import AdderServer
import Foundation
import Hummingbird
import HummingbirdTesting
import NNCore
import NNTestSupport
import Testing

/// A 28×28 MNIST-style picture of `segments` (x0, y0, x1, y1 in pixels), strokes about 4.4 pixels wide with
/// soft edges, white on black.
func strokes(_ segments: [(Double, Double, Double, Double)], width: Double = 2.2) -> [UInt8] {
    (0..<784).map { i in
        let y = Double(i / 28) + 0.5, x = Double(i % 28) + 0.5
        var ink = 0.0
        for (x0, y0, x1, y1) in segments {
            let (dx, dy) = (x1 - x0, y1 - y0)
            let t = max(0, min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)))
            let distance = ((x - x0 - t * dx) * (x - x0 - t * dx) + (y - y0 - t * dy) * (y - y0 - t * dy)).squareRoot()
            if distance < width { ink = max(ink, min(1, width - distance)) }
        }
        return UInt8(255 * ink)
    }
}

/// Drawings of the ten digits that the shipped model reads as those digits (the ring `samplePixels` as 0).
let drawnDigits: [Int: [UInt8]] = [
    0: samplePixels,
    1: strokes([(14, 5, 14, 23)]),
    2: strokes([(8, 8, 12, 5), (12, 5, 17, 5), (17, 5, 19, 9), (19, 9, 8, 22), (8, 22, 21, 22)]),
    3: strokes([(8, 5, 19, 5), (19, 5, 13, 13), (13, 13, 19, 17), (19, 17, 16, 22), (16, 22, 8, 22)]),
    4: strokes([(16, 5, 8, 16), (8, 16, 21, 16), (17, 9, 17, 23)]),
    5: strokes([(19, 5, 9, 5), (9, 5, 9, 13), (9, 13, 17, 13), (17, 13, 19, 18), (19, 18, 15, 22), (15, 22, 8, 22)]),
    6: strokes([(17, 4, 9, 13), (9, 13, 9, 20), (9, 20, 14, 23), (14, 23, 19, 19), (19, 19, 15, 14), (15, 14, 9, 16)]),
    7: strokes([(8, 6, 20, 6), (20, 6, 12, 23)]),
    8: strokes([(10, 6, 18, 6), (18, 6, 10, 17), (10, 17, 10, 22), (10, 22, 18, 22), (18, 22, 18, 17), (18, 17, 10, 6)]),
    9: strokes([(19, 9, 15, 5), (15, 5, 10, 7), (10, 7, 10, 12), (10, 12, 19, 11), (19, 9, 19, 23)]),
]

/// The shipped model with its calibration, so that the "not a digit" distance runs in batches too.
func shippedServedModel() throws -> ServedModel {
    let (network, metadata) = try Checkpoint.load(contentsOf: ShippedModel.url)
    let calibration = try Calibration(file: SafetensorsFile(contentsOf: ShippedModel.url))
    return ServedModel(network: network, metadata: metadata, calibration: calibration)
}

/// Posts every (digit, addend) at once and returns the answers in the same order.
func predictConcurrently(
    _ client: some TestClientProtocol, _ requests: [(digit: Int, addend: Int)]
) async throws -> [PredictionResponse] {
    try await withThrowingTaskGroup(of: (Int, PredictionResponse).self) { group in
        for (i, request) in requests.enumerated() {
            group.addTask {
                let pixels = try #require(drawnDigits[request.digit]).map(Int.init)
                let response = try await postPredict(client, json(["pixels": pixels, "addend": request.addend]))
                #expect(response.status == .ok)
                return (i, try JSONDecoder().decode(PredictionResponse.self, from: data(response.body)))
            }
        }
        var answers = [PredictionResponse?](repeating: nil, count: requests.count)
        for try await (i, answer) in group { answers[i] = answer }
        return answers.map { $0! }
    }
}

@Suite(.timeLimit(.minutes(2)))
struct BatchingTests {
    /// 60 concurrent clients, six of each digit with different addends, through HTTP: each gets its own digit
    /// and sum, the answer it gets alone (no batching) to 1e-5 in every probability, 1e-4 in every logit and
    /// in the sum, the same rounded sum, verdict and reason. (How many share a batch here depends on the
    /// scheduling; `batchedAnswersEqualSingleAnswers` forces batches.)
    @Test func concurrentClientsEachGetTheirOwnAnswer() async throws {
        let model = try shippedServedModel()
        let first20 = (0..<20).map { (digit: $0 % 10, addend: ($0 * 7 + $0 / 10) % 10) }
        let requests = first20 + first20 + first20
        let alone = ServerConfiguration(batchWait: .zero)
        let single = try await PredictionServer.makeApplication(model: model, configuration: alone).test(.router) { client in
            var answers: [PredictionResponse] = []
            for request in requests.prefix(20) {
                let pixels = try #require(drawnDigits[request.digit]).map(Int.init)
                let response = try await postPredict(client, json(["pixels": pixels, "addend": request.addend]))
                answers.append(try JSONDecoder().decode(PredictionResponse.self, from: data(response.body)))
            }
            return answers
        }
        #expect(single.allSatisfy { $0.batchSize == 1 })
        let batching = ServerConfiguration(batchWait: .milliseconds(200), maximumBatch: 16)
        let batched = try await PredictionServer.makeApplication(model: model, configuration: batching).test(.router) { client in
            try await predictConcurrently(client, requests)
        }
        #expect(batched.allSatisfy { (1...16).contains($0.batchSize) })
        for (i, (request, answer)) in zip(requests, batched).enumerated() {
            #expect(answer.digit == request.digit, "request \(i): digit \(answer.digit), drawn \(request.digit)")
            #expect(answer.addend == request.addend)
            #expect(answer.roundedSum == request.digit + request.addend)
            let alone = single[i % 20]
            #expect(alone.digit == request.digit && alone.addend == request.addend)
            #expect(zip(answer.probabilities, alone.probabilities).allSatisfy { abs($0 - $1) <= 1e-5 })
            #expect(zip(answer.logits, alone.logits).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            #expect(abs(answer.sum - alone.sum) <= 1e-4 * max(1, abs(alone.sum)))
            #expect(answer.roundedSum == alone.roundedSum && answer.unsure == alone.unsure && answer.reason == alone.reason)
            #expect(answer.calibrated)
        }
    }

    /// A batch is never larger than `maximumBatch`, and with batching off every answer ran alone.
    @Test func batchSizesStayWithinTheLimit() async throws {
        let requests = (0..<24).map { (digit: $0 % 10, addend: $0 % 10) }
        for (configuration, largest) in [
            (ServerConfiguration(batchWait: .milliseconds(300), maximumBatch: 5), 5),
            (ServerConfiguration(batchWait: .zero, maximumBatch: 64), 1),
        ] {
            let answers = try await makeApp(configuration).test(.router) { client in
                try await predictConcurrently(client, requests)
            }
            #expect(answers.allSatisfy { (1...largest).contains($0.batchSize) }, "\(answers.map(\.batchSize))")
            for (request, answer) in zip(requests, answers) {
                checkConsistent(answer, pixels: try #require(drawnDigits[request.digit]), addend: request.addend)
            }
        }
    }

    /// A lone client does not wait for company: with a 1 s batch wait, ten requests one after another
    /// each run alone and take far less than the wait.
    @Test func aLoneRequestDoesNotWait() async throws {
        let configuration = ServerConfiguration(batchWait: .seconds(1))
        try await makeApp(configuration).test(.router) { client in
            for addend in 0..<10 {
                let response = try await postPredict(client, json(["pixels": samplePixels.map(Int.init), "addend": addend]))
                let answer = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
                #expect(answer.batchSize == 1)
                #expect(answer.milliseconds < 500, "a lone request took \(answer.milliseconds) ms")
            }
        }
    }

    /// Requests whose bodies fail (bad JSON, a blank picture) among batched ones get their own errors, and
    /// the others their answers.
    @Test func failuresAmongBatchedRequestsStayTheirOwn() async throws {
        let configuration = ServerConfiguration(batchWait: .milliseconds(100), maximumBatch: 64)
        let statuses = try await makeApp(configuration).test(.router) { client in
            try await withThrowingTaskGroup(of: (Int, HTTPResponse.Status).self) { group in
                for i in 0..<30 {
                    group.addTask {
                        let body: ByteBuffer = switch i % 3 {
                        case 0: ByteBuffer(string: "{")
                        case 1: json(["pixels": [Int](repeating: 0, count: 784), "addend": 1])
                        default: json(["pixels": samplePixels.map(Int.init), "addend": 1])
                        }
                        return (i, try await postPredict(client, body).status)
                    }
                }
                var statuses: [Int: HTTPResponse.Status] = [:]
                for try await (i, status) in group { statuses[i] = status }
                return statuses
            }
        }
        for (i, status) in statuses {
            #expect(status == [.badRequest, .unprocessableContent, .ok][i % 3], "request \(i): \(status)")
        }
    }
}

@Suite(.timeLimit(.minutes(1)))
struct BatchingShutdownTests {
    /// Requests being answered or waiting for their batch when SIGTERM comes are answered: five requests on
    /// five connections (addends 0...4), one engine and a 0.9 s batch wait, the shutdown starting as soon as
    /// the server has them; each gets 200 with its own addend.
    @Test func batchMembersAreAnsweredAtShutdown() async throws {
        let configuration = ServerConfiguration(
            engineCount: 1, batchWait: .milliseconds(900), maximumBatch: 64, shutdownTimeout: .seconds(10))
        let bodies = try (0..<5).map { addend in
            String(
                decoding: try JSONSerialization.data(withJSONObject: ["pixels": samplePixels.map(Int.init), "addend": addend]),
                as: UTF8.self)
        }
        let answers = try await withLiveServer(configuration) { server in
            let clients = try await onThread {
                try bodies.map { body in
                    let client = try RawClient(port: server.port)
                    // The answer to the GET tells that the server has the connection and reads the POST behind it
                    // (a connection still being accepted when the shutdown starts is another matter: see
                    // ShutdownTests).
                    try client.send(getRequest("/healthz") + predictHead(length: body.utf8.count) + body)
                    _ = try client.readResponse()
                    return client
                }
            }
            await server.shutdown()
            return try await onThread { try clients.map { try $0.readResponse(timeout: 10) } }
        }
        for (addend, answer) in answers.enumerated() {
            #expect(answer.status == 200)
            let object = try #require(try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])
            #expect(object["addend"] as? Int == addend)
        }
    }
}

/// The batcher itself, where the batches can be forced: every request is admitted first (as the server does
/// when it starts parsing a body), so none leaves alone before the last has joined.
@Suite(.timeLimit(.minutes(2)))
struct PredictionBatcherTests {
    /// Runs `requests` through a batcher of one engine, all admitted before any is submitted.
    func batched(_ model: ServedModel, _ requests: [(digit: Int, addend: Int)], maximumBatch: Int) async throws
        -> [BatchedPrediction]
    {
        let batcher = PredictionBatcher(
            network: model.network, calibration: model.calibration, engines: 1, maximumBatch: maximumBatch,
            wait: .seconds(10))
        for _ in requests { batcher.admit() }
        return try await withThrowingTaskGroup(of: (Int, BatchedPrediction).self) { group in
            for (i, request) in requests.enumerated() {
                let pixels = try #require(drawnDigits[request.digit])
                group.addTask { (i, try await batcher.predict(pixels: pixels, addend: request.addend)) }
            }
            var answers = [BatchedPrediction?](repeating: nil, count: requests.count)
            for try await (i, answer) in group { answers[i] = answer }
            return answers.map { $0! }
        }
    }

    /// 30 images of known digits in one batch: each gets its own digit, and the prediction of the same
    /// image alone (`DigitInference.predict` on one image) to 1e-5 in every probability, 1e-4 (relative) in
    /// every logit and the sum, the same rounded sum and verdict.
    @Test func batchedAnswersEqualSingleAnswers() async throws {
        let model = try shippedServedModel()
        let requests = (0..<30).map { (digit: ($0 * 3) % 10, addend: ($0 * 7 + $0 / 10) % 10) }
        let answers = try await batched(model, requests, maximumBatch: 64)
        #expect(answers.allSatisfy { $0.batchSize == 30 }, "\(answers.map(\.batchSize))")
        let engine = AdderEngine(threads: 1)
        for (i, (request, answer)) in zip(requests, answers).enumerated() {
            let alone = try DigitInference.predict(
                [try #require(drawnDigits[request.digit])], addends: [request.addend], network: model.network,
                engine: engine, calibration: model.calibration)[0]
            let p = answer.prediction
            #expect(p.digit == request.digit && alone.digit == request.digit, "request \(i): \(p.digit), \(alone.digit)")
            #expect(p.addend == request.addend)
            #expect(zip(p.probabilities, alone.probabilities).allSatisfy { abs($0 - $1) <= 1e-5 })
            #expect(zip(p.logits, alone.logits).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            #expect(abs(p.sum - alone.sum) <= 1e-4 * max(1, abs(alone.sum)))
            #expect(p.roundedSum == alone.roundedSum && p.unsure == alone.unsure && p.reason == alone.reason)
        }
    }

    /// 30 admitted images with batches of at most 8: three full batches of 8 and the last 6 (which leave when
    /// nobody else is coming); every image still gets its own answer.
    @Test func fullBatchesLeaveAtTheLimit() async throws {
        let model = try shippedServedModel()
        let requests = (0..<30).map { (digit: $0 % 10, addend: 9 - $0 % 10) }
        let answers = try await batched(model, requests, maximumBatch: 8)
        #expect(answers.filter { $0.batchSize == 8 }.count == 24 && answers.filter { $0.batchSize == 6 }.count == 6,
            "\(answers.map(\.batchSize))")
        for (request, answer) in zip(requests, answers) {
            #expect(answer.prediction.digit == request.digit && answer.prediction.addend == request.addend)
        }
    }

    /// `count` as powers of two, largest first: the forward passes of one batch.
    @Test func passSizesArePowersOfTwo() {
        #expect(PredictionBatcher.passSizes(37) == [32, 4, 1])
        #expect(PredictionBatcher.passSizes(64) == [64])
        #expect(PredictionBatcher.passSizes(1) == [1])
        #expect(PredictionBatcher.passSizes(255) == [128, 64, 32, 16, 8, 4, 2, 1])
    }
}
