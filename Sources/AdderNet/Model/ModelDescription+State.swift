// The tensors a description owns, in PyTorch's `state_dict` order: per module, in layer order
// (the CNN's, then the adder's), its parameters (weight, bias) then its buffers (BatchNorm2d's
// running_mean, running_var, num_batches_tracked).

/// One tensor of a model's state: a trainable parameter or a buffer.
public struct StateEntry: Sendable, Equatable {
    /// What the tensor is to its layer.
    public enum Role: String, Sendable {
        /// Convolution or linear weight (OIHW or [O, I]), or BatchNorm2d's scale γ.
        case weight
        /// Bias, or BatchNorm2d's shift β.
        case bias
        /// BatchNorm2d's running mean (a buffer).
        case runningMean = "running_mean"
        /// BatchNorm2d's running variance, unbiased (a buffer).
        case runningVar = "running_var"
        /// BatchNorm2d's count of training batches seen (a buffer; int64 in files, a Float here,
        /// exact up to 2²⁴).
        case numBatchesTracked = "num_batches_tracked"
    }

    /// The `state_dict` key, `<module name>.<role>`.
    public var key: String
    /// PyTorch's shape (num_batches_tracked: [], a scalar).
    public var shape: [Int]
    /// What the tensor is.
    public var role: Role
    /// Index of the owning layer in `layers`, or nil for the adder's layers.
    public var layerIndex: Int?
    /// Fan-in of the owning layer's weight (in-channels·k·k or in-features): the bound of PyTorch's
    /// default initialisation is 1/√fan_in. 0 for BatchNorm2d.
    public var fanIn: Int

    /// Whether the optimizer updates it (weight and bias); buffers change only in training's forward pass.
    public var isParameter: Bool { role == .weight || role == .bias }
    /// Whether files hold it as int64 (num_batches_tracked), as PyTorch does.
    public var isInt64: Bool { role == .numBatchesTracked }
    /// Number of values.
    public var count: Int { shape.reduce(1, *) }
}

extension ModelDescription {
    /// Every tensor of the model in `state_dict` order. Matches `model.state_dict().keys()` and shapes
    /// of the network's PyTorch module (scripts/pytorch/).
    public var stateEntries: [StateEntry] {
        var entries: [StateEntry] = []
        func add(_ name: String, _ role: StateEntry.Role, _ shape: [Int], _ layer: Int?, fanIn: Int = 0) {
            entries.append(StateEntry(key: "\(name).\(role.rawValue)", shape: shape, role: role, layerIndex: layer, fanIn: fanIn))
        }
        for (i, layer) in layers.enumerated() {
            switch layer {
            case .conv2d(let c):
                let fanIn = c.inChannels * c.kernelSize * c.kernelSize
                add(c.name, .weight, [c.outChannels, c.inChannels, c.kernelSize, c.kernelSize], i, fanIn: fanIn)
                if c.bias { add(c.name, .bias, [c.outChannels], i, fanIn: fanIn) }
            case .batchNorm2d(let b):
                add(b.name, .weight, [b.numFeatures], i)
                add(b.name, .bias, [b.numFeatures], i)
                add(b.name, .runningMean, [b.numFeatures], i)
                add(b.name, .runningVar, [b.numFeatures], i)
                add(b.name, .numBatchesTracked, [], i)
            case .linear(let l):
                add(l.name, .weight, [l.outFeatures, l.inFeatures], i, fanIn: l.inFeatures)
                if l.bias { add(l.name, .bias, [l.outFeatures], i, fanIn: l.inFeatures) }
            case .relu, .maxPool2d, .dropout, .flatten:
                break
            }
        }
        for l in adder {
            add(l.name, .weight, [l.outFeatures, l.inFeatures], nil, fanIn: l.inFeatures)
            if l.bias { add(l.name, .bias, [l.outFeatures], nil, fanIn: l.inFeatures) }
        }
        return entries
    }

    /// The trainable tensors in `state_dict` order: what the optimizer steps and `parameters` holds.
    public var parameterEntries: [StateEntry] { stateEntries.filter(\.isParameter) }
    /// The buffers (running statistics) in `state_dict` order: what `buffers` holds.
    public var bufferEntries: [StateEntry] { stateEntries.filter { !$0.isParameter } }
    /// Keys of the parameters in order (`input1.weight`, `input1.bias`, ..., `out2.bias` for the seed).
    public var parameterNames: [String] { parameterEntries.map(\.key) }
    /// Shapes of the parameters in order.
    public var parameterShapes: [[Int]] { parameterEntries.map(\.shape) }
    /// Index of the first adder parameter; the ones before it belong to the CNN.
    public var adderParameterStart: Int { parameterEntries.firstIndex { $0.layerIndex == nil } ?? parameterEntries.count }
    /// Trainable values in all: 100,461 for the seed. Matches `sum(p.numel() for p in model.parameters())`.
    public var parameterCount: Int { parameterEntries.reduce(0) { $0 + $1.count } }
}
