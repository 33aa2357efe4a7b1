// Decoding every PNG colour type, bit depth and interlacing (fixtures written by an independent Python encoder),
// encoder round trips, and typed errors for bad files.
import DigitImage
import Foundation
import Testing

/// CRC-32 of PNG chunks (ISO 3309), to build headers in tests.
private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return crc ^ 0xFFFF_FFFF
}

private func bigEndian(_ v: UInt32) -> [UInt8] {
    [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
}

private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
}

/// A syntactically complete PNG whose header declares `width × height` 8-bit gray pixels but whose IDAT is
/// a tiny (empty) zlib stream.
private func headerOnlyPNG(width: UInt32, height: UInt32) -> [UInt8] {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    let ihdr = bigEndian(width) + bigEndian(height) + [8, 0, 0, 0, 0]
    return signature + chunk("IHDR", ihdr) + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
        + chunk("IEND", [])
}

@Suite("PNG decoding and encoding")
struct PNGCodecTests {
    @Test("fixtures cover every colour type, bit depth, tRNS and Adam7")
    func fixtureCoverage() {
        let entries = PNGFixtures.manifest().filter { $0.ink != nil }
        #expect(entries.count == 36)
        let kinds = Set(entries.map { "\($0.colorType)/\($0.bitDepth)" })
        let expected: Set<String> = [
            "0/1", "0/2", "0/4", "0/8", "0/16", "4/8", "4/16", "2/8", "2/16", "6/8", "6/16",
            "3/1", "3/2", "3/4", "3/8",
        ]
        #expect(kinds == expected)
        #expect(entries.filter(\.interlaced).count == 18)
    }

    @Test("each fixture decodes to its ink and background colours on the digit mask", arguments: PNGFixtures.twoTone())
    func decodesFixture(_ entry: PNGFixtures.TwoTone) throws {
        let mask = try PNGFixtures.pgm("digit-mask.pgm")
        let image = try PNGCodec.decode(try PNGFixtures.bytes(entry.name + ".png"), source: entry.name)
        #expect(image.width == mask.width && image.height == mask.height)
        var mismatches = 0
        var first: String?
        for i in 0..<(mask.width * mask.height) {
            let want = mask.pixels[i] > 0 ? entry.ink : entry.background
            let got = Array(image.pixels[(4 * i)..<(4 * i + 4)])
            // A fully transparent pixel's colour is undefined (libpng may zero it); only its alpha counts.
            let ok = want[3] == 0 ? got[3] == 0 : got == want
            if !ok {
                mismatches += 1
                if first == nil { first = "pixel \(i): got \(got), expected \(want)" }
            }
        }
        #expect(mismatches == 0, "\(entry.name): \(mismatches) pixels differ; first \(first ?? "")")
    }

    @Test("gray, RGB and RGBA encodings round-trip byte for byte")
    func encodeRoundTrip() throws {
        var generator = SplitMix(seed: 3)
        let width = 23, height = 17
        let gray = (0..<(width * height)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let rgb = (0..<(width * height * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let rgba = (0..<(width * height * 4)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }

        let fromGray = try PNGCodec.decode(try PNGCodec.encodeGray(gray, width: width, height: height), source: "gray")
        #expect(fromGray == (try RGBAImage(width: width, height: height, gray: gray)))

        let fromRGB = try PNGCodec.decode(try PNGCodec.encodeRGB(rgb, width: width, height: height), source: "rgb")
        var expectedRGB = [UInt8]()
        for i in 0..<(width * height) { expectedRGB += rgb[(3 * i)..<(3 * i + 3)] + [255] }
        #expect(fromRGB.pixels == expectedRGB)

        let fromRGBA = try PNGCodec.decode(try PNGCodec.encodeRGBA(rgba, width: width, height: height), source: "rgba")
        #expect(fromRGBA.width == width && fromRGBA.height == height)
        #expect(fromRGBA.pixels == rgba)
    }

    @Test("the encoder writes the colour type asked for")
    func encodedColourType() throws {
        let pixels = [UInt8](repeating: 7, count: 12)
        // IHDR starts at byte 8 + 8; colour type is its 10th byte.
        #expect(try PNGCodec.encodeGray(pixels, width: 4, height: 3)[25] == 0)
        #expect(try PNGCodec.encodeRGB(pixels, width: 2, height: 2)[25] == 2)
        #expect(try PNGCodec.encodeRGBA(pixels, width: 3, height: 1)[25] == 6)
    }

    @Test("wrong pixel counts are typed errors")
    func pixelCountMismatch() {
        #expect(throws: PNGError.pixelCountMismatch(width: 4, height: 4, channels: 1, found: 15)) {
            try PNGCodec.encodeGray([UInt8](repeating: 0, count: 15), width: 4, height: 4)
        }
        #expect(throws: PNGError.pixelCountMismatch(width: 2, height: 2, channels: 4, found: 12)) {
            try RGBAImage(width: 2, height: 2, pixels: [UInt8](repeating: 0, count: 12))
        }
        #expect(throws: PNGError.self) { try RGBAImage(width: 0, height: 5, gray: []) }
    }

    @Test("empty, JPEG, GIF and random bytes are not PNG")
    func notPNG() throws {
        #expect(throws: PNGError.empty(source: "e.png")) { try PNGCodec.decode([], source: "e.png") }

        let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00]
        let jpegError = #expect(throws: PNGError.self) { try PNGCodec.decode(jpeg, source: "photo.png") }
        #expect(jpegError == .notPNG(source: "photo.png", detectedFormat: "JPEG", firstBytes: Array(jpeg.prefix(8))))
        #expect(jpegError?.description.contains("photo.png") == true)
        #expect(jpegError?.description.contains("JPEG") == true)

        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0]
        let gifError = #expect(throws: PNGError.self) { try PNGCodec.decode(gif, source: "a.gif") }
        if case .notPNG(_, let format, _) = gifError {
            #expect(format == "GIF")
        } else {
            Issue.record("expected notPNG, got \(String(describing: gifError))")
        }

        var generator = SplitMix(seed: 7)
        let random = (0..<500).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        let randomError = #expect(throws: PNGError.self) { try PNGCodec.decode(random, source: "noise.bin") }
        if case .notPNG(let source, let format, let first) = randomError {
            #expect(source == "noise.bin" && format == nil && first == Array(random.prefix(8)))
        } else {
            Issue.record("expected notPNG, got \(String(describing: randomError))")
        }
    }

    @Test("a PNG cut short is reported as truncated, at any cut")
    func truncated() throws {
        let bytes = try PNGFixtures.bytes("gray8.png")
        for cut in [9, 20, 33, 40, bytes.count / 2, bytes.count - 13, bytes.count - 1] {
            let error = #expect(throws: PNGError.self) { try PNGCodec.decode(Array(bytes.prefix(cut)), source: "cut.png") }
            guard case .truncated(let source, let count, _) = error else {
                Issue.record("cut at \(cut): expected truncated, got \(String(describing: error))")
                continue
            }
            #expect(source == "cut.png" && count == cut)
        }
    }

    @Test("a damaged IDAT, a bad CRC or a wrong first chunk is a corrupt-file error with libpng's message")
    func corrupt() throws {
        let original = try PNGFixtures.bytes("rgb8.png")
        // The IDAT length and type follow the signature and the 25-byte IHDR chunk.
        let idat = 8 + 25 + 8
        #expect(Array(original[(idat - 4)..<idat]) == Array("IDAT".utf8))
        let idatLength = Int(original[idat - 8]) << 24 | Int(original[idat - 7]) << 16
            | Int(original[idat - 6]) << 8 | Int(original[idat - 5])

        var payload = original
        payload[idat + 10] ^= 0x55
        var crc = original
        crc[idat + idatLength] ^= 0x01
        var noHeader = original
        noHeader[12] = UInt8(ascii: "X")
        for (name, bytes, word) in [("payload", payload, "idat"), ("crc", crc, "crc"), ("header", noHeader, "ihdr")] {
            let error = #expect(throws: PNGError.self) { try PNGCodec.decode(bytes, source: "bad.png") }
            guard case .corrupt(let source, let reason) = error else {
                Issue.record("\(name): expected corrupt, got \(String(describing: error))")
                continue
            }
            #expect(source == "bad.png")
            #expect(reason.lowercased().contains(word), "\(name): \(reason)")
        }
    }

    @Test("absurd dimensions are refused before allocating")
    func tooLarge() {
        let budget = PNGCodec.defaultMaximumPixelCount
        for (w, h) in [(UInt32(20_000), UInt32(10)), (10, 16_385), (10_000, 10_000), (4097, 4096)] {
            let error = #expect(throws: PNGError.self) {
                try PNGCodec.decode(headerOnlyPNG(width: w, height: h), source: "big.png")
            }
            #expect(error == .tooLarge(
                source: "big.png", width: Int(w), height: Int(h), maximumSide: 16_384, maximumPixelCount: budget))
        }
        // A budget of 100 pixels refuses 11×10; a larger one admits 16384×16384's header.
        let small = #expect(throws: PNGError.self) {
            try PNGCodec.decode(headerOnlyPNG(width: 11, height: 10), source: "s.png", maximumPixelCount: 100)
        }
        #expect(small == .tooLarge(source: "s.png", width: 11, height: 10, maximumSide: 16_384, maximumPixelCount: 100))
        // Just inside the limits the header is accepted and the missing data is what fails.
        for (w, h, budget) in [(300, 200, budget), (4096, 4096, budget), (16_384, 16_384, 16_384 * 16_384)] {
            let error = #expect(throws: PNGError.self) {
                try PNGCodec.decodeReduced(
                    headerOnlyPNG(width: UInt32(w), height: UInt32(h)), source: "short.png", maximumPixelCount: budget)
            }
            if case .corrupt = error {} else {
                Issue.record("\(w)×\(h): expected corrupt, got \(String(describing: error))")
            }
        }
    }
}

/// A tiny deterministic generator for test bytes (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("PNG warnings")
struct PNGWarningTests {
    @Test("a damaged ancillary chunk is skipped with libpng's warning, the image still decodes")
    func ancillaryWarning() throws {
        let original = try PNGFixtures.bytes("gray8.png")
        // A tEXt chunk with a wrong CRC, inserted right after IHDR (8 + 25 bytes).
        let text = Array("Comment".utf8) + [0] + Array("hello".utf8)
        let length: [UInt8] = [0, 0, 0, UInt8(text.count)]
        let bad = length + Array("tEXt".utf8) + text + [0xDE, 0xAD, 0xBE, 0xEF]
        let bytes = Array(original[0..<33]) + bad + Array(original[33...])
        let (image, warning) = try PNGCodec.decodeReportingWarning(bytes, source: "text.png")
        #expect(image == (try PNGCodec.decode(original, source: "gray8.png")))
        #expect(warning?.lowercased().contains("crc") == true, "warning: \(String(describing: warning))")
        #expect(try PNGCodec.decodeReportingWarning(original, source: "gray8.png").warning == nil)
    }
}
