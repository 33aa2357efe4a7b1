// The forward pass that also hands back the network's penultimate features: the input of its last
// step (for the seed, conv5 + ReLU's 64×5×5 output, which conv6 turns into the logits). The
// out-of-distribution score of `predict` and `serve` (AdderInference) is computed on them. The
// steps and their arithmetic are `forward`'s own; only a copy of one buffer is added.
import NNCore

/// A forward pass's results with the penultimate features.
public struct FeatureForwardResult: Sendable {
    /// The logits, digits and sums, exactly as `AdderEngine.forward` returns them.
    public var forward: ForwardResult
    /// The input of the plan's last step for every image, (N, ·) with that step's input shape
    /// after N: (N, 64, 5, 5) for the seed (conv6's input), (N, 128) for `pytorch-examples`.
    public var features: Tensor
}

extension AdderEngine {
    /// `forward(network, images:addends:)` that also returns each image's penultimate features (the
    /// input of the inference plan's last step, copied when the step before it has run). The logits
    /// are bit for bit those of `forward`: the same plan and steps on the same pieces.
    /// `images` is (N, 1, 28, 28), normalized as in training; `addends` has N integers.
    public func forwardWithFeatures(_ network: AdderNetwork, images: Tensor, addends: [Int]) -> FeatureForwardResult {
        let n = images.shape[0]
        precondition(images.shape == [n] + network.model.inputShape && addends.count == n, "forwardWithFeatures: images \(images.shape), \(addends.count) addends")
        let classes = AdderNetwork.classes
        guard let runtime = try? runtime(network.model, batch: max(n, 1), mode: .inference) else {
            preconditionFailure("forwardWithFeatures: the model description \(network.model.name) does not validate")
        }
        let last = runtime.plan.steps[runtime.plan.steps.count - 1]
        let featureCount = last.inputCount
        guard n > 0 else {
            return FeatureForwardResult(
                forward: ForwardResult(logits: Tensor(shape: [0, classes]), digits: [], sums: Tensor(shape: [0])),
                features: Tensor(shape: [0] + last.inputShape))
        }
        var logits = Tensor(shape: [n, classes])
        var features = Tensor(shape: [n] + last.inputShape)
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    features.scalars.withUnsafeMutableBufferPointer { feat in
                        Self.prepare(runtime, params: params, buffers: network.buffers)
                        let shared = StepShared(runtime: runtime, network: network, parameters: params, dropout: nil)
                        let context = Unchecked((shared, out.baseAddress!, feat.baseAddress!))
                        runPieces(runtime, images: x.baseAddress!) { piece, memory in
                            let (shared, out, feat) = context.value
                            let steps = shared.runtime.plan.steps
                            let range = shared.runtime.plan.pieces[piece]
                            for k in steps.indices {
                                if k == steps.count - 1 {
                                    (feat + range.lowerBound * featureCount).update(
                                        from: memory.floats(steps[k].input), count: range.count * featureCount)
                                }
                                Self.forward(step: k, piece: piece, range: range, memory: memory, shared: shared)
                            }
                            (out + range.lowerBound * classes).update(
                                from: memory.floats(steps[steps.count - 1].output), count: range.count * classes)
                        }
                    }
                }
            }
        }
        let digits = argmax(logits)
        let sums = Self.adderForward(network, digits: digits, addends: addends).sums
        return FeatureForwardResult(forward: ForwardResult(logits: logits, digits: digits, sums: sums), features: features)
    }
}
