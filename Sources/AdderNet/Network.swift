// A network's weights: a model description and its tensors. Layer names, shapes and order come
// from the description (Sources/AdderNet/Networks/), and are PyTorch's `state_dict` keys.
//
// Where it follows the seed: the adder's input is stack([argmax(logits).float(), addend.float()]);
// no gradient passes through the argmax. Where it departs: initial weights use PyTorch's default
// bounds but our own generator (SplitMix64), so a seed gives different numbers than torch.manual_seed.
import NNCore

/// A network's parameters and buffers, with the description they belong to.
///
/// `parameters` are the trainable tensors in `model.parameterNames` order, `buffers` the running
/// statistics in `model.bufferEntries` order. Shapes are PyTorch's: conv weights OIHW, linear
/// weights [out, in].
public struct AdderNetwork: Sendable, Equatable {
    /// Image side in pixels (MNIST: 28).
    public static let imageSize = 28
    /// Number of classes (digits 0–9).
    public static let classes = ModelDescription.classes

    /// The architecture.
    public let model: ModelDescription
    /// The parameters, in `model.parameterNames` order.
    public var parameters: [Tensor]
    /// BatchNorm2d's running statistics, in `model.bufferEntries` order (empty for networks without).
    public var buffers: [Tensor]

    /// A freshly initialised network: every conv and linear weight and bias uniform in ±1/√fan_in,
    /// fan_in being in-channels·kh·kw or in-features; BatchNorm2d's weight 1, bias 0, running mean 0,
    /// running variance 1. Matches the bounds of PyTorch's default init (`kaiming_uniform_(a=√5)` for
    /// weights); the numbers come from `SplitMix64(seed:)`, drawn parameter by parameter in order.
    /// A programming error (precondition) for a description that does not validate.
    public init(_ model: ModelDescription = .seed, seed: UInt64) {
        precondition((try? model.validate()) != nil, "invalid model description \(model.name)")
        self.model = model
        var rng = SplitMix64(seed: seed)
        parameters = model.parameterEntries.map { entry in
            if entry.fanIn == 0 {  // BatchNorm2d: γ = 1, β = 0
                return Tensor(shape: entry.shape, repeating: entry.role == .weight ? 1 : 0)
            }
            let bound = 1 / Float(entry.fanIn).squareRoot()
            return Tensor(shape: entry.shape, scalars: (0..<entry.count).map { _ in rng.nextUniform(-bound, bound) })
        }
        buffers = model.bufferEntries.map { Tensor(shape: $0.shape, repeating: $0.role == .runningVar ? 1 : 0) }
    }

    /// A network with the given tensors, checked against the description.
    ///
    /// - Throws: `CheckpointError.keyMismatch` (the missing and the unexpected keys together) or
    ///   `.shapeMismatch` (naming the key, the expected and the found shape), each naming the
    ///   network. Matches `nn.Module.load_state_dict(strict=True)`.
    public init(_ model: ModelDescription = .seed, stateDict: [String: Tensor]) throws {
        let entries = model.stateEntries
        let missing = entries.map(\.key).filter { stateDict[$0] == nil }
        let keys = Set(entries.map(\.key))
        let extra = stateDict.keys.filter { !keys.contains($0) }.sorted()
        guard missing.isEmpty && extra.isEmpty else {
            throw CheckpointError.keyMismatch(network: model.name, missing: missing, unexpected: extra)
        }
        var parameters: [Tensor] = [], buffers: [Tensor] = []
        for entry in entries {
            guard let tensor = stateDict[entry.key] else {
                throw CheckpointError.keyMismatch(network: model.name, missing: [entry.key], unexpected: [])
            }
            // A scalar may come as [] (PyTorch) or [1] (older writers of int64 values).
            let fits = tensor.shape == entry.shape || (entry.shape.isEmpty && tensor.shape == [1])
            guard fits else {
                throw CheckpointError.shapeMismatch(
                    network: model.name, key: entry.key, expected: entry.shape, found: tensor.shape)
            }
            let shaped = tensor.reshaped(to: entry.shape)
            if entry.isParameter { parameters.append(shaped) } else { buffers.append(shaped) }
        }
        self.model = model
        self.parameters = parameters
        self.buffers = buffers
    }

    /// Every tensor by `state_dict` key, parameters and buffers (num_batches_tracked as a Float).
    /// Matches `nn.Module.state_dict()` in keys and shapes.
    public var stateDict: [String: Tensor] {
        var state = Dictionary(uniqueKeysWithValues: zip(model.parameterNames, parameters))
        for (entry, tensor) in zip(model.bufferEntries, buffers) { state[entry.key] = tensor }
        return state
    }
}
