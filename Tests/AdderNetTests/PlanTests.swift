// The execution plan: buffers alive at the same time never share a byte, every step reads and
// writes only buffers alive at its time, backward visits the steps forward visited in mirror
// order, and the seed's plan has the fusions and algorithms the engine was measured with.
import AdderNet
import NNCore
import NNTestSupport
import Testing

struct PlanCase: CustomTestStringConvertible, Sendable {
    var model: String
    var batch: Int
    var mode: PlanMode
    var testDescription: String { "\(model), batch \(batch), \(mode.rawValue)" }
}

let planCases: [PlanCase] = ["seed", "pytorch-examples", "seed-bn"].flatMap { model in
    [1, 15, 100, 128].flatMap { batch in [PlanMode.training, .inference].map { PlanCase(model: model, batch: batch, mode: $0) } }
}

@Test("buffers alive at the same time never share a byte", arguments: planCases)
func buffersDoNotOverlapWhileAlive(_ c: PlanCase) throws {
    let plan = try ExecutionPlan(model: try .named(c.model), batch: c.batch, threads: 2, pieceSize: 16, mode: c.mode)
    let b = plan.buffers, offsets = plan.layout.offsets
    for i in 1..<b.count {
        #expect(offsets[i] % ArenaLayout.alignment == 0)
        #expect(offsets[i] + b[i].byteCount <= plan.layout.byteCount, "\(b[i].name) runs past the arena")
        for j in (i + 1)..<b.count where b[i].lifetime.overlaps(b[j].lifetime) {
            let disjoint = offsets[i] + b[i].byteCount <= offsets[j] || offsets[j] + b[j].byteCount <= offsets[i]
            #expect(disjoint, "\(b[i].name) \(b[i].lifetime) and \(b[j].name) \(b[j].lifetime) overlap in memory")
        }
    }
}

@Test("every step reads and writes only buffers alive at its time, forward and backward", arguments: planCases)
func stepsUseLiveBuffers(_ c: PlanCase) throws {
    let plan = try ExecutionPlan(model: try .named(c.model), batch: c.batch, threads: 2, pieceSize: 16, mode: c.mode)
    let s = plan.steps.count
    func alive(_ index: Int?, at time: Int, _ what: String) {
        guard let index, index != ExecutionPlan.networkInput else { return }
        #expect(plan.buffers[index].lifetime.contains(time), "\(what) (\(plan.buffers[index].name)) is dead at time \(time)")
    }
    for (k, step) in plan.steps.enumerated() {
        for (buffer, what) in [(step.input, "input"), (step.output, "output"), (step.saved, "saved"), (step.workspace, "workspace")] {
            alive(buffer, at: k, "\(step.name) forward \(what)")
        }
        guard c.mode == .training else { continue }
        let time = 2 * s - k
        for (buffer, what) in [
            (step.input, "input"), (step.output, "output"), (step.saved, "saved"), (step.gradOutput, "gradOutput"),
            (step.gradInput, "gradInput"), (step.backwardWorkspace, "workspace"), (step.discardedGradBias, "bias gradient"),
        ] {
            alive(buffer, at: time, "\(step.name) backward \(what)")
        }
        #expect(step.gradOutput != nil)
        #expect((step.gradInput == nil) == (step.input == ExecutionPlan.networkInput), "\(step.name)")
        #expect(step.gradInput == nil || step.gradInput != step.gradOutput || step.operation == .flatten, "\(step.name)")
    }
}

@Test("backward visits the steps forward visited, in mirror order, each BatchNorm2d meeting twice",
      arguments: ["seed", "pytorch-examples", "seed-bn"])
func backwardMirrorsForward(_ name: String) throws {
    let plan = try ExecutionPlan(model: try .named(name), batch: 128, threads: 2, pieceSize: 16, mode: .training)
    let stages = plan.trainingStages
    let forward = stages.compactMap { if case .forward(let k) = $0 { k } else { nil } }
    let backward = stages.compactMap { if case .backward(let k) = $0 { k } else { nil } }
    #expect(forward == Array(plan.steps.indices))
    #expect(backward == forward.reversed())
    let meetings = stages.filter { if case .meet = $0 { true } else { false } }.count
    let norms = plan.steps.filter { if case .batchNorm2d = $0.operation { true } else { false } }.count
    #expect(meetings == 2 * norms)
    #expect(plan.meetsPerBatch == (norms > 0))
    // The layers each step runs cover the description once, in order.
    #expect(plan.steps.flatMap { Array($0.layers) } == Array(plan.model.layers.indices))
}

@Test("the seed's training plan: conv2 fused with ReLU and the pool, Winograd where the table says, eight steps")
func seedPlan() throws {
    let plan = try ExecutionPlan(model: .seed, batch: 128, threads: 2, pieceSize: 16, mode: .training, cpu: .avx512)
    #expect(plan.steps.map(\.name) == [
        "input1 + ReLU", "conv1 + ReLU", "conv2 + ReLU + pool", "oneconv1 + ReLU", "conv3 + ReLU", "conv4 + ReLU",
        "conv5 + ReLU", "conv6",
    ])
    #expect(plan.steps.map { $0.algorithms[16] } == [.im2col, .winograd, .winograd, .im2col, .winograd, .winograd, .winograd, .im2col])
    #expect(plan.pieces.count == 8 && plan.arenaCount == 2)
    // The fused pool's backward masks by itself; the steps above conv2 mask the ones below them.
    #expect(plan.steps.map(\.masksGradInput) == [false, true, true, false, true, true, true, true])
    let small = try ExecutionPlan(model: .seed, batch: 100, threads: 2, pieceSize: 16, mode: .training)
    #expect(small.steps[4].algorithms == [14: .im2col, 15: .im2col])
    #expect(small.steps[2].algorithms == [14: .winograd, 15: .winograd])
}

@Test("the inference plan needs less memory than training's: activations die once read")
func inferencePlanReusesMemory() throws {
    for model in ModelDescription.builtIn {
        let training = try ExecutionPlan(model: model, batch: 128, threads: 2, pieceSize: 16, mode: .training)
        let inference = try ExecutionPlan(model: model, batch: 128, threads: 2, pieceSize: 16, mode: .inference)
        #expect(inference.layout.byteCount < training.layout.byteCount, "\(model.name)")
    }
}

@Test("a batch outside 1...2²⁰ is refused in one line, before anything is allocated")
func planRefusesBatchesOutOfRange() {
    for batch in [0, -3, ExecutionPlan.maximumBatch + 1, Int.max] {
        #expect(throws: PlanError.batchOutOfRange(batch, maximum: ExecutionPlan.maximumBatch)) {
            try ExecutionPlan(model: .seed, batch: batch, threads: 2, pieceSize: 16, mode: .training)
        }
    }
    #expect(PlanError.batchOutOfRange(0, maximum: 8).description == "batch size 0 is out of range, expected 1...8")
}

@Test("an inference engine transforms Winograd weights once per set of weights: new weights give new answers, the same weights the same")
func inferenceWeightTransformFollowsTheWeights() throws {
    let images = randomTensor([16, 1, 28, 28], seed: 5, lower: -0.42, upper: 2.8)
    let addends = Array(repeating: 3, count: 16)
    let a = AdderNetwork(.seed, seed: 1), b = AdderNetwork(.seed, seed: 2)
    let engine = AdderEngine(threads: 2)
    let first = engine.forward(a, images: images, addends: addends).logits
    let second = engine.forward(b, images: images, addends: addends).logits
    var changed = a
    changed.parameters[2].scalars[7] += 0.5  // conv1's weight (a Winograd layer)
    let third = engine.forward(changed, images: images, addends: addends).logits
    let again = engine.forward(a, images: images, addends: addends).logits
    // Each equals a fresh engine's answer for the same network, bit for bit.
    #expect(first.scalars == AdderEngine(threads: 2).forward(a, images: images, addends: addends).logits.scalars)
    #expect(second.scalars == AdderEngine(threads: 2).forward(b, images: images, addends: addends).logits.scalars)
    #expect(third.scalars == AdderEngine(threads: 2).forward(changed, images: images, addends: addends).logits.scalars)
    #expect(again.scalars == first.scalars)
    #expect(first.scalars != second.scalars && first.scalars != third.scalars)
}

@Test("OpenBLAS kernel sets map to CPU kinds: Zen runs the Haswell kernels, the AVX-512 sets are one kind")
func cpuKindsFromCoreNames() {
    #expect(CPUKind(coreName: "Haswell") == .avx2)
    #expect(CPUKind(coreName: "Zen") == .avx2)
    #expect(CPUKind(coreName: "SkylakeX") == .avx512)
    #expect(CPUKind(coreName: "Cooperlake") == .avx512)
    #expect(CPUKind(coreName: "SapphireRapids") == .avx512)
    #expect(CPUKind(coreName: "Prescott") == .other)
    #expect(CPUKind(coreName: "") == .other)
}
