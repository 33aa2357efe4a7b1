// The seed network: a CNN that reads the digit and a three-layer linear adder that adds it to the
// integer. Layer names, shapes and order are exactly the seed's PyTorch module names, which are
// also the checkpoint keys.
//
// Where it follows the seed: every layer, kernel, activation and the pooling position; the adder's
// input is stack([argmax(logits).float(), addend.float()]); no gradient passes through the argmax.
// Where it departs: nothing in the architecture. Initial weights use PyTorch's default bounds but
// our own generator (SplitMix64), so a seed gives different numbers than torch.manual_seed.
import NNCore

/// One convolution of the CNN: its checkpoint name, channels, kernel and the input size it sees.
public struct ConvSpec: Sendable, Equatable {
    /// The module name (`input1`, `conv1`, ...), the prefix of its checkpoint keys.
    public let name: String
    /// The convolution's geometry on one image (stride 1, no padding for every layer of the seed).
    public let geometry: Conv2dGeometry
    /// Whether ReLU follows (every convolution but `conv6`).
    public let relu: Bool
}

/// One linear layer of the adder: its checkpoint name and sizes.
public struct LinearSpec: Sendable, Equatable {
    /// The module name (`input2`, `layer1`, `out2`).
    public let name: String
    /// Input features.
    public let inFeatures: Int
    /// Output features.
    public let outFeatures: Int
}

/// The seed network's parameters and its architecture.
///
/// Parameters are an ordered list: for each layer in `AdderNetwork.parameterNames` order, weight
/// then bias. Shapes are PyTorch's: conv weights OIHW, linear weights [out, in].
public struct AdderNetwork: Sendable, Equatable {
    /// Image side in pixels (MNIST: 28).
    public static let imageSize = 28
    /// Number of classes (digits 0–9).
    public static let classes = 10

    private static func conv(_ name: String, _ c: Int, _ o: Int, _ k: Int, _ size: Int, relu: Bool = true) -> ConvSpec {
        ConvSpec(
            name: name,
            geometry: Conv2dGeometry(
                inChannels: c, outChannels: o, kernelHeight: k, kernelWidth: k,
                inputHeight: size, inputWidth: size),
            relu: relu)
    }

    /// The CNN before the pool: `input1` 1→16 (28→26), `conv1` 16→32 (→24), `conv2` 32→64 (→22).
    public static let convsBeforePool = [
        conv("input1", 1, 16, 3, 28), conv("conv1", 16, 32, 3, 26), conv("conv2", 32, 64, 3, 24),
    ]
    /// `pool`: MaxPool2d(2, 2) after ReLU(conv2), 22×22 → 11×11.
    public static let poolKernel = 2
    /// The CNN after the pool: `oneconv1` 64→16 1×1, `conv3` 16→32 (11→9), `conv4` 32→64 (→7),
    /// `conv5` 64→64 (→5), `conv6` 64→10 5×5 (→1×1, no ReLU: these are the logits).
    public static let convsAfterPool = [
        conv("oneconv1", 64, 16, 1, 11), conv("conv3", 16, 32, 3, 11), conv("conv4", 32, 64, 3, 9),
        conv("conv5", 64, 64, 3, 7), conv("conv6", 64, 10, 5, 5, relu: false),
    ]
    /// All eight convolutions in forward order.
    public static let convs = convsBeforePool + convsAfterPool
    /// The adder: `input2` Linear(2, 5) → `layer1` Linear(5, 5) → `out2` Linear(5, 1), no activation.
    public static let linears = [
        LinearSpec(name: "input2", inFeatures: 2, outFeatures: 5),
        LinearSpec(name: "layer1", inFeatures: 5, outFeatures: 5),
        LinearSpec(name: "out2", inFeatures: 5, outFeatures: 1),
    ]

    /// Checkpoint keys in parameter order: `input1.weight`, `input1.bias`, ..., `out2.bias`
    /// (PyTorch's `state_dict()` keys for the seed network).
    public static let parameterNames: [String] =
        (convs.map(\.name) + linears.map(\.name)).flatMap { ["\($0).weight", "\($0).bias"] }

    /// Parameter shapes in parameter order.
    public static let parameterShapes: [[Int]] =
        convs.flatMap { s -> [[Int]] in
            let g = s.geometry
            return [[g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth], [g.outChannels]]
        } + linears.flatMap { [[$0.outFeatures, $0.inFeatures], [$0.outFeatures]] }

    /// Index of the first adder parameter (`input2.weight`); everything before is the CNN.
    public static let adderParameterStart = 2 * convs.count

    /// The total number of trainable values: 100,461 for the seed network.
    public static var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.reduce(1, *) } }

    /// The parameters, in `parameterNames` order.
    public var parameters: [Tensor]

    /// A freshly initialised network: every weight and bias uniform in ±1/√fan_in, fan_in being
    /// in-channels·kh·kw or in-features. Matches the bounds of PyTorch's default init for Conv2d and
    /// Linear (`kaiming_uniform_(a=√5)` for weights); the numbers come from `SplitMix64(seed:)`.
    public init(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        parameters = Self.parameterShapes.enumerated().map { index, shape in
            let weightShape = Self.parameterShapes[index - index % 2]
            let fanIn = weightShape.dropFirst().reduce(1, *)
            let bound = 1 / Float(fanIn).squareRoot()
            let count = shape.reduce(1, *)
            return Tensor(shape: shape, scalars: (0..<count).map { _ in rng.nextUniform(-bound, bound) })
        }
    }

    /// A network with the given parameters, checked against the architecture.
    ///
    /// - Throws: `CheckpointError.missingKeys`, `.unexpectedKeys` or `.shapeMismatch` (naming the key,
    ///   the expected and the found shape). Matches `nn.Module.load_state_dict(strict=True)`.
    public init(stateDict: [String: Tensor]) throws {
        let missing = Self.parameterNames.filter { stateDict[$0] == nil }
        guard missing.isEmpty else { throw CheckpointError.missingKeys(missing) }
        let extra = stateDict.keys.filter { !Self.parameterNames.contains($0) }.sorted()
        guard extra.isEmpty else { throw CheckpointError.unexpectedKeys(extra) }
        parameters = []
        for (name, shape) in zip(Self.parameterNames, Self.parameterShapes) {
            guard let tensor = stateDict[name] else { throw CheckpointError.missingKeys([name]) }
            guard tensor.shape == shape else {
                throw CheckpointError.shapeMismatch(key: name, expected: shape, found: tensor.shape)
            }
            parameters.append(tensor)
        }
    }

    /// The parameters by checkpoint key. Matches `nn.Module.state_dict()`.
    public var stateDict: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: zip(Self.parameterNames, parameters))
    }
}

/// A checkpoint that does not fit the network.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// Keys the network needs that the checkpoint lacks.
    case missingKeys([String])
    /// Keys in the checkpoint that the network does not have.
    case unexpectedKeys([String])
    /// A parameter whose shape differs from the network's.
    case shapeMismatch(key: String, expected: [Int], found: [Int])
    /// A parameter holding NaN or ±infinity; `index` is the first such element, row-major.
    /// (PyTorch's `load_state_dict` accepts these; a model with them predicts NaN.)
    case nonFinite(key: String, index: Int, value: Float)

    /// Most keys a message lists before it says how many more there are.
    static let listedKeys = 6

    /// One line naming the keys or the key with its expected and found shape or value.
    public var description: String {
        switch self {
        case .missingKeys(let keys):
            "checkpoint is missing \(keys.count) key(s): \(Self.list(keys))\(Self.prefixHint(missing: keys))"
        case .unexpectedKeys(let keys):
            "checkpoint has \(keys.count) unexpected key(s): \(Self.list(keys))\(Self.prefixHint(unexpected: keys))"
        case .shapeMismatch(let key, let expected, let found):
            "checkpoint key \(key) has shape \(found), expected \(expected)"
        case .nonFinite(let key, let index, let value):
            "checkpoint key \(key) holds \(value) at element \(index), expected finite numbers"
        }
    }

    /// The first `listedKeys` keys, then how many are left out.
    private static func list(_ keys: [String]) -> String {
        let shown = keys.prefix(listedKeys).joined(separator: ", ")
        return keys.count > listedKeys ? shown + " and \(keys.count - listedKeys) more" : shown
    }

    /// A hint when the unexpected keys are the network's own under a prefix such as `model.` (a
    /// `training-state.safetensors`) or `module.` (a model saved inside a wrapper).
    private static func prefixHint(unexpected keys: [String]) -> String {
        let prefixes = Set(AdderNetwork.parameterNames.flatMap { name in
            keys.filter { $0.hasSuffix("." + name) }.map { String($0.dropLast(name.count)) }
        })
        guard let prefix = prefixes.sorted().first else { return "" }
        let hint = prefix == "model."
            ? " (a training-state file? give the run's model.safetensors)" : ""
        return "; expected the keys without the prefix '\(prefix)', such as \(AdderNetwork.parameterNames[0])\(hint)"
    }

    /// A hint when every key is missing: the file holds no tensor of this network.
    private static func prefixHint(missing keys: [String]) -> String {
        keys.count == AdderNetwork.parameterNames.count ? " (the file holds none of this network's tensors)" : ""
    }
}
