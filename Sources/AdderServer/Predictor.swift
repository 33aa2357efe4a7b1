// Turns a request body into a prediction: parse the JSON and get 28×28 MNIST pixels (AdderRequest's
// PredictionRequest), normalize them as in training, run the network on a pooled engine.
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
    /// decoding, preprocessing, waiting for an engine and the forward pass).
    public var milliseconds: Double
    /// Where the pixels came from and what the network saw.
    public var input: InputSummary
    /// True when the answer should not be trusted; `reason` says why.
    public var unsure: Bool = false
    /// "not a digit" or "two digits alike" when `unsure`, else nil.
    public var reason: String?
    /// Whether the probabilities are calibrated (softmax(logits / T)) and the "not a digit" check ran.
    public var calibrated: Bool = false
}

/// A fixed set of engines, one per concurrent prediction; callers wait in order for a free one.
actor EnginePool {
    private var idle: [AdderEngine]
    private var waiting: [CheckedContinuation<AdderEngine, Never>] = []

    init(count: Int) {
        idle = (0..<count).map { _ in AdderEngine(threads: 1) }
    }

    private func acquire() async -> AdderEngine {
        if let engine = idle.popLast() { return engine }
        return await withCheckedContinuation { waiting.append($0) }
    }

    private func release(_ engine: AdderEngine) {
        if waiting.isEmpty {
            idle.append(engine)
        } else {
            waiting.removeFirst().resume(returning: engine)
        }
    }

    /// Runs `body` with an engine no other task holds meanwhile.
    nonisolated func withEngine<T: Sendable>(_ body: (AdderEngine) throws -> T) async throws -> T {
        let engine = await acquire()
        do {
            let result = try body(engine)
            await release(engine)
            return result
        } catch {
            await release(engine)
            throw error
        }
    }
}

/// Parses prediction requests and runs them on the served model.
public struct Predictor: Sendable {
    let model: ServedModel
    let configuration: ServerConfiguration
    let engines: EnginePool

    init(model: ServedModel, configuration: ServerConfiguration) {
        self.model = model
        self.configuration = configuration
        self.engines = EnginePool(count: configuration.engineCount)
    }

    /// Answers one request body; `start` is when the request arrived.
    func predict(body: Data, start: ContinuousClock.Instant) async throws -> PredictionResponse {
        let (request, addend) = try PredictionRequest.parse(body, configuration: configuration)
        let configuration = configuration
        let network = model.network
        let includePixels = request.includePixels ?? false
        let calibration = model.calibration
        return try await engines.withEngine { engine in
            var input = try PredictionRequest.input(from: request, configuration: configuration)
            let prediction: DigitPrediction
            do {
                prediction = try DigitInference.predict([input.pixels ?? []], addends: [addend], network: network, engine: engine, calibration: calibration)[0]
            } catch let error as NonFiniteForwardError {
                throw PredictionRequestError.nonFiniteOutput(error.description)
            }
            if !includePixels { input.pixels = nil }
            let elapsed = ContinuousClock.now - start
            let (seconds, attoseconds) = elapsed.components
            return PredictionResponse(
                digit: prediction.digit, probabilities: prediction.probabilities.map(Double.init),
                logits: prediction.logits, addend: addend, sum: prediction.sum, roundedSum: prediction.roundedSum,
                milliseconds: Double(seconds) * 1e3 + Double(attoseconds) * 1e-15, input: input,
                unsure: prediction.unsure, reason: prediction.reason?.rawValue, calibrated: prediction.calibrated)
        }
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
