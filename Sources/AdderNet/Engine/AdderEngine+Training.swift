// One training step: the plan's steps forward, the loss, the steps backward in mirror order, on
// every piece; BatchNorm2d's meetings between; then the pieces' gradients summed in piece order
// and the adder on the whole batch.
import NNCore

/// A part of a training step that runs on every piece, in order; `meet` ends a phase.
public enum TrainingStage: Sendable, Equatable {
    /// Zero the piece's gradient slot.
    case start
    /// Forward of a step.
    case forward(Int)
    /// A BatchNorm2d step's sums over the piece, forward (`backward` false) or backward.
    case sums(Int, backward: Bool)
    /// The pieces meet: the calling thread combines their sums for step `Int`.
    case meet(Int, backward: Bool)
    /// Cross-entropy and its gradient for the piece's logits.
    case loss
    /// Backward of a step.
    case backward(Int)
}

extension ExecutionPlan {
    /// The training step's stages: forward over the steps, the loss, backward over the steps
    /// reversed — mirror images, a fused step counting as one — with a meeting at each
    /// BatchNorm2d in both directions.
    public var trainingStages: [TrainingStage] {
        var stages: [TrainingStage] = [.start]
        for k in steps.indices {
            if case .batchNorm2d = steps[k].operation { stages += [.sums(k, backward: false), .meet(k, backward: false)] }
            stages.append(.forward(k))
        }
        stages.append(.loss)
        for k in steps.indices.reversed() {
            if case .batchNorm2d = steps[k].operation { stages += [.sums(k, backward: true), .meet(k, backward: true)] }
            stages.append(.backward(k))
        }
        return stages
    }
}

extension AdderEngine {
    /// One training step's forward and backward: losses and the gradient of
    /// `weights.crossEntropy · CE(logits, labels) + weights.mse · MSE(sums, labels + addends)`.
    ///
    /// The CNN's gradients come from cross-entropy only and the adder's from MSE only, because the
    /// argmax between them has no gradient (as in the seed). Losses are means over the batch.
    /// Dropout is on (masks from `dropout`) and BatchNorm2d uses the batch's statistics; the updated
    /// running statistics come back in `StepResult.buffers`. Matches `model.train()` and one
    /// forward and `loss.backward()` in PyTorch. Throws `ShapeError` when a label is outside 0...9
    /// or the counts differ, and `ModelDescriptionError` for a description that does not validate.
    public func step(
        _ network: AdderNetwork, images: Tensor, addends: [Int], labels: [Int],
        weights: LossWeights = LossWeights(), dropout: DropoutContext = DropoutContext()
    ) throws -> StepResult {
        try runStep(network, images: images, addends: addends, labels: labels, weights: weights, dropout: dropout, clock: nil)
    }

    /// `step`, and when `clock` is given, each stage's time on each piece recorded in it (the roofline's timings).
    func runStep(
        _ network: AdderNetwork, images: Tensor, addends: [Int], labels: [Int],
        weights: LossWeights, dropout: DropoutContext, clock: StageClock?
    ) throws -> StepResult {
        let n = images.shape[0]
        precondition(images.shape == [n] + network.model.inputShape, "step: images \(images.shape)")
        guard addends.count == n, labels.count == n, n > 0 else {
            throw ShapeError.mismatch(operation: "step", expected: [n], found: [min(addends.count, labels.count)])
        }
        let classes = AdderNetwork.classes
        for (i, t) in labels.enumerated() where t < 0 || t >= classes {
            throw ShapeError.targetOutOfRange(operation: "crossEntropy", index: i, target: t, classes: classes)
        }
        let runtime = try runtime(network.model, batch: n, mode: .training)
        let plan = runtime.plan
        var buffers = network.buffers
        var logits = Tensor(shape: [n, classes])
        var ceSums = [Double](repeating: 0, count: plan.pieces.count)
        let ceScale = weights.crossEntropy / Float(n)
        let stages = plan.trainingStages
        let phases = stages.split(whereSeparator: { if case .meet = $0 { true } else { false } })
        let meetings = stages.compactMap { stage -> (Int, Bool)? in
            if case let .meet(k, backward) = stage { (k, backward) } else { nil }
        }
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    ceSums.withUnsafeMutableBufferPointer { ce in
                        Self.prepare(runtime, params: params, buffers: buffers)
                        let shared = StepShared(runtime: runtime, network: network, parameters: params, dropout: dropout)
                        let context = Unchecked((shared, out.baseAddress!, ce.baseAddress!, runtime.slots!))
                        for (index, phase) in phases.enumerated() {
                            let phaseStages = Array(zip(phase.indices, phase))
                            runPieces(runtime, images: x.baseAddress!) { piece, memory in
                                let (shared, out, ce, slots) = context.value
                                let range = shared.runtime.plan.pieces[piece]
                                let gradients = slots + piece * shared.runtime.slotSize
                                for (s, stage) in phaseStages {
                                    let start = clock?.now()
                                    Self.run(stage, piece: piece, range: range, memory: memory, shared: shared,
                                             gradients: gradients, labels: labels, ceScale: ceScale, logits: out, losses: ce)
                                    if let start { clock?.record(piece: piece, stage: s, since: start) }
                                }
                            }
                            if index < meetings.count {
                                Self.meet(runtime, step: meetings[index].0, backward: meetings[index].1, params: params, buffers: &buffers)
                            }
                        }
                    }
                }
            }
        }
        var gradients = network.model.parameterShapes.map { Tensor(shape: $0) }
        // Sum the pieces' CNN gradients, in piece order, into the parameter-shaped tensors.
        let slots = runtime.slots!
        for i in 0..<network.model.adderParameterStart {
            let count = gradients[i].count, offset = runtime.slotOffsets[i]
            gradients[i].scalars.withUnsafeMutableBufferPointer { g in
                for piece in plan.pieces.indices {
                    let src = slots + piece * runtime.slotSize + offset
                    for j in 0..<count { g[j] += src[j] }
                }
            }
        }
        let digits = argmax(logits)
        let (sums, inputs) = Self.adderForward(network, digits: digits, addends: addends)
        let targets = Tensor(shape: [n], scalars: zip(labels, addends).map { Float($0 + $1) })
        let (mseLoss, gradSums) = try mse(predictions: sums, targets: targets)
        let adderGrads = Self.adderBackward(network, inputs: inputs, gradSums: gradSums.reshaped(to: [n, 1]), scale: weights.mse)
        for (k, g) in adderGrads.enumerated() { gradients[network.model.adderParameterStart + k] = g }
        let ce = Float(ceSums.reduce(0, +) / Double(n))
        return StepResult(
            forward: ForwardResult(logits: logits, digits: digits, sums: sums),
            crossEntropy: ce, mse: mseLoss, loss: weights.crossEntropy * ce + weights.mse * mseLoss,
            gradients: gradients, buffers: buffers)
    }

    /// One stage on one piece.
    private static func run(
        _ stage: TrainingStage, piece: Int, range: Range<Int>, memory: PieceMemory, shared: StepShared,
        gradients: UnsafeMutablePointer<Float>, labels: [Int], ceScale: Float,
        logits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Double>
    ) {
        switch stage {
        case .start:
            gradients.update(repeating: 0, count: shared.runtime.slotSize)
        case .forward(let k):
            forward(step: k, piece: piece, range: range, memory: memory, shared: shared)
        case let .sums(k, backward):
            batchNormSums(step: k, piece: piece, range: range, memory: memory, shared: shared, backward: backward)
        case .meet:
            break
        case .loss:
            let plan = shared.runtime.plan
            let last = plan.steps[plan.steps.count - 1]
            let z = memory.floats(last.output)
            let classes = AdderNetwork.classes
            (logits + range.lowerBound * classes).update(from: z, count: range.count * classes)
            let grad = memory.floats(last.gradOutput!)
            losses[piece] = crossEntropyGradient(
                logits: z, labels: labels, offset: range.lowerBound, count: range.count, scale: ceScale, into: grad)
            if last.outputIsReLU { reluMask(grad: grad, output: z, count: range.count * classes) }
        case .backward(let k):
            backward(step: k, piece: piece, range: range, memory: memory, shared: shared, gradients: gradients)
        }
    }

    /// Work on the calling thread before the pieces run: Winograd weights transformed once for all
    /// pieces, and BatchNorm2d's evaluation-mode scale and shift from the running statistics.
    static func prepare(_ runtime: PlanRuntime, params: [UnsafePointer<Float>], buffers: [Tensor]) {
        let plan = runtime.plan
        for (k, step) in plan.steps.enumerated() {
            if runtime.transformedWeights[k] != nil, let g = step.geometry {
                runtime.transformWeight(step: k, weight: params[step.parameterIndex!], geometry: g)
            }
            if plan.mode == .inference, case let .batchNorm2d(b, _, _) = step.operation, let stats = runtime.statistics[k] {
                let c = b.numFeatures, w = step.parameterIndex!, r = step.bufferIndex!
                let (scale, shift) = batchNorm2dInferenceAffine(
                    weight: Array(UnsafeBufferPointer(start: params[w], count: c)),
                    bias: Array(UnsafeBufferPointer(start: params[w + 1], count: c)),
                    runningMean: buffers[r].scalars, runningVar: buffers[r + 1].scalars, eps: b.eps)
                (stats + 2 * c).update(from: scale, count: c)
                (stats + 3 * c).update(from: shift, count: c)
            }
        }
    }

    /// The pieces meet at BatchNorm2d step `k`: their sums, added in piece order, give the batch's
    /// statistics (forward: mean, invstd, scale, shift and the running statistics' update) or the
    /// gradient sums (backward: Σdy and Σ(x − mean)·dy, and from them γ's and β's gradients, which go
    /// to piece 0's slot).
    static func meet(
        _ runtime: PlanRuntime, step k: Int, backward: Bool, params: [UnsafePointer<Float>], buffers: inout [Tensor]
    ) {
        let plan = runtime.plan
        let step = plan.steps[k]
        guard case let .batchNorm2d(b, planeSize, _) = step.operation else { return }
        let c = b.numFeatures
        let sums = runtime.pieceSums[k]!, stats = runtime.statistics[k]!
        let total = sums + 2 * c * plan.pieces.count
        total.update(repeating: 0, count: 2 * c)
        for piece in plan.pieces.indices {
            for j in 0..<(2 * c) { total[j] += sums[2 * c * piece + j] }
        }
        let w = step.parameterIndex!
        if backward {
            let slot = runtime.slots!
            for j in 0..<c {
                slot[runtime.slotOffsets[w] + j] += Float(total[c + j] * Double(stats[c + j]))
                slot[runtime.slotOffsets[w + 1] + j] += Float(total[j])
            }
            return
        }
        let m = Double(plan.batch * planeSize)
        let r = step.bufferIndex!
        for j in 0..<c {
            let mean = total[j] / m
            let variance = max(0, total[c + j] / m - mean * mean)
            stats[j] = Float(mean)
            stats[c + j] = Float(1 / (variance + Double(b.eps)).squareRoot())
            stats[2 * c + j] = params[w][j] * stats[c + j]
            stats[3 * c + j] = params[w + 1][j] - stats[j] * stats[2 * c + j]
            let unbiased = m > 1 ? variance * m / (m - 1) : variance
            buffers[r].scalars[j] = (1 - b.momentum) * buffers[r].scalars[j] + b.momentum * Float(mean)
            buffers[r + 1].scalars[j] = (1 - b.momentum) * buffers[r + 1].scalars[j] + b.momentum * Float(unbiased)
        }
        buffers[r + 2].scalars[0] += 1
    }

    /// Softmax cross-entropy for `count` rows of logits; writes `scale·(softmax − onehot)` into `grad`
    /// and returns the summed (not averaged) loss in Double.
    static func crossEntropyGradient(
        logits z: UnsafePointer<Float>, labels: [Int], offset: Int, count: Int, scale: Float,
        into grad: UnsafeMutablePointer<Float>
    ) -> Double {
        let c = AdderNetwork.classes
        let rows = Tensor(shape: [count, c], scalars: Array(UnsafeBufferPointer(start: z, count: count * c)))
        // Reuse the one cross-entropy implementation; its gradient is (softmax − onehot)/count.
        guard let (loss, g) = try? crossEntropy(logits: rows, targets: Array(labels[offset..<(offset + count)])) else {
            return .nan
        }
        let rescale = scale * Float(count)
        for j in 0..<(count * c) { grad[j] = g.scalars[j] * rescale }
        return Double(loss) * Double(count)
    }
}
