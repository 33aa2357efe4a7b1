// The layers a network description is made of. Each is a plain value with PyTorch's constructor
// arguments and, where it has weights, the module name that prefixes its `state_dict` keys.
// The JSON form (checkpoint metadata, `summary --json`) names the type as PyTorch does
// (`"type": "Conv2d"`) and the arguments in PyTorch's snake_case.

/// `nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)` with a square kernel,
/// dilation 1, groups 1 and zero padding. Weight OIHW, bias [O] when `bias`.
public struct Conv2d: Sendable, Equatable, Codable {
    /// Module name, the prefix of its keys (`conv1` → `conv1.weight`, `conv1.bias`).
    public var name: String
    /// Input channels C.
    public var inChannels: Int
    /// Output channels O.
    public var outChannels: Int
    /// Kernel side k (the kernel is k×k).
    public var kernelSize: Int
    /// Step between windows on both axes.
    public var stride: Int
    /// Zeros added on each side of both axes.
    public var padding: Int
    /// Whether the layer has a bias (PyTorch's `bias=True`, the default).
    public var bias: Bool

    /// A convolution; matches `nn.Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias=bias)`.
    public init(_ name: String, _ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Int = 0, bias: Bool = true) {
        self.name = name
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.bias = bias
    }

    enum CodingKeys: String, CodingKey {
        case name, inChannels = "in_channels", outChannels = "out_channels", kernelSize = "kernel_size"
        case stride, padding, bias
    }
}

/// `nn.BatchNorm2d(num_features, eps, momentum)` with affine weight and bias and running statistics
/// (`running_mean`, `running_var`, `num_batches_tracked`), as PyTorch keeps them.
public struct BatchNorm2d: Sendable, Equatable, Codable {
    /// Module name, the prefix of its keys.
    public var name: String
    /// Channels C.
    public var numFeatures: Int
    /// Added to the variance before the square root.
    public var eps: Float
    /// Weight of the batch's statistics in the running ones: running = (1 − m)·running + m·batch.
    public var momentum: Float

    /// A batch-norm layer; matches `nn.BatchNorm2d(numFeatures, eps=eps, momentum=momentum)`.
    public init(_ name: String, _ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.name = name
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
    }

    enum CodingKeys: String, CodingKey { case name, numFeatures = "num_features", eps, momentum }
}

/// `nn.MaxPool2d(kernel_size, stride)` without padding (a window that would run past the input is
/// dropped, PyTorch's `ceil_mode=False`).
public struct MaxPool2d: Sendable, Equatable, Codable {
    /// Module name when the network has a pooling module (the seed's `pool`), nil for `F.max_pool2d`.
    public var name: String?
    /// Window side.
    public var kernelSize: Int
    /// Step between windows.
    public var stride: Int

    /// A pooling layer; matches `nn.MaxPool2d(kernelSize, stride)` (stride defaults to the kernel, as in PyTorch).
    public init(_ name: String? = nil, kernelSize: Int, stride: Int? = nil) {
        self.name = name
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
    }

    enum CodingKeys: String, CodingKey { case name, kernelSize = "kernel_size", stride }
}

/// `nn.Dropout(p)`: in training, each value is zeroed with probability p and the rest scaled by
/// 1/(1 − p); in evaluation, the identity. Masks come from (seed, step, image), not from PyTorch's
/// generator, so the values differ from PyTorch's while the distribution is the same.
public struct Dropout: Sendable, Equatable, Codable {
    /// Module name (`dropout1`); it has no keys but names the layer in summaries.
    public var name: String
    /// Probability of zeroing a value, in [0, 1).
    public var p: Float

    /// A dropout layer; matches `nn.Dropout(p)`.
    public init(_ name: String, p: Float) {
        self.name = name
        self.p = p
    }
}

/// `nn.Linear(in_features, out_features, bias)`: weight [O, I], bias [O].
public struct Linear: Sendable, Equatable, Codable {
    /// Module name, the prefix of its keys.
    public var name: String
    /// Input features I.
    public var inFeatures: Int
    /// Output features O.
    public var outFeatures: Int
    /// Whether the layer has a bias.
    public var bias: Bool

    /// A fully connected layer; matches `nn.Linear(inFeatures, outFeatures, bias=bias)`.
    public init(_ name: String, _ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.name = name
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.bias = bias
    }

    enum CodingKeys: String, CodingKey { case name, inFeatures = "in_features", outFeatures = "out_features", bias }
}

/// One layer of a network description, in forward order.
///
/// The CNN part of a model is a list of these, like the body of a PyTorch `forward` written as an
/// `nn.Sequential`. `relu` and `flatten` have no weights and no name (PyTorch's `F.relu`,
/// `torch.flatten(x, 1)`).
public enum Layer: Sendable, Equatable {
    /// A 2-D convolution.
    case conv2d(Conv2d)
    /// Batch normalization over the channels of NCHW activations.
    case batchNorm2d(BatchNorm2d)
    /// `max(0, x)`, elementwise. Matches `torch.nn.functional.relu`.
    case relu
    /// Max pooling.
    case maxPool2d(MaxPool2d)
    /// Dropout.
    case dropout(Dropout)
    /// (N, C, H, W) → (N, C·H·W). Matches `torch.flatten(x, 1)`.
    case flatten
    /// A fully connected layer on (N, I).
    case linear(Linear)

    /// The module name: the prefix of the layer's keys, or nil for `relu`, `flatten` and an unnamed pool.
    public var name: String? {
        switch self {
        case .conv2d(let l): l.name
        case .batchNorm2d(let l): l.name
        case .maxPool2d(let l): l.name
        case .dropout(let l): l.name
        case .linear(let l): l.name
        case .relu, .flatten: nil
        }
    }

    /// PyTorch's class name for the layer (`Conv2d`, `ReLU`, ...), as in the JSON form.
    public var typeName: String {
        switch self {
        case .conv2d: "Conv2d"
        case .batchNorm2d: "BatchNorm2d"
        case .relu: "ReLU"
        case .maxPool2d: "MaxPool2d"
        case .dropout: "Dropout"
        case .flatten: "Flatten"
        case .linear: "Linear"
        }
    }
}

extension Layer: Codable {
    private enum TypeKey: String, CodingKey { case type }

    /// Reads `{"type": "Conv2d", ...arguments}`. Throws `DecodingError` naming an unknown type.
    public init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: TypeKey.self).decode(String.self, forKey: .type)
        switch type {
        case "Conv2d": self = .conv2d(try Conv2d(from: decoder))
        case "BatchNorm2d": self = .batchNorm2d(try BatchNorm2d(from: decoder))
        case "ReLU": self = .relu
        case "MaxPool2d": self = .maxPool2d(try MaxPool2d(from: decoder))
        case "Dropout": self = .dropout(try Dropout(from: decoder))
        case "Flatten": self = .flatten
        case "Linear": self = .linear(try Linear(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath,
                debugDescription: "unknown layer type '\(type)', expected one of Conv2d, BatchNorm2d, ReLU, "
                    + "MaxPool2d, Dropout, Flatten, Linear"))
        }
    }

    /// Writes `{"type": "Conv2d", ...arguments}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        try container.encode(typeName, forKey: .type)
        switch self {
        case .conv2d(let l): try l.encode(to: encoder)
        case .batchNorm2d(let l): try l.encode(to: encoder)
        case .maxPool2d(let l): try l.encode(to: encoder)
        case .dropout(let l): try l.encode(to: encoder)
        case .linear(let l): try l.encode(to: encoder)
        case .relu, .flatten: break
        }
    }
}
