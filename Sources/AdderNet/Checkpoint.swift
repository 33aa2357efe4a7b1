// Model checkpoints as safetensors with PyTorch's state_dict keys, so a file moves between this
// program and PyTorch (`safetensors.torch.save_file(model.state_dict(), path)` / `load_file`).
import Foundation
import NNCore

/// Reading and writing the network's weights.
public enum Checkpoint {
    /// The `format` value in the metadata of the checkpoints this program writes.
    public static let formatName = "mnist-adder"

    /// Writes the 22 parameters (F32, PyTorch keys) and `metadata` to `url`, atomically.
    /// Throws `SafetensorsError.writeFailed` naming the file.
    public static func save(_ network: AdderNetwork, metadata: [String: String] = [:], to url: URL) throws {
        try Safetensors.write(network.stateDict, metadata: metadata, to: url)
    }

    /// Reads a checkpoint written by this program or by PyTorch for the seed network.
    ///
    /// Returns the network and the file's metadata (empty for a PyTorch file). Throws
    /// `SafetensorsError` for a malformed file or a non-F32 parameter, and `CheckpointError` for
    /// missing or extra keys, a wrong shape (naming the key, the expected and the found shape) or a
    /// NaN or infinite value (which `nn.Module.load_state_dict` would accept; a network with one
    /// predicts NaN). The errors do not name the file; callers that read a user's file add it.
    public static func load(contentsOf url: URL) throws -> (network: AdderNetwork, metadata: [String: String]) {
        let file = try SafetensorsFile(contentsOf: url)
        let extra = file.names.filter { !AdderNetwork.parameterNames.contains($0) }.sorted()
        guard extra.isEmpty else { throw CheckpointError.unexpectedKeys(extra) }
        let missing = AdderNetwork.parameterNames.filter { !file.names.contains($0) }
        guard missing.isEmpty else { throw CheckpointError.missingKeys(missing) }
        var state: [String: Tensor] = [:]
        for (name, shape) in zip(AdderNetwork.parameterNames, AdderNetwork.parameterShapes) {
            let entry = try file.entry(name)
            guard entry.shape == shape else {
                throw CheckpointError.shapeMismatch(key: name, expected: shape, found: entry.shape)
            }
            let tensor = try file.float32(name)
            if let index = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.nonFinite(key: name, index: index, value: tensor.scalars[index])
            }
            state[name] = tensor
        }
        return (try AdderNetwork(stateDict: state), file.metadata)
    }
}
