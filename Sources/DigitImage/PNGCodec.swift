// PNG in and out through libpng. Reading uses libpng's full API row by row through the C shim of the CPNG
// module (`PNGRowReader`), which keeps libpng's longjmp out of Swift frames; writing uses libpng's simplified
// API (png_image_*), which reports failures in `png_image.message` and never longjmps into its caller.
import CPNG

/// What `PNGCodec.decodeReduced` read: the image, the size the file declared, and what decoding it held in memory.
public struct DecodedPNG: Sendable, Equatable {
    /// The decoded image: the file's own pixels when its longer side is at most the `longestSide` asked for,
    /// otherwise their area average at that size.
    public var image: RGBAImage
    /// Width declared in the file's header, in pixels.
    public var sourceWidth: Int
    /// Height declared in the file's header, in pixels.
    public var sourceHeight: Int
    /// libpng's first warning, if it raised one (for example a damaged ancillary chunk that it skipped).
    public var warning: String?
    /// The most bytes libpng and zlib held at once while decoding (every allocation they make is counted).
    public var libpngPeakBytes: Int
    /// Bytes of the decoder's own working buffers besides the returned image: the row libpng fills and, when
    /// reducing, the area sums. With `libpngPeakBytes` and the image, all the memory a decode needs besides
    /// the file's bytes; none of it grows with `sourceWidth · sourceHeight`.
    public var workingBytes: Int

    /// True when the image was area-averaged down from the file's size.
    public var isReduced: Bool { image.width != sourceWidth || image.height != sourceHeight }
}

/// Decoding and encoding of PNG files with libpng 1.6.
public enum PNGCodec {
    /// Largest accepted width or height in pixels, whatever the pixel budget (libpng's row buffers grow with it).
    public static let maximumSide = 16_384
    /// The pixel budget when none is given: `width · height` at most 16 Mi (16,777,216) pixels, which admits a
    /// phone's 12-megapixel photo (4032 × 3024) and a 4096 × 4096 square.
    public static let defaultMaximumPixelCount = 16 * 1024 * 1024
    /// The pixel budgets the CLI's `--max-pixels` and the server accept: from one 28 × 28 MNIST picture (784)
    /// to a `maximumSide` square (268,435,456).
    public static let pixelBudgetRange: ClosedRange<Int> = 784...(maximumSide * maximumSide)
    /// The longer side `decodeReduced` averages large images down to by default, in pixels. 512 keeps a digit
    /// that fills a tenth of a photo's longer side about 50 pixels tall, over twice the 20-pixel box
    /// `DigitPreprocessor` scales it into (at 256 it would be 25, and a thin pen stroke under a pixel), while
    /// the reduction's sums stay at 4 MiB at most (512 × 512 × 4 Floats) and the preprocessing reads at most
    /// 262,144 pixels.
    public static let reducedSide = 512

    /// Decodes any PNG to 8-bit RGBA at full resolution (a `width · height · 4`-byte buffer; for images of any
    /// size from users, `decodeReduced` keeps memory bounded instead).
    ///
    /// Accepts every colour type and bit depth of the PNG specification: gray 1/2/4/8/16-bit, gray + alpha 8/16,
    /// RGB 8/16, RGBA 8/16, palette 1/2/4/8-bit, tRNS transparency (palette, gray, RGB) and Adam7 interlacing.
    /// The samples are taken as stored, as pypng's `Reader.asRGBA8()` gives them (the reference the tests
    /// compare with): 1/2/4-bit gray scaled by 255 / (2^depth − 1), 16-bit samples mapped to round(v / 257)
    /// (libpng's `png_set_scale_16`), palette entries looked up, gray copied to R, G and B, tRNS colours made
    /// transparent (alpha 0), alpha 255 where the file has none. Every colour keeps its value where alpha is 0.
    /// Deviations: gAMA, cHRM, sRGB and iCCP chunks are ignored, as pypng and Pillow do (a colour-managed viewer
    /// applies them; libpng's simplified API, which this decoder used before, converted a file whose gAMA is
    /// not sRGB's to sRGB); sBIT is ignored too, where pypng alone rescales from the significant bits.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    ///   - maximumPixelCount: the pixel budget, read from the header before libpng starts.
    /// - Throws: `PNGError.empty`, `.notPNG` (with JPEG/GIF/BMP/WebP/TIFF recognised by their magic),
    ///   `.truncated` (file ends before IEND), `.tooLarge` (more than `maximumSide` per side or
    ///   `maximumPixelCount` pixels), `.corrupt` (libpng's message).
    public static func decode(
        _ bytes: [UInt8], source: String, maximumPixelCount: Int = defaultMaximumPixelCount
    ) throws -> RGBAImage {
        try decodeReportingWarning(bytes, source: source, maximumPixelCount: maximumPixelCount).image
    }

    /// Decodes like `decode(_:source:maximumPixelCount:)` and also returns libpng's first warning, if it raised
    /// one (for example an unknown or damaged ancillary chunk that it skipped).
    public static func decodeReportingWarning(
        _ bytes: [UInt8], source: String, maximumPixelCount: Int = defaultMaximumPixelCount
    ) throws -> (image: RGBAImage, warning: String?) {
        let decoded = try decode(bytes, source: source, maximumPixelCount: maximumPixelCount, longestSide: nil)
        return (decoded.image, decoded.warning)
    }

    /// Decodes any PNG (as `decode(_:source:maximumPixelCount:)` does) in memory bounded whatever its size: an
    /// image whose longer side is above `longestSide` is area-averaged down to that side while libpng delivers
    /// its rows (see `AreaReducer`; colours averaged premultiplied by alpha), so no buffer of the full size is
    /// ever made. An image at most `longestSide` on both sides is returned exactly as `decode` returns it.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    ///   - longestSide: the largest side of the returned image, in pixels (at least 1; `reducedSide` by default).
    ///   - maximumPixelCount: the pixel budget, read from the header before libpng starts; it bounds the
    ///     decoding time (the memory is bounded anyway).
    /// - Throws: the errors of `decode(_:source:maximumPixelCount:)`.
    public static func decodeReduced(
        _ bytes: [UInt8], source: String, longestSide: Int = reducedSide,
        maximumPixelCount: Int = defaultMaximumPixelCount
    ) throws -> DecodedPNG {
        precondition(longestSide >= 1, "longestSide must be at least 1")
        return try decode(bytes, source: source, maximumPixelCount: maximumPixelCount, longestSide: longestSide)
    }

    private static func decode(
        _ bytes: [UInt8], source: String, maximumPixelCount: Int, longestSide: Int?
    ) throws -> DecodedPNG {
        try checkContainer(bytes, source: source)
        let (width, height) = headerSize(bytes)
        // libpng refuses a zero side too, but the reduction below is set up before libpng reads the header.
        guard width >= 1, height >= 1 else {
            throw PNGError.corrupt(
                source: source, reason: "IHDR declares \(width)×\(height) pixels, expected both sides at least 1")
        }
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
            throw PNGError.tooLarge(
                source: source, width: width, height: height, maximumSide: maximumSide,
                maximumPixelCount: maximumPixelCount)
        }
        if let longestSide, max(width, height) > longestSide {
            let size = AreaReducer.reducedSize(width: width, height: height, longestSide: longestSide)
            var reducer = AreaReducer(sourceWidth: width, sourceHeight: height, width: size.width, height: size.height)
            let summary = try bytes.withUnsafeBytes { raw in
                try PNGRowReader.read(raw, source: source) { _, _ in } rowHandler: { reducer.add($0, $1) }
            }
            return DecodedPNG(
                image: try reducer.image(), sourceWidth: width, sourceHeight: height, warning: summary.warning,
                libpngPeakBytes: summary.libpngPeakBytes, workingBytes: summary.rowBufferBytes + reducer.bufferBytes)
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
        return DecodedPNG(
            image: try RGBAImage(width: width, height: height, pixels: pixels), sourceWidth: width,
            sourceHeight: height, warning: summary.warning, libpngPeakBytes: summary.libpngPeakBytes,
            workingBytes: summary.rowBufferBytes)
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
