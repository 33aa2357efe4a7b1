// A PNG writer for tests that never holds the whole image: rows are made one at a time and deflated as they
// come (zlib), so a test can make a 8192×8192 file of a few dozen KB without a buffer of that size. Written
// here, independently of the decoder under test and of libpng; Adam7 is laid out as in the PNG specification.
import CZlib

enum StreamedPNG {
    /// Adam7 passes: first column, column step, first row, row step (PNG specification, 8.2).
    private static let adam7 = [
        (0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2),
    ]

    /// An 8-bit PNG of colour type `colorType` (0 gray, 2 RGB, 4 gray + alpha, 6 RGBA) whose row `y` is `row(y)`
    /// (`width · channels` samples); every scanline uses filter 0 (None).
    static func make(
        width: Int, height: Int, colorType: UInt8, interlaced: Bool = false, row: (Int) -> [UInt8]
    ) -> [UInt8] {
        let channels = [0: 1, 2: 3, 4: 2, 6: 4][Int(colorType)] ?? 1
        let deflater = Deflater()
        if interlaced {
            for (x0, dx, y0, dy) in adam7 {
                let columns = width > x0 ? (width - x0 + dx - 1) / dx : 0
                guard columns > 0, height > y0 else { continue }
                for y in stride(from: y0, to: height, by: dy) {
                    let full = row(y)
                    var line = [UInt8](repeating: 0, count: 1 + columns * channels)
                    for i in 0..<columns {
                        for c in 0..<channels { line[1 + i * channels + c] = full[(x0 + i * dx) * channels + c] }
                    }
                    deflater.add(line)
                }
            }
        } else {
            for y in 0..<height { deflater.add([0] + row(y)) }
        }
        let ihdr = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, colorType, 0, 0, interlaced ? 1 : 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
            + chunk("IDAT", deflater.finish()) + chunk("IEND", [])
    }

    private static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        let crc = body.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc)
    }

    /// A zlib stream (RFC 1950) fed piece by piece; zlib's state points back at its `z_stream`, so the stream
    /// lives at a fixed heap address.
    private final class Deflater {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private var output: [UInt8] = []
        private var buffer = [UInt8](repeating: 0, count: 1 << 16)

        init() {
            stream.initialize(to: z_stream())
            // Level 6, zlib wrapper (window bits 15), as PNG requires.
            let status = deflateInit2_(
                stream, 6, Z_DEFLATED, 15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            precondition(status == Z_OK, "deflateInit2_ failed: \(status)")
        }

        deinit {
            deflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
        }

        func add(_ bytes: [UInt8]) { run(bytes, flush: Z_NO_FLUSH) }

        func finish() -> [UInt8] {
            run([], flush: Z_FINISH)
            return output
        }

        private func run(_ bytes: [UInt8], flush: Int32) {
            var input = bytes
            input.withUnsafeMutableBufferPointer { inp in
                stream.pointee.next_in = inp.baseAddress
                stream.pointee.avail_in = UInt32(inp.count)
                while true {
                    let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                        stream.pointee.next_out = out.baseAddress
                        stream.pointee.avail_out = UInt32(out.count)
                        return deflate(stream, flush)
                    }
                    let produced = buffer.count - Int(stream.pointee.avail_out)
                    output += buffer[0..<produced]
                    precondition([Z_OK, Z_STREAM_END, Z_BUF_ERROR].contains(status), "deflate: \(status)")
                    if status == Z_STREAM_END { break }
                    // Without Z_FINISH, done once zlib took all the input and had room to spare.
                    if flush == Z_NO_FLUSH, stream.pointee.avail_in == 0, stream.pointee.avail_out > 0 { break }
                }
            }
            stream.pointee.next_in = nil
        }
    }
}
