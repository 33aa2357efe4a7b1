// Adam and AdamW, following torch.optim.Adam's single-tensor CPU path operation by operation:
//   grad ← grad + λ·param (L2)  or  param ← param·(1 − lr·λ) (decoupled, AdamW)
//   m ← lerp(m, grad, 1 − β1);  v ← v·β2 + (1 − β2)·grad·grad
//   denom ← sqrt(v) / sqrt(1 − β2^t) + eps;  param ← param + (−lr / (1 − β1^t))·m / denom
// Scalars are formed in Double from the Float32 hyperparameters, as Python forms them from floats,
// then rounded to Float32 where the kernel would. PyTorch's vectorised kernels may use fused
// multiply-adds, so results agree to a few Float32 roundings, not bit for bit.
import Foundation

/// Adam, optionally with decoupled weight decay (AdamW).
///
/// Matches `torch.optim.Adam(params, lr, betas, eps, weight_decay)` with `amsgrad=False`,
/// `maximize=False`, and with `decoupledWeightDecay` `torch.optim.AdamW`. Deviation: β1 lives in
/// each group's `momentum` (PyTorch's `betas[0]`); β2 and eps are shared by all groups.
public struct Adam: Optimizer {
    /// The groups; each group's `momentum` is its β1.
    public var parameterGroups: [ParameterGroup]
    /// β2, the decay of the second-moment average (`betas[1]`).
    public var beta2: Float
    /// Added to the denominator for numerical stability.
    public var eps: Float
    /// When true, weight decay scales the parameters (AdamW) instead of adding to the gradient.
    public let decoupledWeightDecay: Bool
    /// Number of steps taken.
    public private(set) var stepCount = 0
    /// The shape of every parameter in the model's list.
    public let parameterShapes: [[Int]]
    private let defaultBeta1: Float
    private var expAvg: [[Float]?]
    private var expAvgSq: [[Float]?]

    /// Adam over the model's parameters (`parameterShapes`, in list order) split into `groups`.
    ///
    /// Groups with `momentum == nil` get `betas.0` as their β1. Throws `OptimizerError` for an
    /// index outside the list, a parameter in two groups, a negative learning rate, eps or weight
    /// decay, or a β outside [0, 1).
    public init(
        parameterShapes: [[Int]], groups: [ParameterGroup], betas: (Float, Float) = (0.9, 0.999),
        eps: Float = 1e-8, decoupledWeightDecay: Bool = false
    ) throws {
        try requireHyperparameter("beta1", betas.0, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter("beta2", betas.1, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter("eps", eps, ">= 0") { $0 >= 0 }
        var groups = groups
        for g in groups.indices where groups[g].momentum == nil { groups[g].momentum = betas.0 }
        try validateGroups(groups, parameterCount: parameterShapes.count)
        self.parameterGroups = groups
        self.defaultBeta1 = betas.0
        self.beta2 = betas.1
        self.eps = eps
        self.decoupledWeightDecay = decoupledWeightDecay
        self.parameterShapes = parameterShapes
        self.expAvg = Array(repeating: nil, count: parameterShapes.count)
        self.expAvgSq = Array(repeating: nil, count: parameterShapes.count)
    }

    /// Adam with one group holding every parameter. PyTorch's defaults: lr 1e-3, betas
    /// (0.9, 0.999), eps 1e-8, no weight decay. (AdamW's default weight decay is 1e-2; pass it.)
    public init(
        parameterShapes: [[Int]], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
        eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false
    ) throws {
        try self.init(
            parameterShapes: parameterShapes,
            groups: [ParameterGroup(
                parameterIndices: Array(parameterShapes.indices), learningRate: learningRate,
                weightDecay: weightDecay)],
            betas: betas, eps: eps, decoupledWeightDecay: decoupledWeightDecay)
    }

    /// One Adam step for every grouped parameter. Matches `torch.optim.Adam.step()`.
    public mutating func step(parameters: inout [Tensor], gradients: [Tensor]) {
        precondition(
            parameters.count == parameterShapes.count && gradients.count == parameterShapes.count,
            "Adam.step: \(parameters.count) parameters and \(gradients.count) gradients, expected \(parameterShapes.count)")
        stepCount += 1
        let t = Double(stepCount)
        let beta2 = Double(self.beta2)
        for group in parameterGroups {
            let beta1 = Double(group.momentum ?? defaultBeta1)
            let lr = Double(group.learningRate)
            let weightDecay = Double(group.weightDecay)
            let stepSize = Float(-(lr / (1 - pow(beta1, t))))
            let biasCorrection2Sqrt = Float((1 - pow(beta2, t)).squareRoot())
            let weight1 = Float(1 - beta1)
            let b2 = Float(beta2)
            let weight2 = Float(1 - beta2)
            let l2 = !decoupledWeightDecay && weightDecay != 0 ? Float(weightDecay) : 0
            let decay = decoupledWeightDecay && weightDecay != 0 ? Float(1 - lr * weightDecay) : 1
            let eps = self.eps
            for i in group.parameterIndices {
                let shape = parameterShapes[i]
                precondition(
                    parameters[i].shape == shape && gradients[i].shape == shape,
                    "Adam.step: parameter \(i) has shape \(parameters[i].shape), gradient \(gradients[i].shape), "
                        + "expected \(shape)")
                let count = parameters[i].count
                // Taking the buffers out of the arrays keeps them uniquely referenced (no copy).
                var m = expAvg[i] ?? [Float](repeating: 0, count: count)
                var v = expAvgSq[i] ?? [Float](repeating: 0, count: count)
                expAvg[i] = nil
                expAvgSq[i] = nil
                parameters[i].scalars.withUnsafeMutableBufferPointer { p in
                    gradients[i].scalars.withUnsafeBufferPointer { g in
                        m.withUnsafeMutableBufferPointer { m in
                            v.withUnsafeMutableBufferPointer { v in
                                for j in 0..<count {
                                    var grad = g[j]
                                    if l2 != 0 { grad = grad + l2 * p[j] }
                                    if decay != 1 { p[j] = p[j] * decay }
                                    // torch.lerp: the form depends on whether the weight is below 0.5.
                                    if weight1 < 0.5 {
                                        m[j] = m[j] + weight1 * (grad - m[j])
                                    } else {
                                        m[j] = grad - (grad - m[j]) * (1 - weight1)
                                    }
                                    v[j] = v[j] * b2 + weight2 * grad * grad
                                    let denominator = v[j].squareRoot() / biasCorrection2Sqrt + eps
                                    p[j] = p[j] + stepSize * m[j] / denominator
                                }
                            }
                        }
                    }
                }
                expAvg[i] = m
                expAvgSq[i] = v
            }
        }
    }

    /// Keys: `step`, `beta2`, `eps`, `group.<g>.params|lr|weight_decay|momentum` (momentum = β1),
    /// and after the first step `exp_avg.<i>` and `exp_avg_sq.<i>` (parameter shape) for each
    /// grouped parameter index `i`. Matches the content of `torch.optim.Adam.state_dict()`.
    public func stateDict() -> [String: Tensor] {
        var state = groupState(parameterGroups, defaultMomentum: defaultBeta1)
        state["step"] = Tensor(shape: [], scalars: [Float(stepCount)])
        state["beta2"] = Tensor(shape: [], scalars: [beta2])
        state["eps"] = Tensor(shape: [], scalars: [eps])
        for i in parameterShapes.indices {
            if let m = expAvg[i] { state["exp_avg.\(i)"] = Tensor(shape: parameterShapes[i], scalars: m) }
            if let v = expAvgSq[i] { state["exp_avg_sq.\(i)"] = Tensor(shape: parameterShapes[i], scalars: v) }
        }
        return state
    }

    /// Restores `stateDict()`. Throws `OptimizerError` for a missing or unexpected key, a shape
    /// other than the parameter's, a group layout other than this optimizer's, a non-integral
    /// step, an invalid hyperparameter, or moments missing for a grouped parameter after step 0.
    public mutating func loadStateDict(_ state: [String: Tensor]) throws {
        var reader = StateReader(state)
        let groups = try loadGroupState(&reader, into: parameterGroups, parameterCount: parameterShapes.count)
        let step = try reader.integer("step")
        let beta2 = try reader.scalar("beta2")
        let eps = try reader.scalar("eps")
        try requireHyperparameter("beta2", beta2, "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try requireHyperparameter("eps", eps, ">= 0") { $0 >= 0 }
        var m: [[Float]?] = Array(repeating: nil, count: parameterShapes.count)
        var v = m
        for group in groups {
            for i in group.parameterIndices {
                m[i] = try reader.optionalBuffer("exp_avg.\(i)", shape: parameterShapes[i])
                v[i] = try reader.optionalBuffer("exp_avg_sq.\(i)", shape: parameterShapes[i])
                if step > 0, m[i] == nil || v[i] == nil {
                    throw OptimizerError.missingState(key: m[i] == nil ? "exp_avg.\(i)" : "exp_avg_sq.\(i)")
                }
            }
        }
        try reader.checkNoLeftovers()
        parameterGroups = groups
        stepCount = step
        self.beta2 = beta2
        self.eps = eps
        expAvg = m
        expAvgSq = v
    }
}
