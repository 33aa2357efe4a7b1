// The typed errors of JPEG decoding; each prints as one line.

/// What went wrong reading a JPEG; each message names the source, the expected and the found value.
public enum JPEGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// This build has no JPEG decoder (the package links libjpeg-turbo on Linux only; on macOS JPEG input is refused with this error).
    case unavailable(source: String)
    /// The header declares more pixels than the decode's budget (`maximumPixelCount`) or a side above
    /// `maximumSide`; checked from the header before any pixel is decoded.
    case tooLarge(source: String, width: Int, height: Int, maximumSide: Int, maximumPixelCount: Int)
    /// The file ends before its image data does (libjpeg's "Premature end of JPEG file").
    case truncated(source: String, byteCount: Int)
    /// libjpeg rejected the data (bad marker, unsupported variant, too many scans...); `reason` is its message.
    case corrupt(source: String, reason: String)

    /// One line naming the file and what is wrong.
    public var description: String {
        switch self {
        case .unavailable(let source):
            return "\(source): is a JPEG, but this build of mnist-adder has no JPEG decoder "
                + "(libjpeg-turbo is linked on Linux only), expected a PNG"
        case .tooLarge(let source, let width, let height, let side, let pixels):
            return "\(source): image is \(width)×\(height) (\(width * height) pixels), expected at most "
                + "\(pixels) pixels in all and \(side) per side"
        case .truncated(let source, let count):
            return "\(source): truncated JPEG, the file ends after \(count) bytes before its image data does"
        case .corrupt(let source, let reason):
            return "\(source): corrupt JPEG (libjpeg: \(reason))"
        }
    }
}
