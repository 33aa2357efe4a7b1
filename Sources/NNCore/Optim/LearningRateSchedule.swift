// Learning-rate (and momentum) schedules as pure functions of the step index, so a resumed run
// recomputes the same values from the optimizer's step count. Values are computed in Double, as
// PyTorch computes them in Python floats, and rounded to Float32 when applied to the groups.
//
// Step index k is the value in force for the (k+1)-th optimizer step: PyTorch's scheduler after
// k calls of `scheduler.step()`. A training loop calls `apply(to:step:)` with the optimizer's
// `stepCount` before each `optimizer.step`.
import Foundation

/// A schedule of learning rates (and optionally momenta) per parameter group and step index.
/// Matches the values `torch.optim.lr_scheduler` schedulers set on `param_groups`.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate of group `group` for step index `step` (≥ 0). Throws `ScheduleError`.
    func learningRate(step: Int, group: Int) throws -> Double
    /// The momentum (SGD) or β1 (Adam) of group `group` for step `step`, or nil to leave it alone.
    func momentum(step: Int, group: Int) throws -> Double?
}

extension LearningRateSchedule {
    /// Sets every group's learning rate (and momentum, when the schedule drives it) for `step`.
    /// Throws `ScheduleError` for a negative step, a step past the schedule, or too few values.
    public func apply<O: Optimizer>(to optimizer: inout O, step: Int) throws {
        for g in optimizer.parameterGroups.indices {
            optimizer.parameterGroups[g].learningRate = Float(try learningRate(step: step, group: g))
            if let momentum = try momentum(step: step, group: g) {
                optimizer.parameterGroups[g].momentum = Float(momentum)
            }
        }
    }
}

/// A bad schedule setting or a step the schedule cannot give values for.
public enum ScheduleError: Error, CustomStringConvertible, Equatable {
    /// A setting outside its range, e.g. a step size of 0.
    case invalidSetting(name: String, value: Double, expected: String)
    /// A negative step, or one past the end of a schedule of fixed length.
    case stepOutOfRange(step: Int, validRange: ClosedRange<Int>)
    /// A group index with no value (per-group values given for fewer groups).
    case noValueForGroup(group: Int, groupCount: Int)

    /// One line naming the setting or step, the expected and the found value.
    public var description: String {
        switch self {
        case let .invalidSetting(name, value, expected):
            return "schedule: \(name) is \(value), expected \(expected)"
        case let .stepOutOfRange(step, range):
            return "schedule: step \(step), expected a step in \(range.lowerBound)...\(range.upperBound)"
        case let .noValueForGroup(group, count):
            return "schedule: no value for parameter group \(group), the schedule has values for \(count) groups"
        }
    }
}

/// Picks a group's value from a per-group list; a single value applies to every group.
func perGroup(_ values: [Double], _ group: Int) throws -> Double {
    if values.count == 1 { return values[0] }
    guard group >= 0, group < values.count else {
        throw ScheduleError.noValueForGroup(group: group, groupCount: values.count)
    }
    return values[group]
}

/// Multiplies the learning rate by `gamma` every `stepSize` steps.
///
/// Matches `torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)`: the rate for step k is
/// the base rate multiplied by gamma ⌊k / stepSize⌋ times, one multiplication at a time as
/// PyTorch's chained form does. Momentum is left alone.
public struct StepLR: LearningRateSchedule {
    /// The rates at step 0, one per group (or one for all groups).
    public let baseLearningRates: [Double]
    /// Steps between decays.
    public let stepSize: Int
    /// Multiplicative factor per decay.
    public let gamma: Double

    /// A step schedule from explicit base rates. Throws `ScheduleError.invalidSetting` for a
    /// `stepSize` below 1, a negative or non-finite `gamma`, or no base rates.
    public init(baseLearningRates: [Double], stepSize: Int, gamma: Double = 0.1) throws {
        guard stepSize >= 1 else {
            throw ScheduleError.invalidSetting(name: "step size", value: Double(stepSize), expected: ">= 1")
        }
        guard gamma.isFinite, gamma >= 0 else {
            throw ScheduleError.invalidSetting(name: "gamma", value: gamma, expected: "a finite value >= 0")
        }
        guard !baseLearningRates.isEmpty else {
            throw ScheduleError.invalidSetting(name: "number of base learning rates", value: 0, expected: ">= 1")
        }
        self.baseLearningRates = baseLearningRates
        self.stepSize = stepSize
        self.gamma = gamma
    }

    /// A step schedule whose base rates are the optimizer's current group rates (PyTorch's
    /// `initial_lr`). Throws as `init(baseLearningRates:stepSize:gamma:)`.
    public init(optimizer: some Optimizer, stepSize: Int, gamma: Double = 0.1) throws {
        try self.init(
            baseLearningRates: optimizer.parameterGroups.map { Double($0.learningRate) }, stepSize: stepSize,
            gamma: gamma)
    }

    /// Base rate × gamma^⌊step / stepSize⌋. Throws `ScheduleError` for a negative step or a missing group.
    public func learningRate(step: Int, group: Int) throws -> Double {
        guard step >= 0 else { throw ScheduleError.stepOutOfRange(step: step, validRange: 0...Int.max) }
        var rate = try perGroup(baseLearningRates, group)
        for _ in 0..<(step / stepSize) { rate *= gamma }
        return rate
    }

    /// Always nil: StepLR does not touch momentum.
    public func momentum(step: Int, group: Int) throws -> Double? { nil }
}

/// The 1cycle policy: the rate rises from `maxLearningRate / divFactor` to `maxLearningRate`, then
/// falls to `initial / finalDivFactor`; momentum moves the opposite way.
///
/// Matches `torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr, total_steps, pct_start,
/// anneal_strategy, cycle_momentum, base_momentum, max_momentum, div_factor, final_div_factor,
/// three_phase)`, including its phase boundaries (`pct_start · total_steps − 1`, ...). For Adam the
/// momentum is β1, as PyTorch's `use_beta1`. Valid steps are 0...totalSteps, as in PyTorch, which
/// raises past that. Deviation: `epochs`/`steps_per_epoch` are not taken (pass their product), and
/// a phase of zero length is rejected here where PyTorch divides by zero when it reaches it.
public struct OneCycleLR: LearningRateSchedule {
    /// How the rate and momentum move within a phase.
    public enum AnnealStrategy: String, Sendable {
        /// Half a cosine from start to end (PyTorch `"cos"`).
        case cos
        /// A straight line from start to end (PyTorch `"linear"`).
        case linear
    }

    private struct Phase: Sendable {
        var endStep: Double
        var startLR: Int  // 0 initial, 1 max, 2 min
        var endLR: Int
        var startMomentumIsMax: Bool
        var endMomentumIsMax: Bool
    }

    /// The peak rates, one per group (or one for all groups).
    public let maxLearningRates: [Double]
    /// Number of optimizer steps in the cycle.
    public let totalSteps: Int
    /// Fraction of the cycle spent increasing the rate.
    public let pctStart: Double
    /// Cosine or linear annealing.
    public let annealStrategy: AnnealStrategy
    /// Initial rate = max / divFactor.
    public let divFactor: Double
    /// Final rate = initial / finalDivFactor.
    public let finalDivFactor: Double
    /// Whether a third phase returns to the initial rate before annealing to the final one.
    public let threePhase: Bool
    /// Whether momentum (β1 for Adam) is cycled between `baseMomentum` and `maxMomentum`.
    public let cycleMomentum: Bool
    /// The lowest momentum, reached with the peak rate.
    public let baseMomentum: Double
    /// The highest momentum, at the start and end of the cycle.
    public let maxMomentum: Double
    private let phases: [Phase]

    /// A 1cycle schedule with PyTorch's defaults. Throws `ScheduleError.invalidSetting` for
    /// `totalSteps` below 1, `pctStart` outside [0, 1], non-positive factors or rates, or settings
    /// that make a phase zero steps long.
    public init(
        maxLearningRates: [Double], totalSteps: Int, pctStart: Double = 0.3, annealStrategy: AnnealStrategy = .cos,
        cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
        divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
    ) throws {
        func invalid(_ name: String, _ value: Double, _ expected: String) -> ScheduleError {
            .invalidSetting(name: name, value: value, expected: expected)
        }
        guard totalSteps >= 1 else { throw invalid("total steps", Double(totalSteps), ">= 1") }
        guard pctStart >= 0, pctStart <= 1 else { throw invalid("pct_start", pctStart, "in [0, 1]") }
        guard divFactor.isFinite, divFactor > 0 else { throw invalid("div_factor", divFactor, "> 0") }
        guard finalDivFactor.isFinite, finalDivFactor > 0 else {
            throw invalid("final_div_factor", finalDivFactor, "> 0")
        }
        guard !maxLearningRates.isEmpty else { throw invalid("number of max learning rates", 0, ">= 1") }
        for rate in maxLearningRates where !(rate.isFinite && rate >= 0) {
            throw invalid("max learning rate", rate, "a finite value >= 0")
        }
        for (name, value) in [("base_momentum", baseMomentum), ("max_momentum", maxMomentum)]
        where !(value >= 0 && value < 1) {
            throw invalid(name, value, "in [0, 1)")
        }
        let total = Double(totalSteps)
        let phases: [Phase]
        if threePhase {
            phases = [
                Phase(endStep: pctStart * total - 1, startLR: 0, endLR: 1, startMomentumIsMax: true,
                      endMomentumIsMax: false),
                Phase(endStep: 2 * pctStart * total - 2, startLR: 1, endLR: 0, startMomentumIsMax: false,
                      endMomentumIsMax: true),
                Phase(endStep: total - 1, startLR: 0, endLR: 2, startMomentumIsMax: true, endMomentumIsMax: true),
            ]
        } else {
            phases = [
                Phase(endStep: pctStart * total - 1, startLR: 0, endLR: 1, startMomentumIsMax: true,
                      endMomentumIsMax: false),
                Phase(endStep: total - 1, startLR: 1, endLR: 2, startMomentumIsMax: false, endMomentumIsMax: true),
            ]
        }
        var start = 0.0
        for phase in phases {
            guard phase.endStep != start else {
                throw invalid("total steps", total, "enough steps that no phase of the cycle is empty")
            }
            start = phase.endStep
        }
        self.maxLearningRates = maxLearningRates
        self.totalSteps = totalSteps
        self.pctStart = pctStart
        self.annealStrategy = annealStrategy
        self.cycleMomentum = cycleMomentum
        self.baseMomentum = baseMomentum
        self.maxMomentum = maxMomentum
        self.divFactor = divFactor
        self.finalDivFactor = finalDivFactor
        self.threePhase = threePhase
        self.phases = phases
    }

    /// A 1cycle schedule with one peak rate for every group; see `init(maxLearningRates:...)`.
    public init(
        maxLearningRate: Double, totalSteps: Int, pctStart: Double = 0.3, annealStrategy: AnnealStrategy = .cos,
        cycleMomentum: Bool = true, baseMomentum: Double = 0.85, maxMomentum: Double = 0.95,
        divFactor: Double = 25, finalDivFactor: Double = 1e4, threePhase: Bool = false
    ) throws {
        try self.init(
            maxLearningRates: [maxLearningRate], totalSteps: totalSteps, pctStart: pctStart,
            annealStrategy: annealStrategy, cycleMomentum: cycleMomentum, baseMomentum: baseMomentum,
            maxMomentum: maxMomentum, divFactor: divFactor, finalDivFactor: finalDivFactor, threePhase: threePhase)
    }

    private func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        switch annealStrategy {
        case .cos: return end + (start - end) / 2.0 * (cos(Double.pi * pct) + 1)
        case .linear: return (end - start) * pct + start
        }
    }

    /// The phase containing `step` and how far into it the step is (PyTorch's `pct`).
    private func locate(_ step: Int) throws -> (Phase, Double) {
        guard step >= 0, step <= totalSteps else {
            throw ScheduleError.stepOutOfRange(step: step, validRange: 0...totalSteps)
        }
        let s = Double(step)
        var start = 0.0
        for (i, phase) in phases.enumerated() {
            if s <= phase.endStep || i == phases.count - 1 {
                return (phase, (s - start) / (phase.endStep - start))
            }
            start = phase.endStep
        }
        return (phases[phases.count - 1], 1)
    }

    /// The rate for `step` in 0...totalSteps. Throws `ScheduleError` outside that or for a missing group.
    public func learningRate(step: Int, group: Int) throws -> Double {
        let maxLR = try perGroup(maxLearningRates, group)
        let initial = maxLR / divFactor
        let rates = [initial, maxLR, initial / finalDivFactor]
        let (phase, pct) = try locate(step)
        return anneal(rates[phase.startLR], rates[phase.endLR], pct)
    }

    /// The momentum (β1 for Adam) for `step` when `cycleMomentum`, else nil.
    public func momentum(step: Int, group: Int) throws -> Double? {
        guard cycleMomentum else { return nil }
        _ = try perGroup(maxLearningRates, group)
        let (phase, pct) = try locate(step)
        return anneal(
            phase.startMomentumIsMax ? maxMomentum : baseMomentum, phase.endMomentumIsMax ? maxMomentum : baseMomentum,
            pct)
    }
}
