// Everything a client can get wrong in a request. The server answers each with `{"error": "<description>"}`
// and the status AdderServer's `PredictionRequestError.status` gives it, and goes on serving.

/// A request the server refuses; each message is one line naming what is wrong, the expected and the found value.
public enum PredictionRequestError: Error, Equatable, CustomStringConvertible {
    /// The Content-Type is not `application/json` (nil when the header is missing). Status 415.
    case unsupportedContentType(found: String?)
    /// The body is larger than the limit (`found` is nil when only the streamed size told). Status 413.
    case bodyTooLarge(limit: Int, found: Int?)
    /// The body is not JSON, or not a JSON object; `reason` is the parser's first line. Status 400.
    case invalidJSON(reason: String)
    /// An object of the body has the same key twice (JSON decoders would keep one silently). Status 400.
    case duplicateKey(String)
    /// A field has the wrong JSON type (`expected` says what it should be). Status 400.
    case wrongFieldType(field: String, expected: String)
    /// Neither `image` nor `pixels` is present. Status 400.
    case missingInput
    /// Both `image` and `pixels` are present. Status 400.
    case conflictingInputs
    /// The `addend` field is missing. Status 400.
    case missingAddend(allowed: ClosedRange<Int>)
    /// The addend is not an integer or lies outside the configured range. Status 400.
    case addendOutOfRange(found: String, allowed: ClosedRange<Int>)
    /// `image` is not valid base64 (after an optional `data:...;base64,` prefix). Status 400.
    case invalidBase64(reason: String)
    /// `image`'s PNG header declares more pixels than the server's budget, or a side above `maximumSide`
    /// (`PNGCodec.maximumSide`). Status 400.
    case imageTooLarge(width: Int, height: Int, maximumPixels: Int, maximumSide: Int)
    /// `image` is not a PNG or JPEG that libpng or libjpeg can decode; the message is `NotAnImageError`'s,
    /// `PNGError`'s or `JPEGError`'s. Status 400.
    case undecodablePNG(message: String)
    /// `pixels` has the wrong number of values. Status 400.
    case wrongPixelCount(expected: Int, found: Int)
    /// A value of `pixels` is not an integer in 0...255. Status 400.
    case pixelOutOfRange(index: Int, found: String)
    /// The picture holds no digit (too little contrast or ink). Status 422.
    case blankDrawing
    /// The network produced NaN or infinity (a damaged checkpoint); nothing a client can fix. Status 500.
    /// `reason` is `NonFiniteForwardError`'s line, naming the layer where it first appeared.
    case nonFiniteOutput(String)

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case .unsupportedContentType(let found):
            "Content-Type is \(found.map { "'\($0)'" } ?? "missing"), expected application/json"
        case .bodyTooLarge(let limit, let found):
            "request body is \(found.map { "\($0) bytes" } ?? "larger than the limit"), expected at most \(limit) bytes"
        case .invalidJSON(let reason):
            "request body is not a JSON object: \(reason)"
        case .duplicateKey(let key):
            "request body has the key '\(DuplicateKeys.display(key))' twice in one object, expected each key at most once"
        case .wrongFieldType(let field, let expected):
            "field '\(field)' has the wrong type, expected \(expected)"
        case .missingInput:
            "missing input, expected 'image' (a base64 PNG or JPEG) or 'pixels' (784 integers in 0...255)"
        case .conflictingInputs:
            "both 'image' and 'pixels' are given, expected exactly one of them"
        case .missingAddend(let allowed):
            "missing 'addend', expected an integer in \(allowed)"
        case .addendOutOfRange(let found, let allowed):
            "addend \(found) is out of range, expected an integer in \(allowed)"
        case .invalidBase64(let reason):
            "'image' is not valid base64: \(reason)"
        case .imageTooLarge(let width, let height, let pixels, let side):
            "image is \(width)×\(height) (\(width * height) pixels), expected at most \(pixels) pixels in all "
                + "and \(side) per side"
        case .undecodablePNG(let message):
            message
        case .wrongPixelCount(let expected, let found):
            "'pixels' has \(found) values, expected \(expected) (28×28, row-major)"
        case .pixelOutOfRange(let index, let found):
            "pixel \(index) is \(found), expected an integer in 0...255"
        case .blankDrawing:
            "the picture holds no digit (too little contrast or ink), expected a drawn digit"
        case .nonFiniteOutput(let reason):
            "the served model cannot answer: \(reason)"
        }
    }
}
