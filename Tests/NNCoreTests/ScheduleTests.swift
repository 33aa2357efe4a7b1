// Learning-rate schedules against the sequences torch.optim.lr_scheduler produces.
import Foundation
import NNCore
import NNTestSupport
import Testing

private let scheduleSteps = 50

/// Compares a schedule's lr and momentum for steps 0..<50 with `sched.<name>.*` from the reference file.
private func expectSequence(
    _ name: String, _ schedule: some LearningRateSchedule, defaultMomentum: Float, group: Int = 0
) throws {
    let file = try SafetensorsFile(
        contentsOf: Fixtures.directory.appendingPathComponent("optim-reference.safetensors"))
    let rates = try (0..<scheduleSteps).map { Float(try schedule.learningRate(step: $0, group: group)) }
    let momenta = try (0..<scheduleSteps).map { Float(try schedule.momentum(step: $0, group: group) ?? Double(defaultMomentum)) }
    let lrReport = compareClose(rates, try file.float32("sched.\(name).lr", shape: [scheduleSteps]).scalars, atol: 0, rtol: 1e-6, name: "\(name) lr")
    #expect(lrReport.passed, "\(lrReport)")
    let momentumReport = compareClose(
        momenta, try file.float32("sched.\(name).momentum", shape: [scheduleSteps]).scalars, atol: 0, rtol: 1e-6,
        name: "\(name) momentum")
    #expect(momentumReport.passed, "\(momentumReport)")
}

@Suite("Schedules")
struct ScheduleTests {
    @Test("OneCycleLR (cos, linear, three-phase) equals PyTorch's lr and momentum over 50 steps")
    func oneCycle() throws {
        try expectSequence("onecycle_cos", OneCycleLR(maxLearningRate: 0.1, totalSteps: 50), defaultMomentum: 0.9)
        try expectSequence(
            "onecycle_linear", OneCycleLR(maxLearningRate: 0.1, totalSteps: 50, pctStart: 0.25, annealStrategy: .linear),
            defaultMomentum: 0.9)
        try expectSequence(
            "onecycle_3phase",
            OneCycleLR(
                maxLearningRate: 0.1, totalSteps: 50, baseMomentum: 0.8, maxMomentum: 0.9, divFactor: 10,
                finalDivFactor: 100, threePhase: true),
            defaultMomentum: 0.9)
    }

    @Test("StepLR equals PyTorch over 50 steps and leaves momentum alone")
    func stepLR() throws {
        let schedule = try StepLR(baseLearningRates: [0.1], stepSize: 7, gamma: 0.5)
        try expectSequence("steplr", schedule, defaultMomentum: 0)
        #expect(try schedule.momentum(step: 3, group: 0) == nil)
    }

    @Test("apply sets each group's rate (and Adam's β1) from per-group values")
    func applyPerGroup() throws {
        var adam = try Adam(parameterShapes: [[1], [1]], groups: [
            ParameterGroup(parameterIndices: [0], learningRate: 1), ParameterGroup(parameterIndices: [1], learningRate: 1),
        ])
        let schedule = try OneCycleLR(maxLearningRates: [0.1, 0.5], totalSteps: 10)
        try schedule.apply(to: &adam, step: 0)
        #expect(adam.parameterGroups.map(\.learningRate) == [Float(0.1 / 25), Float(0.5 / 25)])
        #expect(adam.parameterGroups.map(\.momentum) == [0.95, 0.95])
        // The last step of the cycle reaches the final rate exactly (cos(π) + 1 = 0).
        try schedule.apply(to: &adam, step: 9)
        #expect(adam.parameterGroups.map(\.learningRate) == [Float(0.1 / 25 / 1e4), Float(0.5 / 25 / 1e4)])
        #expect(adam.parameterGroups.map(\.momentum) == [0.95, 0.95])

        var sgd = try SGD(parameterShapes: [[1]], learningRate: 0.2, momentum: 0.5)
        let stepLR = try StepLR(optimizer: sgd, stepSize: 3, gamma: 0.1)
        try stepLR.apply(to: &sgd, step: 6)
        #expect(sgd.parameterGroups[0].learningRate == Float(0.2 as Float) * 0.1 * 0.1)
        #expect(sgd.parameterGroups[0].momentum == 0.5)
    }

    @Test("steps outside the schedule and bad settings are typed errors")
    func errors() throws {
        let schedule = try OneCycleLR(maxLearningRate: 0.1, totalSteps: 10)
        #expect(throws: Never.self) { try schedule.learningRate(step: 10, group: 0) }
        #expect(throws: ScheduleError.stepOutOfRange(step: 11, validRange: 0...10)) { try schedule.learningRate(step: 11, group: 0) }
        #expect(throws: ScheduleError.stepOutOfRange(step: -1, validRange: 0...10)) { try schedule.momentum(step: -1, group: 0) }
        #expect(throws: ScheduleError.invalidSetting(name: "pct_start", value: 1.5, expected: "in [0, 1]")) {
            try OneCycleLR(maxLearningRate: 0.1, totalSteps: 10, pctStart: 1.5)
        }
        #expect(throws: ScheduleError.invalidSetting(name: "total steps", value: 0, expected: ">= 1")) {
            try OneCycleLR(maxLearningRate: 0.1, totalSteps: 0)
        }
        // pct_start · total − 1 = 0: PyTorch divides by zero at step 0; here it is refused up front.
        #expect(throws: ScheduleError.self) { try OneCycleLR(maxLearningRate: 0.1, totalSteps: 10, pctStart: 0.1) }
        let perGroup = try OneCycleLR(maxLearningRates: [0.1, 0.2], totalSteps: 10)
        #expect(throws: ScheduleError.noValueForGroup(group: 2, groupCount: 2)) { try perGroup.learningRate(step: 0, group: 2) }
        #expect(throws: ScheduleError.invalidSetting(name: "step size", value: 0, expected: ">= 1")) {
            try StepLR(baseLearningRates: [0.1], stepSize: 0)
        }
    }
}
