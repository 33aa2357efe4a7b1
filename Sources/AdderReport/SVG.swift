// The few pieces of SVG the run's pictures are made of: colours, escaping, numbers, the document frame.
// Every label is a `<text>` element in DejaVu Sans (Debian fonts-dejavu-core), which librsvg renders
// into the PNG and browsers fall back from to their own sans-serif.
import Foundation

/// An 8-bit sRGB colour.
struct RGB: Equatable {
    var r: UInt8
    var g: UInt8
    var b: UInt8

    static let white = RGB(hex: 0xFFFFFF)
    static let black = RGB(hex: 0x000000)

    init(hex: UInt32) {
        r = UInt8((hex >> 16) & 0xFF)
        g = UInt8((hex >> 8) & 0xFF)
        b = UInt8(hex & 0xFF)
    }

    init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `#rrggbb`, for SVG and HTML.
    var css: String { String(format: "#%02x%02x%02x", r, g, b) }

    /// Linear interpolation in sRGB from `self` (t = 0) to `other` (t = 1); t is clamped to 0...1.
    func mixed(with other: RGB, _ t: Double) -> RGB {
        let t = min(max(t.isFinite ? t : 0, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        return RGB(r: mix(r, other.r), g: mix(g, other.g), b: mix(b, other.b))
    }
}

/// Builds one SVG document as text.
struct SVGDocument {
    /// The font of every label: DejaVu Sans where installed (librsvg on Debian), else the viewer's sans-serif.
    static let fontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif"

    let width: Int
    let height: Int
    private(set) var body = ""

    /// A white `width` × `height` px picture whose `<title>` is `title`.
    init(width: Int, height: Int, title: String) {
        self.width = width
        self.height = height
        body += "<title>\(Self.escape(title))</title>\n"
        body += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
    }

    /// `text` with the five XML special characters escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A coordinate with two decimals.
    static func n(_ v: Double) -> String { String(format: "%.2f", v) }

    /// Appends raw SVG markup.
    mutating func add(_ markup: String) { body += markup + "\n" }

    /// Appends a `<text>` at (x, y) (y is the baseline); `anchor` is start, middle or end; `attributes`
    /// is extra markup such as `class="tick"`.
    mutating func text(
        _ content: String, x: Double, y: Double, anchor: String = "start", size: Double = 13, bold: Bool = false,
        color: RGB = RGB(hex: 0x222222), attributes: String = ""
    ) {
        var a = "x=\"\(Self.n(x))\" y=\"\(Self.n(y))\""
        if anchor != "start" { a += " text-anchor=\"\(anchor)\"" }
        if size != 13 { a += " font-size=\"\(Self.n(size))\"" }
        if bold { a += " font-weight=\"bold\"" }
        if color != RGB(hex: 0x222222) { a += " fill=\"\(color.css)\"" }
        if !attributes.isEmpty { a += " " + attributes }
        body += "<text \(a)>\(Self.escape(content))</text>\n"
    }

    /// Appends a straight line.
    mutating func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, color: RGB, width: Double = 1, dashed: Bool = false
    ) {
        body += "<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" "
            + "stroke=\"\(color.css)\" stroke-width=\"\(Self.n(width))\"" + (dashed ? " stroke-dasharray=\"6 4\"" : "")
            + "/>\n"
    }

    /// The finished document.
    var text: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"\(Self.fontFamily)\" font-size=\"13\">\n"
            + body + "</svg>\n"
    }
}
