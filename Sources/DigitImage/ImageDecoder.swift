// One entry for every image a person gives: the format is told from the magic bytes, then PNG goes to libpng
// and JPEG to libjpeg-turbo, both in bounded memory under the same pixel budget.

/// An image decoded by `ImageDecoder.decodeReduced`, whatever its format.
public struct DecodedImage: Sendable, Equatable {
    /// The file's format: `.png` or `.jpeg`.
    public var format: FileKind
    /// The decoded image (upright for a JPEG with an EXIF orientation), at most `longestSide` a side: the file's
    /// own pixels when it is that small, else their area average (after libjpeg's DCT scaling for a JPEG).
    public var image: RGBAImage
    /// Width declared in the file's header, in pixels.
    public var sourceWidth: Int
    /// Height declared in the file's header, in pixels.
    public var sourceHeight: Int
    /// The decoder's first warning (libpng's or libjpeg's), if any.
    public var warning: String?
}

/// A file that is neither a PNG nor a JPEG; one line naming what it is.
public struct NotAnImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A name for the file (usually its path).
    public var source: String
    /// What the file is, from its magic bytes (`FileKind.other`'s description: "a gzip file", "text"...).
    public var kind: String
    /// Its first bytes (up to 8).
    public var firstBytes: [UInt8]

    /// An error for `source`, which is `kind` and starts with `firstBytes`.
    public init(source: String, kind: String, firstBytes: [UInt8]) {
        self.source = source
        self.kind = kind
        self.firstBytes = firstBytes
    }

    /// "SOURCE: is a gzip file, expected a PNG or JPEG image (first bytes 1f 8b 08 00 ...)".
    public var description: String {
        guard !firstBytes.isEmpty else { return "\(source): is empty, expected a PNG or JPEG image" }
        let hex = firstBytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
        return "\(source): is \(kind), expected a PNG or JPEG image (first bytes \(hex))"
    }
}

/// Decodes PNG and JPEG files by their magic bytes.
public enum ImageDecoder {
    /// Decodes a PNG (`PNGCodec.decodeReduced`) or a JPEG (`JPEGCodec.decodeReduced`, EXIF orientation
    /// applied), told apart by their first bytes, in memory bounded whatever the image's size.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    ///   - longestSide: the largest side of the returned image, in pixels (`PNGCodec.reducedSide` by default).
    ///   - maximumPixelCount: the pixel budget (width · height), checked from the header before decoding.
    /// - Throws: `NotAnImageError` (naming what the file is), or `PNGError` / `JPEGError` from the decoder.
    public static func decodeReduced(
        _ bytes: [UInt8], source: String, longestSide: Int = PNGCodec.reducedSide,
        maximumPixelCount: Int = PNGCodec.defaultMaximumPixelCount
    ) throws -> DecodedImage {
        switch FileKind.of(bytes) {
        case .png:
            let png = try PNGCodec.decodeReduced(
                bytes, source: source, longestSide: longestSide, maximumPixelCount: maximumPixelCount)
            return DecodedImage(
                format: .png, image: png.image, sourceWidth: png.sourceWidth, sourceHeight: png.sourceHeight,
                warning: png.warning)
        case .jpeg:
            let jpeg = try JPEGCodec.decodeReduced(
                bytes, source: source, longestSide: longestSide, maximumPixelCount: maximumPixelCount)
            return DecodedImage(
                format: .jpeg, image: jpeg.image, sourceWidth: jpeg.sourceWidth, sourceHeight: jpeg.sourceHeight,
                warning: jpeg.warning)
        case .other(let kind):
            throw NotAnImageError(source: source, kind: kind, firstBytes: Array(bytes.prefix(8)))
        }
    }

    /// The budget a `PNGError.tooLarge` or `JPEGError.tooLarge` reports (nil for any other error), so callers
    /// can say which flag raises it.
    public static func budgetExceeded(_ error: any Error)
        -> (width: Int, height: Int, maximumSide: Int, maximumPixelCount: Int)?
    {
        switch error {
        case PNGError.tooLarge(_, let w, let h, let side, let pixels): (w, h, side, pixels)
        case JPEGError.tooLarge(_, let w, let h, let side, let pixels): (w, h, side, pixels)
        default: nil
        }
    }
}
