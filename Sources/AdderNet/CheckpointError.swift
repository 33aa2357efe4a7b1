// What can be wrong with a checkpoint's tensors, each said in one line naming the network the file
// was checked against.
import NNCore

/// A checkpoint that does not fit the network.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// Keys the network needs that the checkpoint lacks, and keys in the checkpoint that the network
    /// does not have, reported together as `load_state_dict(strict=True)` does (either may be empty,
    /// not both). `network` is the name of the description checked against.
    case keyMismatch(network: String, missing: [String], unexpected: [String])
    /// A parameter whose shape differs from the network's.
    case shapeMismatch(network: String, key: String, expected: [Int], found: [Int])
    /// A parameter holding NaN or ±infinity; `index` is the first such element, row-major.
    /// (PyTorch's `load_state_dict` accepts these; a model with them predicts NaN.)
    case nonFinite(key: String, index: Int, value: Float)
    /// The `addendRange` metadata (or the `options`' one) is not `[LO, HI]` with 0 ≤ LO ≤ HI ≤ 1,000,000.
    case badAddendRange(found: String)
    /// The file is a PyTorch `torch.save` file (`kind`: "a zip archive" or "a pickle"), not safetensors.
    case pyTorchFormat(kind: String)
    /// The file is not safetensors at all (its header does not begin with `{`); `found` says what it starts
    /// like ("a PNG image", "text starting ...", "bytes 00 01 ...").
    case notSafetensors(found: String)
    /// Most keys a message lists before it says how many more there are.
    static let listedKeys = 6
    /// Most edits between an unexpected and a missing key for the hint that one is the other renamed.
    static let renameDistance = 2

    /// One line naming the network, the keys or the key with its expected and found shape or value.
    public var description: String {
        switch self {
        case .keyMismatch(let network, let missing, let unexpected):
            var parts: [String] = []
            if !missing.isEmpty {
                parts.append("\(missing.count) missing key(s): \(Self.list(missing))\(Self.noneHint(network: network, missing: missing))")
            }
            if !unexpected.isEmpty {
                parts.append("\(unexpected.count) unexpected key(s): \(Self.list(unexpected))")
            }
            let hint = Self.prefixHint(unexpected: unexpected) ?? Self.renameHint(missing: missing, unexpected: unexpected)
            return "checkpoint does not match network '\(network)': " + parts.joined(separator: "; ")
                + (hint.map { "; " + $0 } ?? "")
        case .shapeMismatch(let network, let key, let expected, let found):
            return "checkpoint does not match network '\(network)': key \(key) has shape \(found), expected \(expected)"
        case .nonFinite(let key, let index, let value):
            return "checkpoint key \(key) holds \(value) at element \(index), expected finite numbers"
        case .badAddendRange(let found):
            return "checkpoint metadata addendRange is \(found), expected [LO, HI] with 0 ≤ LO ≤ HI ≤ 1000000"
        case .pyTorchFormat(let kind):
            return "checkpoint is a PyTorch .pt/.pth file (\(kind)), expected safetensors; convert it \(Checkpoint.conversionHint)"
        case .notSafetensors(let found):
            return "checkpoint is not a safetensors file (8 bytes of header length, then a JSON header starting with '{'), "
                + "found \(found)"
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
    private static func prefixHint(unexpected keys: [String]) -> String? {
        let prefixes = Set(knownKeys.flatMap { name in
            keys.filter { $0.hasSuffix("." + name) }.map { String($0.dropLast(name.count)) }
        })
        guard let prefix = prefixes.sorted().first else { return nil }
        let hint = prefix == "model."
            ? " (a training-state file? give the run's model.safetensors)" : ""
        let example = knownKeys.first { keys.contains(prefix + $0) } ?? ""
        return "expected the keys without the prefix '\(prefix)', such as \(example)\(hint)"
    }

    /// A hint for unexpected keys within `renameDistance` edits of a missing one: "out2.bais looks
    /// like out2.bias renamed" (the first `listedKeys` pairs).
    private static func renameHint(missing: [String], unexpected: [String]) -> String? {
        let pairs = unexpected.compactMap { found -> String? in
            let nearest = missing.map { (key: $0, distance: editDistance(found, $0)) }.min { $0.distance < $1.distance }
            guard let nearest, nearest.distance <= renameDistance else { return nil }
            return "\(found) looks like \(nearest.key) renamed"
        }
        return pairs.isEmpty ? nil : pairs.prefix(listedKeys).joined(separator: ", ")
    }

    /// A hint when every key the network needs is missing: the file holds none of its tensors.
    private static func noneHint(network: String, missing: [String]) -> String {
        guard let model = ModelDescription.builtIn.first(where: { $0.name == network }) else { return "" }
        let required = model.stateEntries.filter { !$0.isInt64 }.map(\.key)
        return Set(required).isSubset(of: missing) ? " (the file holds none of this network's tensors)" : ""
    }
}
