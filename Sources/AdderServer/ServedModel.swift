// The model a server answers with: loaded once by the caller (the CLI reads the checkpoint) and shared,
// read-only, by every request.
import AdderInference
import AdderNet
import MNISTData

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
    /// The layers with weights (and dropout) in forward order, then the adder's linear layers.
    public var layers: [LayerSummary]
    /// The total number of trainable values (100,461 for the seed network).
    public var parameterCount: Int

    /// The summary of a network: every layer with weights (and dropout), in forward order, each
    /// with what follows it fused (`Conv2d(32, 64, kernel_size=3) + ReLU + MaxPool2d(2, 2)`).
    public init(model: ModelDescription) {
        let entries = model.parameterEntries
        var layers: [LayerSummary] = []
        let all = model.layers + model.adder.map(Layer.linear)
        for (i, layer) in all.enumerated() {
            let text: String
            switch layer {
            case .conv2d(let c): text = "Conv2d(\(c.inChannels), \(c.outChannels), kernel_size=\(c.kernelSize))"
            case .batchNorm2d(let b): text = "BatchNorm2d(\(b.numFeatures))"
            case .linear(let l): text = "Linear(\(l.inFeatures), \(l.outFeatures))"
            case .dropout(let d): text = "Dropout(p=\(d.p))"
            case .relu, .flatten, .maxPool2d: continue
            }
            guard let name = layer.name else { continue }
            var suffix = ""
            var j = i + 1
            while j < all.count, all[j].name == nil || { if case .maxPool2d = all[j] { true } else { false } }() {
                switch all[j] {
                case .relu: suffix += " + ReLU"
                case .maxPool2d(let p): suffix += " + MaxPool2d(\(p.kernelSize), \(p.stride))"
                case .flatten: suffix += " + Flatten"
                default: break
                }
                j += 1
            }
            let parameters = entries.filter { $0.key.hasPrefix(name + ".") }.map { ParameterSummary(name: $0.key, shape: $0.shape) }
            layers.append(LayerSummary(name: name, kind: layer.typeName, description: text + suffix, parameters: parameters))
        }
        self.init(layers: layers, parameterCount: model.parameterCount)
    }

    /// A summary from its parts.
    public init(layers: [LayerSummary], parameterCount: Int) {
        self.layers = layers
        self.parameterCount = parameterCount
    }
}

/// The network a server predicts with, its summary and what the checkpoint says about it.
public struct ServedModel: Sendable {
    /// The parameters, loaded once and shared read-only by all requests.
    public let network: AdderNetwork
    /// Layer names, shapes and the parameter count, reported by `GET /api/model`.
    public let summary: ModelSummary
    /// The checkpoint's metrics and metadata (e.g. `epoch`, `testAccuracy`, `file`), reported as given.
    public let metadata: [String: String]
    /// The addends the network was trained on (`Checkpoint.addendRange(metadata:)`: the `addendRange` key,
    /// the options' range, or the seed's 0...9); the server's range must lie within it.
    public let trainedAddendRange: ClosedRange<Int>
    /// The checkpoint's calibration (temperature, "unsure" thresholds), nil when it has none.
    public let calibration: Calibration?

    /// Wraps a network with the checkpoint's metrics and metadata (empty for a random network) and
    /// its calibration, if any.
    /// `trainedAddendRange` nil: read from `metadata` (0...9 when it holds none, or one that cannot be read;
    /// the CLI refuses such a checkpoint before it gets here).
    public init(network: AdderNetwork, metadata: [String: String] = [:], trainedAddendRange: ClosedRange<Int>? = nil,
        calibration: Calibration? = nil
    ) {
        self.network = network
        self.summary = ModelSummary(model: network.model)
        self.metadata = metadata
        self.calibration = calibration
        self.trainedAddendRange =
            trainedAddendRange ?? (try? Checkpoint.addendRange(metadata: metadata)) ?? AdderDataset.defaultAddendRange
    }
}

/// A server configured with addends the network was not trained on (`serve --addend-range` may only narrow
/// the trained range).
public struct AddendRangeBeyondTrainingError: Error, Equatable, CustomStringConvertible {
    /// The server's configured range.
    public var configured: ClosedRange<Int>
    /// The range the network was trained on.
    public var trained: ClosedRange<Int>

    /// The error for a server configured with `configured` and a model trained on `trained`.
    public init(configured: ClosedRange<Int>, trained: ClosedRange<Int>) {
        self.configured = configured
        self.trained = trained
    }

    /// One line naming both ranges.
    public var description: String {
        "addend range \(configured) reaches outside \(trained), the range the model was trained on; expected a range within it"
    }
}
