// Inputs the fuzzer (Fuzz/, target png) found to crash the decoder, kept as regressions.
import DigitImage
import Testing

@Suite struct PNGFuzzFindingsTests {
    /// A PNG whose IHDR says `width × height`, from a valid 28×1 gray PNG (libpng is never reached).
    private func png(width: UInt32, height: UInt32) throws -> [UInt8] {
        var bytes = try PNGCodec.encodeGray([UInt8](repeating: 200, count: 28), width: 28, height: 1)
        for (offset, value) in [(16, width), (20, height)] {
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (3 - i))) }
        }
        return bytes
    }

    /// Found by the png target: a side of 0 with the other side above `longestSide` hit AreaReducer's
    /// precondition (a crash) instead of an error.
    @Test("a zero side in IHDR is a corrupt PNG, also when the other side would be reduced",
          arguments: [(28, 0), (0, 28), (0, 0), (600, 0)])
    func zeroSideIsRefused(width: UInt32, height: UInt32) throws {
        let bytes = try png(width: width, height: height)
        let expected = PNGError.corrupt(
            source: "zero", reason: "IHDR declares \(width)×\(height) pixels, expected both sides at least 1")
        #expect(throws: expected) { try PNGCodec.decodeReduced(bytes, source: "zero", longestSide: 8) }
        #expect(throws: expected) { try PNGCodec.decodeReduced(bytes, source: "zero") }
        #expect(throws: expected) { try PNGCodec.decode(bytes, source: "zero") }
    }

    /// A chunk type that is not four letters (random bytes after the signature: a line feed, an escape, invalid
    /// UTF-8) was put into the message as it was, breaking the one-line error.
    @Test("a chunk type that is not four letters is named by its bytes in hex, on one printable line")
    func chunkTypeInHex() throws {
        var bytes = try png(width: 28, height: 1)
        bytes.replaceSubrange(12..<16, with: [0x63, 0x0A, 0x1B, 0xFF])
        let expected = PNGError.corrupt(
            source: "odd", reason: "first chunk is [63 0a 1b ff] of length 13, expected IHDR of length 13")
        #expect(throws: expected) { try PNGCodec.decode(bytes, source: "odd") }
        let message = String(describing: expected)
        #expect(!message.unicodeScalars.contains { $0.properties.generalCategory == .control || $0 == "\u{FFFD}" }, "\(message)")
    }
}
