// The typed errors of PNG decoding and encoding; each prints as one line.

/// What went wrong reading or writing a PNG; each message names the source, the expected and the found value.
public enum PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file has no bytes at all.
    case empty(source: String)
    /// The first bytes are not the PNG signature; `detectedFormat` names a recognised other format (JPEG, GIF...).
    case notPNG(source: String, detectedFormat: String?, firstBytes: [UInt8])
    /// The file ends before the IEND chunk (`byteCount` bytes present; `inChunk` is the chunk cut short, if any).
    case truncated(source: String, byteCount: Int, inChunk: String?)
    /// The header declares more pixels than the decode's budget (`maximumPixelCount`) or a side above
    /// `maximumSide`; checked from the header before libpng starts.
    case tooLarge(source: String, width: Int, height: Int, maximumSide: Int, maximumPixelCount: Int)
    /// libpng rejected the data (bad CRC, bad zlib stream, invalid header...); `reason` is libpng's message.
    case corrupt(source: String, reason: String)
    /// A pixel buffer handed to an initialiser or encoder has the wrong length.
    case pixelCountMismatch(width: Int, height: Int, channels: Int, found: Int)
    /// libpng could not encode the pixels; `reason` is libpng's message.
    case encodingFailed(reason: String)

    /// One line naming the file and what is wrong.
    public var description: String {
        switch self {
        case .empty(let source):
            return "\(source): empty file, expected a PNG image"
        case .notPNG(let source, let format, let bytes):
            let hex = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
            if let format {
                return "\(source): detected \(format), expected a PNG image (first bytes \(hex))"
            }
            return "\(source): not a PNG image, expected signature 89 50 4e 47 0d 0a 1a 0a, found \(hex)"
        case .truncated(let source, let count, let chunk):
            let place = chunk.map { "inside the \($0) chunk" } ?? "before the IEND chunk"
            return "\(source): truncated PNG, the file ends \(place) after \(count) bytes"
        case .tooLarge(let source, let width, let height, let side, let pixels):
            return "\(source): image is \(width)×\(height) (\(width * height) pixels), expected at most "
                + "\(pixels) pixels in all and \(side) per side"
        case .corrupt(let source, let reason):
            return "\(source): corrupt PNG (libpng: \(reason))"
        case .pixelCountMismatch(let width, let height, let channels, let found):
            return "pixel buffer for a \(width)×\(height) image with \(channels) channel(s) has \(found) bytes, "
                + "expected \(max(0, width) * max(0, height) * channels) (width and height at least 1)"
        case .encodingFailed(let reason):
            return "cannot encode PNG (libpng: \(reason))"
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
