// PNG in and out through libpng's simplified API (png_image_*), which reports failures in
// `png_image.message` instead of longjmp-ing through Swift frames.
import CPNG
import Foundation

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

/// What went wrong reading or writing a PNG; each message names the source, the expected and the found value.
public enum PNGError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file has no bytes at all.
    case empty(source: String)
    /// The first bytes are not the PNG signature; `detectedFormat` names a recognised other format (JPEG, GIF...).
    case notPNG(source: String, detectedFormat: String?, firstBytes: [UInt8])
    /// The file ends before the IEND chunk (`byteCount` bytes present; `inChunk` is the chunk cut short, if any).
    case truncated(source: String, byteCount: Int, inChunk: String?)
    /// The header declares more pixels than this decoder accepts (checked before any pixel buffer is allocated).
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
            return "\(source): image is \(width)×\(height), expected at most \(side) pixels per side "
                + "and \(pixels) pixels in all"
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

/// Decoding and encoding of PNG files with libpng 1.6's simplified API.
public enum PNGCodec {
    /// Largest accepted width or height in pixels.
    public static let maximumSide = 16_384
    /// Largest accepted `width · height` (64 Mi pixels, a 256 MiB RGBA buffer).
    public static let maximumPixelCount = 64 * 1024 * 1024

    /// Decodes any PNG to 8-bit RGBA.
    ///
    /// Accepts every colour type and bit depth of the PNG specification: gray 1/2/4/8/16-bit, gray + alpha 8/16,
    /// RGB 8/16, RGBA 8/16, palette 1/2/4/8-bit, tRNS transparency (palette, gray, RGB) and Adam7 interlacing.
    /// Matches libpng's `png_image_finish_read` with `PNG_FORMAT_RGBA`, which applies the equivalents of
    /// `png_set_expand`, `png_set_palette_to_rgb`, `png_set_tRNS_to_alpha`, `png_set_gray_to_rgb`,
    /// `png_set_add_alpha`, 16-to-8 scaling and `png_set_interlace_handling`. One deviation from libpng's default:
    /// 16-bit files without gAMA/sRGB chunks are read as sRGB-encoded (`PNG_IMAGE_FLAG_16BIT_sRGB`), not linear,
    /// so a 16-bit file whose samples are `v · 257` decodes to exactly the 8-bit `v`. Interlaced 16-bit files are
    /// read through libpng's 16-bit path and scaled here, around libpng issue #853 (see `readInterlaced16Bit`).
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    /// - Throws: `PNGError.empty`, `.notPNG` (with JPEG/GIF/BMP/WebP/TIFF recognised by their magic),
    ///   `.truncated` (file ends before IEND), `.tooLarge` (more than `maximumSide` per side or
    ///   `maximumPixelCount` pixels, checked before allocating), `.corrupt` (libpng's message).
    public static func decode(_ bytes: [UInt8], source: String) throws -> RGBAImage {
        try decodeReportingWarning(bytes, source: source).image
    }

    /// Decodes like `decode(_:source:)` and also returns libpng's warning, if it raised one
    /// (for example an unknown or damaged ancillary chunk that it skipped).
    public static func decodeReportingWarning(
        _ bytes: [UInt8], source: String
    ) throws -> (image: RGBAImage, warning: String?) {
        try checkContainer(bytes, source: source)

        // libpng keeps the pointer given to begin_read until finish_read, so both run in one closure.
        return try bytes.withUnsafeBytes { raw in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw PNGError.corrupt(source: source, reason: message(of: image))
            }
            let width = Int(image.width)
            let height = Int(image.height)
            guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
                png_image_free(&image)
                throw PNGError.tooLarge(
                    source: source, width: width, height: height, maximumSide: maximumSide,
                    maximumPixelCount: maximumPixelCount)
            }
            image.flags |= flag16BitSRGB
            var pixels: [UInt8]
            if image.format & formatFlagLinear != 0, isInterlaced(bytes) {
                pixels = try readInterlaced16Bit(&image, width: width, height: height, source: source)
            } else {
                image.format = formatRGBA
                pixels = [UInt8](repeating: 0, count: width * height * 4)
                let finished = pixels.withUnsafeMutableBytes { out in
                    png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
                }
                guard finished != 0, image.warning_or_error & errorFlag == 0 else {
                    throw PNGError.corrupt(source: source, reason: message(of: image))
                }
            }
            let warning = image.warning_or_error & warningFlag != 0 ? message(of: image) : nil
            return (try RGBAImage(width: width, height: height, pixels: pixels), warning)
        }
    }

    /// Encodes 8-bit grayscale pixels (`width · height` bytes, row-major) as a non-interlaced 8-bit gray PNG.
    /// Matches libpng's `png_image_write_to_memory` with `PNG_FORMAT_GRAY` (no gAMA/sRGB conversion of the bytes).
    /// Throws `PNGError.pixelCountMismatch` or `.encodingFailed`.
    public static func encodeGray(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: 1, format: formatGray)
    }

    /// Encodes 8-bit RGB pixels (`width · height · 3` bytes) as a non-interlaced 8-bit RGB PNG.
    /// Matches libpng's `png_image_write_to_memory` with `PNG_FORMAT_RGB`.
    /// Throws `PNGError.pixelCountMismatch` or `.encodingFailed`.
    public static func encodeRGB(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: 3, format: formatRGB)
    }

    /// Encodes 8-bit RGBA pixels (`width · height · 4` bytes, not premultiplied) as a non-interlaced RGBA PNG.
    /// Matches libpng's `png_image_write_to_memory` with `PNG_FORMAT_RGBA`.
    /// Throws `PNGError.pixelCountMismatch` or `.encodingFailed`.
    public static func encodeRGBA(_ pixels: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(pixels, width: width, height: height, channels: 4, format: formatRGBA)
    }

    /// Encodes an `RGBAImage` as an 8-bit RGBA PNG; see `encodeRGBA(_:width:height:)`.
    public static func encode(_ image: RGBAImage) throws -> [UInt8] {
        try encodeRGBA(image.pixels, width: image.width, height: image.height)
    }

    // PNG_FORMAT_* are composite macros that Swift does not import; values from png.h.
    private static let formatGray: UInt32 = 0
    private static let formatRGB: UInt32 = 0x02
    private static let formatRGBA: UInt32 = 0x03
    private static let formatFlagLinear: UInt32 = 0x04
    private static let formatLinearRGBA: UInt32 = 0x07
    private static let flag16BitSRGB: UInt32 = 0x04
    private static let warningFlag: UInt32 = 0x01
    private static let errorFlag: UInt32 = 0x02
    private static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    private static func encode(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int, format: UInt32
    ) throws -> [UInt8] {
        guard width > 0, height > 0, width <= maximumSide, height <= maximumSide,
            pixels.count == width * height * channels
        else {
            throw PNGError.pixelCountMismatch(
                width: width, height: height, channels: channels, found: pixels.count)
        }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = format
        let stride = Int32(width * channels)
        var size = 0
        let sized = pixels.withUnsafeBytes { raw in
            png_image_write_to_memory(&image, nil, &size, 0, raw.baseAddress, stride, nil)
        }
        guard sized != 0, size > 0 else {
            throw PNGError.encodingFailed(reason: message(of: image))
        }
        var output = [UInt8](repeating: 0, count: size)
        let written = pixels.withUnsafeBytes { raw in
            output.withUnsafeMutableBytes { out in
                png_image_write_to_memory(&image, out.baseAddress, &size, 0, raw.baseAddress, stride, nil)
            }
        }
        guard written != 0 else {
            throw PNGError.encodingFailed(reason: message(of: image))
        }
        return Array(output.prefix(size))
    }

    /// Reads an Adam7-interlaced 16-bit file as 16-bit linear premultiplied RGBA and converts it to 8-bit sRGB
    /// RGBA here. libpng 1.6's direct 16-to-8-bit path misplaces rows of interlaced images (pnggroup/libpng
    /// issue #853, `png_image_read_direct_scaled`); its 16-bit output path is unaffected. With
    /// `PNG_IMAGE_FLAG_16BIT_sRGB` set, both paths give the same bytes: un-premultiply, encode with the sRGB
    /// curve, round; alpha `round(a / 257)`.
    private static func readInterlaced16Bit(
        _ image: inout png_image, width: Int, height: Int, source: String
    ) throws -> [UInt8] {
        image.format = formatLinearRGBA
        var linear = [UInt16](repeating: 0, count: width * height * 4)
        let finished = linear.withUnsafeMutableBytes { out in
            png_image_finish_read(&image, nil, out.baseAddress, Int32(width * 4), nil)
        }
        guard finished != 0, image.warning_or_error & errorFlag == 0 else {
            throw PNGError.corrupt(source: source, reason: message(of: image))
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            let alpha = Double(linear[4 * i + 3])
            pixels[4 * i + 3] = UInt8((alpha / 257).rounded())
            guard alpha > 0 else { continue }
            for c in 0..<3 {
                let value = min(1, Double(linear[4 * i + c]) / alpha)
                let encoded = value <= 0.003_130_8 ? 12.92 * value : 1.055 * pow(value, 1 / 2.4) - 0.055
                pixels[4 * i + c] = UInt8(min(max((encoded * 255).rounded(), 0), 255))
            }
        }
        return pixels
    }

    /// The interlace method byte of IHDR (checked to be the first chunk by `checkContainer`).
    private static func isInterlaced(_ bytes: [UInt8]) -> Bool {
        bytes.count > 28 && bytes[28] != 0
    }

    private static func message(of image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "unknown error" : text
    }

    /// Checks the signature and walks the chunk list up to IEND, so a cut file is reported as truncated (with
    /// the chunk it ends in) rather than with libpng's generic message. CRCs and contents are left to libpng.
    private static func checkContainer(_ bytes: [UInt8], source: String) throws {
        guard !bytes.isEmpty else { throw PNGError.empty(source: source) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw PNGError.notPNG(
                source: source, detectedFormat: otherFormat(bytes), firstBytes: Array(bytes.prefix(8)))
        }
        var offset = 8
        var lastChunk: String?
        while true {
            guard offset + 8 <= bytes.count else {
                throw PNGError.truncated(source: source, byteCount: bytes.count, inChunk: nil)
            }
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            lastChunk = type
            guard length <= Int(Int32.max) else {
                throw PNGError.corrupt(
                    source: source, reason: "chunk \(type) declares length \(length), more than 2^31 − 1")
            }
            if offset == 8, type != "IHDR" || length != 13 {
                throw PNGError.corrupt(
                    source: source,
                    reason: "first chunk is \(type) of length \(length), expected IHDR of length 13")
            }
            let end = offset + 12 + length
            guard end <= bytes.count else {
                throw PNGError.truncated(source: source, byteCount: bytes.count, inChunk: lastChunk)
            }
            if type == "IEND" { return }
            offset = end
        }
    }

    private static func otherFormat(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes.prefix(prefix.count)) == prefix }
        if starts([0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if bytes.count >= 12, starts(Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "WebP"
        }
        if starts([0x00, 0x00, 0x01, 0x00]) { return "ICO" }
        if starts(Array("<svg".utf8)) || starts(Array("<?xml".utf8)) { return "SVG/XML" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG with a damaged signature (text-mode transfer?)" }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
