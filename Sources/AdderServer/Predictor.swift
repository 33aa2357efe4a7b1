// Turns a request body into a prediction: parse the JSON and get 28×28 MNIST pixels (AdderRequest's
// PredictionRequest), then run the network on them in a batch with other requests (PredictionBatcher).
import AdderInference
import AdderRequest
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNCore

/// What `POST /api/predict` answers.
public struct PredictionResponse: Sendable, Equatable, Codable {
    /// The predicted digit, the argmax of `probabilities` (first on ties).
    public var digit: Int
    /// softmax(logits / T): ten probabilities for digits 0...9, summing to 1 (T = 1 without a calibration).
    public var probabilities: [Double]
    /// The network's class scores before softmax.
    public var logits: [Float]
    /// The addend the request gave.
    public var addend: Int
    /// The adder's raw output for digit + addend.
    public var sum: Float
    /// `sum` rounded to the nearest integer, halves away from zero (Swift's `rounded()`).
    public var roundedSum: Int
    /// Wall-clock time from receiving the request to the answer, in milliseconds (body read,
    /// decoding, preprocessing, waiting for a batch and an engine, and the forward pass).
    public var milliseconds: Double
    /// Where the pixels came from and what the network saw.
    public var input: InputSummary
    /// True when the answer should not be trusted; `reason` says why.
    public var unsure: Bool = false
    /// "not a digit" or "two digits alike" when `unsure`, else nil.
    public var reason: String?
    /// Whether the probabilities are calibrated (softmax(logits / T)) and the "not a digit" check ran.
    public var calibrated: Bool = false
    /// How many requests' images were run together with this one (`serve --batch-wait`, `--max-batch`);
    /// 1 when it ran alone.
    public var batchSize: Int = 1
}

/// Parses prediction requests and runs them on the served model.
public struct Predictor: Sendable {
    let model: ServedModel
    let configuration: ServerConfiguration
    let batcher: PredictionBatcher

    init(model: ServedModel, configuration: ServerConfiguration) {
        self.model = model
        self.configuration = configuration
        self.batcher = PredictionBatcher(
            network: model.network, calibration: model.calibration, engines: configuration.engineCount,
            maximumBatch: configuration.maximumBatch, wait: configuration.batchWait)
    }

    /// Answers one request body; `start` is when the request arrived. While the body is parsed and its
    /// picture prepared, batches about to leave wait for it (at most the configuration's `batchWait`).
    func predict(body: Data, start: ContinuousClock.Instant) async throws -> PredictionResponse {
        batcher.admit()
        let addend: Int, includePixels: Bool, prepared: InputSummary
        do {
            let (request, parsedAddend) = try PredictionRequest.parse(body, configuration: configuration)
            prepared = try PredictionRequest.input(from: request, configuration: configuration)
            (addend, includePixels) = (parsedAddend, request.includePixels ?? false)
        } catch {
            batcher.withdraw()
            throw error
        }
        var input = prepared
        let batched: BatchedPrediction
        do {
            batched = try await batcher.predict(pixels: input.pixels ?? [], addend: addend)
        } catch let error as NonFiniteForwardError {
            throw PredictionRequestError.nonFiniteOutput(error.description)
        }
        let prediction = batched.prediction
        if !includePixels { input.pixels = nil }
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        return PredictionResponse(
            digit: prediction.digit, probabilities: prediction.probabilities.map(Double.init),
            logits: prediction.logits, addend: addend, sum: prediction.sum, roundedSum: prediction.roundedSum,
            milliseconds: Double(seconds) * 1e3 + Double(attoseconds) * 1e-15, input: input,
            unsure: prediction.unsure, reason: prediction.reason?.rawValue, calibrated: prediction.calibrated,
            batchSize: batched.batchSize)
    }

    /// What the server does with a body short of running the network (parse, then decode and preprocess
    /// the picture): the 784 pixels and the addend, or the `PredictionRequestError` a client would get.
    /// The same as `PredictionRequest.parseInput` (AdderRequest), which the fuzzer (Fuzz/) calls.
    public static func parseInput(_ body: Data, configuration: ServerConfiguration) throws
        -> (input: InputSummary, addend: Int)
    {
        try PredictionRequest.parseInput(body, configuration: configuration)
    }
}
