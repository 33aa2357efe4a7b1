// Model checkpoints as safetensors with PyTorch's state_dict keys, so a file moves between this
// program and PyTorch (`safetensors.torch.save_file(model.state_dict(), path)` / `load_file`).
// The metadata carries the model's description, so a checkpoint says which network it holds; a
// plain PyTorch file without it is recognised by its keys and shapes.
import Foundation
import NNCore

/// Reading and writing a network's weights.
public enum Checkpoint {
    /// The `format` value in the metadata of the checkpoints this program writes.
    public static let formatName = "mnist-adder"
    /// The metadata key holding the model description as JSON.
    public static let modelKey = "model"
    /// The name prefix of the tensors a calibrated checkpoint carries beside the network's
    /// (temperature, feature statistics and thresholds of `mnist-adder calibrate`): `load` leaves
    /// them out of the network and AdderInference's `Calibration` reads them. PyTorch's
    /// `load_state_dict(strict=True)` needs them filtered out (`scripts/pytorch/evaluate_checkpoint.py` does).
    public static let calibrationPrefix = "calibration."

    /// Writes every tensor of `network` (F32, PyTorch keys; num_batches_tracked as an I64 scalar, as
    /// PyTorch keeps it), the model description and `metadata` to `url`, atomically.
    /// Throws `SafetensorsError.writeFailed` naming the file.
    public static func save(_ network: AdderNetwork, metadata: [String: String] = [:], to url: URL) throws {
        try Safetensors.writeAtomically(encode(network, metadata: metadata), to: url)
    }

    /// The bytes `save` writes: the network's state dict and `metadata` plus its description, as a
    /// safetensors file. Throws `SafetensorsError` for a metadata key or tensor name it cannot hold.
    /// `extra` adds F32 tensors under names outside the network's (the calibration's, under
    /// `calibrationPrefix`); a name the network uses is refused with `SafetensorsError.invalidName`.
    public static func encode(
        _ network: AdderNetwork, metadata: [String: String] = [:], extra: [String: Tensor] = [:]
    ) throws -> [UInt8] {
        var floats = network.stateDict
        for (name, tensor) in extra {
            guard floats[name] == nil else {
                throw SafetensorsError.invalidName(name: name, reason: "the network has a tensor of that name")
            }
            floats[name] = tensor
        }
        var int64: [String: [Int64]] = [:], shapes: [String: [Int]] = [:]
        for entry in network.model.stateEntries where entry.isInt64 {
            int64[entry.key] = (floats.removeValue(forKey: entry.key)?.scalars ?? [0]).map { Int64($0) }
            shapes[entry.key] = entry.shape
        }
        var metadata = metadata
        metadata[modelKey] = try network.model.jsonString()
        return try Safetensors.encode(floats, int64: int64, int64Shapes: shapes, metadata: metadata)
    }

    /// Reads a checkpoint written by this program or by PyTorch for one of the built-in networks.
    ///
    /// The network is the one its `model` metadata describes, or, for a file without it (a plain
    /// PyTorch `state_dict`), the built-in network whose keys and shapes it has. Returns the network
    /// and the file's metadata. Throws `SafetensorsError` for a malformed file or a tensor of another
    /// dtype, `ModelDescriptionError` for unreadable `model` metadata, and `CheckpointError` for
    /// missing and extra keys or a wrong shape (against the closest network, naming it, the key, the
    /// expected and the found shape) or a NaN or infinite value (which `nn.Module.load_state_dict`
    /// would accept; a network with one predicts NaN), or `.pyTorchFormat` for a `torch.save` file (zip or
    /// pickle), saying how to convert it, or `.notSafetensors` for a file whose header does not begin with `{`
    /// (an image or text given by mistake), naming what it starts like. Tensors under `calibrationPrefix` are not the network's and are
    /// skipped here. The errors do not name the file; callers
    /// that read a user's file add it.
    public static func load(contentsOf url: URL) throws -> (network: AdderNetwork, metadata: [String: String]) {
        try refusePyTorchFile(at: url)
        try refuseNonSafetensorsFile(at: url)
        let file = try SafetensorsFile(contentsOf: url)
        let model = try description(of: file)
        guard model.inputShape == [1, AdderNetwork.imageSize, AdderNetwork.imageSize] else {
            throw ModelDescriptionError.wrongOutput(
                part: "description's input", expected: "[1, 28, 28] (MNIST images)", found: model.inputShape)
        }
        let entries = model.stateEntries
        let keys = Set(entries.map(\.key))
        let extra = file.names.filter { !keys.contains($0) && !$0.hasPrefix(calibrationPrefix) }.sorted()
        // num_batches_tracked may be absent, as PyTorch's BatchNorm2d accepts (it starts from 0 then).
        let missing = entries.filter { !file.names.contains($0.key) && !$0.isInt64 }.map(\.key)
        guard missing.isEmpty && extra.isEmpty else {
            throw CheckpointError.keyMismatch(network: model.name, missing: missing, unexpected: extra)
        }
        var state: [String: Tensor] = [:]
        for entry in entries {
            guard file.names.contains(entry.key) else {
                state[entry.key] = Tensor(shape: entry.shape)
                continue
            }
            let found = try file.entry(entry.key)
            let scalarAsVector = entry.shape.isEmpty && found.shape == [1]
            guard found.shape == entry.shape || scalarAsVector else {
                throw CheckpointError.shapeMismatch(
                    network: model.name, key: entry.key, expected: entry.shape, found: found.shape)
            }
            let tensor: Tensor
            if entry.isInt64 && found.dtype == .int64 {
                tensor = Tensor(shape: entry.shape, scalars: try file.int64(entry.key).map { Float($0) })
            } else {
                tensor = try file.float32(entry.key).reshaped(to: entry.shape)
            }
            if let index = tensor.scalars.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.nonFinite(key: entry.key, index: index, value: tensor.scalars[index])
            }
            state[entry.key] = tensor
        }
        return (try AdderNetwork(model, stateDict: state), file.metadata)
    }

    /// The description a file's `model` metadata holds, or else the built-in network that shares
    /// the most keys with the same shapes (the seed on a tie).
    static func description(of file: SafetensorsFile) throws -> ModelDescription {
        if let text = file.metadata[modelKey] {
            return try ModelDescription(json: text)
        }
        func fitting(_ model: ModelDescription) -> Int {
            model.stateEntries.filter { entry in
                guard let found = file.entries[entry.key] else { return false }
                return found.shape == entry.shape || (entry.shape.isEmpty && found.shape == [1])
            }.count
        }
        return ModelDescription.builtIn.max { fitting($0) < fitting($1) } ?? .seed
    }
}

extension ModelDescription {
    /// The description as one line of JSON with sorted keys, as checkpoints store it.
    public func jsonString() throws -> String {
        try JSONOutput.string(self)
    }

    /// Reads a description from JSON and checks it. Throws `ModelDescriptionError.unreadable`
    /// naming what is wrong, or the error `validate()` throws.
    public init(json: String) throws {
        do {
            self = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
        } catch let DecodingError.dataCorrupted(context) {
            throw ModelDescriptionError.unreadable(reason: context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ModelDescriptionError.unreadable(
                reason: "no '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw ModelDescriptionError.unreadable(reason: "\(error)")
        }
        try validate()
    }
}
