// Turns a request body into a prediction: parse the JSON, get 28×28 MNIST pixels (from a PNG through
// DigitPreprocessor, or as given), normalize them as in training, run the network on a pooled engine.
import AdderInference
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

/// How the request's picture became the network's input.
public struct InputSummary: Sendable, Equatable, Codable {
    /// `image` (a PNG, preprocessed) or `pixels` (used as given).
    public var source: String
    /// The PNG's width in pixels, as its header declares (28 for `pixels`); a PNG over 512 a side is averaged
    /// down to 512 on its longer side before preprocessing.
    public var width: Int
    /// The PNG's height in pixels, as its header declares (28 for `pixels`).
    public var height: Int
    /// True when the picture was dark ink on a light background and was inverted.
    public var wasInverted: Bool
    /// True when the PNG was already an MNIST-style 28×28 image and used unchanged (always for `pixels`).
    public var isPassThrough: Bool
    /// What the network saw, as a 28×28 8-bit gray PNG data URL (`data:image/png;base64,...`, about 400
    /// characters): 0 background to 255 ink, before normalization.
    public var image: String
    /// The same 784 pixels as numbers, row-major; only when the request asked with `"includePixels": true`
    /// (nil, and absent from the JSON, otherwise).
    public var pixels: [UInt8]?

    /// A summary whose `image` is the PNG of `pixels` (784 values); `pixels` is kept.
    init(source: String, width: Int, height: Int, wasInverted: Bool, isPassThrough: Bool, pixels: [UInt8]) {
        self.source = source
        self.width = width
        self.height = height
        self.wasInverted = wasInverted
        self.isPassThrough = isPassThrough
        let side = DigitPreprocessor.side
        let png = (try? PNGCodec.encodeGray(pixels, width: side, height: side)) ?? []
        self.image = "data:image/png;base64," + Data(png).base64EncodedString()
        self.pixels = pixels
    }
}

/// The request body of `POST /api/predict`; numbers are read as Double so a wrong one can be named.
struct PredictionRequestBody: Decodable {
    var image: String?
    var pixels: [Double]?
    var addend: Double?
    var includePixels: Bool?
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
        let (request, addend) = try Self.parse(body, configuration: configuration)
        let configuration = configuration
        let network = model.network
        let includePixels = request.includePixels ?? false
        let calibration = model.calibration
        return try await engines.withEngine { engine in
            var input = try Self.input(from: request, configuration: configuration)
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

    /// The checks of a request body before an engine is taken: duplicate keys, the JSON, the addend.
    static func parse(_ body: Data, configuration: ServerConfiguration) throws
        -> (request: PredictionRequestBody, addend: Int)
    {
        if let key = DuplicateKeys.first(in: body) { throw PredictionRequestError.duplicateKey(key) }
        let request = try decode(body, configuration: configuration)
        return (request, try checkedAddend(request.addend, configuration: configuration))
    }

    /// What the server does with a body short of running the network (parse, then decode and preprocess
    /// the picture): the 784 pixels and the addend, or the `PredictionRequestError` a client would get.
    /// For tests and the fuzzer (Fuzz/); the server takes the same steps in `predict`.
    public static func parseInput(_ body: Data, configuration: ServerConfiguration) throws
        -> (input: InputSummary, addend: Int)
    {
        let (request, addend) = try parse(body, configuration: configuration)
        return (try input(from: request, configuration: configuration), addend)
    }

    private static func decode(_ body: Data, configuration: ServerConfiguration) throws -> PredictionRequestBody {
        do {
            return try JSONDecoder().decode(PredictionRequestBody.self, from: body)
        } catch let error as DecodingError {
            let range = configuration.addendRange
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                switch context.codingPath.first?.stringValue {
                case "image": throw PredictionRequestError.wrongFieldType(field: "image", expected: "a base64 PNG or JPEG string")
                case "includePixels": throw PredictionRequestError.wrongFieldType(field: "includePixels", expected: "true or false")
                case "pixels":
                    throw PredictionRequestError.wrongFieldType(field: "pixels", expected: "an array of 784 integers in 0...255")
                case "addend": throw PredictionRequestError.wrongFieldType(field: "addend", expected: "an integer in \(range)")
                default: throw PredictionRequestError.invalidJSON(reason: "expected an object with 'image' or 'pixels' and 'addend'")
                }
            case .dataCorrupted(let context):
                throw PredictionRequestError.invalidJSON(reason: Self.firstLine(of: context))
            default:
                throw PredictionRequestError.invalidJSON(reason: "\(error)")
            }
        }
    }

    private static func firstLine(of context: DecodingError.Context) -> String {
        var reason = context.debugDescription
        if let underlying = context.underlyingError {
            reason += " (\(underlying.localizedDescription))"
        }
        return reason.split(whereSeparator: \.isNewline).first.map(String.init) ?? "unreadable"
    }

    private static func checkedAddend(_ value: Double?, configuration: ServerConfiguration) throws -> Int {
        let range = configuration.addendRange
        guard let value else { throw PredictionRequestError.missingAddend(allowed: range) }
        guard value.rounded() == value, Double(range.lowerBound) <= value, value <= Double(range.upperBound) else {
            throw PredictionRequestError.addendOutOfRange(found: Self.format(value), allowed: range)
        }
        return Int(value)
    }

    /// Formats a JSON number the way it was most likely written: integers without a fraction.
    private static func format(_ value: Double) -> String {
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    private static func input(from request: PredictionRequestBody, configuration: ServerConfiguration) throws
        -> InputSummary
    {
        switch (request.image, request.pixels) {
        case (nil, nil): throw PredictionRequestError.missingInput
        case (.some, .some): throw PredictionRequestError.conflictingInputs
        case (nil, .some(let values)): return try pixelsInput(values)
        case (.some(let text), nil): return try imageInput(text, maximumPixels: configuration.maximumImagePixels)
        }
    }

    private static func pixelsInput(_ values: [Double]) throws -> InputSummary {
        let side = DigitPreprocessor.side
        guard values.count == side * side else {
            throw PredictionRequestError.wrongPixelCount(expected: side * side, found: values.count)
        }
        var pixels = [UInt8](repeating: 0, count: values.count)
        for (i, value) in values.enumerated() {
            guard value.rounded() == value, 0 <= value, value <= 255 else {
                throw PredictionRequestError.pixelOutOfRange(index: i, found: format(value))
            }
            pixels[i] = UInt8(value)
        }
        // The same blank rule DigitPreprocessor applies to a 28×28 MNIST-style picture it passes through.
        let low = Float(pixels.min() ?? 0), high = Float(pixels.max() ?? 0)
        guard high - low >= DigitPreprocessor.minimumContrast else { throw PredictionRequestError.blankDrawing }
        return InputSummary(
            source: "pixels", width: side, height: side, wasInverted: false, isPassThrough: true, pixels: pixels)
    }

    private static func imageInput(_ text: String, maximumPixels: Int) throws -> InputSummary {
        let bytes = try base64Bytes(text)
        // The budget is checked from the header before libpng starts; images over 512 a side are averaged
        // down while they are decoded, so a request holds a few MB whatever the picture's size.
        let (decoded, digit): (DecodedImage, PreprocessedDigit)
        do {
            (decoded, digit) = try DigitInference.prepare(image: bytes, source: "image", maximumPixels: maximumPixels)
        } catch {
            if let budget = ImageDecoder.budgetExceeded(error) {
                throw PredictionRequestError.imageTooLarge(
                    width: budget.width, height: budget.height, maximumPixels: budget.maximumPixelCount,
                    maximumSide: budget.maximumSide)
            }
            throw PredictionRequestError.undecodablePNG(message: "\(error)")
        }
        guard !digit.isBlank else { throw PredictionRequestError.blankDrawing }
        return InputSummary(
            source: "image", width: decoded.sourceWidth, height: decoded.sourceHeight, wasInverted: digit.wasInverted,
            isPassThrough: digit.isPassThrough, pixels: digit.pixels)
    }

    /// The bytes of a base64 string, after an optional data URL prefix (`data:image/png;base64,`).
    private static func base64Bytes(_ text: String) throws -> [UInt8] {
        var payload = Substring(text)
        if payload.hasPrefix("data:") {
            guard let comma = payload.firstIndex(of: ","), payload[..<comma].hasSuffix(";base64") else {
                throw PredictionRequestError.invalidBase64(
                    reason: "a data URL must have the form data:image/png;base64,<data> (or image/jpeg)")
            }
            payload = payload[payload.index(after: comma)...]
        }
        // MIME base64 (what `base64` prints) breaks lines every 76 characters: whitespace is dropped.
        let trimmed = String(decoding: payload.utf8.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }, as: UTF8.self)
        guard !trimmed.isEmpty else {
            throw PredictionRequestError.invalidBase64(reason: "the image data is empty")
        }
        guard let data = Data(base64Encoded: trimmed) else {
            let bad = trimmed.first { !($0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0))) }
            let reason =
                bad.map { "found the character '\($0)', expected A–Z, a–z, 0–9, '+', '/' or '='" }
                ?? "\(trimmed.count) characters with wrong padding, expected a multiple of 4 ending in at most two '='"
            throw PredictionRequestError.invalidBase64(reason: reason)
        }
        return [UInt8](data)
    }
}
