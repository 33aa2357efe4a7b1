// Adam and SGD against PyTorch: one step on the seed network's real gradients, several steps with
// weight decay, Nesterov, dampening, groups and schedules on small tensors, and bit-exact resume.
import Foundation
import NNCore
import NNTestSupport
import Testing

private let optimReference = Fixtures.directory.appendingPathComponent("optim-reference.safetensors")

/// Parameters and gradients of the seed network from the parity fixture, in one fixed name order.
private struct SeedNetworkStep {
    var names: [String]
    var parameters: [Tensor]
    var gradients: [Tensor]
    var file: SafetensorsFile

    init() throws {
        let file = try SafetensorsFile(contentsOf: Fixtures.paritySeed0)
        let names = file.names.filter { $0.hasPrefix("param.") }.map { String($0.dropFirst("param.".count)) }
        parameters = try names.map { try file.float32("param." + $0) }
        gradients = try names.map { try file.float32("grad." + $0, shape: file.entry("param." + $0).shape) }
        self.file = file
        self.names = names
    }

    func expectMatches(_ parameters: [Tensor], prefix: String) throws {
        for (i, name) in names.enumerated() {
            let expected = try file.float32(prefix + name)
            let report = compareClose(parameters[i], expected, atol: 1e-5, rtol: 1e-3, name: prefix + name)
            #expect(report.passed, "\(report)")
        }
    }
}

/// The small-tensor trajectories written by scripts/pytorch/optim_reference.py.
private struct OptimReference {
    static let steps = 6
    let file: SafetensorsFile
    let initial: [Tensor]
    let gradients: [[Tensor]]  // [step - 1][parameter]

    init() throws {
        let file = try SafetensorsFile(contentsOf: optimReference)
        self.file = file
        initial = try [file.float32("init.p0", shape: [3, 4]), file.float32("init.p1", shape: [5])]
        gradients = try (1...Self.steps).map { k in try (0..<2).map { try file.float32("grad.\(k).p\($0)") } }
    }

    var shapes: [[Int]] { initial.map(\.shape) }

    /// Runs `steps` steps, applying `schedule` (if any) before each, and compares after each step.
    func check<O: Optimizer>(
        _ name: String, _ optimizer: O, schedule: (any LearningRateSchedule)? = nil, atol: Float = 1e-6,
        rtol: Float = 1e-5
    ) throws {
        var optimizer = optimizer
        var parameters = initial
        var worst: Float = 0
        for k in 1...Self.steps {
            if let schedule { try schedule.apply(to: &optimizer, step: optimizer.stepCount) }
            optimizer.step(parameters: &parameters, gradients: gradients[k - 1])
            for i in 0..<2 {
                let report = compareClose(
                    parameters[i], try file.float32("\(name).\(k).p\(i)"), atol: atol, rtol: rtol,
                    name: "\(name) step \(k) p\(i)")
                worst = max(worst, report.maxAbsoluteDifference)
                #expect(report.passed, "\(report)")
            }
        }
        #expect(worst < 1e-6, "\(name): largest difference from PyTorch over \(Self.steps) steps is \(worst)")
    }
}

@Suite("Optimizers")
struct OptimizerTests {
    @Test("one Adam(lr 1e-3) step on the seed network equals PyTorch's adam1.*")
    func adamOneStepSeedNetwork() throws {
        let seed = try SeedNetworkStep()
        var adam = try Adam(parameterShapes: seed.parameters.map(\.shape), learningRate: 1e-3)
        var parameters = seed.parameters
        adam.step(parameters: &parameters, gradients: seed.gradients)
        try seed.expectMatches(parameters, prefix: "adam1.")
        #expect(adam.stepCount == 1)
    }

    @Test("one SGD(lr 0.01, momentum 0.9) step on the seed network equals PyTorch's sgd1.*")
    func sgdOneStepSeedNetwork() throws {
        let seed = try SeedNetworkStep()
        var sgd = try SGD(parameterShapes: seed.parameters.map(\.shape), learningRate: 0.01, momentum: 0.9)
        var parameters = seed.parameters
        sgd.step(parameters: &parameters, gradients: seed.gradients)
        try seed.expectMatches(parameters, prefix: "sgd1.")
    }

    @Test("Adam, Adam with L2 weight decay and AdamW over six steps equal PyTorch")
    func adamVariants() throws {
        let reference = try OptimReference()
        let shapes = reference.shapes
        try reference.check("adam", Adam(parameterShapes: shapes, learningRate: 1e-2))
        try reference.check("adam_wd", Adam(parameterShapes: shapes, learningRate: 1e-2, weightDecay: 0.1))
        try reference.check(
            "adamw", Adam(parameterShapes: shapes, learningRate: 1e-2, weightDecay: 0.1, decoupledWeightDecay: true))
    }

    @Test("Adam with two parameter groups (own learning rate and weight decay) equals PyTorch")
    func adamGroups() throws {
        let reference = try OptimReference()
        let groups = [
            ParameterGroup(parameterIndices: [0], learningRate: 1e-2),
            ParameterGroup(parameterIndices: [1], learningRate: 3e-3, weightDecay: 0.05),
        ]
        try reference.check(
            "adam_groups", Adam(parameterShapes: reference.shapes, groups: groups, betas: (0.8, 0.99), eps: 1e-6))
    }

    @Test("SGD plain, with momentum, Nesterov + weight decay, and dampening + weight decay equal PyTorch")
    func sgdVariants() throws {
        let reference = try OptimReference()
        let shapes = reference.shapes
        try reference.check("sgd_plain", SGD(parameterShapes: shapes, learningRate: 0.05))
        try reference.check("sgd", SGD(parameterShapes: shapes, learningRate: 0.05, momentum: 0.9))
        try reference.check(
            "sgd_nesterov",
            SGD(parameterShapes: shapes, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true))
        try reference.check(
            "sgd_damp", SGD(parameterShapes: shapes, learningRate: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.02))
    }

    @Test("Adam under OneCycleLR (lr and β1) and SGD under StepLR equal PyTorch")
    func optimizersUnderSchedules() throws {
        let reference = try OptimReference()
        let shapes = reference.shapes
        try reference.check(
            "adam_onecycle", Adam(parameterShapes: shapes, learningRate: 1e-2),
            schedule: OneCycleLR(maxLearningRate: 1e-2, totalSteps: OptimReference.steps))
        let sgd = try SGD(parameterShapes: shapes, learningRate: 0.1, momentum: 0.9)
        try reference.check("sgd_steplr", sgd, schedule: StepLR(optimizer: sgd, stepSize: 2, gamma: 0.5))
    }

    @Test("a parameter in no group is left unchanged")
    func ungroupedParameterUntouched() throws {
        let reference = try OptimReference()
        var adam = try Adam(
            parameterShapes: reference.shapes, groups: [ParameterGroup(parameterIndices: [1], learningRate: 0.1)])
        var parameters = reference.initial
        adam.step(parameters: &parameters, gradients: reference.gradients[0])
        #expect(parameters[0] == reference.initial[0])
        #expect(parameters[1] != reference.initial[1])
    }

    /// Runs `total` steps straight, and `split` steps + save (through safetensors bytes) + load into
    /// `fresh` + the rest; the parameters and state must be identical bit for bit.
    private func expectBitExactResume<O: Optimizer>(
        _ make: () throws -> O, schedule: (any LearningRateSchedule)?, split: Int
    ) throws {
        let reference = try OptimReference()
        let total = OptimReference.steps
        func run(_ optimizer: inout O, _ parameters: inout [Tensor], steps: Range<Int>) throws {
            for k in steps {
                if let schedule { try schedule.apply(to: &optimizer, step: optimizer.stepCount) }
                optimizer.step(parameters: &parameters, gradients: reference.gradients[k])
            }
        }
        var straight = try make()
        var straightParameters = reference.initial
        try run(&straight, &straightParameters, steps: 0..<total)

        var first = try make()
        var parameters = reference.initial
        try run(&first, &parameters, steps: 0..<split)
        let bytes = try Safetensors.encode(first.stateDict().mapKeys { "optimizer." + $0 })
        let saved = try SafetensorsFile(bytes: bytes, source: "checkpoint").float32Tensors(withPrefix: "optimizer.")
        var resumed = try make()
        try resumed.loadStateDict(saved)
        #expect(resumed.stepCount == split)
        try run(&resumed, &parameters, steps: split..<total)

        for i in parameters.indices {
            #expect(parameters[i].scalars.map(\.bitPattern) == straightParameters[i].scalars.map(\.bitPattern))
        }
        let a = resumed.stateDict(), b = straight.stateDict()
        #expect(a.keys.sorted() == b.keys.sorted())
        for key in a.keys { #expect(a[key]?.scalars.map(\.bitPattern) == b[key]?.scalars.map(\.bitPattern), "\(key)") }
    }

    @Test("state dict: save after k steps, load into a fresh optimizer, continue = uninterrupted, bit for bit")
    func stateDictResume() throws {
        let shapes = [[3, 4], [5]]
        let groups = [
            ParameterGroup(parameterIndices: [0], learningRate: 1e-2),
            ParameterGroup(parameterIndices: [1], learningRate: 3e-3, weightDecay: 0.05),
        ]
        for split in [0, 1, 3] {
            try expectBitExactResume({ try Adam(parameterShapes: shapes, groups: groups) }, schedule: nil, split: split)
            try expectBitExactResume(
                { try Adam(parameterShapes: shapes, learningRate: 1e-2, weightDecay: 0.1, decoupledWeightDecay: true) },
                schedule: OneCycleLR(maxLearningRate: 1e-2, totalSteps: 6), split: split)
            try expectBitExactResume(
                { try SGD(parameterShapes: shapes, learningRate: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true) },
                schedule: StepLR(baseLearningRates: [0.05], stepSize: 2, gamma: 0.5), split: split)
        }
    }

    @Test("bad hyperparameters and group layouts are typed errors")
    func invalidSettings() {
        let shapes = [[2], [3]]
        #expect(throws: OptimizerError.invalidHyperparameter(name: "group 0 learning rate", value: -1, expected: ">= 0")) {
            try Adam(parameterShapes: shapes, learningRate: -1)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "beta2", value: 1, expected: "in [0, 1)")) {
            try Adam(parameterShapes: shapes, betas: (0.9, 1))
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "dampening (Nesterov)", value: 0.1, expected: "0")) {
            try SGD(parameterShapes: shapes, learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true)
        }
        #expect(throws: OptimizerError.invalidHyperparameter(name: "group 0 momentum (Nesterov)", value: 0, expected: "> 0")) {
            try SGD(parameterShapes: shapes, learningRate: 0.1, nesterov: true)
        }
        #expect(throws: OptimizerError.parameterIndexOutOfRange(group: 1, index: 2, parameterCount: 2)) {
            try SGD(parameterShapes: shapes, groups: [
                ParameterGroup(parameterIndices: [0], learningRate: 0.1), ParameterGroup(parameterIndices: [2], learningRate: 0.1),
            ])
        }
        #expect(throws: OptimizerError.parameterInSeveralGroups(index: 1)) {
            try Adam(parameterShapes: shapes, groups: [
                ParameterGroup(parameterIndices: [0, 1], learningRate: 0.1), ParameterGroup(parameterIndices: [1], learningRate: 0.1),
            ])
        }
    }

    @Test("malformed state dicts are typed errors naming the key")
    func invalidStateDicts() throws {
        let shapes = [[2], [3]]
        var adam = try Adam(parameterShapes: shapes, learningRate: 0.1)
        var parameters = [Tensor(shape: [2], repeating: 1), Tensor(shape: [3], repeating: 1)]
        adam.step(parameters: &parameters, gradients: parameters)
        let good = adam.stateDict()
        var fresh = try Adam(parameterShapes: shapes, learningRate: 0.1)

        var state = good
        state["exp_avg.1"] = nil
        #expect(throws: OptimizerError.missingState(key: "exp_avg.1")) { try fresh.loadStateDict(state) }
        state = good
        state["exp_avg.7"] = Tensor(shape: [1], repeating: 0)
        #expect(throws: OptimizerError.unexpectedState(key: "exp_avg.7")) { try fresh.loadStateDict(state) }
        state = good
        state["exp_avg_sq.0"] = Tensor(shape: [3], repeating: 0)
        #expect(throws: OptimizerError.stateShapeMismatch(key: "exp_avg_sq.0", expected: [2], found: [3])) {
            try fresh.loadStateDict(state)
        }
        state = good
        state["step"] = Tensor(shape: [], scalars: [1.5])
        #expect(throws: OptimizerError.invalidState(key: "step", reason: "is 1.5, expected an integer in 0...2^24")) {
            try fresh.loadStateDict(state)
        }
        state = good
        state["group.0.lr"] = Tensor(shape: [], scalars: [-0.5])
        #expect(throws: OptimizerError.invalidHyperparameter(name: "group 0 learning rate", value: -0.5, expected: ">= 0")) {
            try fresh.loadStateDict(state)
        }
        var twoGroups = try Adam(parameterShapes: shapes, groups: [
            ParameterGroup(parameterIndices: [0], learningRate: 0.1), ParameterGroup(parameterIndices: [1], learningRate: 0.1),
        ])
        #expect(throws: OptimizerError.invalidState(key: "group.0.params", reason: "lists parameters [0, 1], expected [0]")) {
            try twoGroups.loadStateDict(good)
        }
        var sgd = try SGD(parameterShapes: shapes, learningRate: 0.1)
        #expect(throws: OptimizerError.self) { try sgd.loadStateDict(good) }
        // A failed load leaves the optimizer as it was.
        #expect(fresh.stepCount == 0)
        try fresh.loadStateDict(good)
        #expect(fresh.stepCount == 1)
    }
}

extension Dictionary {
    fileprivate func mapKeys(_ transform: (Key) -> String) -> [String: Value] {
        Dictionary<String, Value>(uniqueKeysWithValues: map { (transform($0.key), $0.value) })
    }
}
