// Fixture access, a PGM reader, a synthetic digit renderer and the closeness measure used by the tests.
import DigitImage
import Foundation

enum PNGFixtures {
    /// Tests/DigitImageTests/Fixtures, found from this file's path (written by scripts/make_png_fixtures.py).
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    /// One fixture of manifest.json: a two-tone digit (`ink` and `background` set) or a ramp (`expected` names
    /// the .pam holding what pypng decodes from it).
    struct Entry: Decodable, Sendable, CustomStringConvertible {
        var name: String
        var colorType: Int
        var bitDepth: Int
        var interlaced: Bool
        var ink: [UInt8]?
        var background: [UInt8]?
        var expected: String?
        var description: String { name }
    }

    /// A two-tone digit fixture: its ink and background RGBA.
    struct TwoTone: Sendable, CustomStringConvertible {
        var name: String
        var ink: [UInt8]
        var background: [UInt8]
        var description: String { name }
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func manifest() -> [Entry] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
            let entries = try? JSONDecoder().decode([Entry].self, from: data)
        else { return [] }
        return entries
    }

    /// The two-tone digit fixtures of the manifest.
    static func twoTone() -> [TwoTone] {
        manifest().compactMap { e in
            guard let ink = e.ink, let background = e.background else { return nil }
            return TwoTone(name: e.name, ink: ink, background: background)
        }
    }

    /// The ramp fixtures of the manifest (each with an expected .pam).
    static func ramps() -> [Entry] { manifest().filter { $0.expected != nil } }

    /// Reads a binary PAM (P7) of 8-bit RGB_ALPHA tuples, as scripts/make_png_fixtures.py writes them.
    static func pam(_ name: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let data = try bytes(name)
        let marker = Array("ENDHDR\n".utf8)
        guard let end = (0...(max(0, data.count - marker.count))).first(where: {
            Array(data[$0..<($0 + marker.count)]) == marker
        }) else { throw FixtureError.badPAM(name) }
        var fields: [String: String] = [:]
        for line in String(decoding: data[0..<end], as: UTF8.self).split(separator: "\n").dropFirst() {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard data.starts(with: Array("P7\n".utf8)), let w = fields["WIDTH"].flatMap({ Int($0) }),
            let h = fields["HEIGHT"].flatMap({ Int($0) }), fields["DEPTH"] == "4", fields["MAXVAL"] == "255"
        else { throw FixtureError.badPAM(name) }
        let pixels = Array(data[(end + marker.count)...])
        guard pixels.count == w * h * 4 else { throw FixtureError.badPAM(name) }
        return (w, h, pixels)
    }

    /// Reads an ASCII PGM (P2) with maximum value 255: (width, height, pixels).
    static func pgm(_ name: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let text = String(decoding: try bytes(name), as: UTF8.self)
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard tokens.count >= 4, tokens[0] == "P2", let w = Int(tokens[1]), let h = Int(tokens[2]) else {
            throw FixtureError.badPGM(name)
        }
        let values = tokens.dropFirst(4).compactMap { UInt8($0) }
        guard values.count == w * h else { throw FixtureError.badPGM(name) }
        return (w, h, values)
    }
}

enum FixtureError: Error { case badPGM(String), badPAM(String) }

/// Strokes of a digit in a unit square (x right, y down), rendered with anti-aliasing at any size and place.
struct SyntheticDigit {
    var segments: [(Double, Double, Double, Double)]
    /// Stroke width as a fraction of the box side.
    var thickness: Double

    /// A '2'-like shape: top bar, diagonal, bottom bar, with a hook on the right.
    static let two = SyntheticDigit(
        segments: [
            (0.2, 0.15, 0.7, 0.1), (0.7, 0.1, 0.8, 0.3), (0.8, 0.3, 0.2, 0.9), (0.2, 0.9, 0.85, 0.9),
        ], thickness: 0.1)
    /// A '1'-like shape: a vertical bar with a flag.
    static let one = SyntheticDigit(
        segments: [(0.5, 0.1, 0.5, 0.9), (0.5, 0.1, 0.35, 0.25)], thickness: 0.1)

    /// Ink coverage in 0...1 for a `width × height` canvas with the unit square mapped to the `side`-pixel box
    /// at (`x`, `y`); 4 × 4 supersampling per pixel.
    func coverage(width: Int, height: Int, x: Double, y: Double, side: Double) -> [Double] {
        var out = [Double](repeating: 0, count: width * height)
        let radius = thickness * side / 2
        for py in 0..<height {
            for px in 0..<width {
                var hits = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let fx = Double(px) + (Double(sx) + 0.5) / 4, fy = Double(py) + (Double(sy) + 0.5) / 4
                        if isInk(fx, fy, x: x, y: y, side: side, radius: radius) { hits += 1 }
                    }
                }
                out[py * width + px] = Double(hits) / 16
            }
        }
        return out
    }

    private func isInk(_ fx: Double, _ fy: Double, x: Double, y: Double, side: Double, radius: Double) -> Bool {
        for (ax, ay, bx, by) in segments {
            let x0 = x + ax * side, y0 = y + ay * side, x1 = x + bx * side, y1 = y + by * side
            let dx = x1 - x0, dy = y1 - y0
            let t = max(0, min(1, ((fx - x0) * dx + (fy - y0) * dy) / (dx * dx + dy * dy)))
            let ex = fx - (x0 + t * dx), ey = fy - (y0 + t * dy)
            if ex * ex + ey * ey <= radius * radius { return true }
        }
        return false
    }

    /// An opaque image: each pixel mixes `background` and `ink` gray by the coverage.
    func image(
        width: Int, height: Int, x: Double, y: Double, side: Double, ink: Double = 255, background: Double = 0
    ) throws -> RGBAImage {
        let gray = coverage(width: width, height: height, x: x, y: y, side: side).map {
            UInt8((background + (ink - background) * $0).rounded())
        }
        return try RGBAImage(width: width, height: height, gray: gray)
    }

    /// Black strokes whose alpha is the coverage, on a fully transparent background (a canvas export).
    func transparentImage(width: Int, height: Int, x: Double, y: Double, side: Double) throws -> RGBAImage {
        let cover = coverage(width: width, height: height, x: x, y: y, side: side)
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        for (i, c) in cover.enumerated() { rgba[4 * i + 3] = UInt8((c * 255).rounded()) }
        return try RGBAImage(width: width, height: height, pixels: rgba)
    }
}

/// Closeness of two 28×28 results. Cosine similarity of the pixel vectors (normalized cross-correlation without
/// mean removal) is the classic template-matching score: 1 for identical shapes, insensitive to a global gain,
/// and it drops quickly when strokes move by a pixel or more; plus the distance between centres of mass.
struct DigitCloseness: CustomStringConvertible {
    var cosine: Double
    var centroidDistance: Double
    var maxDifference: Int

    init(_ a: [UInt8], _ b: [UInt8]) {
        var dot = 0.0, na = 0.0, nb = 0.0
        var maxDiff = 0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            na += Double(x) * Double(x)
            nb += Double(y) * Double(y)
            maxDiff = max(maxDiff, abs(Int(x) - Int(y)))
        }
        cosine = na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
        let ca = centerOfMass(a), cb = centerOfMass(b)
        centroidDistance = ((ca.x - cb.x) * (ca.x - cb.x) + (ca.y - cb.y) * (ca.y - cb.y)).squareRoot()
        maxDifference = maxDiff
    }

    var description: String {
        "cosine \(cosine), centre-of-mass distance \(centroidDistance) px, max |diff| \(maxDifference)"
    }
}

/// Centre of mass of a 28×28 image in pixel-index coordinates.
func centerOfMass(_ pixels: [UInt8]) -> (x: Double, y: Double) {
    var total = 0.0, sx = 0.0, sy = 0.0
    for (i, v) in pixels.enumerated() {
        total += Double(v)
        sx += Double(v) * Double(i % 28)
        sy += Double(v) * Double(i / 28)
    }
    return total > 0 ? (sx / total, sy / total) : (0, 0)
}
