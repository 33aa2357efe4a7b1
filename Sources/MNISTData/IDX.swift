// The IDX format of the MNIST files (http://yann.lecun.com/exdb/mnist/): a big-endian header
// (two zero bytes, a type byte 0x08 for unsigned bytes, the number of dimensions, then one UInt32
// per dimension) followed by the values in row-major order. Files may be gzip-compressed; that is
// told by the gzip magic bytes 1F 8B, never by the file name.
import Foundation

/// Constants and helpers shared by the IDX readers.
public enum IDX {
    /// Magic number of an images file: unsigned bytes, 3 dimensions (count, rows, columns). 2051.
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Magic number of a labels file: unsigned bytes, 1 dimension (count). 2049.
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// True when `bytes` start with the gzip magic bytes 1F 8B (RFC 1952), whatever the file is called.
    public static func isGzip(_ bytes: some Collection<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        return iterator.next() == 0x1F && iterator.next() == 0x8B
    }

    /// Parses an IDX file of unsigned bytes with `magic`, raw or gzip-compressed.
    /// Returns the dimensions from the header and the values after it, exactly as many as the
    /// dimensions call for. Throws `IDXError`. Never allocates more than the data can fill.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, magic: UInt32, file: String
    ) throws -> (dimensions: [Int], values: [UInt8]) {
        guard !bytes.isEmpty else { throw IDXError.empty(file: file) }
        let rank = Int(magic & 0xFF)
        let headerCount = 4 + 4 * rank
        if isGzip(bytes) {
            return try parseGzip(bytes, magic: magic, headerCount: headerCount, file: file)
        }
        let dimensions = try parseHeader(bytes, magic: magic, headerCount: headerCount, file: file)
        let valueCount = try product(dimensions, file: file)
        let expected = headerCount + valueCount
        guard bytes.count >= expected else {
            throw IDXError.truncated(file: file, expected: expected, found: bytes.count)
        }
        guard bytes.count == expected else {
            throw IDXError.trailingBytes(file: file, expected: expected, found: bytes.count)
        }
        return (dimensions, Array(UnsafeBufferPointer(rebasing: bytes[headerCount...])))
    }

    private static func parseGzip(
        _ bytes: UnsafeBufferPointer<UInt8>, magic: UInt32, headerCount: Int, file: String
    ) throws -> (dimensions: [Int], values: [UInt8]) {
        let inflater = try GzipInflater(input: bytes, file: file)
        var header = [UInt8](repeating: 0, count: headerCount)
        let headerFound = try header.withUnsafeMutableBytes { try inflater.read(into: $0) }
        let dimensions = try header.withUnsafeBufferPointer {
            try parseHeader(UnsafeBufferPointer(rebasing: $0[..<headerFound]), magic: magic,
                            headerCount: headerCount, file: file)
        }
        let valueCount = try product(dimensions, file: file)
        // A header may promise more than the stream holds; allocate only what the stream could inflate to.
        let capacity = min(valueCount, GzipInflater.maximumInflatedCount(compressedCount: bytes.count))
        let values = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            initialized = try inflater.read(into: UnsafeMutableRawBufferPointer(buffer))
        }
        let rest = inflater.finished ? 0 : try inflater.countRemaining()
        let found = headerCount + values.count + rest
        let expected = headerCount + valueCount
        guard found >= expected else { throw IDXError.truncated(file: file, expected: expected, found: found) }
        guard found == expected else { throw IDXError.trailingBytes(file: file, expected: expected, found: found) }
        return (dimensions, values)
    }

    /// Reads the magic number and dimensions; `bytes` may be shorter than the header (an error).
    private static func parseHeader(
        _ bytes: UnsafeBufferPointer<UInt8>, magic: UInt32, headerCount: Int, file: String
    ) throws -> [Int] {
        guard bytes.count >= 4 else {
            throw IDXError.truncatedHeader(file: file, expected: headerCount, found: bytes.count)
        }
        let found = bigEndianUInt32(bytes, at: 0)
        guard found == magic else { throw IDXError.badMagic(file: file, expected: magic, found: found) }
        guard bytes.count >= headerCount else {
            throw IDXError.truncatedHeader(file: file, expected: headerCount, found: bytes.count)
        }
        return (0..<(headerCount - 4) / 4).map { Int(bigEndianUInt32(bytes, at: 4 + 4 * $0)) }
    }

    private static func bigEndianUInt32(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    /// The number of values the dimensions describe; overflow (or anything near it) is an error.
    private static func product(_ dimensions: [Int], file: String) throws -> Int {
        var result = 1
        for dimension in dimensions {
            let (next, overflow) = result.multipliedReportingOverflow(by: dimension)
            guard !overflow, next <= Int(Int32.max) * 64 else {
                throw IDXError.dimensionsTooLarge(file: file, dimensions: dimensions)
            }
            result = next
        }
        return result
    }

    /// Runs `body` on contiguous bytes, copying only when the collection has no contiguous storage.
    static func withContiguousBytes<R>(
        _ bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> R
    ) throws -> R {
        if let data = bytes as? Data {
            return try data.withUnsafeBytes { try body($0.bindMemory(to: UInt8.self)) }
        }
        if let result = try bytes.withContiguousStorageIfAvailable(body) { return result }
        return try Array(bytes).withUnsafeBufferPointer(body)
    }
}

/// The images of an IDX images file (magic 2051): `count` images of `rows` × `columns` pixels.
///
/// Pixels are unsigned bytes, 0 background to 255 ink (MNIST's convention), row-major per image and
/// image after image: pixel (r, c) of image i is `pixels[(i * rows + r) * columns + c]`.
/// Matches the layout torchvision's `read_image_file` returns as a `[count, rows, columns]` uint8 tensor.
public struct IDXImages: Sendable, Equatable {
    /// Number of images (the header's first dimension).
    public let count: Int
    /// Pixel rows per image (28 for MNIST).
    public let rows: Int
    /// Pixel columns per image (28 for MNIST).
    public let columns: Int
    /// All pixels, `count * rows * columns` bytes.
    public let pixels: [UInt8]

    /// Parses IDX images from `bytes` (raw or gzip, told apart by the first two bytes), any collection of
    /// bytes including a slice that does not start at index 0. `file` names the source in errors.
    /// Throws `IDXError`: empty, wrong magic, header or data cut short, extra bytes, corrupt or cut gzip.
    public init(parsing bytes: some Collection<UInt8>, file: String = "<bytes>") throws {
        let (dimensions, values) = try IDX.withContiguousBytes(bytes) {
            try IDX.parse($0, magic: IDX.imagesMagic, file: file)
        }
        count = dimensions[0]
        rows = dimensions[1]
        columns = dimensions[2]
        pixels = values
    }
}

/// The labels of an IDX labels file (magic 2049): one unsigned byte per item.
///
/// Matches torchvision's `read_label_file`. Values are not range-checked here (IDX allows any byte);
/// `MNIST` checks that they are digits.
public struct IDXLabels: Sendable, Equatable {
    /// Number of labels (the header's only dimension).
    public let count: Int
    /// The labels in file order.
    public let labels: [UInt8]

    /// Parses IDX labels from `bytes` (raw or gzip, told apart by the first two bytes), any collection of
    /// bytes including a slice that does not start at index 0. `file` names the source in errors.
    /// Throws `IDXError`: empty, wrong magic, header or data cut short, extra bytes, corrupt or cut gzip.
    public init(parsing bytes: some Collection<UInt8>, file: String = "<bytes>") throws {
        let (dimensions, values) = try IDX.withContiguousBytes(bytes) {
            try IDX.parse($0, magic: IDX.labelsMagic, file: file)
        }
        count = dimensions[0]
        labels = values
    }
}
