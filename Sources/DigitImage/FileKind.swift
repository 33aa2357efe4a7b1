// What a file is, from its first bytes: the image formats the decoders read, and the files people give by
// mistake (an archive, a PDF, a checkpoint, text), so a refusal can say what was found.

/// The kind of a file, told from its magic bytes.
public enum FileKind: Sendable, Equatable {
    /// A PNG (the 8-byte signature).
    case png
    /// A JPEG (FF D8 FF).
    case jpeg
    /// Anything else; `description` says what it is ("a gzip file", "a PDF", "text"...).
    case other(description: String)

    /// The kind of `bytes` (only the first 512 bytes are looked at).
    public static func of<C: Collection>(_ bytes: C) -> FileKind where C.Element == UInt8 {
        let head = Array(bytes.prefix(512))
        func starts(_ prefix: [UInt8]) -> Bool { head.count >= prefix.count && Array(head.prefix(prefix.count)) == prefix }
        func starts(_ text: String) -> Bool { starts(Array(text.utf8)) }
        if head.isEmpty { return .other(description: "empty") }
        if starts(PNGCodec.signature) { return .png }
        if starts(JPEGCodec.signature) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return .other(description: "a PNG with a damaged signature (text-mode transfer?)") }
        if starts("GIF87a") || starts("GIF89a") { return .other(description: "a GIF image") }
        if starts("BM"), head.count >= 14 { return .other(description: "a BMP image") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .other(description: "a TIFF image") }
        if head.count >= 12, starts("RIFF"), Array(head[8..<12]) == Array("WEBP".utf8) { return .other(description: "a WebP image") }
        if head.count >= 12, Array(head[4..<8]) == Array("ftyp".utf8) {
            let brand = String(decoding: head[8..<12], as: UTF8.self)
            if ["heic", "heix", "hevc", "mif1", "msf1"].contains(brand) { return .other(description: "a HEIC/HEIF image") }
            if brand.hasPrefix("avi") { return .other(description: "an AVIF image") }
            return .other(description: "an ISO media file (\(brand))")
        }
        if starts([0x00, 0x00, 0x01, 0x00]) { return .other(description: "an ICO icon") }
        if starts([0x1F, 0x8B]) { return .other(description: "a gzip file") }
        if starts("%PDF") { return .other(description: "a PDF") }
        if starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) {
            return .other(description: "a zip archive")
        }
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) { return .other(description: "a Python pickle") }
        if starts("BZh") { return .other(description: "a bzip2 file") }
        if starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return .other(description: "an xz file") }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) { return .other(description: "a zstd file") }
        if starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) { return .other(description: "a 7z archive") }
        if starts([0x7F, 0x45, 0x4C, 0x46]) { return .other(description: "an ELF executable") }
        if starts([0x00, 0x00, 0x08]), head.count >= 4, (1...3).contains(head[3]) {
            return .other(description: "an MNIST IDX file")
        }
        if head.count >= 9, head[8] == UInt8(ascii: "{"), head[4..<8].allSatisfy({ $0 == 0 }) {
            return .other(description: "a safetensors file")
        }
        if isText(head) {
            let lower = String(decoding: head.prefix(100), as: UTF8.self).lowercased()
            if lower.contains("<svg") || lower.hasPrefix("<?xml") { return .other(description: "an SVG/XML file") }
            if lower.hasPrefix("<!doctype html") || lower.hasPrefix("<html") { return .other(description: "an HTML page") }
            return .other(description: "text")
        }
        return .other(description: "of an unknown kind")
    }

    /// True when `head` is UTF-8 text: no control character but tab, line feed, form feed and carriage return,
    /// and valid UTF-8 (a character cut by the end of `head` allowed).
    private static func isText(_ head: [UInt8]) -> Bool {
        guard head.allSatisfy({ ($0 >= 0x20 && $0 != 0x7F) || [0x09, 0x0A, 0x0C, 0x0D].contains($0) }) else { return false }
        for cut in 0...min(3, head.count - 1) where !String(decoding: head.dropLast(cut), as: UTF8.self).contains("\u{FFFD}") {
            return true
        }
        return false
    }
}
