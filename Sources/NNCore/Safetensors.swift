// Reading safetensors files: an 8-byte little-endian header length, a UTF-8 JSON header, then one
// byte buffer holding every tensor back to back. The format is PyTorch's and Hugging Face's
// (https://github.com/huggingface/safetensors); the checks below are the ones its Rust reader
// makes, so a file this reader accepts also loads in `safetensors.torch.load_file`.
import Foundation

/// The element types a safetensors header may name, spelled as in the format (`"F32"`, `"I64"`, ...).
///
/// Every listed type can be described and skipped; only `float32` and `int64` can be read as values.
/// Types newer than the ones listed (sub-byte `F4`, `F8_E8M0`, ...) are reported as unknown.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    /// One-byte boolean.
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case uint8 = "U8"
    /// Signed 8-bit integer.
    case int8 = "I8"
    /// 8-bit float, 5 exponent and 2 mantissa bits.
    case float8E5M2 = "F8_E5M2"
    /// 8-bit float, 4 exponent and 3 mantissa bits.
    case float8E4M3 = "F8_E4M3"
    /// Signed 16-bit integer.
    case int16 = "I16"
    /// Unsigned 16-bit integer.
    case uint16 = "U16"
    /// IEEE half precision.
    case float16 = "F16"
    /// bfloat16 (8 exponent, 7 mantissa bits).
    case bfloat16 = "BF16"
    /// Signed 32-bit integer.
    case int32 = "I32"
    /// Unsigned 32-bit integer.
    case uint32 = "U32"
    /// IEEE single precision, read as `Tensor`.
    case float32 = "F32"
    /// IEEE double precision.
    case float64 = "F64"
    /// Signed 64-bit integer, read as `[Int64]`.
    case int64 = "I64"
    /// Unsigned 64-bit integer.
    case uint64 = "U64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8, .float8E5M2, .float8E4M3: return 1
        case .int16, .uint16, .float16, .bfloat16: return 2
        case .int32, .uint32, .float32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }
}

/// One tensor's header entry: its element type, shape and where its bytes are in the data buffer.
public struct SafetensorsEntry: Sendable, Equatable {
    /// The element type.
    public var dtype: SafetensorsDType
    /// The sizes, outermost first; `[]` is a scalar (one element).
    public var shape: [Int]
    /// Byte range within the data buffer (which starts after the header), the header's `data_offsets`.
    public var byteRange: Range<Int>
}

/// A malformed or unexpected safetensors file, or a failed write. Every message names the file.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read at all.
    case unreadable(file: String, reason: String)
    /// Fewer than the 8 bytes of the header length (0 for an empty file).
    case fileTooShort(file: String, byteCount: Int)
    /// The header length points past the end of the file.
    case headerBeyondFile(file: String, headerLength: UInt64, bytesAfterLength: Int)
    /// The header is not UTF-8 JSON.
    case headerNotJSON(file: String, reason: String)
    /// The header is JSON but not an object.
    case headerNotObject(file: String, found: String)
    /// A tensor name appears twice among the header's keys.
    case duplicateName(file: String, name: String)
    /// `__metadata__` is not an object of strings.
    case invalidMetadata(file: String, reason: String)
    /// A tensor's entry lacks `dtype`, `shape` or `data_offsets`, or one has the wrong JSON type.
    case invalidEntry(file: String, name: String, reason: String)
    /// A dtype string this reader does not know.
    case unknownDType(file: String, name: String, dtype: String)
    /// `data_offsets` has its end before its begin.
    case reversedRange(file: String, name: String, begin: Int, end: Int)
    /// `data_offsets` spans a number of bytes other than shape × dtype size.
    case byteCountMismatch(file: String, name: String, shape: [Int], dtype: String, expected: Int, found: Int)
    /// `data_offsets` ends past the data buffer.
    case rangeBeyondBuffer(file: String, name: String, end: Int, bufferSize: Int)
    /// Two tensors share bytes.
    case overlappingRanges(file: String, first: String, second: String)
    /// Bytes of the data buffer that belong to no tensor (a gap, or trailing bytes).
    case uncoveredBytes(file: String, range: Range<Int>, bufferSize: Int)
    /// A requested name is not in the file.
    case missingKey(file: String, name: String)
    /// A tensor has another element type than the caller expects.
    case wrongDType(file: String, name: String, expected: String, found: String)
    /// A tensor has another shape than the caller expects.
    case shapeMismatch(file: String, name: String, expected: [Int], found: [Int])
    /// A name that cannot be written: `__metadata__`, or the same name given as Float32 and Int64.
    case invalidName(name: String, reason: String)
    /// Writing or renaming the file failed; the previous file, if any, is unchanged.
    case writeFailed(file: String, reason: String)

    /// One line naming the file, what is wrong, and the expected and found values.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read safetensors file: \(reason)"
        case let .fileTooShort(file, count):
            return count == 0
                ? "\(file): empty file, expected a safetensors file (8-byte header length, JSON header, data)"
                : "\(file): \(count) bytes, expected at least 8 (the header length)"
        case let .headerBeyondFile(file, length, available):
            return "\(file): header length \(length) bytes, but only \(available) bytes follow the length field"
        case let .headerNotJSON(file, reason):
            return "\(file): header is not JSON: \(reason)"
        case let .headerNotObject(file, found):
            return "\(file): header is a JSON \(found), expected a JSON object"
        case let .duplicateName(file, name):
            return "\(file): tensor name \"\(name)\" appears more than once in the header"
        case let .invalidMetadata(file, reason):
            return "\(file): __metadata__ \(reason), expected an object of strings"
        case let .invalidEntry(file, name, reason):
            return "\(file): tensor \"\(name)\": \(reason)"
        case let .unknownDType(file, name, dtype):
            let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): tensor \"\(name)\": unknown dtype \"\(dtype)\", expected one of \(known)"
        case let .reversedRange(file, name, begin, end):
            return "\(file): tensor \"\(name)\": data_offsets [\(begin), \(end)] end before they begin"
        case let .byteCountMismatch(file, name, shape, dtype, expected, found):
            return "\(file): tensor \"\(name)\": shape \(shape) of \(dtype) needs \(expected) bytes, "
                + "data_offsets span \(found)"
        case let .rangeBeyondBuffer(file, name, end, size):
            return "\(file): tensor \"\(name)\": data ends at byte \(end), data buffer has \(size) bytes"
        case let .overlappingRanges(file, first, second):
            return "\(file): tensors \"\(first)\" and \"\(second)\" overlap in the data buffer"
        case let .uncoveredBytes(file, range, size):
            return "\(file): bytes \(range.lowerBound)..<\(range.upperBound) of the \(size)-byte data buffer "
                + "belong to no tensor, expected tensors to cover the buffer exactly"
        case let .missingKey(file, name):
            return "\(file): no tensor named \"\(name)\""
        case let .wrongDType(file, name, expected, found):
            return "\(file): tensor \"\(name)\": dtype \(found), expected \(expected)"
        case let .shapeMismatch(file, name, expected, found):
            return "\(file): tensor \"\(name)\": shape \(found), expected \(expected)"
        case let .invalidName(name, reason):
            return "cannot write tensor \"\(name)\": \(reason)"
        case let .writeFailed(file, reason):
            return "\(file): cannot write safetensors file: \(reason)"
        }
    }
}

/// A safetensors file held in memory, checked on load; tensors are decoded on request.
///
/// Matches the format read by `safetensors.torch.load_file`: the same structural checks (ranges
/// ordered, disjoint and covering the data buffer exactly). Deviation: a name repeated in the
/// header is an error here, where the Python library keeps one of them.
public struct SafetensorsFile: Sendable {
    /// The name used in error messages (the path, or what `init(bytes:source:)` was given).
    public let source: String
    /// The header's `__metadata__` (empty when absent).
    public let metadata: [String: String]
    /// Every tensor's name, sorted.
    public let names: [String]
    /// Every tensor's header entry, by name.
    public let entries: [String: SafetensorsEntry]
    private let bytes: [UInt8]
    private let dataStart: Int

    /// Reads and checks the file at `url`.
    ///
    /// Throws `SafetensorsError.unreadable` when the file cannot be read, and any other
    /// `SafetensorsError` from `init(bytes:source:)` with the path as the source.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        try self.init(bytes: [UInt8](data), source: url.path)
    }

    /// Checks the bytes of a whole safetensors file; `source` names it in errors.
    ///
    /// Throws a `SafetensorsError` naming what is wrong: too short, header length beyond the file,
    /// header not a UTF-8 JSON object, duplicate names, bad `__metadata__`, an entry without a valid
    /// dtype / shape / data_offsets, offsets reversed, beyond the buffer or not matching
    /// shape × dtype size, overlapping ranges, or bytes covered by no tensor.
    /// Nothing is allocated beyond the size of `bytes`.
    public init(bytes: [UInt8], source: String) throws {
        guard bytes.count >= 8 else { throw SafetensorsError.fileTooShort(file: source, byteCount: bytes.count) }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw SafetensorsError.headerBeyondFile(
                file: source, headerLength: headerLength, bytesAfterLength: bytes.count - 8)
        }
        let headerEnd = 8 + Int(headerLength)
        let header = Array(bytes[8..<headerEnd])
        let parsed = try SafetensorsHeader(header, source: source, bufferSize: bytes.count - headerEnd)
        self.source = source
        self.metadata = parsed.metadata
        self.entries = parsed.entries
        self.names = parsed.entries.keys.sorted()
        self.bytes = bytes
        self.dataStart = headerEnd
    }

    /// The header entry of `name`. Throws `SafetensorsError.missingKey` if there is none.
    public func entry(_ name: String) throws -> SafetensorsEntry {
        guard let entry = entries[name] else { throw SafetensorsError.missingKey(file: source, name: name) }
        return entry
    }

    /// The F32 tensor `name`, optionally checked against `shape`.
    ///
    /// Throws `SafetensorsError.missingKey`, `.wrongDType` (any dtype but F32) or `.shapeMismatch`.
    /// Matches `safetensors.torch.load_file(...)[name]` for a float32 tensor.
    public func float32(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        let entry = try checked(name, dtype: .float32, shape: shape)
        var scalars = [Float](repeating: 0, count: entry.byteRange.count / 4)
        copyBytes(of: entry, into: &scalars)
        #if _endian(big)
        for i in scalars.indices { scalars[i] = Float(bitPattern: UInt32(littleEndian: scalars[i].bitPattern)) }
        #endif
        return Tensor(shape: entry.shape, scalars: scalars)
    }

    /// The I64 tensor `name` as a flat array in row-major order, optionally checked against `shape`.
    ///
    /// Throws `SafetensorsError.missingKey`, `.wrongDType` (any dtype but I64) or `.shapeMismatch`.
    public func int64(_ name: String, shape: [Int]? = nil) throws -> [Int64] {
        let entry = try checked(name, dtype: .int64, shape: shape)
        var values = [Int64](repeating: 0, count: entry.byteRange.count / 8)
        copyBytes(of: entry, into: &values)
        #if _endian(big)
        for i in values.indices { values[i] = Int64(littleEndian: values[i]) }
        #endif
        return values
    }

    /// Every F32 tensor whose name starts with `prefix`, keyed by the rest of its name.
    ///
    /// Tensors of other dtypes under the prefix are skipped. Used to pull an optimizer's state
    /// dict (saved under, say, `"optimizer."`) out of a checkpoint.
    public func float32Tensors(withPrefix prefix: String = "") throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        for name in names where name.hasPrefix(prefix) && entries[name]?.dtype == .float32 {
            result[String(name.dropFirst(prefix.count))] = try float32(name)
        }
        return result
    }

    private func checked(_ name: String, dtype: SafetensorsDType, shape: [Int]?) throws -> SafetensorsEntry {
        let entry = try self.entry(name)
        guard entry.dtype == dtype else {
            throw SafetensorsError.wrongDType(
                file: source, name: name, expected: dtype.rawValue, found: entry.dtype.rawValue)
        }
        if let shape, shape != entry.shape {
            throw SafetensorsError.shapeMismatch(file: source, name: name, expected: shape, found: entry.shape)
        }
        return entry
    }

    private func copyBytes<T>(of entry: SafetensorsEntry, into values: inout [T]) {
        let start = dataStart + entry.byteRange.lowerBound
        let end = dataStart + entry.byteRange.upperBound
        values.withUnsafeMutableBytes { destination in
            bytes.withUnsafeBytes { source in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<end]))
            }
        }
    }
}
