// PNG from SVG: librsvg renders the SVG text into a cairo image surface, libpng (PNGCodec) writes it.
// On Linux librsvg comes from Debian's librsvg2-dev (scripts/install-deps); elsewhere the package does not
// link it and `SVGRasterizer.isAvailable` is false: the SVG pictures are written and their PNGs skipped.
import DigitImage
import Foundation

#if canImport(CRsvg)
import CRsvg
#endif

/// An SVG that librsvg could not render.
public struct SVGRenderError: Error, Equatable, CustomStringConvertible {
    /// Which picture, e.g. `curves.svg`.
    public var name: String
    /// librsvg's or cairo's message.
    public var reason: String

    /// One line naming the picture and the reason.
    public var description: String { "cannot render \(name) to PNG: \(reason)" }
}

/// Renders SVG text to PNG bytes with librsvg.
public enum SVGRasterizer {
    /// Whether this build links librsvg (Linux); when false, `png(fromSVG:width:height:name:)` throws.
    public static var isAvailable: Bool {
        #if canImport(CRsvg)
        true
        #else
        false
        #endif
    }

    /// The SVG `svg` rendered at `width` × `height` px on white, as an 8-bit RGB PNG.
    ///
    /// The SVG's own viewport is scaled to fit (`rsvg_handle_render_document`). Sizes must be 1...8192.
    /// - Throws: `SVGRenderError` when librsvg rejects the SVG, the size is out of range, or librsvg is absent;
    ///   `PNGError.encodingFailed` if libpng fails.
    public static func png(fromSVG svg: String, width: Int, height: Int, name: String) throws -> [UInt8] {
        guard (1...8192).contains(width), (1...8192).contains(height) else {
            throw SVGRenderError(name: name, reason: "size \(width) × \(height) px, expected sides of 1 to 8192 px")
        }
        #if canImport(CRsvg)
        let bytes = Array(svg.utf8)
        var error: UnsafeMutablePointer<GError>?
        let handle = bytes.withUnsafeBufferPointer { buffer in
            rsvg_handle_new_from_data(buffer.baseAddress, gsize(buffer.count), &error)
        }
        guard let handle else { throw SVGRenderError(name: name, reason: takeMessage(&error)) }
        defer { g_object_unref(UnsafeMutableRawPointer(handle)) }

        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height)) else {
            throw SVGRenderError(name: name, reason: "cairo could not create a \(width) × \(height) surface")
        }
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS, let cairo = cairo_create(surface) else {
            throw SVGRenderError(name: name, reason: "cairo could not create a \(width) × \(height) surface")
        }
        defer { cairo_destroy(cairo) }
        cairo_set_source_rgb(cairo, 1, 1, 1)
        cairo_paint(cairo)
        var viewport = RsvgRectangle(x: 0, y: 0, width: Double(width), height: Double(height))
        guard rsvg_handle_render_document(handle, cairo, &viewport, &error) != 0 else {
            throw SVGRenderError(name: name, reason: takeMessage(&error))
        }
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else {
            throw SVGRenderError(name: name, reason: "cairo returned no pixels")
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        // CAIRO_FORMAT_RGB24: one native-endian UInt32 per pixel, 0x00RRGGBB.
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let row = UnsafeRawPointer(data + y * stride)
            for x in 0..<width {
                let pixel = row.loadUnaligned(fromByteOffset: 4 * x, as: UInt32.self)
                let i = 3 * (y * width + x)
                rgb[i] = UInt8((pixel >> 16) & 0xFF)
                rgb[i + 1] = UInt8((pixel >> 8) & 0xFF)
                rgb[i + 2] = UInt8(pixel & 0xFF)
            }
        }
        return try PNGCodec.encodeRGB(rgb, width: width, height: height)
        #else
        throw SVGRenderError(name: name, reason: "this build has no librsvg (Linux only; the SVG is written)")
        #endif
    }

    #if canImport(CRsvg)
    /// The GError's message, freeing it.
    private static func takeMessage(_ error: inout UnsafeMutablePointer<GError>?) -> String {
        guard let e = error else { return "librsvg gave no reason" }
        let message = e.pointee.message.map { String(cString: $0) } ?? "librsvg gave no reason"
        g_error_free(e)
        error = nil
        return message
    }
    #endif
}
