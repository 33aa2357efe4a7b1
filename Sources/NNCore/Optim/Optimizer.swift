// What every optimizer shares: parameter groups, the step over a list of parameters, and a state
// dict of Float32 tensors that can be saved in a safetensors file and resumes a run bit for bit.
//
// Parameters are addressed by their position in the model's ordered parameter list; the model
// keeps the names. Hyperparameters are Float32, so they round-trip exactly through the state
// dict; PyTorch keeps them as Python doubles (lr 1e-3 here is 1.0000000475e-3), which changes an
// update by at most about one Float32 rounding.

/// A set of parameters sharing a learning rate, weight decay and momentum.
/// Matches one entry of `torch.optim.Optimizer.param_groups`.
public struct ParameterGroup: Sendable, Equatable {
    /// Positions in the model's parameter list.
    public var parameterIndices: [Int]
    /// Step size (`lr`), in parameter units per unit of gradient-derived update.
    public var learningRate: Float
    /// Weight decay (`weight_decay`): L2 added to the gradient, or decoupled for `Adam` with
    /// `decoupledWeightDecay` (AdamW).
    public var weightDecay: Float
    /// SGD's `momentum` or Adam's β1 (`betas[0]`) for this group; `OneCycleLR` with
    /// `cycleMomentum` sets it. `nil` means the optimizer's own default, filled in by its init
    /// (like PyTorch's `param_group.setdefault`).
    public var momentum: Float?

    /// A group over `parameterIndices` with its own learning rate, weight decay and momentum.
    public init(parameterIndices: [Int], learningRate: Float, weightDecay: Float = 0, momentum: Float? = nil) {
        self.parameterIndices = parameterIndices
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum
    }
}

/// An optimizer over an ordered list of Float32 parameters. Matches `torch.optim.Optimizer`.
public protocol Optimizer: Sendable {
    /// The groups, in order; schedules change their learning rates and momenta between steps.
    var parameterGroups: [ParameterGroup] { get set }
    /// Number of `step` calls so far (PyTorch's per-parameter `state["step"]`, the same for all).
    var stepCount: Int { get }
    /// Updates every parameter in a group from its gradient, in place.
    ///
    /// `parameters` and `gradients` are the whole model's lists, in the order the groups index;
    /// each gradient has its parameter's shape. A count or shape that differs from the shapes the
    /// optimizer was built with is a programming error (precondition).
    mutating func step(parameters: inout [Tensor], gradients: [Tensor])
    /// Everything needed to resume bit for bit: step count, per-parameter buffers and the
    /// groups' current hyperparameters, as Float32 tensors (integers are exact up to 2^24).
    func stateDict() -> [String: Tensor]
    /// Restores a `stateDict()` of an optimizer of the same kind, groups and parameter shapes.
    /// Throws `OptimizerError` naming the key for a missing, unexpected or malformed entry.
    mutating func loadStateDict(_ state: [String: Tensor]) throws
}

/// A bad hyperparameter, group layout or state dict.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A hyperparameter outside its range, e.g. a negative learning rate.
    case invalidHyperparameter(name: String, value: Float, expected: String)
    /// A group lists a parameter index outside the parameter list.
    case parameterIndexOutOfRange(group: Int, index: Int, parameterCount: Int)
    /// A parameter appears in more than one group (or twice in one).
    case parameterInSeveralGroups(index: Int)
    /// A state dict lacks a key this optimizer needs.
    case missingState(key: String)
    /// A state dict has a key this optimizer does not use.
    case unexpectedState(key: String)
    /// A state tensor has the wrong shape.
    case stateShapeMismatch(key: String, expected: [Int], found: [Int])
    /// A state tensor has a value that cannot be right (non-integral step, other group layout...).
    case invalidState(key: String, reason: String)

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case let .invalidHyperparameter(name, value, expected):
            return "optimizer: \(name) is \(value), expected \(expected)"
        case let .parameterIndexOutOfRange(group, index, count):
            return "optimizer: group \(group) lists parameter \(index), expected an index in 0..<\(count)"
        case let .parameterInSeveralGroups(index):
            return "optimizer: parameter \(index) appears in more than one group, expected exactly one"
        case let .missingState(key):
            return "optimizer state: missing \"\(key)\""
        case let .unexpectedState(key):
            return "optimizer state: unexpected key \"\(key)\" for this optimizer"
        case let .stateShapeMismatch(key, expected, found):
            return "optimizer state: \"\(key)\" has shape \(found), expected \(expected)"
        case let .invalidState(key, reason):
            return "optimizer state: \"\(key)\" \(reason)"
        }
    }
}

// MARK: - Shared checks and state-dict helpers

/// Checks group indices against the parameter count and that no parameter is in two groups.
func validateGroups(_ groups: [ParameterGroup], parameterCount: Int) throws {
    var seen = Set<Int>()
    for (g, group) in groups.enumerated() {
        for index in group.parameterIndices {
            guard index >= 0, index < parameterCount else {
                throw OptimizerError.parameterIndexOutOfRange(group: g, index: index, parameterCount: parameterCount)
            }
            guard seen.insert(index).inserted else { throw OptimizerError.parameterInSeveralGroups(index: index) }
        }
        try requireHyperparameter("group \(g) learning rate", group.learningRate, ">= 0") { $0 >= 0 }
        try requireHyperparameter("group \(g) weight decay", group.weightDecay, ">= 0") { $0 >= 0 }
        if let momentum = group.momentum {
            try requireHyperparameter("group \(g) momentum", momentum, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        }
    }
}

/// Throws `invalidHyperparameter` unless `value` is finite and passes `check`.
func requireHyperparameter(_ name: String, _ value: Float, _ expected: String, _ check: (Float) -> Bool) throws {
    guard value.isFinite, check(value) else {
        throw OptimizerError.invalidHyperparameter(name: name, value: value, expected: expected)
    }
}

/// Reads a state dict while tracking which keys were used, so leftovers can be reported.
struct StateReader {
    let state: [String: Tensor]
    var used = Set<String>()

    init(_ state: [String: Tensor]) { self.state = state }

    mutating func scalar(_ key: String) throws -> Float {
        guard let tensor = state[key] else { throw OptimizerError.missingState(key: key) }
        used.insert(key)
        guard tensor.shape == [] else {
            throw OptimizerError.stateShapeMismatch(key: key, expected: [], found: tensor.shape)
        }
        return tensor.scalars[0]
    }

    /// A non-negative integer stored as a Float32 scalar.
    mutating func integer(_ key: String) throws -> Int {
        let value = try scalar(key)
        guard value >= 0, value <= 16_777_216, value.rounded() == value else {
            throw OptimizerError.invalidState(key: key, reason: "is \(value), expected an integer in 0...2^24")
        }
        return Int(value)
    }

    /// A per-parameter buffer if present; its shape must be `shape`.
    mutating func optionalBuffer(_ key: String, shape: [Int]) throws -> [Float]? {
        guard let tensor = state[key] else { return nil }
        used.insert(key)
        guard tensor.shape == shape else {
            throw OptimizerError.stateShapeMismatch(key: key, expected: shape, found: tensor.shape)
        }
        return tensor.scalars
    }

    /// Checks the stored index list of group `g` against the current groups.
    mutating func checkGroupLayout(_ groups: [ParameterGroup]) throws {
        for (g, group) in groups.enumerated() {
            let key = "group.\(g).params"
            guard let tensor = state[key] else { throw OptimizerError.missingState(key: key) }
            used.insert(key)
            let stored = tensor.scalars.map { Int(exactly: $0) ?? -1 }
            guard tensor.shape == [tensor.count], stored == group.parameterIndices else {
                throw OptimizerError.invalidState(
                    key: key, reason: "lists parameters \(stored), expected \(group.parameterIndices)")
            }
        }
    }

    func checkNoLeftovers() throws {
        if let key = state.keys.sorted().first(where: { !used.contains($0) }) {
            throw OptimizerError.unexpectedState(key: key)
        }
    }
}

/// The group entries every optimizer writes: index list, learning rate, weight decay, momentum.
func groupState(_ groups: [ParameterGroup], defaultMomentum: Float) -> [String: Tensor] {
    var state: [String: Tensor] = [:]
    for (g, group) in groups.enumerated() {
        state["group.\(g).params"] = Tensor(
            shape: [group.parameterIndices.count], scalars: group.parameterIndices.map { Float($0) })
        state["group.\(g).lr"] = Tensor(shape: [], scalars: [group.learningRate])
        state["group.\(g).weight_decay"] = Tensor(shape: [], scalars: [group.weightDecay])
        state["group.\(g).momentum"] = Tensor(shape: [], scalars: [group.momentum ?? defaultMomentum])
    }
    return state
}

/// Reads back what `groupState` wrote into a copy of `groups` (layout must match), and validates it.
func loadGroupState(_ reader: inout StateReader, into groups: [ParameterGroup], parameterCount: Int) throws
    -> [ParameterGroup]
{
    try reader.checkGroupLayout(groups)
    var loaded = groups
    for g in loaded.indices {
        loaded[g].learningRate = try reader.scalar("group.\(g).lr")
        loaded[g].weightDecay = try reader.scalar("group.\(g).weight_decay")
        loaded[g].momentum = try reader.scalar("group.\(g).momentum")
    }
    try validateGroups(loaded, parameterCount: parameterCount)
    return loaded
}
