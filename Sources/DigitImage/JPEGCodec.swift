// JPEG in through libjpeg-turbo (the CJPEG module's C shim keeps libjpeg's error longjmp out of Swift
// frames). Large images are scaled down twice while they are decoded, so no buffer of the full size exists:
// first by libjpeg itself in its inverse DCT (scale_num / 8), then by area averaging (`AreaReducer`) of the
// scanlines as they arrive, exactly as PNG rows are.
#if canImport(CJPEG)
import CJPEG
#endif

/// What `JPEGCodec.decodeReduced` read: the image, the size the file declared, and how it was scaled.
public struct DecodedJPEG: Sendable, Equatable {
    /// The decoded image, EXIF orientation applied (when asked): the file's own pixels when its longer side is
    /// at most the `longestSide` asked for, otherwise libjpeg's DCT-scaled pixels area-averaged to that side.
    public var image: RGBAImage
    /// Width declared in the file's frame header, in pixels (before any EXIF rotation).
    public var sourceWidth: Int
    /// Height declared in the file's frame header, in pixels (before any EXIF rotation).
    public var sourceHeight: Int
    /// The numerator of libjpeg's DCT scaling, over 8 (8: full size; 1: an eighth a side).
    public var scaleNumerator: Int
    /// The EXIF orientation tag (1...8; 1 when the file has none or an invalid one), applied to `image` when
    /// the decode was asked to.
    public var orientation: Int
    /// The colour space of the file: `gray`, `YCbCr`, `RGB`, `CMYK` or `YCCK`.
    public var colorSpace: String
    /// True for a progressive JPEG.
    public var isProgressive: Bool
    /// libjpeg's first warning (corrupt data it skipped, for instance), if it raised one.
    public var warning: String?
}

/// Decoding of JPEG files with libjpeg-turbo (the libjpeg 6.2 API; Debian's libjpeg62-turbo).
public enum JPEGCodec {
    /// The first three bytes of every JPEG file: SOI and the first marker's 0xFF.
    public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]
    /// The most scans a file may have (libjpeg-turbo's tools stop at 500 too): each scan of a progressive
    /// JPEG is a pass over all its coefficients, so a small file of many tiny scans would otherwise cost
    /// minutes.
    public static let scanLimit = 500
    /// Largest accepted width or height in pixels, whatever the pixel budget (as for PNG).
    public static let maximumSide = PNGCodec.maximumSide

    /// True when this build can decode JPEG (the package links libjpeg-turbo on Linux only).
    public static var isAvailable: Bool {
        #if canImport(CJPEG)
        return true
        #else
        return false
        #endif
    }

    /// The bytes libjpeg's memory manager may hold for a budget of `maximumPixelCount` pixels: 16 MiB plus 8
    /// bytes a pixel. A baseline JPEG needs a few hundred KB whatever its size (a band of rows at a time); a
    /// progressive one (or a sequential one with non-interleaved scans) keeps all its DCT coefficients, 2 bytes
    /// per component sample: 3 bytes a pixel for a 4:2:0 colour photo (36 MiB for 4032 × 3024), at most 8 for a
    /// 4:4:4 CMYK file. Past it libjpeg fails ("Backing store not supported") rather than allocate.
    public static func memoryLimit(maximumPixelCount: Int) -> Int { (16 << 20) + 8 * maximumPixelCount }

    /// libjpeg's scale numerator (over 8) for a file whose longer side is `longer`: 8 (full size) when it is at
    /// most `longestSide`, else the smallest `n` in 1...8 whose scaled side `ceil(longer · n / 8)` is still at
    /// least `longestSide`, so the area averaging that follows always reduces (never enlarges).
    public static func scaleNumerator(longer: Int, longestSide: Int) -> Int {
        guard longer > longestSide else { return 8 }
        return (1...8).first { (longer * $0 + 7) / 8 >= longestSide } ?? 8
    }

    /// Decodes any baseline or progressive JPEG (gray, YCbCr, RGB, CMYK or YCCK, any chroma subsampling) to
    /// 8-bit RGBA in memory bounded by `memoryLimit(maximumPixelCount:)` (a few hundred KB for baseline files):
    /// an image whose longer side is above `longestSide` is first scaled by libjpeg in its inverse DCT
    /// (`scaleNumerator`, the largest reduction that keeps at least `longestSide`), then area-averaged down to
    /// `longestSide` (`AreaReducer`) as scanlines arrive. An image at most `longestSide` a side is decoded at
    /// full size, exactly as libjpeg decodes it.
    ///
    /// Samples are libjpeg's with its defaults (islow inverse DCT, fancy upsampling), as Pillow's decoder gives
    /// them (Pillow bundles libjpeg-turbo too; the tests compare): gray copied to R, G and B; CMYK taken in
    /// Adobe's inverted convention, as Pillow and Photoshop do, and made RGB with Pillow's formula
    /// (`R = K' − C·K'/255`, K' = 255 − K, per channel); alpha 255. ICC profiles are ignored (as Pillow's
    /// decoder does). With `applyOrientation`, the EXIF orientation (tag 0x0112 of the APP1 Exif segment) is
    /// applied, as Pillow's `ImageOps.exif_transpose` does, so a phone photo comes out upright.
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for messages (usually the path).
    ///   - longestSide: the largest side of the returned image before orientation, in pixels (at least 1).
    ///   - maximumPixelCount: the pixel budget, read from the header before any pixel is decoded.
    ///   - applyOrientation: whether to apply the EXIF orientation (true by default).
    /// - Throws: `JPEGError.unavailable` (a build without libjpeg-turbo), `.tooLarge`, `.truncated`, `.corrupt`
    ///   (libjpeg's message, or more than `scanLimit` scans).
    public static func decodeReduced(
        _ bytes: [UInt8], source: String, longestSide: Int = PNGCodec.reducedSide,
        maximumPixelCount: Int = PNGCodec.defaultMaximumPixelCount, applyOrientation: Bool = true
    ) throws -> DecodedJPEG {
        precondition(longestSide >= 1, "longestSide must be at least 1")
        #if canImport(CJPEG)
        return try bytes.withUnsafeBytes { raw in
            try decode(raw, source: source, longestSide: longestSide, maximumPixelCount: maximumPixelCount,
                       applyOrientation: applyOrientation)
        }
        #else
        throw JPEGError.unavailable(source: source)
        #endif
    }

    #if canImport(CJPEG)
    private static func decode(
        _ raw: UnsafeRawBufferPointer, source: String, longestSide: Int, maximumPixelCount: Int, applyOrientation: Bool
    ) throws -> DecodedJPEG {
        guard let reader = cjpeg_reader_create() else {
            throw JPEGError.corrupt(source: source, reason: "cannot allocate the decoder")
        }
        defer { cjpeg_reader_destroy(reader) }
        func failure() -> JPEGError {
            let reason = withUnsafeBytes(of: reader.pointee.error) { text(in: $0) }
            if reason.hasPrefix("Premature end of JPEG file") { return .truncated(source: source, byteCount: raw.count) }
            return .corrupt(source: source, reason: reason.isEmpty ? "unknown error" : reason)
        }
        let data = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var header = cjpeg_header()
        let memory = memoryLimit(maximumPixelCount: maximumPixelCount)
        guard cjpeg_reader_open(reader, data, raw.count, memory, Int32(scanLimit), &header) != 0 else {
            throw failure()
        }
        let width = Int(header.width), height = Int(header.height)
        guard width <= maximumSide, height <= maximumSide, width * height <= maximumPixelCount else {
            throw JPEGError.tooLarge(
                source: source, width: width, height: height, maximumSide: maximumSide,
                maximumPixelCount: maximumPixelCount)
        }
        var exifLength = 0
        let orientation = cjpeg_reader_exif(reader, &exifLength).map {
            ExifOrientation.orientation(inTIFF: UnsafeBufferPointer(start: $0, count: exifLength))
        } ?? 1

        let scale = scaleNumerator(longer: max(width, height), longestSide: longestSide)
        var output = cjpeg_output()
        guard cjpeg_reader_start(reader, Int32(scale), &output) != 0 else { throw failure() }
        let outWidth = Int(output.width), outHeight = Int(output.height), components = Int(output.components)
        guard outWidth >= 1, outHeight >= 1, [1, 3, 4].contains(components) else {
            throw JPEGError.corrupt(
                source: source, reason: "libjpeg delivers \(outWidth)×\(outHeight) with \(components) components")
        }
        let scanline = UnsafeMutablePointer<UInt8>.allocate(capacity: outWidth * components)
        defer { scanline.deallocate() }
        let rgba = UnsafeMutablePointer<UInt8>.allocate(capacity: outWidth * 4)
        defer { rgba.deallocate() }

        var reducer: AreaReducer?
        var pixels: [UInt8] = []
        if max(outWidth, outHeight) > longestSide {
            let size = AreaReducer.reducedSize(width: outWidth, height: outHeight, longestSide: longestSide)
            reducer = AreaReducer(sourceWidth: outWidth, sourceHeight: outHeight, width: size.width, height: size.height)
        } else {
            pixels = [UInt8](repeating: 0, count: outWidth * outHeight * 4)
        }
        for y in 0..<outHeight {
            guard cjpeg_reader_read_row(reader, scanline) != 0 else { throw failure() }
            toRGBA(scanline, components: components, count: outWidth, into: rgba)
            if reducer != nil {
                reducer?.add(UnsafePointer(rgba), RowPlacement(y: y, x0: 0, dx: 1, count: outWidth))
            } else {
                let start = y * outWidth * 4
                pixels.withUnsafeMutableBufferPointer { out in
                    for i in 0..<(outWidth * 4) { out[start + i] = rgba[i] }
                }
            }
        }
        guard cjpeg_reader_finish(reader) != 0 else { throw failure() }
        var image = try reducer?.image() ?? RGBAImage(width: outWidth, height: outHeight, pixels: pixels)
        if applyOrientation { image = try ExifOrientation.apply(orientation, to: image) }
        let warning = reader.pointee.has_warning != 0 ? withUnsafeBytes(of: reader.pointee.warning) { text(in: $0) } : nil
        return DecodedJPEG(
            image: image, sourceWidth: width, sourceHeight: height, scaleNumerator: scale, orientation: orientation,
            colorSpace: colorSpaceName(header.color_space), isProgressive: header.progressive != 0, warning: warning)
    }

    /// One scanline of gray, RGB or (inverted) CMYK samples as RGBA.
    private static func toRGBA(_ row: UnsafePointer<UInt8>, components: Int, count: Int, into out: UnsafeMutablePointer<UInt8>) {
        switch components {
        case 1:
            for i in 0..<count {
                let v = row[i]
                out[4 * i] = v
                out[4 * i + 1] = v
                out[4 * i + 2] = v
                out[4 * i + 3] = 255
            }
        case 3:
            for i in 0..<count {
                out[4 * i] = row[3 * i]
                out[4 * i + 1] = row[3 * i + 1]
                out[4 * i + 2] = row[3 * i + 2]
                out[4 * i + 3] = 255
            }
        default:
            // Stored inverted (Adobe): s = 255 − value. Pillow's cmyk2rgb on the un-inverted values:
            // out = K' − MULDIV255(C, K'), K' = 255 − K, MULDIV255(a, b) = ((a·b + 128) >> 8 + a·b + 128) >> 8.
            for i in 0..<count {
                let nk = Int(row[4 * i + 3])
                for c in 0..<3 {
                    let value = 255 - Int(row[4 * i + c])
                    let t = value * nk + 128
                    out[4 * i + c] = UInt8(clamping: nk - ((t >> 8) + t) >> 8)
                }
                out[4 * i + 3] = 255
            }
        }
    }

    private static func colorSpaceName(_ space: Int32) -> String {
        switch space {
        case 1: "gray"
        case 2: "RGB"
        case 3: "YCbCr"
        case 4: "CMYK"
        case 5: "YCCK"
        default: "unknown (\(space))"
        }
    }
    #endif

    /// The NUL-terminated text in a C character array.
    private static func text(in raw: UnsafeRawBufferPointer) -> String {
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
