// Decoding in bounded memory: images above PNGCodec.reducedSide are area-averaged down while libpng delivers
// their rows (checked against a plain two-dimensional area average computed here in Double), images at most that
// size come out exactly as the full decode gives them, and the memory a decode holds does not grow with the
// image (every libpng and zlib allocation is counted by the C shim's allocator).
import DigitImage
import Foundation
import Testing

/// The exact area average of `image` at `width × height`, colours premultiplied by alpha: each output pixel is
/// the mean over its rectangle [o·W/w, (o+1)·W/w) × [p·H/h, (p+1)·H/h), partial pixels weighted by their overlap.
private func referenceAreaAverage(_ image: RGBAImage, width: Int, height: Int) -> [Double] {
    func overlap(_ i: Int, _ start: Double, _ end: Double) -> Double {
        max(0, min(end, Double(i + 1)) - max(start, Double(i)))
    }
    let sx = Double(image.width) / Double(width), sy = Double(image.height) / Double(height)
    var out = [Double](repeating: 0, count: width * height * 4)
    for p in 0..<height {
        let y0 = Double(p) * sy, y1 = Double(p + 1) * sy
        for o in 0..<width {
            let x0 = Double(o) * sx, x1 = Double(o + 1) * sx
            var sums = [0.0, 0.0, 0.0, 0.0]
            for y in Int(y0.rounded(.down))..<min(image.height, Int(y1.rounded(.up))) {
                let wy = overlap(y, y0, y1)
                for x in Int(x0.rounded(.down))..<min(image.width, Int(x1.rounded(.up))) {
                    let w = wy * overlap(x, x0, x1)
                    let i = 4 * (y * image.width + x)
                    let a = Double(image.pixels[i + 3])
                    for c in 0..<3 { sums[c] += w * a * Double(image.pixels[i + c]) }
                    sums[3] += w * a
                }
            }
            let area = sx * sy, i = 4 * (p * width + o)
            if sums[3] > 0 { for c in 0..<3 { out[i + c] = sums[c] / sums[3] } }
            out[i + 3] = sums[3] / area
        }
    }
    return out
}

/// Largest difference between decoded bytes and reference values, colours compared only where alpha > 0.
private func largestDifference(_ image: RGBAImage, _ reference: [Double]) -> Double {
    var worst = 0.0
    for i in 0..<(image.width * image.height) {
        worst = max(worst, abs(Double(image.pixels[4 * i + 3]) - reference[4 * i + 3]))
        guard image.pixels[4 * i + 3] > 0 else { continue }
        for c in 0..<3 { worst = max(worst, abs(Double(image.pixels[4 * i + c]) - reference[4 * i + c])) }
    }
    return worst
}

/// A seeded RGBA picture with smooth colour, a hard-edged bar, and alpha running from 0 to 255.
private func testPicture(width: Int, height: Int, seed: UInt64) throws -> RGBAImage {
    var generator = SplitMix(seed: seed)
    var pixels = [UInt8](repeating: 0, count: width * height * 4)
    for y in 0..<height {
        for x in 0..<width {
            let i = 4 * (y * width + x)
            let bar = abs(x - width / 3) < width / 20
            pixels[i] = bar ? 10 : UInt8((x * 255) / max(1, width - 1))
            pixels[i + 1] = UInt8((y * 255) / max(1, height - 1))
            pixels[i + 2] = UInt8(truncatingIfNeeded: generator.next())
            pixels[i + 3] = x < width / 10 ? 0 : UInt8(truncatingIfNeeded: (x + y) % 256)
        }
    }
    return try RGBAImage(width: width, height: height, pixels: pixels)
}

@Suite("PNG decoding in bounded memory")
struct PNGReductionTests {
    @Test("every fixture (at most 512 a side) decodes and preprocesses exactly as the full decode")
    func smallImagesUnchanged() throws {
        let names = PNGFixtures.manifest().map(\.name) + ["mnist-like-28", "gray16-all", "gray16-all-adam7"]
        try #require(names.count > 90)
        for name in names {
            let bytes = try PNGFixtures.bytes(name + ".png")
            let full = try PNGCodec.decode(bytes, source: name)
            let bounded = try PNGCodec.decodeReduced(bytes, source: name)
            #expect(!bounded.isReduced && bounded.image == full, "\(name)")
            #expect(DigitPreprocessor.mnistPixels(from: bounded.image) == DigitPreprocessor.mnistPixels(from: full))
        }
    }

    @Test("an image of exactly 512 on its longer side is not reduced; 513 is", arguments: [(512, 300), (300, 512)])
    func boundary(_ size: (Int, Int)) throws {
        let picture = try testPicture(width: size.0, height: size.1, seed: 5)
        let png = try PNGCodec.encode(picture)
        let decoded = try PNGCodec.decodeReduced(png, source: "edge")
        #expect(!decoded.isReduced && decoded.image == picture)
        #expect(DigitPreprocessor.mnistPixels(from: decoded.image) == DigitPreprocessor.mnistPixels(from: picture))

        let wide = size.0 > size.1
        let larger = try testPicture(width: size.0 + (wide ? 1 : 0), height: size.1 + (wide ? 0 : 1), seed: 5)
        let reduced = try PNGCodec.decodeReduced(try PNGCodec.encode(larger), source: "edge+1")
        #expect(reduced.isReduced && max(reduced.image.width, reduced.image.height) == 512)
    }

    @Test(
        "a large image is the exact area average of its pixels, alpha-weighted, plain and Adam7",
        arguments: [false, true])
    func areaAverage(_ interlaced: Bool) throws {
        let picture = try testPicture(width: 1111, height: 733, seed: 9)
        let png = StreamedPNG.make(width: 1111, height: 733, colorType: 6, interlaced: interlaced) { y in
            Array(picture.pixels[(y * 1111 * 4)..<((y + 1) * 1111 * 4)])
        }
        #expect(try PNGCodec.decode(png, source: "big") == picture)
        let decoded = try PNGCodec.decodeReduced(png, source: "big")
        // 733 · 512 / 1111 = 337.8.
        #expect(decoded.image.width == 512 && decoded.image.height == 338)
        #expect(decoded.sourceWidth == 1111 && decoded.sourceHeight == 733 && decoded.isReduced)
        let reference = referenceAreaAverage(picture, width: 512, height: 338)
        // Float sums against Double here: a value within 0.002 of a half may round the other way.
        #expect(largestDifference(decoded.image, reference) < 0.502)
    }

    @Test("a smaller longest side reduces further, keeping the aspect ratio")
    func otherSides() throws {
        let picture = try testPicture(width: 640, height: 200, seed: 2)
        let png = try PNGCodec.encode(picture)
        for side in [1, 28, 100, 639] {
            let decoded = try PNGCodec.decodeReduced(png, source: "wide", longestSide: side)
            let height = max(1, Int((200.0 * Double(side) / 640).rounded()))
            #expect(decoded.image.width == side && decoded.image.height == height)
            let reference = referenceAreaAverage(picture, width: side, height: height)
            #expect(largestDifference(decoded.image, reference) < 0.502, "longest side \(side)")
        }
    }

    @Test("an 8192×8192 PNG of a few dozen KB decodes in a few MB, the same as a 1024×1024 one")
    func boundedMemory() throws {
        // Dark bar on white over columns [3/8, 1/2) of the width: edges on multiples of the reduction factor,
        // so the reduced image is exactly 0 there and 255 elsewhere.
        func bar(side: Int) -> [UInt8] {
            StreamedPNG.make(width: side, height: side, colorType: 0) { y in
                var row = [UInt8](repeating: 255, count: side)
                if y >= side / 8 && y < side * 7 / 8 {
                    for x in (side * 3 / 8)..<(side / 2) { row[x] = 0 }
                }
                return row
            }
        }
        let big = bar(side: 8192), small = bar(side: 1024)
        #expect(big.count < 200_000, "the 8192×8192 file has \(big.count) bytes")
        let decoded = try PNGCodec.decodeReduced(big, source: "huge.png", maximumPixelCount: 8192 * 8192)
        let reference = try PNGCodec.decodeReduced(small, source: "1024.png")
        try #require(decoded.image.width == 512 && decoded.image.height == 512)
        #expect(decoded.image == reference.image)
        for y in [0, 63, 64, 300, 447, 448, 511] {
            for x in [0, 191, 192, 255, 256, 511] {
                let ink = (64..<448).contains(y) && (192..<256).contains(x)
                let p = Array(decoded.image.pixels[(4 * (y * 512 + x))..<(4 * (y * 512 + x) + 4)])
                #expect(p == (ink ? [0, 0, 0, 255] : [255, 255, 255, 255]), "pixel (\(x), \(y))")
            }
        }
        // All the memory the decode held besides the file: libpng's and zlib's peak, the row buffer and the
        // reduction's sums, and the 512×512 result. A full-size RGBA buffer alone would be 256 MiB.
        let held = decoded.libpngPeakBytes + decoded.workingBytes + decoded.image.pixels.count
        #expect(held < 8 << 20, "decoding held \(held) bytes")
        let heldSmall = reference.libpngPeakBytes + reference.workingBytes + reference.image.pixels.count
        // What grows goes with the side, not the area: our row buffer (4 bytes a column), the reduction's tables
        // (12 bytes a column, 12 a row) and libpng's rows; at most 64 bytes per extra column and row.
        #expect(held - heldSmall < 64 * (8192 - 1024), "8192² held \(held) bytes, 1024² held \(heldSmall)")
        #expect(decoded.libpngPeakBytes > 32 << 10, "libpng's allocations were counted (\(decoded.libpngPeakBytes))")
    }

    @Test("the pixel budget is read from the header: over it is refused, a phone's 12-megapixel photo fits the default")
    func pixelBudget() throws {
        let photo = StreamedPNG.make(width: 4032, height: 3024, colorType: 2) { y in
            [UInt8](repeating: UInt8(y % 200), count: 4032 * 3)
        }
        let error = #expect(throws: PNGError.self) {
            try PNGCodec.decodeReduced(photo, source: "photo.png", maximumPixelCount: 4032 * 3024 - 1)
        }
        #expect(error == .tooLarge(
            source: "photo.png", width: 4032, height: 3024, maximumSide: 16_384, maximumPixelCount: 4032 * 3024 - 1))
        #expect(error?.description == "photo.png: image is 4032×3024 (12192768 pixels), expected at most "
            + "12192767 pixels in all and 16384 per side")
        #expect(PNGCodec.defaultMaximumPixelCount >= 4032 * 3024)
        let decoded = try PNGCodec.decodeReduced(photo, source: "photo.png")
        #expect(decoded.image.width == 512 && decoded.image.height == 384)
        // Row y is gray y mod 200; output row 0 averages source rows [0, 7.875): rows 0...6 and 7/8 of row 7.
        let want = (21 + 7 * 0.875) / 7.875
        #expect(decoded.image.pixels[0] == UInt8(want.rounded()) && decoded.image.pixels[0] == 3)
    }
}
