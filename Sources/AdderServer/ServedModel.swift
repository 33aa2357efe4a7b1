// The model a server answers with: loaded once by the caller (the CLI reads the checkpoint) and shared,
// read-only, by every request.
import AdderNet

/// One parameter tensor of the network as `GET /api/model` reports it.
public struct ParameterSummary: Sendable, Equatable, Codable {
    /// The checkpoint key (`conv1.weight`), PyTorch's `state_dict` key.
    public var name: String
    /// The shape, PyTorch's: OIHW for convolution weights, [out, in] for linear weights, [out] for biases.
    public var shape: [Int]
    /// The number of values, the product of `shape`.
    public var count: Int

    /// Describes one parameter; `count` is the product of `shape`.
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        self.count = shape.reduce(1, *)
    }
}

/// One layer of the network: its module name, kind and parameters.
public struct LayerSummary: Sendable, Equatable, Codable {
    /// The module name (`input1`, `conv1`, ..., `out2`), the prefix of its checkpoint keys.
    public var name: String
    /// PyTorch's class name: `Conv2d` or `Linear`.
    public var kind: String
    /// The layer as PyTorch would print it with what follows it, e.g. `Conv2d(1, 16, kernel_size=3) + ReLU`.
    public var description: String
    /// Weight then bias.
    public var parameters: [ParameterSummary]
}

/// The architecture of the served network: its layers in forward order and the number of trainable values.
public struct ModelSummary: Sendable, Equatable, Codable {
    /// The eight convolutions in forward order, then the three linear layers of the adder.
    public var layers: [LayerSummary]
    /// The total number of trainable values (100,461 for the seed network).
    public var parameterCount: Int

    /// The summary of `AdderNetwork`'s architecture, built from its layer specifications.
    public static let seedNetwork: ModelSummary = {
        var layers: [LayerSummary] = []
        var shapes = zip(AdderNetwork.parameterNames, AdderNetwork.parameterShapes).makeIterator()
        func nextTwo() -> [ParameterSummary] {
            (0..<2).compactMap { _ in shapes.next().map { ParameterSummary(name: $0.0, shape: $0.1) } }
        }
        for conv in AdderNetwork.convs {
            let g = conv.geometry
            var text = "Conv2d(\(g.inChannels), \(g.outChannels), kernel_size=\(g.kernelHeight))"
            if conv.relu { text += " + ReLU" }
            if conv.name == AdderNetwork.convsBeforePool.last?.name {
                text += " + MaxPool2d(\(AdderNetwork.poolKernel), \(AdderNetwork.poolKernel))"
            }
            layers.append(LayerSummary(name: conv.name, kind: "Conv2d", description: text, parameters: nextTwo()))
        }
        for linear in AdderNetwork.linears {
            layers.append(
                LayerSummary(
                    name: linear.name, kind: "Linear",
                    description: "Linear(\(linear.inFeatures), \(linear.outFeatures))", parameters: nextTwo()))
        }
        return ModelSummary(layers: layers, parameterCount: AdderNetwork.parameterCount)
    }()
}

/// The network a server predicts with, its summary and what the checkpoint says about it.
public struct ServedModel: Sendable {
    /// The parameters, loaded once and shared read-only by all requests.
    public let network: AdderNetwork
    /// Layer names, shapes and the parameter count, reported by `GET /api/model`.
    public let summary: ModelSummary
    /// The checkpoint's metrics and metadata (e.g. `epoch`, `testAccuracy`, `file`), reported as given.
    public let metadata: [String: String]

    /// Wraps a network with the checkpoint's metrics and metadata (empty for a random network).
    public init(network: AdderNetwork, metadata: [String: String] = [:]) {
        self.network = network
        self.summary = .seedNetwork
        self.metadata = metadata
    }
}
