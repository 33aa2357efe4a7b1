// Writing safetensors files. Tensors are laid out sorted by name, and the JSON header is padded
// with spaces to a multiple of 8 bytes so the data buffer starts 8-byte aligned, as the Python
// library writes it. A file is replaced by writing a temporary file beside it and renaming it.
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes and writes safetensors files. Matches `safetensors.torch.save_file` in layout.
public enum Safetensors {
    /// The bytes of a safetensors file holding `tensors` (F32), `int64` (I64; one-dimensional unless
    /// `int64Shapes` gives a shape with the same count, such as `[]` for a scalar) and `metadata`
    /// (the header's `__metadata__`, omitted when empty).
    ///
    /// Tensors of both kinds are placed in one order, sorted by name (byte order of the UTF-8
    /// names), so the same input always gives the same bytes. Deviation from the Python library,
    /// which sorts by dtype first: the file's contents are the same, only the layout differs.
    /// Throws `SafetensorsError.invalidName` for a name `__metadata__` or one given in both maps.
    public static func encode(
        _ tensors: [String: Tensor], int64: [String: [Int64]] = [:], int64Shapes: [String: [Int]] = [:],
        metadata: [String: String] = [:]
    ) throws -> [UInt8] {
        for (name, shape) in int64Shapes where shape.reduce(1, *) != int64[name]?.count {
            throw SafetensorsError.invalidName(name: name, reason: "int64 shape \(shape) does not fit its values")
        }
        for name in int64.keys where tensors[name] != nil {
            throw SafetensorsError.invalidName(name: name, reason: "given both as Float32 and as Int64")
        }
        let allNames = Array(tensors.keys) + Array(int64.keys)
        if allNames.contains("__metadata__") {
            throw SafetensorsError.invalidName(name: "__metadata__", reason: "reserved for the header's metadata")
        }
        let names = allNames.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }

        var header = "{"
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0] ?? ""))" }
            header += "\"__metadata__\":{\(items.joined(separator: ","))},"
        }
        var offset = 0
        var fields: [String] = []
        for name in names {
            let (dtype, shape, byteCount): (String, [Int], Int)
            if let tensor = tensors[name] {
                (dtype, shape, byteCount) = ("F32", tensor.shape, tensor.count * 4)
            } else {
                let values = int64[name] ?? []
                (dtype, shape, byteCount) = ("I64", int64Shapes[name] ?? [values.count], values.count * 8)
            }
            let shapeText = shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(jsonString(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(shapeText)],"
                    + "\"data_offsets\":[\(offset),\(offset + byteCount)]}")
            offset += byteCount
        }
        header += fields.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + headerBytes.count + offset)
        let headerLength = UInt64(headerBytes.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * UInt64(i)))) }
        bytes += headerBytes
        for name in names {
            if let tensor = tensors[name] {
                for value in tensor.scalars { appendLittleEndian(value.bitPattern, to: &bytes) }
            } else {
                for value in int64[name] ?? [] { appendLittleEndian(UInt64(bitPattern: value), to: &bytes) }
            }
        }
        return bytes
    }

    /// Writes `encode(tensors, int64:, int64Shapes:, metadata:)` to `url`, atomically.
    ///
    /// The bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
    /// file is renamed over `url`; a process killed at any point leaves either the previous file or
    /// the new one, never a partial file. Throws `SafetensorsError.invalidName` (see `encode`) or
    /// `.writeFailed` naming the file and the system's reason.
    public static func write(
        _ tensors: [String: Tensor], int64: [String: [Int64]] = [:], int64Shapes: [String: [Int]] = [:],
        metadata: [String: String] = [:], to url: URL
    ) throws {
        let bytes = try encode(tensors, int64: int64, int64Shapes: int64Shapes, metadata: metadata)
        try writeAtomically(bytes, to: url)
    }

    /// Replaces the file at `url` with `bytes` by writing a temporary file beside it and renaming it.
    /// Throws `SafetensorsError.writeFailed`.
    public static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let temporary: String
        do {
            temporary = try stageFile(bytes, beside: url)
        } catch let failure as StagingFailure {
            throw SafetensorsError.writeFailed(
                file: url.path, reason: "cannot \(failure.step) \(failure.temporary): \(failure.reason)")
        }
        guard rename(temporary, url.path) == 0 else {
            let error = SafetensorsError.writeFailed(
                file: url.path, reason: "cannot rename \(temporary): \(String(cString: strerror(errno)))")
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` in full to a new temporary file in `url`'s folder (`.<name>.tmp-<pid>-<random>`),
    /// syncs it to disk and returns its path, for the caller to rename over `url`. On a failure the
    /// temporary file is removed and `StagingFailure` says which step failed and the system's reason.
    public static func stageFile(_ bytes: [UInt8], beside url: URL) throws -> String {
        let temporary = url.deletingLastPathComponent().path + "/." + url.lastPathComponent
            + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failure(_ step: String) -> StagingFailure {
            StagingFailure(step: step, temporary: temporary, reason: String(cString: strerror(errno)))
        }
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard descriptor >= 0 else { throw failure("create") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let result = Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return fsync(descriptor) == 0
        }
        let writeError = failure("write")
        if close(descriptor) != 0 || !ok {
            let error = ok ? failure("close") : writeError
            unlink(temporary)
            throw error
        }
        return temporary
    }

    private static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        let little = value.littleEndian
        withUnsafeBytes(of: little) { bytes.append(contentsOf: $0) }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    private static func jsonString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// Why `Safetensors.stageFile` could not write its temporary file.
public struct StagingFailure: Error, Equatable {
    /// The step that failed: "create", "write" (or sync) or "close".
    public var step: String
    /// The temporary file's path (already removed).
    public var temporary: String
    /// The system's reason (`strerror`), e.g. "No space left on device".
    public var reason: String
}
