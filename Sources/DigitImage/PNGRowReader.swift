// Reads a PNG row by row through the C shim of the CPNG module (libpng's full reading API). libpng's
// longjmp on an error stays inside that shim: every shim function sets its own setjmp and returns 0, and
// no Swift frame ever lies between a setjmp and the longjmp (no Swift callback is handed to libpng).
import CPNG

/// Where the pixels of one delivered row belong: image row `y`, columns `x0`, `x0 + dx`, … (`count` of them).
/// A non-interlaced file delivers each row whole (`x0` 0, `dx` 1); an Adam7 file delivers each pass's rows.
struct RowPlacement {
    var y: Int
    var x0: Int
    var dx: Int
    var count: Int
}

/// What the file's header says, and what reading it cost.
struct PNGReadSummary {
    /// libpng's first warning, if it raised one.
    var warning: String?
    /// The most bytes libpng and zlib held at once (counted by the shim's allocator).
    var libpngPeakBytes: Int
    /// Bytes of the row buffer the rows were read into.
    var rowBufferBytes: Int
}

enum PNGRowReader {
    /// The seven Adam7 passes: first column, column step, first row, row step (PNG specification, 8.2).
    static let adam7: [(x0: Int, dx: Int, y0: Int, dy: Int)] = [
        (0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2),
    ]

    /// Decodes `bytes` (a whole PNG, already checked by `PNGCodec`'s container walk) to 8-bit RGBA rows,
    /// samples as stored (see `cpng_reader_start_rgba8`), and hands each row to `rowHandler` with its placement,
    /// in file order. `start` gets the width and height once the header is read, before any row; the row
    /// pointer is only valid during the call. Throws `PNGError.corrupt` with libpng's message.
    static func read(
        _ bytes: UnsafeRawBufferPointer, source: String,
        start: (_ width: Int, _ height: Int) throws -> Void,
        rowHandler: (UnsafePointer<UInt8>, RowPlacement) -> Void
    ) throws -> PNGReadSummary {
        // libpng keeps pointers to the reader (read, error and allocation callbacks): it needs a fixed address.
        let reader = UnsafeMutablePointer<cpng_reader>.allocate(capacity: 1)
        reader.initialize(to: cpng_reader())
        defer {
            cpng_reader_destroy(reader)
            reader.deinitialize(count: 1)
            reader.deallocate()
        }
        func failure() -> PNGError {
            let reason = withUnsafeBytes(of: reader.pointee.error) { text(in: $0) }
            return .corrupt(source: source, reason: reason.isEmpty ? "unknown error" : reason)
        }
        let data = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var header = cpng_header()
        guard cpng_reader_open(reader, data, bytes.count) != 0, cpng_reader_start_rgba8(reader, &header) != 0 else {
            throw failure()
        }
        let width = Int(header.width), height = Int(header.height)
        try start(width, height)

        let row = UnsafeMutablePointer<UInt8>.allocate(capacity: width * 4)
        defer { row.deallocate() }
        let passes = header.interlaced != 0 ? adam7 : [(x0: 0, dx: 1, y0: 0, dy: 1)]
        for pass in passes {
            // A pass with no column or no row has no data in the file (libpng skips it too).
            let columns = width > pass.x0 ? (width - pass.x0 + pass.dx - 1) / pass.dx : 0
            let rows = height > pass.y0 ? (height - pass.y0 + pass.dy - 1) / pass.dy : 0
            guard columns > 0, rows > 0 else { continue }
            for r in 0..<rows {
                guard cpng_reader_read_row(reader, row) != 0 else { throw failure() }
                rowHandler(row, RowPlacement(y: pass.y0 + r * pass.dy, x0: pass.x0, dx: pass.dx, count: columns))
            }
        }
        guard cpng_reader_finish(reader) != 0 else { throw failure() }
        let warning =
            reader.pointee.has_warning != 0 ? withUnsafeBytes(of: reader.pointee.warning) { text(in: $0) } : nil
        return PNGReadSummary(
            warning: warning, libpngPeakBytes: Int(reader.pointee.peak_allocated), rowBufferBytes: width * 4)
    }

    /// The NUL-terminated UTF-8 text in a C character array.
    private static func text(in raw: UnsafeRawBufferPointer) -> String {
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}
