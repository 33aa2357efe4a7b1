// Streaming gzip decompression with zlib, into buffers the caller owns, so an IDX file is inflated
// straight into its final array (no intermediate copy) and a lying header cannot force a huge allocation.
import CZlib

/// Inflates a gzip stream (one or more members, RFC 1952) held in memory.
///
/// zlib's internal state points back at its `z_stream`, so the stream lives at a fixed heap address.
final class GzipInflater {
    /// Deflate's largest expansion is about 1032:1; nothing can inflate to more than this.
    static func maximumInflatedCount(compressedCount: Int) -> Int {
        let (product, overflow) = compressedCount.multipliedReportingOverflow(by: 1032)
        return overflow ? Int.max : product + 64
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeBufferPointer<UInt8>
    /// Bytes of `input` handed to zlib so far (it may not have consumed all of them yet).
    private var handedOver = 0
    private let file: String
    /// True once the last member's end marker and checksum have been read.
    private(set) var finished = false

    /// Starts inflating `input`; `file` names it in errors. The buffer must outlive the inflater.
    init(input: UnsafeBufferPointer<UInt8>, file: String) throws {
        self.input = input
        self.file = file
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 16: the largest window, gzip wrapper only (zlib or raw deflate would be a misnamed file).
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw IDXError.corruptGzip(file: file, reason: "zlib could not start (status \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Fills `buffer` from the stream; returns the bytes written, fewer than `buffer.count` only at the end.
    /// Throws `IDXError.corruptGzip` or `IDXError.truncatedGzip`.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var written = 0
        while written < buffer.count && !finished {
            if stream.pointee.avail_in == 0, handedOver < input.count, let inputBase = input.baseAddress {
                let chunk = min(input.count - handedOver, Int(UInt32.max))
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBase + handedOver)
                stream.pointee.avail_in = UInt32(chunk)
                handedOver += chunk
            }
            let space = min(buffer.count - written, Int(UInt32.max))
            stream.pointee.next_out = (base + written).assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(space)
            let availableBefore = stream.pointee.avail_in
            let status = inflate(stream, Z_NO_FLUSH)
            let produced = space - Int(stream.pointee.avail_out)
            written += produced
            switch status {
            case Z_STREAM_END:
                try startNextMemberOrFinish()
            case Z_OK, Z_BUF_ERROR:
                let consumedNothing = stream.pointee.avail_in == availableBefore
                if produced == 0 && consumedNothing && stream.pointee.avail_in == 0 && handedOver == input.count {
                    throw IDXError.truncatedGzip(file: file, compressedBytes: input.count)
                }
            default:
                throw IDXError.corruptGzip(file: file, reason: zlibMessage(status))
            }
        }
        return written
    }

    /// Reads and discards the rest of the stream, returning how many bytes it held.
    func countRemaining() throws -> Int {
        var total = 0
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        while !finished {
            total += try read(into: scratch)
        }
        return total
    }

    /// gzip allows several members back to back (`cat a.gz b.gz`); anything else after the end is an error.
    private func startNextMemberOrFinish() throws {
        let remaining = Int(stream.pointee.avail_in) + (input.count - handedOver)
        guard remaining > 0 else {
            finished = true
            return
        }
        let position = input.count - remaining
        guard remaining >= 2, input[position] == 0x1F, input[position + 1] == 0x8B else {
            throw IDXError.corruptGzip(
                file: file, reason: "\(remaining) bytes of non-gzip data after the end of the gzip stream")
        }
        inflateReset(stream)
    }

    private func zlibMessage(_ status: Int32) -> String {
        if let message = stream.pointee.msg { return String(cString: message) }
        switch status {
        case Z_NEED_DICT: return "needs a preset dictionary"
        case Z_MEM_ERROR: return "out of memory"
        default: return "zlib status \(status)"
        }
    }
}
