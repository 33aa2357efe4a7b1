// What can be wrong with a checkpoint's tensors, each said in one line.

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
    /// The `addendRange` metadata (or the `options`' one) is not `[LO, HI]` with 0 ≤ LO ≤ HI ≤ 1,000,000.
    case badAddendRange(found: String)
    /// The file is a PyTorch `torch.save` file (`kind`: "a zip archive" or "a pickle"), not safetensors.
    case pyTorchFormat(kind: String)
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
        case .badAddendRange(let found):
            "checkpoint metadata addendRange is \(found), expected [LO, HI] with 0 ≤ LO ≤ HI ≤ 1000000"
        case .pyTorchFormat(let kind):
            "checkpoint is a PyTorch .pt/.pth file (\(kind)), expected safetensors; convert it \(Checkpoint.conversionHint)"
        }
    }

    /// The first `listedKeys` keys, then how many are left out.
    private static func list(_ keys: [String]) -> String {
        let shown = keys.prefix(listedKeys).joined(separator: ", ")
        return keys.count > listedKeys ? shown + " and \(keys.count - listedKeys) more" : shown
    }

    /// Every key a built-in network has.
    private static var knownKeys: [String] {
        ModelDescription.builtIn.flatMap { $0.stateEntries.map(\.key) }
    }

    /// A hint when the unexpected keys are a network's own under a prefix such as `model.` (a
    /// `training-state.safetensors`) or `module.` (a model saved inside a wrapper).
    private static func prefixHint(unexpected keys: [String]) -> String {
        let prefixes = Set(knownKeys.flatMap { name in
            keys.filter { $0.hasSuffix("." + name) }.map { String($0.dropLast(name.count)) }
        })
        guard let prefix = prefixes.sorted().first else { return "" }
        let hint = prefix == "model."
            ? " (a training-state file? give the run's model.safetensors)" : ""
        let example = knownKeys.first { keys.contains(prefix + $0) } ?? ""
        return "; expected the keys without the prefix '\(prefix)', such as \(example)\(hint)"
    }

    /// A hint when every key is missing: the file holds no tensor of this network.
    private static func prefixHint(missing keys: [String]) -> String {
        let all = ModelDescription.builtIn.contains { $0.stateEntries.count == keys.count }
        return all ? " (the file holds none of this network's tensors)" : ""
    }
}
