// Real gray levels, not just 0 and 255: ramps through every level of every colour type and bit depth, plain
// and Adam7, must decode to exactly what pypng decodes from the same files (scripts/make_png_fixtures.py
// writes both); every 16-bit value must become round(v / 257).
import DigitImage
import Foundation
import Testing

@Suite("PNG ramps against pypng")
struct PNGRampTests {
    @Test("the ramps cover every colour type and bit depth, with and without tRNS, plain and Adam7")
    func rampCoverage() {
        let ramps = PNGFixtures.ramps().filter { $0.name.hasPrefix("ramp-") }
        let kinds = Set(ramps.map { "\($0.colorType)/\($0.bitDepth)/\($0.interlaced)" })
        var expected = Set<String>()
        for (type, depths) in [(0, [1, 2, 4, 8, 16]), (4, [8, 16]), (2, [8, 16]), (6, [8, 16]), (3, [1, 2, 4, 8])] {
            for depth in depths {
                expected.insert("\(type)/\(depth)/false")
                expected.insert("\(type)/\(depth)/true")
            }
        }
        #expect(kinds == expected)
        #expect(ramps.count == 52)
        // Each gray and RGB depth, and each palette depth, also has a tRNS variant in both layouts.
        #expect(ramps.filter { $0.name.contains("-trns") }.count == 2 * (5 + 2 + 4))
    }

    @Test("each ramp decodes to pypng's bytes, every pixel and channel", arguments: PNGFixtures.ramps())
    func rampMatchesPypng(_ entry: PNGFixtures.Entry) throws {
        let expected = try PNGFixtures.pam(try #require(entry.expected))
        let image = try PNGCodec.decode(try PNGFixtures.bytes(entry.name + ".png"), source: entry.name)
        try #require(image.width == expected.width && image.height == expected.height)
        var wrong = 0
        var first: String?
        for i in 0..<(image.width * image.height) {
            let got = Array(image.pixels[(4 * i)..<(4 * i + 4)])
            let want = Array(expected.pixels[(4 * i)..<(4 * i + 4)])
            if got != want {
                wrong += 1
                if first == nil { first = "pixel (\(i % image.width), \(i / image.width)): \(got), pypng \(want)" }
            }
        }
        #expect(wrong == 0, "\(entry.name): \(wrong) pixels differ from pypng; first \(first ?? "")")
    }

    @Test("the ramps are real ramps: every 8-bit level appears in the 8- and 16-bit gray ones")
    func rampsHoldEveryLevel() throws {
        for name in ["ramp-gray8", "ramp-gray16", "ramp-gray16-adam7"] {
            let image = try PNGCodec.decode(try PNGFixtures.bytes(name + ".png"), source: name)
            let levels = Set(stride(from: 0, to: image.pixels.count, by: 4).map { image.pixels[$0] })
            #expect(levels.count == 256, "\(name): \(levels.count) distinct gray levels")
        }
    }

    @Test(
        "every 16-bit gray value v decodes to round(v / 257), plain and Adam7",
        arguments: ["gray16-all", "gray16-all-adam7"])
    func every16BitValue(_ name: String) throws {
        let image = try PNGCodec.decode(try PNGFixtures.bytes(name + ".png"), source: name)
        try #require(image.width == 256 && image.height == 256)
        var wrong: [Int] = []
        for v in 0..<65536 {
            // v / 257 is never exactly k + 1/2 (257 is odd), so rounding has no ties.
            let want = UInt8((Double(v) / 257).rounded())
            let p = Array(image.pixels[(4 * v)..<(4 * v + 4)])
            if p != [want, want, want, 255] { wrong.append(v) }
        }
        let levels = Set(wrong.map { (Double($0) / 257).rounded() })
        #expect(
            wrong.isEmpty,
            "\(name): \(wrong.count) values wrong (\(levels.count) of 256 levels), first \(wrong.prefix(5))")
    }
}
