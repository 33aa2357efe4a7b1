// JPEG decoding against Pillow's decode of the same files (scripts/make_jpeg_fixtures.py writes both; Pillow
// bundles libjpeg-turbo 3.2, Debian's is 2.1.5): gray, 4:2:0, 4:4:4, progressive, CMYK, EXIF orientations,
// DCT-scaled large photos. Tolerance per fixture in jpeg-manifest.json: 0 levels for libjpeg's own output,
// 1 after area averaging.
import DigitImage
import Foundation
import Testing

enum JPEGFixtures {
    struct Entry: Decodable, Sendable, CustomStringConvertible {
        var name: String
        var expected: String
        var scaleNumerator: Int
        var tolerance: Int
        var orientation: Int
        var description: String { name }
    }

    static func manifest() -> [Entry] {
        guard let data = try? Data(contentsOf: PNGFixtures.directory.appendingPathComponent("jpeg-manifest.json")),
            let entries = try? JSONDecoder().decode([Entry].self, from: data)
        else { return [] }
        return entries
    }
}

@Suite("JPEG decoding against Pillow")
struct JPEGCodecTests {
    @Test("the fixtures cover gray, YCbCr 4:2:0 and 4:4:4, progressive, CMYK, the seven EXIF turns and both scaled paths")
    func coverage() throws {
        let entries = JPEGFixtures.manifest()
        #expect(entries.count == 14)
        #expect(Set(entries.map(\.orientation)) == Set(1...8))
        #expect(Set(entries.map(\.scaleNumerator)) == [8, 4, 2])
        var spaces = Set<String>()
        for entry in entries {
            let decoded = try JPEGCodec.decodeReduced(try PNGFixtures.bytes(entry.name), source: entry.name)
            spaces.insert(decoded.colorSpace + (decoded.isProgressive ? " progressive" : ""))
        }
        #expect(spaces == ["gray", "YCbCr", "YCbCr progressive", "CMYK"])
    }

    @Test("each fixture decodes to Pillow's pixels within the stated tolerance", arguments: JPEGFixtures.manifest())
    func matchesPillow(_ entry: JPEGFixtures.Entry) throws {
        let decoded = try JPEGCodec.decodeReduced(try PNGFixtures.bytes(entry.name), source: entry.name)
        let expected = try PNGCodec.decode(try PNGFixtures.bytes(entry.expected), source: entry.expected)
        #expect(decoded.scaleNumerator == entry.scaleNumerator)
        #expect(decoded.orientation == entry.orientation)
        #expect(decoded.warning == nil)
        try #require(decoded.image.width == expected.width && decoded.image.height == expected.height,
                     "\(entry.name): \(decoded.image.width)×\(decoded.image.height), Pillow \(expected.width)×\(expected.height)")
        var worst = 0, differing = 0
        for (a, b) in zip(decoded.image.pixels, expected.pixels) {
            let d = abs(Int(a) - Int(b))
            worst = max(worst, d)
            if d > 0 { differing += 1 }
        }
        #expect(worst <= entry.tolerance, "\(entry.name): \(differing) samples differ, by up to \(worst)")
        // Not a constant picture: the comparison above can fail.
        #expect(Set(expected.pixels).count > 20)
    }

    @Test("a small JPEG is prepared exactly as its Pillow-decoded pixels would be")
    func preprocessingOfSmallJPEG() throws {
        let decoded = try ImageDecoder.decodeReduced(try PNGFixtures.bytes("jpeg-gray.jpg"), source: "gray")
        let reference = try PNGCodec.decode(try PNGFixtures.bytes("jpeg-gray-expected.png"), source: "ref")
        #expect(decoded.format == .jpeg)
        #expect(decoded.image == reference)
        let digit = DigitPreprocessor.mnistPixels(from: decoded.image)
        #expect(!digit.isBlank && digit.wasInverted)
        #expect(digit == DigitPreprocessor.mnistPixels(from: reference))
    }

    @Test("libjpeg's DCT scale: full size up to the longest side, then the smallest n/8 that keeps it")
    func scaleChoice() {
        #expect(JPEGCodec.scaleNumerator(longer: 512, longestSide: 512) == 8)
        #expect(JPEGCodec.scaleNumerator(longer: 513, longestSide: 512) == 8)
        #expect(JPEGCodec.scaleNumerator(longer: 1100, longestSide: 512) == 4)
        #expect(JPEGCodec.scaleNumerator(longer: 1366, longestSide: 512) == 3)
        #expect(JPEGCodec.scaleNumerator(longer: 2048, longestSide: 512) == 2)
        #expect(JPEGCodec.scaleNumerator(longer: 4032, longestSide: 512) == 2)
        #expect(JPEGCodec.scaleNumerator(longer: 4096, longestSide: 512) == 1)
        #expect(JPEGCodec.scaleNumerator(longer: 16384, longestSide: 512) == 1)
    }

    @Test("the pixel budget is checked from the header: 2048×1536 is one pixel over a budget of 3,145,727")
    func budget() throws {
        let bytes = try PNGFixtures.bytes("jpeg-large-2048.jpg")
        let budget = 2048 * 1536 - 1
        do {
            _ = try JPEGCodec.decodeReduced(bytes, source: "big.jpg", maximumPixelCount: budget)
            Issue.record("decoded over the budget")
        } catch let error as JPEGError {
            #expect(error == .tooLarge(source: "big.jpg", width: 2048, height: 1536, maximumSide: 16_384, maximumPixelCount: budget))
        }
        let fits = try JPEGCodec.decodeReduced(bytes, source: "big.jpg", maximumPixelCount: 2048 * 1536)
        #expect(fits.image.width == 512 && fits.sourceWidth == 2048 && fits.sourceHeight == 1536)
    }

    @Test("a file cut short is a truncated JPEG, not a picture padded with gray")
    func truncated() throws {
        let bytes = try PNGFixtures.bytes("jpeg-truncated.jpg")
        #expect(throws: JPEGError.truncated(source: "cut.jpg", byteCount: bytes.count)) {
            try JPEGCodec.decodeReduced(bytes, source: "cut.jpg")
        }
        #expect(JPEGError.truncated(source: "cut.jpg", byteCount: 864).description
            == "cut.jpg: truncated JPEG, the file ends after 864 bytes before its image data does")
    }

    @Test("libjpeg's errors come back as JPEGError with its message (the process goes on)",
          arguments: [
            ([0xFF, 0xD8, 0xFF], "truncated JPEG"),
            ([0xFF, 0xD8, 0xFF, 0xD9], "JPEG datastream contains no image"),
            ([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x10, 0x00, 0x10, 0x02, 0x01, 0x11, 0x00, 0x02, 0x11, 0x00], "Bogus marker length"),
            ([0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x00, 0x00, 0x10, 0x01, 0x01, 0x11, 0x00], "Empty JPEG image"),
          ] as [([UInt8], String)])
    func corrupt(_ bytes: [UInt8], _ message: String) {
        do {
            _ = try JPEGCodec.decodeReduced(bytes, source: "bad.jpg")
            Issue.record("decoded a broken JPEG")
        } catch let error as JPEGError {
            #expect(error.description.hasPrefix("bad.jpg: "))
            #expect(error.description.contains(message), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a progressive file of more than 500 scans is refused (its last scan repeated 600 times)")
    func scanLimit() throws {
        let bytes = try PNGFixtures.bytes("jpeg-progressive.jpg")
        let scans = scanRanges(bytes)
        try #require(scans.count >= 5)
        let last = scans[scans.count - 1]
        var many = Array(bytes[..<last.upperBound])
        for _ in 0..<600 { many += bytes[last] }
        many += [0xFF, 0xD9]
        #expect(throws: JPEGError.corrupt(source: "many.jpg", reason: "the file has more than 500 scans")) {
            try JPEGCodec.decodeReduced(many, source: "many.jpg")
        }
        // The same file with its last scan once more decodes (libjpeg warns about the bogus progression).
        let once = Array(bytes[..<last.upperBound]) + bytes[last] + [0xFF, 0xD9]
        let decoded = try JPEGCodec.decodeReduced(once, source: "twice.jpg")
        #expect(decoded.image.width == 61 && decoded.warning != nil)
    }

    @Test("EXIF orientation: a TIFF cut short or with a bad value reads as 1")
    func exifParsing() {
        func orientation(_ bytes: [UInt8]) -> Int { bytes.withUnsafeBufferPointer { ExifOrientation.orientation(inTIFF: $0) } }
        let entry: [UInt8] = [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00]
        let little: [UInt8] = [0x49, 0x49, 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00] + entry
        #expect(orientation(little) == 6)
        #expect(orientation(Array(little.prefix(little.count - 4))) == 1)
        let big: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08, 0x00, 0x01,
                            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x08, 0x00, 0x00]
        #expect(orientation(big) == 8)
        var nine = little
        nine[18] = 9
        #expect(orientation(nine) == 1)
        var farIFD = little
        farIFD[4] = 0xFF
        #expect(orientation(farIFD) == 1)
    }

    /// The byte ranges of each scan (SOS marker through its entropy-coded data) of a JPEG.
    private func scanRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xD9 { break }
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            var end = i + 2 + length
            if marker == 0xDA {
                while end + 1 < bytes.count, !(bytes[end] == 0xFF && bytes[end + 1] != 0 && !(0xD0...0xD7).contains(bytes[end + 1])) {
                    end += 1
                }
                ranges.append(i..<end)
            }
            i = end
        }
        return ranges
    }
}

@Suite("Telling files apart by their magic bytes")
struct FileKindTests {
    @Test("what a file that is not an image is", arguments: [
        ([0x1F, 0x8B, 0x08, 0x00], "a gzip file"),
        (Array("%PDF-1.7\n".utf8), "a PDF"),
        ([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00], "a zip archive"),
        ([0x80, 0x02, 0x7D, 0x71], "a Python pickle"),
        (Array("hello, world\n".utf8), "text"),
        (Array("<svg xmlns=\"http://www.w3.org/2000/svg\">".utf8), "an SVG/XML file"),
        (Array("GIF89a".utf8) + [0, 0], "a GIF image"),
        (Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBP".utf8), "a WebP image"),
        ([0, 0, 0, 0x18] + Array("ftypheic".utf8), "a HEIC/HEIF image"),
        ([0x00, 0x00, 0x08, 0x03, 0, 0, 0x27, 0x10], "an MNIST IDX file"),
        ([0xC3, 0x28, 0x00, 0x01, 0x02], "of an unknown kind"),
    ] as [([UInt8], String)])
    func others(_ bytes: [UInt8], _ kind: String) {
        #expect(FileKind.of(bytes) == .other(description: kind))
        #expect(throws: NotAnImageError(source: "f", kind: kind, firstBytes: Array(bytes.prefix(8)))) {
            try ImageDecoder.decodeReduced(bytes, source: "f")
        }
    }

    @Test("PNG and JPEG are recognised; the messages name the kind and the first bytes")
    func images() throws {
        #expect(FileKind.of(try PNGFixtures.bytes("jpeg-gray.jpg")) == .jpeg)
        #expect(FileKind.of(try PNGFixtures.bytes("jpeg-gray-expected.png")) == .png)
        #expect(NotAnImageError(source: "a.gz", kind: "a gzip file", firstBytes: [0x1F, 0x8B, 0x08, 0x00]).description
            == "a.gz: is a gzip file, expected a PNG or JPEG image (first bytes 1f 8b 08 00)")
        #expect(NotAnImageError(source: "e", kind: "empty", firstBytes: []).description
            == "e: is empty, expected a PNG or JPEG image")
        #expect(FileKind.of([UInt8]()) == .other(description: "empty"))
    }
}
