// The one inference path both `mnist-adder predict` and the server take: a PNG or JPEG is decoded (in
// bounded memory) and prepared as MNIST's digits were, the 28×28 pixels are normalized as in
// training, the network runs in evaluation mode, and its logits become probabilities and, through
// the adder, a sum.
import AdderNet
import DigitImage
import MNISTData
import NNCore

/// What the network says about one image with one integer.
public struct DigitPrediction: Sendable, Equatable {
    /// The predicted digit, argmax of the logits (the first on a tie).
    public var digit: Int
    /// softmax(logits), ten values summing to 1.
    public var probabilities: [Float]
    /// The CNN's ten logits.
    public var logits: [Float]
    /// The integer added.
    public var addend: Int
    /// The adder's raw output for (digit, addend).
    public var sum: Float
    /// `sum` rounded to the nearest integer (halves away from zero).
    public var roundedSum: Int
}

/// The steps from a person's image to a prediction.
public enum DigitInference {
    /// Decodes a PNG and prepares it as MNIST's digits were (`DigitPreprocessor.mnistPixels`): the
    /// pixel budget `maximumPixels` is checked from the header before decoding, and an image over 512
    /// pixels a side is averaged down while it is decoded (`PNGCodec.decodeReduced`). Returns the
    /// decoded image's facts and the 28×28 digit (`isBlank` when there is none). Throws `PNGError`.
    public static func prepare(png bytes: [UInt8], source: String, maximumPixels: Int) throws
        -> (decoded: DecodedPNG, digit: PreprocessedDigit)
    {
        let decoded = try PNGCodec.decodeReduced(bytes, source: source, maximumPixelCount: maximumPixels)
        return (decoded, DigitPreprocessor.mnistPixels(from: decoded.image))
    }

    /// Decodes a PNG or a JPEG (told from its magic bytes; `ImageDecoder.decodeReduced`) and prepares it as
    /// MNIST's digits were (`DigitPreprocessor.mnistPixels`), with the same pixel budget and bounded memory for
    /// both formats: the budget `maximumPixels` is checked from the header, an image over 512 pixels a side is
    /// averaged down while it is decoded (a JPEG first scaled by libjpeg in its DCT), and a JPEG's EXIF
    /// orientation is applied. Throws `NotAnImageError` (naming what the file is), `PNGError` or `JPEGError`.
    public static func prepare(image bytes: [UInt8], source: String, maximumPixels: Int) throws
        -> (decoded: DecodedImage, digit: PreprocessedDigit)
    {
        let decoded = try ImageDecoder.decodeReduced(bytes, source: source, maximumPixelCount: maximumPixels)
        return (decoded, DigitPreprocessor.mnistPixels(from: decoded.image))
    }

    /// The predictions for 28×28 images of MNIST pixels (0 background, 255 ink, row-major), one
    /// integer each: normalized as in training ((x/255 − 0.1307)/0.3081), the network in evaluation
    /// mode, softmax of the logits, the adder on (argmax, integer). Matches the seed's
    /// `model.eval(); model(x1, x2)` followed by `softmax(logits, 1)`. Throws `NonFiniteForwardError`,
    /// naming the layer where the first non-finite value appeared, when a logit or a sum is NaN or
    /// infinite (or a sum beyond ±2³⁰, where rounding means nothing).
    public static func predict(
        _ images: [[UInt8]], addends: [Int], network: AdderNetwork, engine: AdderEngine
    ) throws -> [DigitPrediction] {
        precondition(images.count == addends.count, "one addend per image")
        guard !images.isEmpty else { return [] }
        let input = MNISTNormalization.images(images.flatMap { $0 })
        let out = engine.forward(network, images: input, addends: addends)
        try engine.checkFinite(out, network: network, images: input, addends: addends)
        let probabilities = softmax(out.logits).scalars
        let classes = AdderNetwork.classes
        return images.indices.map { i in
            let logits = Array(out.logits.scalars[(i * classes)..<((i + 1) * classes)])
            let sum = out.sums.scalars[i]
            return DigitPrediction(
                digit: out.digits[i], probabilities: Array(probabilities[(i * classes)..<((i + 1) * classes)]),
                logits: logits, addend: addends[i], sum: sum, roundedSum: roundedSum(sum))
        }
    }
}
