// Stochastic gradient descent with momentum, following torch.optim.SGD's single-tensor path:
//   grad ← grad + λ·param;  buf ← grad on the first step, else buf·μ + (1 − dampening)·grad
//   update ← grad + μ·buf (Nesterov) or buf;  param ← param − lr·update
// Scalars are formed in Double from the Float32 hyperparameters and rounded to Float32 once.

/// SGD with optional momentum, dampening, Nesterov momentum and L2 weight decay.
///
/// Matches `torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)` with
/// `maximize=False`; the first step with momentum copies the gradient into the buffer, as PyTorch
/// does. Momentum is per group (`ParameterGroup.momentum`); dampening and Nesterov are shared.
public struct SGD: Optimizer {
    /// The groups; each group's `momentum` is its momentum factor μ (0 disables momentum).
    public var parameterGroups: [ParameterGroup]
    /// Dampening of the gradient's contribution to the momentum buffer.
    public let dampening: Float
    /// When true, uses Nesterov momentum (grad + μ·buf).
    public let nesterov: Bool
    /// Number of steps taken.
    public private(set) var stepCount = 0
    /// The shape of every parameter in the model's list.
    public let parameterShapes: [[Int]]
    private var momentumBuffers: [[Float]?]

    /// SGD over the model's parameters (`parameterShapes`, in list order) split into `groups`.
    ///
    /// Groups with `momentum == nil` get `momentum`. Throws `OptimizerError` for an index outside
    /// the list, a parameter in two groups, a negative learning rate or weight decay, a momentum
    /// outside [0, 1), a dampening outside [0, 1], or Nesterov without momentum or with dampening
    /// (PyTorch raises ValueError for the same).
    public init(
        parameterShapes: [[Int]], groups: [ParameterGroup], momentum: Float = 0, dampening: Float = 0,
        nesterov: Bool = false
    ) throws {
        try requireHyperparameter("momentum", momentum, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter("dampening", dampening, "in [0, 1]") { $0 >= 0 && $0 <= 1 }
        var groups = groups
        for g in groups.indices where groups[g].momentum == nil { groups[g].momentum = momentum }
        try validateGroups(groups, parameterCount: parameterShapes.count)
        if nesterov {
            for (g, group) in groups.enumerated() {
                try requireHyperparameter("group \(g) momentum (Nesterov)", group.momentum ?? 0, "> 0") { $0 > 0 }
            }
            try requireHyperparameter("dampening (Nesterov)", dampening, "0") { $0 == 0 }
        }
        self.parameterGroups = groups
        self.dampening = dampening
        self.nesterov = nesterov
        self.parameterShapes = parameterShapes
        self.momentumBuffers = Array(repeating: nil, count: parameterShapes.count)
    }

    /// SGD with one group holding every parameter (PyTorch's defaults: no momentum, no decay).
    public init(
        parameterShapes: [[Int]], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
        weightDecay: Float = 0, nesterov: Bool = false
    ) throws {
        try self.init(
            parameterShapes: parameterShapes,
            groups: [ParameterGroup(
                parameterIndices: Array(parameterShapes.indices), learningRate: learningRate,
                weightDecay: weightDecay, momentum: momentum)],
            momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    /// One SGD step for every grouped parameter. Matches `torch.optim.SGD.step()`.
    public mutating func step(parameters: inout [Tensor], gradients: [Tensor]) {
        precondition(
            parameters.count == parameterShapes.count && gradients.count == parameterShapes.count,
            "SGD.step: \(parameters.count) parameters and \(gradients.count) gradients, expected \(parameterShapes.count)")
        stepCount += 1
        for group in parameterGroups {
            let negativeLR = -group.learningRate
            let weightDecay = group.weightDecay
            let momentum = group.momentum ?? 0
            let gradWeight = Float(1 - Double(dampening))
            let nesterov = self.nesterov
            for i in group.parameterIndices {
                let shape = parameterShapes[i]
                precondition(
                    parameters[i].shape == shape && gradients[i].shape == shape,
                    "SGD.step: parameter \(i) has shape \(parameters[i].shape), gradient \(gradients[i].shape), "
                        + "expected \(shape)")
                let count = parameters[i].count
                let isFirst = momentumBuffers[i] == nil
                var buffer = momentumBuffers[i] ?? (momentum != 0 ? [Float](repeating: 0, count: count) : [])
                momentumBuffers[i] = nil
                parameters[i].scalars.withUnsafeMutableBufferPointer { p in
                    gradients[i].scalars.withUnsafeBufferPointer { g in
                        buffer.withUnsafeMutableBufferPointer { b in
                            for j in 0..<count {
                                var grad = g[j]
                                if weightDecay != 0 { grad = grad + weightDecay * p[j] }
                                if momentum != 0 {
                                    b[j] = isFirst ? grad : b[j] * momentum + gradWeight * grad
                                    grad = nesterov ? grad + momentum * b[j] : b[j]
                                }
                                p[j] = p[j] + negativeLR * grad
                            }
                        }
                    }
                }
                if momentum != 0 || !isFirst { momentumBuffers[i] = buffer }
            }
        }
    }

    /// Keys: `step`, `group.<g>.params|lr|weight_decay|momentum`, and `momentum_buffer.<i>`
    /// (parameter shape) for each parameter whose buffer exists. Matches the content of
    /// `torch.optim.SGD.state_dict()`.
    public func stateDict() -> [String: Tensor] {
        var state = groupState(parameterGroups, defaultMomentum: 0)
        state["step"] = Tensor(shape: [], scalars: [Float(stepCount)])
        for i in parameterShapes.indices {
            if let buffer = momentumBuffers[i] {
                state["momentum_buffer.\(i)"] = Tensor(shape: parameterShapes[i], scalars: buffer)
            }
        }
        return state
    }

    /// Restores `stateDict()`. Throws `OptimizerError` for a missing or unexpected key, a shape
    /// other than the parameter's, a group layout other than this optimizer's, a non-integral
    /// step, or an invalid hyperparameter.
    public mutating func loadStateDict(_ state: [String: Tensor]) throws {
        var reader = StateReader(state)
        let groups = try loadGroupState(&reader, into: parameterGroups, parameterCount: parameterShapes.count)
        let step = try reader.integer("step")
        var buffers: [[Float]?] = Array(repeating: nil, count: parameterShapes.count)
        for group in groups {
            for i in group.parameterIndices {
                buffers[i] = try reader.optionalBuffer("momentum_buffer.\(i)", shape: parameterShapes[i])
            }
        }
        try reader.checkNoLeftovers()
        parameterGroups = groups
        stepCount = step
        momentumBuffers = buffers
    }
}
