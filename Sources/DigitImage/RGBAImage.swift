// The decoded picture every consumer in DigitImage reads: 8-bit RGBA, row-major.

/// An image of 8-bit RGBA pixels, row-major, top row first, 4 bytes per pixel, not premultiplied.
/// Read-only once made, so the size and the buffer always agree (build a new one to change pixels).
public struct RGBAImage: Sendable, Equatable {
    /// Width in pixels (at least 1).
    public let width: Int
    /// Height in pixels (at least 1).
    public let height: Int
    /// `width · height · 4` bytes: R, G, B, A for each pixel, sRGB-encoded, alpha 255 = opaque.
    public let pixels: [UInt8]

    /// Wraps existing pixels. Throws `PNGError.pixelCountMismatch` unless `pixels.count == width · height · 4`
    /// and both sides are at least 1.
    public init(width: Int, height: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false,
            pixels.count == width * height * 4
        else {
            throw PNGError.pixelCountMismatch(
                width: width, height: height, channels: 4, found: pixels.count)
        }
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// Builds an opaque RGBA image from 8-bit gray values (`width · height` bytes), R = G = B = gray, A = 255.
    /// Throws `PNGError.pixelCountMismatch` when the count is wrong.
    public init(width: Int, height: Int, gray: [UInt8]) throws {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false,
            gray.count == width * height
        else {
            throw PNGError.pixelCountMismatch(width: width, height: height, channels: 1, found: gray.count)
        }
        var rgba = [UInt8](repeating: 255, count: gray.count * 4)
        for (i, v) in gray.enumerated() {
            rgba[4 * i] = v
            rgba[4 * i + 1] = v
            rgba[4 * i + 2] = v
        }
        self.width = width
        self.height = height
        self.pixels = rgba
    }
}
