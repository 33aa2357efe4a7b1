// One image on two workers: each convolution's output channels split between them
// (`ExecutionPlan.channelParts`, AdderEngine+ChannelSplit.swift) against one worker doing it all.
import AdderNet
import NNCore
import NNTestSupport
import Testing

@Test("channel parts cover every output channel once, in order, at least 8 each; only inference plans of one image split; small inference batches give each thread a piece")
func channelRangesCoverTheLayer() throws {
    let plan = try ExecutionPlan(model: .seed, batch: 1, threads: 3, pieceSize: 16, mode: .inference)
    #expect(plan.channelParts == 3 && plan.workers == 3 && plan.arenaCount == 3)
    for o in [1, 10, 16, 17, 24, 32, 64, 100] {
        let ranges = (0..<4).map { plan.channelRange(part: $0, outChannels: o) }
        #expect(ranges.flatMap { Array($0) } == Array(0..<o), "O = \(o): \(ranges)")
        let used = ranges.filter { !$0.isEmpty }
        #expect(used.count == max(1, min(3, o / 8)), "O = \(o): \(ranges)")
        #expect(plan.channelPartCount(outChannels: o) == used.count, "O = \(o)")
        #expect(used.count == 1 || used.allSatisfy { $0.count >= 8 }, "O = \(o): \(ranges)")
        #expect((used.map(\.count).max() ?? 0) - (used.map(\.count).min() ?? 0) <= 1)
    }
    for (batch, mode, workers) in [(2, PlanMode.inference, 2), (1, .training, 1)] {
        let other = try ExecutionPlan(model: .seed, batch: batch, threads: 3, pieceSize: 16, mode: mode)
        #expect(other.channelParts == 1 && other.workers == workers, "batch \(batch), \(mode)")
    }
    let one = try ExecutionPlan(model: .seed, batch: 1, threads: 1, pieceSize: 16, mode: .inference)
    #expect(one.channelParts == 1)
    // Small inference batches give every thread a piece; training and large batches keep pieces of 16.
    let pieces = { (batch: Int, mode: PlanMode) in
        try ExecutionPlan(model: .seed, batch: batch, threads: 2, pieceSize: 16, mode: mode).pieces.map(\.count)
    }
    #expect(try pieces(10, .inference) == [5, 5])
    #expect(try pieces(3, .inference) == [2, 1])
    #expect(try pieces(10, .training) == [10])
    #expect(try pieces(128, .inference) == Array(repeating: 16, count: 8))
    #expect(try pieces(40, .inference) == [14, 13, 13])
}

@Test("one image split across 2 and 3 workers gives one worker's logits (Winograd, im2col, 1×1, fused pool, BatchNorm2d)",
      arguments: [ModelDescription.seed, .pytorchExamples, .seedBN])
func channelSplitMatchesOneWorker(model: ModelDescription) throws {
    let single = AdderEngine(threads: 1)
    for threads in [2, 3] {
        var network = AdderNetwork(model, seed: 3)
        let split = AdderEngine(threads: threads)
        var largest: Float = 0
        // The second round changes a Winograd layer's weight: every part's transformed weight must follow.
        for round in 0..<2 {
            if round == 1 { network.parameters[2].scalars[5] += 0.25 }
            for image in 0..<3 {
                let x = randomTensor([1] + model.inputShape, seed: UInt64(10 + image), lower: -0.42, upper: 2.8)
                let expected = single.forward(network, images: x, addends: [image]).logits.scalars
                let found = split.forward(network, images: x, addends: [image]).logits.scalars
                let scale = max(expected.map(abs).max() ?? 1, 1)
                let diff = zip(expected, found).map { abs($0 - $1) }.max() ?? 0
                largest = max(largest, diff / scale)
                #expect(diff <= 1e-5 * scale, "\(model.name), \(threads) workers, round \(round), image \(image): \(expected) against \(found)")
                #expect(split.forward(network, images: x, addends: [image]).logits.scalars == found, "the same call twice")
            }
        }
        print("\(model.name) on \(threads) workers: largest difference from one worker \(largest) (relative to the largest logit)")
    }
}

@Test("the step-by-step diagnostic and the features pass run a split plan's parts: same logits as one worker")
func channelSplitDiagnosticAndFeatures() throws {
    let network = AdderNetwork(.seed, seed: 4)
    let x = randomTensor([1, 1, 28, 28], seed: 21, lower: -0.42, upper: 2.8)
    let expected = AdderEngine(threads: 1).forward(network, images: x, addends: [2]).logits.scalars
    let split = AdderEngine(threads: 2)
    let features = split.forwardWithFeatures(network, images: x, addends: [2])
    let one = AdderEngine(threads: 1).forwardWithFeatures(network, images: x, addends: [2])
    let scale = max(expected.map(abs).max() ?? 1, 1)
    #expect(zip(features.forward.logits.scalars, expected).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
    for (a, b) in zip(features.features, one.features) {
        #expect(a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }
    // The diagnostic runs the same plan one step at a time: finite input, nothing to report.
    #expect(try split.firstNonFiniteStep(network, images: x, mode: .inference) == nil)
    var broken = x
    broken.scalars[300] = .nan
    let found = try split.firstNonFiniteStep(network, images: broken, mode: .inference)
    #expect(found?.step == 0 && found?.image == 0)
}

@Test("the split chooser runs split while it is faster, alone once split slows down, and tries split again")
func splitChooserFollowsTheTimes() {
    let chooser = SplitChooser()
    var modes: [Bool] = []
    func call(split: UInt64, alone: UInt64) {
        let ranAlone = chooser.nextRunsAlone()
        modes.append(ranAlone)
        chooser.record(alone: ranAlone, nanoseconds: ranAlone ? alone : split)
    }
    // A quiet machine: split 100 µs, alone 130 µs. Calls 1–15 split, 16–19 alone (to measure it), then split.
    for _ in 0..<40 { call(split: 100_000, alone: 130_000) }
    #expect(modes[0..<15].allSatisfy { !$0 } && modes[15..<19].allSatisfy { $0 } && modes[19..<40].allSatisfy { !$0 }, "\(modes)")
    // Another process takes the second core: split calls take 2 ms; within a few calls every call runs alone.
    modes = []
    for _ in 0..<100 { call(split: 2_000_000, alone: 130_000) }
    let firstAlone = modes.firstIndex(of: true) ?? 100
    #expect(firstAlone <= 3 && modes[firstAlone...].allSatisfy { $0 }, "\(modes)")
    // The load goes away: the next trial (calls 272–275) finds split fast again and it stays.
    modes = []
    for _ in 0..<200 { call(split: 100_000, alone: 130_000) }
    let back = modes.lastIndex(of: true) ?? 0
    #expect(back < 199 && modes[(back + 1)...].allSatisfy { !$0 } && modes.suffix(50).allSatisfy { !$0 }, "\(modes)")
}

@Test("calls 16–19 of a split engine run alone (the chooser's first trial): every call of 24 gives one worker's logits and features")
func channelSplitAloneCallsMatch() {
    let network = AdderNetwork(.seed, seed: 6)
    let x = randomTensor([1, 1, 28, 28], seed: 31, lower: -0.42, upper: 2.8)
    let one = AdderEngine(threads: 1).forwardWithFeatures(network, images: x, addends: [4])
    let scale = max(one.forward.logits.scalars.map(abs).max() ?? 1, 1)
    let split = AdderEngine(threads: 2)
    for call in 1...24 {
        // Odd calls through forward, even ones through forwardWithFeatures: both paths in both modes.
        let withFeatures = call.isMultiple(of: 2) ? split.forwardWithFeatures(network, images: x, addends: [4]) : nil
        let logits = withFeatures?.forward.logits ?? split.forward(network, images: x, addends: [4]).logits
        #expect(zip(logits.scalars, one.forward.logits.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * scale }, "call \(call)")
        for (a, b) in zip(withFeatures?.features ?? [], one.features) {
            #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }, "call \(call)")
        }
    }
}

