// Errors from reading IDX files. Each message is one line that names the file, what is wrong,
// and the expected and found values, so a bad --data-dir is fixed without a debugger.

/// What is wrong with an IDX file's bytes (the format of the MNIST files).
///
/// `file` is the name or path the caller gave when parsing (a path for files on disk).
/// Byte counts are of the decompressed IDX data, header included.
public enum IDXError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file has no bytes at all.
    case empty(file: String)
    /// The first four bytes are not the magic number of the expected kind of file
    /// (2051 = 0x00000803 for images, 2049 = 0x00000801 for labels).
    case badMagic(file: String, expected: UInt32, found: UInt32)
    /// The file ends before its header does.
    case truncatedHeader(file: String, expected: Int, found: Int)
    /// The header's dimensions call for more bytes than the file has.
    case truncated(file: String, expected: Int, found: Int)
    /// The file has more bytes than the header's dimensions call for.
    case trailingBytes(file: String, expected: Int, found: Int)
    /// The header's dimensions multiply to more bytes than any file can hold.
    case dimensionsTooLarge(file: String, dimensions: [Int])
    /// The gzip stream is not valid deflate data (bad block, bad checksum, bad header); `reason` is zlib's.
    case corruptGzip(file: String, reason: String)
    /// The gzip stream stops before its end marker (a partial download or copy).
    case truncatedGzip(file: String, compressedBytes: Int)

    /// A one-line message naming the file, the problem, and the expected and found values.
    public var description: String {
        switch self {
        case .empty(let file):
            return "\(file): the file is empty (expected an IDX header of at least 8 bytes, found 0 bytes)"
        case .badMagic(let file, let expected, let found):
            return "\(file): bad IDX magic number: expected \(expected) (\(IDXError.hex(expected)), "
                + "\(IDXError.kindName(expected))), found \(found) (\(IDXError.hex(found))"
                + "\(IDXError.kindHint(found)))"
        case .truncatedHeader(let file, let expected, let found):
            return "\(file): the IDX header is cut short: expected \(expected) bytes, found \(found)"
        case .truncated(let file, let expected, let found):
            return "\(file): truncated IDX data: the header calls for \(expected) bytes, found \(found)"
        case .trailingBytes(let file, let expected, let found):
            return "\(file): extra bytes after the IDX data: the header calls for \(expected) bytes, found \(found)"
        case .dimensionsTooLarge(let file, let dimensions):
            return "\(file): IDX dimensions \(dimensions) are too large to be a real file"
        case .corruptGzip(let file, let reason):
            return "\(file): corrupt gzip data (\(reason))"
        case .truncatedGzip(let file, let compressedBytes):
            return "\(file): the gzip stream is cut short after \(compressedBytes) compressed bytes "
                + "(expected its end marker and checksum)"
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    private static func kindName(_ magic: UInt32) -> String {
        magic == IDX.imagesMagic ? "images" : magic == IDX.labelsMagic ? "labels" : "IDX"
    }

    private static func kindHint(_ magic: UInt32) -> String {
        magic == IDX.imagesMagic ? ", an images file" : magic == IDX.labelsMagic ? ", a labels file" : ""
    }
}
