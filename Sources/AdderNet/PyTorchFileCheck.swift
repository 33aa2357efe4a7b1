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
}
