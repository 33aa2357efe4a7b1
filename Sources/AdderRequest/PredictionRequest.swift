// A request body of `POST /api/predict` checked and turned into the network's input, short of running it:
// duplicate keys, the JSON, the addend, then 28×28 MNIST pixels from a PNG or JPEG (DigitInference.prepare)
// or as given. No HTTP here, so the request fuzzer (Fuzz/) builds without SwiftNIO and Hummingbird.
import AdderInference
import DigitImage
import Foundation

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
    package init(source: String, width: Int, height: Int, wasInverted: Bool, isPassThrough: Bool, pixels: [UInt8]) {
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
package struct PredictionRequestBody: Decodable {
    /// A base64 PNG or JPEG, optionally as a data URL.
    package var image: String?
    /// 784 pixel values, row-major.
    package var pixels: [Double]?
    /// The integer to add to the digit.
    package var addend: Double?
    /// Whether the answer repeats the 784 pixels the network saw.
    package var includePixels: Bool?

    private enum CodingKeys: String, CodingKey {
        case image, pixels, addend, includePixels
    }

    /// Decodes as the synthesized decoder would (absent or null fields are nil; the same errors), but reads
    /// `pixels` with the unkeyed container's `decode(Double.self)`: `[Double]`'s own decoding goes through
    /// the generic `decode(_:)` per element and cost a `pixels` request about 0.15 ms of its 0.8 ms.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        image = try container.decodeIfPresent(String.self, forKey: .image)
        if container.contains(.pixels), try !container.decodeNil(forKey: .pixels) {
            var list = try container.nestedUnkeyedContainer(forKey: .pixels)
            var values: [Double] = []
            values.reserveCapacity(min(list.count ?? 0, 1 << 16))
            while !list.isAtEnd { values.append(try list.decode(Double.self)) }
            pixels = values
        }
        addend = try container.decodeIfPresent(Double.self, forKey: .addend)
        includePixels = try container.decodeIfPresent(Bool.self, forKey: .includePixels)
    }
}

/// Parses `POST /api/predict` bodies: the server's checks of a request short of the network.
public enum PredictionRequest {
    /// The checks of a request body before an engine is taken: duplicate keys, the JSON, the addend.
    package static func parse(_ body: Data, configuration: ServerConfiguration) throws
        -> (request: PredictionRequestBody, addend: Int)
    {
        if let key = DuplicateKeys.first(in: body) { throw PredictionRequestError.duplicateKey(key) }
        let request = try decode(body, configuration: configuration)
        return (request, try checkedAddend(request.addend, configuration: configuration))
    }

    /// What the server does with a body short of running the network (parse, then decode and preprocess
    /// the picture): the 784 pixels and the addend, or the `PredictionRequestError` a client would get.
    /// For tests and the fuzzer (Fuzz/); the server (`Predictor.predict`) takes the same two steps, `parse`
    /// before an engine is taken and `input(from:configuration:)` once it holds one.
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

    /// The picture of a parsed request as the network's 28×28 input: `pixels` checked and used as given, or
    /// `image` decoded (within `configuration.maximumImagePixels`) and preprocessed.
    package static func input(from request: PredictionRequestBody, configuration: ServerConfiguration) throws
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
