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
    /// softmax(logits / T), ten values summing to 1: calibrated by the checkpoint's temperature T
    /// when it has a calibration, else T = 1.
    public var probabilities: [Float]
    /// The CNN's ten logits.
    public var logits: [Float]
    /// The integer added.
    public var addend: Int
    /// The adder's raw output for (digit, addend).
    public var sum: Float
    /// `sum` rounded to the nearest integer (halves away from zero).
    public var roundedSum: Int
    /// Whether the answer should not be trusted; `reason` says why.
    public var unsure: Bool = false
    /// Why `unsure` ("not a digit", "two digits alike"), nil when it is false.
    public var reason: UnsureReason?
    /// Whether a fitted calibration (temperature, "not a digit" check) was applied; without one only
    /// the "two digits alike" check runs, on the raw probabilities (`uncalibratedMarginThreshold`).
    public var calibrated: Bool = false
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
    ///
    /// With a `calibration` the probabilities are softmax(logits / T) and each answer carries the
    /// verdict of `Calibration.assess` (`unsure` and its reason); without one, softmax(logits) and
    /// only the "two digits alike" check with `uncalibratedMarginThreshold`. Throws
    /// `CalibrationError.featureMismatch` when the calibration was fitted on other features.
    public static func predict(
        _ images: [[UInt8]], addends: [Int], network: AdderNetwork, engine: AdderEngine,
        calibration: Calibration? = nil
    ) throws -> [DigitPrediction] {
        precondition(images.count == addends.count, "one addend per image")
        guard !images.isEmpty else { return [] }
        let input = normalized(images)
        let featured = engine.forwardWithFeatures(network, images: input, addends: addends)
        let out = featured.forward
        try engine.checkFinite(out, network: network, images: input, addends: addends)
        let pooled = calibration == nil ? [] : Calibration.pooledFeatures(featured.features)
        if let calibration, let found = pooled.first?.count, found != calibration.featureCount {
            throw CalibrationError.featureMismatch(expected: calibration.featureCount, found: found)
        }
        let probabilities = softmax(out.logits).scalars
        let classes = AdderNetwork.classes
        return images.indices.map { i in
            let logits = Array(out.logits.scalars[(i * classes)..<((i + 1) * classes)])
            let sum = out.sums.scalars[i]
            var prediction = DigitPrediction(
                digit: out.digits[i], probabilities: Array(probabilities[(i * classes)..<((i + 1) * classes)]),
                logits: logits, addend: addends[i], sum: sum, roundedSum: roundedSum(sum))
            if let calibration {
                let verdict = calibration.assess(logits: logits[...], pooledFeatures: pooled[i])
                prediction.probabilities = verdict.probabilities
                prediction.reason = verdict.reason
                prediction.calibrated = true
            } else if Calibration.margin(prediction.probabilities) < uncalibratedMarginThreshold {
                prediction.reason = .twoDigitsAlike
            }
            prediction.unsure = prediction.reason != nil
            return prediction
        }
    }

    /// `images` (784 bytes each) normalized as in training into an NCHW tensor (N, 1, 28, 28): the same values
    /// as `MNISTNormalization.images`, through its non-generic buffer path (the generic one is not
    /// specialized across modules and cost a server request about 40 µs).
    static func normalized(_ images: [[UInt8]]) -> Tensor {
        let size = MNIST.imageRows * MNIST.imageColumns
        let scalars = [Float](unsafeUninitializedCapacity: images.count * size) { buffer, initialized in
            for (i, image) in images.enumerated() {
                precondition(image.count == size, "image \(i) has \(image.count) pixels, expected \(size)")
                image.withUnsafeBufferPointer { pixels in
                    MNISTNormalization.normalize(pixels, into: UnsafeMutableBufferPointer(rebasing: buffer[(i * size)...]))
                }
            }
            initialized = images.count * size
        }
        return Tensor(shape: [images.count, 1, MNIST.imageRows, MNIST.imageColumns], scalars: scalars)
    }

    /// The top-two margin under which an uncalibrated checkpoint's answer is "two digits alike"
    /// (on softmax(logits), which is overconfident: a calibrated checkpoint fits its own margin).
    public static let uncalibratedMarginThreshold: Float = 0.5
}
