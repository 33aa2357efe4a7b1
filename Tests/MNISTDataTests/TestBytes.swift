// Byte builders for the loader tests: IDX files and gzip streams made inside the test, with no
// compressor and no network. The gzip writer uses stored (uncompressed) deflate blocks, RFC 1951 §3.2.4.
import Foundation

/// An IDX file: magic, big-endian dimensions, then `payload`.
func idxBytes(magic: UInt32, dimensions: [UInt32], payload: [UInt8]) -> [UInt8] {
    var bytes = bigEndian(magic)
    for dimension in dimensions { bytes += bigEndian(dimension) }
    return bytes + payload
}

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
}

func littleEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
}

/// A valid one-member gzip file holding `data` in stored deflate blocks (RFC 1952).
func gzipStored(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
    var offset = 0
    repeat {
        let count = min(65_535, data.count - offset)
        let isFinal = offset + count == data.count
        out.append(isFinal ? 1 : 0)
        out += [UInt8(count & 0xFF), UInt8(count >> 8)]
        out += [UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
        out += data[offset..<offset + count]
        offset += count
    } while offset < data.count
    out += littleEndian(crc32(data))
    out += littleEndian(UInt32(truncatingIfNeeded: data.count))
    return out
}

/// CRC-32 as gzip uses it (reflected polynomial 0xEDB88320), bit by bit.
func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}

/// A fresh empty folder under the system temporary directory.
func temporaryDirectory(_ name: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("mnistdata-tests-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
