// A PyTorch `.pt`/`.pth` file given where a safetensors checkpoint belongs: told from its magic bytes, so the
// error says how to convert it instead of a safetensors header-length complaint.
import Foundation

extension Checkpoint {
    /// The Python line that converts a PyTorch checkpoint to the safetensors file this program reads.
    public static let conversionHint =
        #"in Python: safetensors.torch.save_file(model.state_dict(), "model.safetensors") "#
        + #"(for a saved state_dict: safetensors.torch.save_file(torch.load("FILE"), "model.safetensors"))"#

    /// Throws `CheckpointError.pyTorchFormat` when the file at `url` starts like a PyTorch checkpoint: a zip
    /// archive (`torch.save` since PyTorch 1.6) or a pickle (protocol 2 to 5, older `torch.save`). Files that
    /// cannot be read are left to the reader that follows.
    static func refusePyTorchFile(at url: URL) throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 4).map(Array.init) else { return }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { throw CheckpointError.pyTorchFormat(kind: "a zip archive") }
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) {
            throw CheckpointError.pyTorchFormat(kind: "a pickle")
        }
    }

    /// Throws `CheckpointError.notSafetensors` when the file at `url` cannot be safetensors: the format's
    /// header (after its 8-byte length) must begin with `{`, so a file without one is named by its first
    /// bytes (an image, text, ...) instead of by an absurd header length. Files that cannot be read, and
    /// files too short for the check, are left to the reader that follows.
    static func refuseNonSafetensorsFile(at url: URL) throws {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 16).map(Array.init), head.count >= 9, head[8] != UInt8(ascii: "{")
        else { return }
        throw CheckpointError.notSafetensors(found: describeStart(head))
    }

    /// What a file that starts with `head` looks like: an image, text, or its first bytes in hex.
    static func describeStart(_ head: [UInt8]) -> String {
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if head.starts(with: Array("%PDF".utf8)) { return "a PDF" }
        if head.starts(with: [0x1F, 0x8B]) { return "a gzip file" }
        if head.allSatisfy({ (0x20..<0x7F).contains($0) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            return "text starting \"\(String(decoding: head.prefix(12), as: UTF8.self))\""
        }
        return "bytes " + head.prefix(12).map { String(format: "%02X", $0) }.joined(separator: " ")
    }
}
