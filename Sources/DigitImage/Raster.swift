// A tiny RGB canvas and 5×7 bitmap font, enough to draw the report's PNG pictures without a graphics library.

/// An 8-bit sRGB colour.
struct RGB: Equatable {
    var r: UInt8
    var g: UInt8
    var b: UInt8

    static let white = RGB(r: 255, g: 255, b: 255)
    static let black = RGB(r: 0, g: 0, b: 0)

    init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    init(hex: UInt32) {
        self.init(r: UInt8((hex >> 16) & 0xFF), g: UInt8((hex >> 8) & 0xFF), b: UInt8(hex & 0xFF))
    }

    /// `#rrggbb`, for SVG and HTML.
    var css: String {
        func byte(_ v: UInt8) -> String {
            let s = String(v, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + byte(r) + byte(g) + byte(b)
    }

    /// Linear interpolation in sRGB from `self` (t = 0) to `other` (t = 1).
    func mixed(with other: RGB, _ t: Double) -> RGB {
        let t = min(max(t, 0), 1)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        return RGB(r: mix(r, other.r), g: mix(g, other.g), b: mix(b, other.b))
    }
}

/// A width × height RGB image with clipped drawing primitives.
struct Raster {
    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    init(width: Int, height: Int, background: RGB = .white) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, background)
    }

    func pixel(x: Int, y: Int) -> RGB {
        let i = 3 * (y * width + x)
        return RGB(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
    }

    mutating func set(x: Int, y: Int, _ color: RGB) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let i = 3 * (y * width + x)
        pixels[i] = color.r
        pixels[i + 1] = color.g
        pixels[i + 2] = color.b
    }

    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { set(x: xx, y: yy, color) }
        }
    }

    mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB) {
        fill(x: x, y: y, width: w, height: 1, color)
        fill(x: x, y: y + h - 1, width: w, height: 1, color)
        fill(x: x, y: y, width: 1, height: h, color)
        fill(x: x + w - 1, y: y, width: 1, height: h, color)
    }

    /// A line of the given thickness, stamped in steps of at most half a pixel; `dash` = (on, off) lengths.
    mutating func line(
        _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, _ color: RGB, thickness: Int = 1,
        dash: (Double, Double)? = nil
    ) {
        let length = ((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)).squareRoot()
        let steps = max(1, Int((length * 2).rounded(.up)))
        let half = Double(thickness - 1) / 2
        for s in 0...steps {
            let t = Double(s) / Double(steps)
            if let (on, off) = dash, (t * length).truncatingRemainder(dividingBy: on + off) >= on { continue }
            let x = x0 + (x1 - x0) * t - half
            let y = y0 + (y1 - y0) * t - half
            fill(x: Int(x.rounded()), y: Int(y.rounded()), width: thickness, height: thickness, color)
        }
    }

    /// Draws `text` with the 5×7 font, each font pixel a `scale × scale` square; (x, y) is the top-left corner.
    mutating func text(_ text: String, x: Int, y: Int, scale: Int = 1, _ color: RGB) {
        var cx = x
        for character in text {
            let rows = BitmapFont.glyph(character)
            for (row, bits) in rows.enumerated() {
                for col in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - col)) != 0 {
                    fill(x: cx + col * scale, y: y + row * scale, width: scale, height: scale, color)
                }
            }
            cx += BitmapFont.advance * scale
        }
    }

    /// Draws `text` centred horizontally on `centerX`.
    mutating func text(_ text: String, centerX: Int, y: Int, scale: Int = 1, _ color: RGB) {
        self.text(text, x: centerX - BitmapFont.width(of: text, scale: scale) / 2, y: y, scale: scale, color)
    }

    /// Draws `text` top to bottom, one character under the other, centred on `centerX` and `centerY`.
    mutating func verticalText(_ text: String, centerX: Int, centerY: Int, scale: Int = 1, _ color: RGB) {
        let step = (BitmapFont.glyphHeight + 2) * scale
        var y = centerY - step * text.count / 2
        for character in text {
            self.text(String(character), centerX: centerX, y: y, scale: scale, color)
            y += step
        }
    }

    /// Copies a gray image (0 = background, 255 = ink) drawn as dark ink on white, each pixel `scale × scale`.
    mutating func grayDigit(_ gray: [UInt8], side: Int, x: Int, y: Int, scale: Int) {
        for row in 0..<side {
            for col in 0..<side {
                let v = 255 - gray[row * side + col]
                fill(x: x + col * scale, y: y + row * scale, width: scale, height: scale, RGB(r: v, g: v, b: v))
            }
        }
    }
}

/// A 5×7 pixel font: digits, upper-case letters (lower case drawn as upper case) and a few signs.
enum BitmapFont {
    static let glyphWidth = 5
    static let glyphHeight = 7
    /// Horizontal distance between glyph origins: 5 pixels and 1 of spacing.
    static let advance = 6

    /// Width in pixels of `text` drawn at `scale`.
    static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (text.count * advance - 1) * scale
    }

    /// Seven rows of five bits, most significant bit leftmost; unknown characters draw as "?".
    static func glyph(_ character: Character) -> [UInt8] {
        let key = Character(character.uppercased())
        return table[key] ?? table["?"] ?? []
    }

    private static func rows(_ text: String) -> [UInt8] {
        text.split(separator: " ").map { UInt8($0, radix: 2) ?? 0 }
    }

    private static let table: [Character: [UInt8]] = [
        "0": rows("01110 10001 10011 10101 11001 10001 01110"),
        "1": rows("00100 01100 00100 00100 00100 00100 01110"),
        "2": rows("01110 10001 00001 00010 00100 01000 11111"),
        "3": rows("11111 00010 00100 00010 00001 10001 01110"),
        "4": rows("00010 00110 01010 10010 11111 00010 00010"),
        "5": rows("11111 10000 11110 00001 00001 10001 01110"),
        "6": rows("00110 01000 10000 11110 10001 10001 01110"),
        "7": rows("11111 00001 00010 00100 01000 01000 01000"),
        "8": rows("01110 10001 10001 01110 10001 10001 01110"),
        "9": rows("01110 10001 10001 01111 00001 00010 01100"),
        "A": rows("01110 10001 10001 10001 11111 10001 10001"),
        "B": rows("11110 10001 10001 11110 10001 10001 11110"),
        "C": rows("01110 10001 10000 10000 10000 10001 01110"),
        "D": rows("11100 10010 10001 10001 10001 10010 11100"),
        "E": rows("11111 10000 10000 11110 10000 10000 11111"),
        "F": rows("11111 10000 10000 11110 10000 10000 10000"),
        "G": rows("01110 10001 10000 10111 10001 10001 01111"),
        "H": rows("10001 10001 10001 11111 10001 10001 10001"),
        "I": rows("01110 00100 00100 00100 00100 00100 01110"),
        "J": rows("00111 00010 00010 00010 00010 10010 01100"),
        "K": rows("10001 10010 10100 11000 10100 10010 10001"),
        "L": rows("10000 10000 10000 10000 10000 10000 11111"),
        "M": rows("10001 11011 10101 10101 10001 10001 10001"),
        "N": rows("10001 10001 11001 10101 10011 10001 10001"),
        "O": rows("01110 10001 10001 10001 10001 10001 01110"),
        "P": rows("11110 10001 10001 11110 10000 10000 10000"),
        "Q": rows("01110 10001 10001 10001 10101 10010 01101"),
        "R": rows("11110 10001 10001 11110 10100 10010 10001"),
        "S": rows("01111 10000 10000 01110 00001 00001 11110"),
        "T": rows("11111 00100 00100 00100 00100 00100 00100"),
        "U": rows("10001 10001 10001 10001 10001 10001 01110"),
        "V": rows("10001 10001 10001 10001 10001 01010 00100"),
        "W": rows("10001 10001 10001 10101 10101 10101 01010"),
        "X": rows("10001 10001 01010 00100 01010 10001 10001"),
        "Y": rows("10001 10001 10001 01010 00100 00100 00100"),
        "Z": rows("11111 00001 00010 00100 01000 10000 11111"),
        " ": rows("00000 00000 00000 00000 00000 00000 00000"),
        ".": rows("00000 00000 00000 00000 00000 01100 01100"),
        ",": rows("00000 00000 00000 00000 01100 00100 01000"),
        ":": rows("00000 01100 01100 00000 01100 01100 00000"),
        "%": rows("11000 11001 00010 00100 01000 10011 00011"),
        "-": rows("00000 00000 00000 11111 00000 00000 00000"),
        "+": rows("00000 00100 00100 11111 00100 00100 00000"),
        "=": rows("00000 00000 11111 00000 11111 00000 00000"),
        "/": rows("00000 00001 00010 00100 01000 10000 00000"),
        "(": rows("00010 00100 01000 01000 01000 00100 00010"),
        ")": rows("01000 00100 00010 00010 00010 00100 01000"),
        ">": rows("01000 00100 00010 00001 00010 00100 01000"),
        "?": rows("01110 10001 00001 00010 00100 00000 00100"),
    ]
}
