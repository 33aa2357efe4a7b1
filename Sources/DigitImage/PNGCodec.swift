// PNG in and out through libpng. Reading uses libpng's full API row by row through the C shim of the CPNG
// module (`PNGRowReader`), which keeps libpng's longjmp out of Swift frames; writing uses libpng's simplified
// API (png_image_*), which reports failures in `png_image.message` and never longjmps into its caller.
import CPNG

/// Decoding and encoding of PNG files with libpng 1.6.
public enum PNGCodec {
    /// Largest accepted width or height in pixels, whatever the pixel budget (libpng's row buffers grow with it).
    public static let maximumSide = 16_384
    /// Largest accepted `width · height` (64 Mi pixels, a 256 MiB RGBA buffer).
    public static let maximumPixelCount = 64 * 1024 * 1024

    /// Decodes any PNG to 8-bit RGBA.
    ///
    /// Accepts every colour type and bit depth of the PNG specification: gray 1/2/4/8/16-bit, gray + alpha 8/16,
    /// RGB 8/16, RGBA 8/16, palette 1/2/4/8-bit, tRNS transparency (palette, gray, RGB) and Adam7 interlacing.
    /// The samples are taken as stored, as pypng's `Reader.asRGBA8()` gives them (the reference the tests
    /// compare with): 1/2/4-bit gray scaled by 255 / (2^depth − 1), 16-bit samples mapped to round(v / 257)
    /// (libpng's `png_set_scale_16`), palette entries looked up, gray copied to R, G and B, tRNS colours made
    /// transparent (alpha 0), alpha 255 where the file has none. Every colour keeps its value where alpha is 0.
    /// Deviation from a colour-managed viewer: gAMA, cHRM, sRGB, iCCP and sBIT chunks are ignored, as pypng,
    /// Pillow and MNIST's own files do (libpng's simplified API, which this decoder used before, converted a
    /// file whose gAMA is not sRGB's to sRGB).
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    /// - Throws: `PNGError.empty`, `.notPNG` (with JPEG/GIF/BMP/WebP/TIFF recognised by their magic),
    ///   `.truncated` (file ends before IEND), `.tooLarge` (more than `maximumSide` per side or
    ///   `maximumPixelCount` pixels, read from the header before libpng starts), `.corrupt` (libpng's message).
    public static func decode(_ bytes: [UInt8], source: String) throws -> RGBAImage {
        try decodeReportingWarning(bytes, source: source).image
    }

    /// Decodes like `decode(_:source:)` and also returns libpng's first warning, if it raised one
    /// (for example an unknown or damaged ancillary chunk that it skipped).
    public static func decodeReportingWarning(
        _ bytes: [UInt8], source: String
    ) throws -> (image: RGBAImage, warning: String?) {
        try checkContainer(bytes, source: source)
        let (width, height) = headerSize(bytes)
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
            throw PNGError.tooLarge(
                source: source, width: width, height: height, maximumSide: maximumSide,
                maximumPixelCount: maximumPixelCount)
        }
        var pixels: [UInt8] = []
        let summary = try bytes.withUnsafeBytes { raw in
            try PNGRowReader.read(raw, source: source) { width, height in
                pixels = [UInt8](repeating: 0, count: width * height * 4)
            } rowHandler: { row, place in
                pixels.withUnsafeMutableBufferPointer { out in
                    var from = 0
                    var to = 4 * (place.y * width + place.x0)
                    let step = 4 * place.dx
                    for _ in 0..<place.count {
                        out[to] = row[from]
                        out[to + 1] = row[from + 1]
                        out[to + 2] = row[from + 2]
                        out[to + 3] = row[from + 3]
                        from += 4
                        to += step
                    }
                }
            }
        }
        return (try RGBAImage(width: width, height: height, pixels: pixels), summary.warning)
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
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

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

    private static func message(of image: png_image) -> String {
        let text = withUnsafeBytes(of: image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "unknown error" : text
    }
}
