// The forward pass that also hands back the network's hidden features: the outputs of the steps
// just before the last (for the seed, conv3, conv4 and conv5 + ReLU, 32×9×9, 64×7×7 and 64×5×5;
// conv5's output is what conv6 turns into the logits). The out-of-distribution score of `predict`
// and `serve` (AdderInference) is computed on them. The steps and their arithmetic are
// `forward`'s own; only copies of their outputs are added.
import NNCore

/// A forward pass's results with hidden features.
public struct FeatureForwardResult: Sendable {
    /// The logits, digits and sums, exactly as `AdderEngine.forward` returns them.
    public var forward: ForwardResult
    /// The outputs of the `featureSteps` plan steps before the last, earliest first, each (N, ·) with
    /// that step's output shape after N: for the seed (N, 32, 9, 9), (N, 64, 7, 7), (N, 64, 5, 5).
    public var features: [Tensor]
}

extension AdderEngine {
    /// `forward(network, images:addends:)` that also returns each image's hidden features: the outputs
    /// of the inference plan's `featureSteps` steps before the last (fewer when the plan is shorter),
    /// each copied right after its step ran. The logits are bit for bit those of `forward`: the same
    /// plan and steps on the same pieces. `images` is (N, 1, 28, 28), normalized as in training;
    /// `addends` has N integers.
    public func forwardWithFeatures(
        _ network: AdderNetwork, images: Tensor, addends: [Int], featureSteps: Int = 3
    ) -> FeatureForwardResult {
        let n = images.shape[0]
        precondition(images.shape == [n] + network.model.inputShape && addends.count == n, "forwardWithFeatures: images \(images.shape), \(addends.count) addends")
        let classes = AdderNetwork.classes
        guard let runtime = try? runtime(network.model, batch: max(n, 1), mode: .inference) else {
            preconditionFailure("forwardWithFeatures: the model description \(network.model.name) does not validate")
        }
        let steps = runtime.plan.steps
        let chosen = Array(max(0, steps.count - 1 - featureSteps)..<(steps.count - 1))
        var features = chosen.map { Tensor(shape: [n] + steps[$0].outputShape) }
        guard n > 0 else {
            return FeatureForwardResult(
                forward: ForwardResult(logits: Tensor(shape: [0, classes]), digits: [], sums: Tensor(shape: [0])),
                features: features)
        }
        var logits = Tensor(shape: [n, classes])
        // One flat buffer for all chosen outputs, split into `features` afterwards.
        let counts = chosen.map { steps[$0].outputCount }
        let offsets = counts.indices.map { i in counts[..<i].reduce(0, +) * n }
        var flat = [Float](repeating: 0, count: counts.reduce(0, +) * n)
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    flat.withUnsafeMutableBufferPointer { feat in
                        Self.prepare(runtime, params: params, buffers: network.buffers)
                        let shared = StepShared(runtime: runtime, network: network, parameters: params, dropout: nil)
                        let context = Unchecked((shared, out.baseAddress!, feat.baseAddress!))
                        if runtime.plan.channelParts > 1 {  // one image: its channels split across the workers
                            runChannelSplitForward(runtime, images: x.baseAddress!, shared: shared, out: out.baseAddress!, clock: nil) { k, memory in
                                let (_, _, feat) = context.value
                                if let j = chosen.firstIndex(of: k) {
                                    (feat + offsets[j]).update(from: memory.floats(steps[k].output), count: counts[j])
                                }
                            }
                            return
                        }
                        runPieces(runtime, images: x.baseAddress!) { piece, memory in
                            let (shared, out, feat) = context.value
                            let steps = shared.runtime.plan.steps
                            let range = shared.runtime.plan.pieces[piece]
                            for k in steps.indices {
                                Self.forward(step: k, piece: piece, range: range, memory: memory, shared: shared)
                                if let j = chosen.firstIndex(of: k) {
                                    (feat + offsets[j] + range.lowerBound * counts[j]).update(
                                        from: memory.floats(steps[k].output), count: range.count * counts[j])
                                }
                            }
                            (out + range.lowerBound * classes).update(
                                from: memory.floats(steps[steps.count - 1].output), count: range.count * classes)
                        }
                    }
                }
            }
        }
        for j in features.indices {
            features[j].scalars = Array(flat[offsets[j]..<(offsets[j] + counts[j] * n)])
        }
        let digits = argmax(logits)
        let sums = Self.adderForward(network, digits: digits, addends: addends).sums
        return FeatureForwardResult(forward: ForwardResult(logits: logits, digits: digits, sums: sums), features: features)
    }
}
