// A network as a value: the CNN's layers in forward order and the adder's linear layers. The
// summary, the parameter list, the checkpoint's key and shape checks, the execution plan and the
// ONNX export are all derived from it; Sources/AdderNet/Networks/ holds one file per network.
import Foundation

/// A complete network: a CNN from a (1, 28, 28) image to 10 logits, and the adder, a stack of
/// linear layers from (argmax digit, integer) to the sum.
///
/// Matches a PyTorch module whose `forward` applies `layers` in order to the image (the logits are
/// the last output, viewed as (N, 10)) and the adder to `stack([argmax(logits).float(),
/// addend.float()], 1)`, with `state_dict` keys `<layer name>.<tensor>` in layer order.
public struct ModelDescription: Sendable, Equatable, Codable {
    /// Short name used on the command line (`seed`, `pytorch-examples`, `seed-bn`).
    public var name: String
    /// One image's shape, (C, H, W): (1, 28, 28) for MNIST.
    public var inputShape: [Int]
    /// The CNN, image to logits.
    public var layers: [Layer]
    /// The adder, (N, 2) to (N, 1), with no activation between its layers.
    public var adder: [Linear]

    /// Number of classes the logits score (10 digits).
    public static let classes = 10

    /// A description; `validate()` checks that the shapes fit.
    public init(name: String, inputShape: [Int] = [1, 28, 28], layers: [Layer], adder: [Linear] = ModelDescription.standardAdder) {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        self.adder = adder
    }

    enum CodingKeys: String, CodingKey { case name, inputShape = "input_shape", layers, adder }
}

/// A description whose layers do not fit together, or a name no network has.
public enum ModelDescriptionError: Error, Equatable, CustomStringConvertible {
    /// Layer `index` (0-based, in `layers` or, with `inAdder`, in `adder`) cannot take the shape it gets.
    case shapeMismatch(layer: String, index: Int, expected: String, found: [Int])
    /// A layer's arguments are out of range (a kernel larger than its input, p outside [0, 1) ...).
    case invalidArgument(layer: String, index: Int, reason: String)
    /// Two layers share a module name.
    case duplicateName(String)
    /// The CNN does not end in 10 values per image, or the adder does not go from 2 to 1.
    case wrongOutput(part: String, expected: String, found: [Int])
    /// `--model NAME` or a checkpoint's `model` metadata names no known network.
    case unknownModel(name: String, known: [String])
    /// The `model` metadata of a checkpoint is not a description.
    case unreadable(reason: String)

    /// One line naming the layer, the expected and the found value.
    public var description: String {
        switch self {
        case let .shapeMismatch(layer, index, expected, found):
            "layer \(index) (\(layer)) expects \(expected), found shape \(found)"
        case let .invalidArgument(layer, index, reason):
            "layer \(index) (\(layer)): \(reason)"
        case let .duplicateName(name):
            "two layers are named '\(name)', expected unique module names"
        case let .wrongOutput(part, expected, found):
            "the \(part) ends in shape \(found), expected \(expected)"
        case let .unknownModel(name, known):
            "unknown model '\(name)', expected one of: \(known.joined(separator: ", "))"
        case let .unreadable(reason):
            "the checkpoint's model description is not readable: \(reason)"
        }
    }
}

extension ModelDescription {
    /// The per-image shape after each layer: `shapes[0]` is `inputShape`, `shapes[i + 1]` the output
    /// of `layers[i]`. Throws `ModelDescriptionError` at the first layer that does not fit.
    public func activationShapes() throws -> [[Int]] {
        var shapes = [inputShape]
        var shape = inputShape
        for (index, layer) in layers.enumerated() {
            let label = layer.name.map { "\($0), \(layer.typeName)" } ?? layer.typeName
            func mismatch(_ expected: String) -> ModelDescriptionError {
                .shapeMismatch(layer: label, index: index, expected: expected, found: shape)
            }
            switch layer {
            case .conv2d(let c):
                guard shape.count == 3, shape[0] == c.inChannels else { throw mismatch("(\(c.inChannels), H, W)") }
                guard c.kernelSize > 0, c.stride > 0, c.padding >= 0, c.outChannels > 0 else {
                    throw ModelDescriptionError.invalidArgument(
                        layer: label, index: index, reason: "kernel, stride and channels must be positive, padding 0 or more")
                }
                let (h, w) = (shape[1] + 2 * c.padding, shape[2] + 2 * c.padding)
                guard h >= c.kernelSize, w >= c.kernelSize else {
                    throw ModelDescriptionError.invalidArgument(
                        layer: label, index: index, reason: "kernel \(c.kernelSize) larger than the padded input \(h)×\(w)")
                }
                shape = [c.outChannels, (h - c.kernelSize) / c.stride + 1, (w - c.kernelSize) / c.stride + 1]
            case .batchNorm2d(let b):
                guard shape.count == 3, shape[0] == b.numFeatures else { throw mismatch("(\(b.numFeatures), H, W)") }
            case .relu:
                break
            case .maxPool2d(let p):
                guard shape.count == 3 else { throw mismatch("(C, H, W)") }
                guard p.kernelSize > 0, p.stride > 0, shape[1] >= p.kernelSize, shape[2] >= p.kernelSize else {
                    throw ModelDescriptionError.invalidArgument(
                        layer: label, index: index, reason: "window \(p.kernelSize) (stride \(p.stride)) does not fit \(shape[1])×\(shape[2])")
                }
                shape = [shape[0], (shape[1] - p.kernelSize) / p.stride + 1, (shape[2] - p.kernelSize) / p.stride + 1]
            case .dropout(let d):
                guard d.p >= 0, d.p < 1 else {
                    throw ModelDescriptionError.invalidArgument(layer: label, index: index, reason: "p must be in [0, 1), found \(d.p)")
                }
            case .flatten:
                shape = [shape.reduce(1, *)]
            case .linear(let l):
                guard shape == [l.inFeatures] else { throw mismatch("(\(l.inFeatures)) (flatten first)") }
                shape = [l.outFeatures]
            }
            shapes.append(shape)
        }
        guard shape.reduce(1, *) == Self.classes, shape.dropFirst().allSatisfy({ $0 == 1 }) else {
            throw ModelDescriptionError.wrongOutput(part: "CNN", expected: "10 logits, (10) or (10, 1, 1)", found: shape)
        }
        return shapes
    }

    /// Checks the CNN's shapes, the adder's sizes and that module names are unique.
    /// Throws `ModelDescriptionError`.
    public func validate() throws {
        _ = try activationShapes()
        var features = 2
        for (index, l) in adder.enumerated() {
            guard l.inFeatures == features else {
                throw ModelDescriptionError.shapeMismatch(
                    layer: "\(l.name), Linear", index: index, expected: "(\(l.inFeatures))", found: [features])
            }
            features = l.outFeatures
        }
        guard !adder.isEmpty, features == 1 else {
            throw ModelDescriptionError.wrongOutput(part: "adder", expected: "(1), from (2)", found: [features])
        }
        var seen = Set<String>()
        for name in layers.compactMap(\.name) + adder.map(\.name) {
            guard seen.insert(name).inserted else { throw ModelDescriptionError.duplicateName(name) }
        }
    }
}
