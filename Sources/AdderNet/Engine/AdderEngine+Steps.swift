// One plan step on one piece, forward and backward: the only place that maps a step's operation
// to NNCore's kernels. The backward of each operation mirrors its forward.
//
// Gradient convention: the gradient a step receives is that of its output before its own ReLU
// (the step above multiplied it by the ReLU mask while making it, which is ReLU's backward fused
// into the layer above). A step whose input is a ReLU output masks the input gradient it makes
// (`masksGradInput`); pool, dropout and flatten pass the mask through to the step above them.
import NNCore

extension AdderEngine {
    /// Forward of step `k` on one piece of `range.count` images. A plan that splits a convolution's
    /// output channels (its Winograd weights are transformed per part) runs the parts one after another here.
    static func forward(step k: Int, piece: Int, range: Range<Int>, memory: PieceMemory, shared: StepShared) {
        let runtime = shared.runtime, plan = runtime.plan
        if plan.channelParts > 1, forwardPart(step: k, part: 0, memory: memory, workspace: memory, shared: shared) {
            for part in 1..<plan.channelParts { _ = forwardPart(step: k, part: part, memory: memory, workspace: memory, shared: shared) }
            return
        }
        let step = plan.steps[k]
        let n = range.count
        let x = UnsafePointer(memory.floats(step.input))
        let params = shared.parameters
        switch step.operation {
        case let .conv2d(g, relu, hasBias):
            let w = step.parameterIndex!
            let algorithm = step.algorithms[n]!
            conv2dForward(
                input: x, batch: n, geometry: g, weight: params[w], bias: hasBias ? params[w + 1] : UnsafePointer(runtime.zeros),
                output: memory.floats(step.output), workspace: memory.floats(step.workspace!), fuseReLU: relu,
                algorithm: algorithm, transformedWeight: algorithm == .winograd ? UnsafePointer(runtime.transformedWeights[k]) : nil)
        case let .conv2dReLUMaxPool(g, hasBias):
            let w = step.parameterIndex!
            conv2dReLUMaxPool2x2Forward(
                input: x, batch: n, geometry: g, weight: params[w], bias: hasBias ? params[w + 1] : UnsafePointer(runtime.zeros),
                pooled: memory.floats(step.output), indices: memory.int32s(step.saved!),
                workspace: memory.floats(step.workspace!), transformedWeight: UnsafePointer(runtime.transformedWeights[k]))
        case let .batchNorm2d(b, planeSize, relu):
            let stats = runtime.statistics[k]!
            let c = b.numFeatures
            batchNorm2dApply(
                input: x, count: n, channels: c, planeSize: planeSize, scale: stats + 2 * c, shift: stats + 3 * c,
                relu: relu, output: memory.floats(step.output))
        case .relu:
            let y = memory.floats(step.output)
            for i in 0..<(n * step.outputCount) { y[i] = max(x[i], 0) }
        case let .maxPool2d(kernel, stride):
            let s = step.inputShape
            maxPool2dForward(
                input: x, planes: n * s[0], height: s[1], width: s[2], kernelSize: kernel, stride: stride,
                output: memory.floats(step.output), indices: memory.int32s(step.saved!))
        case let .dropout(p):
            guard let dropout = shared.dropout, let saved = step.saved else { return }  // evaluation: the identity
            let count = step.outputCount
            let mask = memory.floats(saved)
            for j in 0..<n {
                dropoutMask(p: p, seed: dropout.seed, step: dropout.step, layer: step.layers.lowerBound,
                            image: range.lowerBound + j, count: count, into: mask + j * count)
            }
            dropoutApply(input: x, mask: mask, count: n * count, output: memory.floats(step.output))
        case .flatten:
            break
        case let .linear(inFeatures, outFeatures, relu, hasBias):
            let w = step.parameterIndex!
            linearForward(
                input: x, batch: n, inFeatures: inFeatures, outFeatures: outFeatures, weight: params[w],
                bias: hasBias ? params[w + 1] : nil, relu: relu, output: memory.floats(step.output))
        }
    }

    /// Backward of step `k` on one piece: adds the step's parameter gradients into `gradients` (the
    /// piece's slot) and writes its input gradient.
    static func backward(
        step k: Int, piece: Int, range: Range<Int>, memory: PieceMemory, shared: StepShared,
        gradients: UnsafeMutablePointer<Float>
    ) {
        let runtime = shared.runtime, plan = runtime.plan
        let step = plan.steps[k]
        let n = range.count
        let x = UnsafePointer(memory.floats(step.input))
        let gradOut = UnsafePointer(memory.floats(step.gradOutput!))
        let gradIn = step.gradInput.map { memory.floats($0) }
        let mask: UnsafePointer<Float>? = step.masksGradInput ? x : nil
        let params = shared.parameters
        func slot(_ parameter: Int) -> UnsafeMutablePointer<Float> { gradients + runtime.slotOffsets[parameter] }
        switch step.operation {
        case let .conv2d(g, _, hasBias):
            let w = step.parameterIndex!
            let algorithm = step.algorithms[n]!
            conv2dBackward(
                input: x, batch: n, geometry: g, weight: params[w], gradOutput: gradOut, gradWeight: slot(w),
                gradBias: hasBias ? slot(w + 1) : memory.floats(step.discardedGradBias!), gradInput: gradIn,
                gradInputReLUOutput: mask, workspace: memory.floats(step.backwardWorkspace!), algorithm: algorithm,
                transformedWeight: algorithm == .winograd ? UnsafePointer(runtime.transformedWeights[k]) : nil)
        case let .conv2dReLUMaxPool(g, hasBias):
            let w = step.parameterIndex!
            conv2dReLUMaxPool2x2Backward(
                input: x, batch: n, geometry: g, weight: params[w], gradPooled: gradOut,
                pooled: UnsafePointer(memory.floats(step.output)), indices: UnsafePointer(memory.int32s(step.saved!)),
                gradWeight: slot(w), gradBias: hasBias ? slot(w + 1) : memory.floats(step.discardedGradBias!),
                gradInput: gradIn, gradInputReLUOutput: mask, workspace: memory.floats(step.backwardWorkspace!),
                transformedWeight: UnsafePointer(runtime.transformedWeights[k]))
        case let .batchNorm2d(b, planeSize, _):
            guard let gradIn else { return }
            let c = b.numFeatures
            let stats = runtime.statistics[k]!, sums = runtime.pieceSums[k]!
            batchNorm2dBackwardInput(
                input: x, gradOutput: gradOut, mean: stats, invstd: stats + c, weight: params[step.parameterIndex!],
                sums: sums + 2 * c * plan.pieces.count, total: plan.batch * planeSize, count: n, channels: c,
                planeSize: planeSize, gradInput: gradIn)
            if let mask { reluMask(grad: gradIn, output: mask, count: n * step.inputCount) }
        case .relu:
            guard let gradIn else { return }
            gradIn.update(from: gradOut, count: n * step.inputCount)
            if let mask { reluMask(grad: gradIn, output: mask, count: n * step.inputCount) }
        case .maxPool2d:
            guard let gradIn else { return }
            let (s, o) = (step.inputShape, step.outputShape)
            maxPool2dBackward(
                gradOutput: gradOut, indices: memory.int32s(step.saved!), planes: n * s[0], height: s[1], width: s[2],
                outputHeight: o[1], outputWidth: o[2], gradInput: gradIn)
        case .dropout:
            guard let gradIn, let saved = step.saved else { return }
            dropoutApply(input: gradOut, mask: memory.floats(saved), count: n * step.outputCount, output: gradIn)
        case .flatten:
            break
        case let .linear(inFeatures, outFeatures, _, hasBias):
            let w = step.parameterIndex!
            linearBackward(
                input: x, batch: n, inFeatures: inFeatures, outFeatures: outFeatures, weight: params[w],
                gradOutput: gradOut, gradWeight: slot(w), gradBias: hasBias ? slot(w + 1) : nil, gradInput: gradIn,
                gradInputReLUOutput: mask)
        }
    }

    /// BatchNorm2d's first half on one piece, before the meeting: the piece's Σx and Σx² in forward
    /// (training), its Σdy and Σ(x − mean)·dy in backward.
    static func batchNormSums(step k: Int, piece: Int, range: Range<Int>, memory: PieceMemory, shared: StepShared, backward: Bool) {
        let runtime = shared.runtime
        let step = runtime.plan.steps[k]
        guard case let .batchNorm2d(b, planeSize, _) = step.operation else { return }
        let c = b.numFeatures
        let sums = runtime.pieceSums[k]! + 2 * c * piece
        sums.update(repeating: 0, count: 2 * c)
        let x = UnsafePointer(memory.floats(step.input))
        if backward {
            batchNorm2dAccumulateGradientStatistics(
                input: x, gradOutput: memory.floats(step.gradOutput!), mean: runtime.statistics[k]!, count: range.count,
                channels: c, planeSize: planeSize, into: sums)
        } else {
            batchNorm2dAccumulateStatistics(input: x, count: range.count, channels: c, planeSize: planeSize, into: sums)
        }
    }
}
