// MNIST-style preprocessing: the same digit in every PNG flavour gives the same 28×28 result, equal to an
// independent NumPy implementation; MNIST-style input passes through unchanged; variants stay close.
import DigitImage
import Foundation
import Testing

@Suite("MNIST-style preprocessing")
struct DigitPreprocessorTests {
    @Test("every fixture gives the 28×28 digit of the independent NumPy reference", arguments: PNGFixtures.twoTone())
    func fixtureMatchesReference(_ entry: PNGFixtures.TwoTone) throws {
        let reference = try PNGFixtures.pgm("digit-expected-28x28.pgm")
        let image = try PNGCodec.decode(try PNGFixtures.bytes(entry.name + ".png"), source: entry.name)
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(!digit.isBlank && !digit.isPassThrough)
        #expect(digit.boundingBox == maskBoundingBox(try PNGFixtures.pgm("digit-mask.pgm")))
        let report = DigitCloseness(digit.pixels, reference.pixels)
        // Float32 here against Float64 in NumPy: a value may round the other way, hence ±1 level.
        #expect(report.maxDifference <= 1, "\(entry.name): \(report)")
    }

    private func maskBoundingBox(_ mask: (width: Int, height: Int, pixels: [UInt8])) -> PixelBox {
        let ink = mask.pixels.indices.filter { mask.pixels[$0] > 0 }
        let xs = ink.map { $0 % mask.width }, ys = ink.map { $0 / mask.width }
        let x = xs.min() ?? 0, y = ys.min() ?? 0
        return PixelBox(x: x, y: y, width: (xs.max() ?? 0) - x + 1, height: (ys.max() ?? 0) - y + 1)
    }

    @Test("all fixtures give byte-identical results, whatever the colour type, polarity or transparency")
    func fixturesAgree() throws {
        let entries = PNGFixtures.twoTone()
        try #require(!entries.isEmpty)
        let base = DigitPreprocessor.mnistPixels(
            from: try PNGCodec.decode(try PNGFixtures.bytes("gray8.png"), source: "gray8"))
        for entry in entries {
            let digit = DigitPreprocessor.mnistPixels(
                from: try PNGCodec.decode(try PNGFixtures.bytes(entry.name + ".png"), source: entry.name))
            #expect(digit.pixels == base.pixels, "\(entry.name) differs from gray8")
            let darkInk = entry.ink[3] == 255 && Int(entry.ink[0]) + Int(entry.ink[1]) + Int(entry.ink[2]) < 3 * 128
            #expect(digit.wasInverted == darkInk, "\(entry.name): wasInverted \(digit.wasInverted)")
            #expect(digit.hadTransparency == (entry.background[3] == 0), "\(entry.name)")
        }
    }

    @Test("an MNIST-style 28×28 gray PNG passes through byte for byte")
    func passThroughFixture() throws {
        let expected = try PNGFixtures.pgm("mnist-like-28.pgm")
        let image = try PNGCodec.decode(try PNGFixtures.bytes("mnist-like-28.png"), source: "mnist-like")
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(digit.isPassThrough && !digit.isBlank && !digit.wasInverted)
        #expect(digit.pixels == expected.pixels)
        #expect(Set(expected.pixels).count > 50)
    }

    @Test("a 28×28 digit written by our own encoder comes back unchanged")
    func passThroughOwnEncoder() throws {
        let coverage = SyntheticDigit.two.coverage(width: 28, height: 28, x: 4, y: 4, side: 20)
        let pixels = coverage.map { UInt8(($0 * 255).rounded()) }
        let png = try PNGCodec.encodeGray(pixels, width: 28, height: 28)
        let digit = DigitPreprocessor.mnistPixels(from: try PNGCodec.decode(png, source: "own"))
        #expect(digit.isPassThrough)
        #expect(digit.pixels == pixels)
    }

    @Test("a 28×28 dark-on-light digit is not passed through but inverted and reframed")
    func darkOnLight28() throws {
        let image = try inverted(try SyntheticDigit.two.image(width: 28, height: 28, x: 4, y: 4, side: 20))
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(!digit.isPassThrough && digit.wasInverted && !digit.isBlank)
        // The same light-on-dark picture in a 29×29 canvas is not MNIST-sized, so it takes the general path too.
        let light = try SyntheticDigit.two.image(width: 29, height: 29, x: 4, y: 4, side: 20)
        let reference = DigitPreprocessor.mnistPixels(from: light)
        #expect(!reference.isPassThrough)
        #expect(digit.pixels == reference.pixels)
        #expect(digit.boundingBox == reference.boundingBox)
    }

    /// The exact complement of the colour channels (alpha kept).
    private func inverted(_ image: RGBAImage) throws -> RGBAImage {
        var pixels = image.pixels
        for i in pixels.indices where i % 4 != 3 { pixels[i] = 255 - pixels[i] }
        return try RGBAImage(width: image.width, height: image.height, pixels: pixels)
    }

    /// The base: a light '2' on black in a 200×200 canvas.
    private func base() throws -> PreprocessedDigit {
        DigitPreprocessor.mnistPixels(from: try SyntheticDigit.two.image(width: 200, height: 200, x: 30, y: 40, side: 140))
    }

    @Test("black on white gives exactly the white-on-black result")
    func inverted() throws {
        let image = try inverted(try SyntheticDigit.two.image(width: 200, height: 200, x: 30, y: 40, side: 140))
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(digit.wasInverted)
        #expect(digit.pixels == (try base()).pixels)
    }

    @Test("black strokes on a transparent background give the same digit")
    func transparent() throws {
        let image = try SyntheticDigit.two.transparentImage(width: 200, height: 200, x: 30, y: 40, side: 140)
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(digit.hadTransparency && !digit.isBlank)
        let report = DigitCloseness(digit.pixels, try base().pixels)
        #expect(report.maxDifference <= 1, "\(report)")
    }

    @Test("larger, smaller, off-centre and gray-on-gray variants stay close; a different digit does not")
    func variantsStayClose() throws {
        let reference = try base()
        let variants: [(String, RGBAImage)] = [
            ("280×280", try SyntheticDigit.two.image(width: 280, height: 280, x: 40, y: 60, side: 200)),
            ("60×60", try SyntheticDigit.two.image(width: 60, height: 60, x: 9, y: 12, side: 42)),
            ("off-centre in 400×260", try SyntheticDigit.two.image(width: 400, height: 260, x: 240, y: 10, side: 140)),
            ("low contrast gray on gray", try SyntheticDigit.two.image(
                width: 200, height: 200, x: 30, y: 40, side: 140, ink: 90, background: 160)),
        ]
        for (name, image) in variants {
            let digit = DigitPreprocessor.mnistPixels(from: image)
            let report = DigitCloseness(digit.pixels, reference.pixels)
            #expect(report.cosine >= 0.95 && report.centroidDistance <= 0.6, "\(name): \(report)")
        }
        let other = DigitPreprocessor.mnistPixels(
            from: try SyntheticDigit.one.image(width: 200, height: 200, x: 30, y: 40, side: 140))
        let control = DigitCloseness(other.pixels, reference.pixels)
        #expect(control.cosine < 0.7, "a '1' must not look like the '2': \(control)")
    }

    @Test("ink darker or lighter than a mid-gray background is found either way", arguments: [
        (ink: 0.0, background: 110.0, inverted: true),
        (ink: 255.0, background: 160.0, inverted: false),
        (ink: 255.0, background: 128.0, inverted: false),
        (ink: 20.0, background: 200.0, inverted: true),
    ])
    func grayBackgrounds(ink: Double, background: Double, inverted: Bool) throws {
        let image = try SyntheticDigit.two.image(
            width: 200, height: 200, x: 30, y: 40, side: 140, ink: ink, background: background)
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(!digit.isBlank && digit.wasInverted == inverted)
        let report = DigitCloseness(digit.pixels, try base().pixels)
        #expect(report.cosine >= 0.95 && report.centroidDistance <= 0.6, "\(report)")
    }

    @Test("the result follows the MNIST frame: 20-pixel box, centre of mass at (14, 14)")
    func mnistFrame() throws {
        for (x, y, side) in [(30.0, 40.0, 140.0), (5, 100, 60), (120, 3, 77)] {
            let digit = DigitPreprocessor.mnistPixels(
                from: try SyntheticDigit.two.image(width: 200, height: 200, x: x, y: y, side: side))
            var minX = 28, maxX = -1, minY = 28, maxY = -1
            for (i, v) in digit.pixels.enumerated() where v > 0 {
                minX = min(minX, i % 28)
                maxX = max(maxX, i % 28)
                minY = min(minY, i / 28)
                maxY = max(maxY, i / 28)
            }
            #expect(max(maxX - minX + 1, maxY - minY + 1) == 20)
            let center = centerOfMass(digit.pixels)
            #expect(abs(center.x - 14) <= 0.5 && abs(center.y - 14) <= 0.5, "centre \(center)")
            #expect(digit.pixels.max() == 255)
        }
    }

    @Test("blank pictures are flagged and all zero")
    func blank() throws {
        var generator = SplitMix(seed: 11)
        let white = try RGBAImage(width: 50, height: 40, gray: [UInt8](repeating: 255, count: 2000))
        let noisy = try RGBAImage(
            width: 64, height: 64, gray: (0..<4096).map { _ in UInt8(200 + generator.next() % 12) })
        let black28 = try RGBAImage(width: 28, height: 28, gray: [UInt8](repeating: 0, count: 784))
        let clear = try RGBAImage(width: 30, height: 30, pixels: [UInt8](repeating: 0, count: 3600))
        var speck = [UInt8](repeating: 255, count: 300 * 300)
        speck[150 * 300 + 150] = 0
        let speckImage = try RGBAImage(width: 300, height: 300, gray: speck)
        let onePixel = try RGBAImage(width: 1, height: 1, gray: [128])
        for (name, image) in [
            ("white", white), ("noise", noisy), ("black 28×28", black28), ("transparent", clear),
            ("one speck", speckImage), ("1×1", onePixel),
        ] {
            let digit = DigitPreprocessor.mnistPixels(from: image)
            #expect(digit.isBlank, "\(name)")
            #expect(digit.pixels == [UInt8](repeating: 0, count: 784), "\(name)")
            #expect(digit.boundingBox == nil, "\(name)")
        }
    }

    @Test("transparent pixels on an opaque background take the background's colour")
    func transparentHoles() throws {
        let solid = try SyntheticDigit.two.image(width: 100, height: 100, x: 15, y: 20, side: 70, ink: 0, background: 255)
        var pixels = solid.pixels
        for y in 0..<8 {
            for x in 0..<8 { pixels[4 * (y * 100 + x) + 3] = 0 }
        }
        let image = try RGBAImage(width: 100, height: 100, pixels: pixels)
        let digit = DigitPreprocessor.mnistPixels(from: image)
        #expect(digit.hadTransparency && digit.wasInverted)
        let opaque = DigitPreprocessor.mnistPixels(
            from: try SyntheticDigit.two.image(width: 100, height: 100, x: 15, y: 20, side: 70, ink: 0, background: 255))
        #expect(digit.pixels == opaque.pixels)
    }
}
