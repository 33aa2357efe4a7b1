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
}
