// The container checks that run before libpng sees a file: signature, chunk walk up to IEND, IHDR first,
// so a cut or mislabelled file gets a precise message rather than libpng's generic one.

extension PNGCodec {
    /// Checks the signature and walks the chunk list up to IEND, so a cut file is reported as truncated (with
    /// the chunk it ends in) rather than with libpng's generic message. CRCs and contents are left to libpng.
    static func checkContainer(_ bytes: [UInt8], source: String) throws {
        guard !bytes.isEmpty else { throw PNGError.empty(source: source) }
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
            throw PNGError.notPNG(
                source: source, detectedFormat: otherFormat(bytes), firstBytes: Array(bytes.prefix(8)))
        }
        var offset = 8
        var lastChunk: String?
        while true {
            guard offset + 8 <= bytes.count else {
                throw PNGError.truncated(source: source, byteCount: bytes.count, inChunk: nil)
            }
            let length =
                Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8
                | Int(bytes[offset + 3])
            let type = chunkName(bytes[(offset + 4)..<(offset + 8)])
            lastChunk = type
            guard length <= Int(Int32.max) else {
                throw PNGError.corrupt(
                    source: source, reason: "chunk \(type) declares length \(length), more than 2^31 − 1")
            }
            if offset == 8, type != "IHDR" || length != 13 {
                throw PNGError.corrupt(
                    source: source,
                    reason: "first chunk is \(type) of length \(length), expected IHDR of length 13")
            }
            let end = offset + 12 + length
            guard end <= bytes.count else {
                throw PNGError.truncated(source: source, byteCount: bytes.count, inChunk: lastChunk)
            }
            if type == "IEND" { return }
            offset = end
        }
    }

    /// A chunk's type for a message: its four letters (PNG's chunk types are ASCII letters), or, when the bytes are
    /// anything else, their hex in brackets (`[63 75 0a ff]`), so that a damaged file cannot put a line break,
    /// a control character or invalid UTF-8 into the one-line error.
    static func chunkName(_ type: ArraySlice<UInt8>) -> String {
        func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        if type.allSatisfy(isLetter) { return String(decoding: type, as: UTF8.self) }
        return "[" + type.map { String($0, radix: 16).leftPaddedHex }.joined(separator: " ") + "]"
    }

    private static func otherFormat(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes.prefix(prefix.count)) == prefix }
        if starts([0xFF, 0xD8, 0xFF]) { return "JPEG" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "GIF" }
        if starts(Array("BM".utf8)) { return "BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "TIFF" }
        if bytes.count >= 12, starts(Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return "WebP"
        }
        if starts([0x00, 0x00, 0x01, 0x00]) { return "ICO" }
        if starts(Array("<svg".utf8)) || starts(Array("<?xml".utf8)) { return "SVG/XML" }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG with a damaged signature (text-mode transfer?)" }
        return nil
    }

    /// Width and height from IHDR (bytes 16..<24), once `checkContainer` has passed.
    static func headerSize(_ bytes: [UInt8]) -> (width: Int, height: Int) {
        func bigEndian(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (bigEndian(16), bigEndian(20))
    }
}

private extension String {
    /// Two hex digits: a leading 0 for a single one.
    var leftPaddedHex: String { count == 1 ? "0" + self : self }
}
