// The engine's gradients against finite differences of its own loss, on a small network made of
// every layer kind: Conv2d without bias, BatchNorm2d (batch statistics, so the batch meets), ReLU,
// MaxPool2d apart from the convolution, Dropout, Flatten, Linear on images with ReLU, Linear.
import AdderNet
import NNCore
import NNTestSupport
import Testing

/// conv(1→4, 3×3, no bias) → BN(4) → ReLU → pool 2 → dropout 0.3 → flatten → fc(36→12) → ReLU →
/// dropout 0.5 → fc(12→10), on 8×8 images.
let smallNetwork = ModelDescription(
    name: "small", inputShape: [1, 8, 8],
    layers: [
        .conv2d(Conv2d("c", 1, 4, kernelSize: 3, bias: false)), .batchNorm2d(BatchNorm2d("c_bn", 4)), .relu,
        .maxPool2d(MaxPool2d(kernelSize: 2)), .dropout(Dropout("d1", p: 0.3)), .flatten,
        .linear(Linear("fc1", 36, 12)), .relu, .dropout(Dropout("d2", p: 0.5)), .linear(Linear("fc2", 12, 10)),
    ])

@Test("every gradient of a network of all layer kinds equals finite differences of the engine's own loss",
      arguments: [(1, 16), (2, 2)])
func engineGradientsMatchFiniteDifferences(threads: Int, pieceSize: Int) throws {
    let n = 6
    let network = AdderNetwork(smallNetwork, seed: 11)
    let images = randomTensor([n, 1, 8, 8], seed: 12, lower: -1.5, upper: 1.5)
    let labels = [3, 1, 4, 1, 5, 9], addends = [2, 6, 5, 3, 5, 8]
    let engine = AdderEngine(threads: threads, pieceSize: pieceSize)
    let context = DropoutContext(seed: 4, step: 17)
    let weights = LossWeights(crossEntropy: 1, mse: 0)  // the CNN's gradient comes from cross-entropy only
    func loss(_ candidate: AdderNetwork) -> Double {
        Double((try? engine.step(candidate, images: images, addends: addends, labels: labels, weights: weights, dropout: context))?.loss ?? .nan)
    }
    let result = try engine.step(network, images: images, addends: addends, labels: labels, weights: weights, dropout: context)
    let cnn = smallNetwork.adderParameterStart
    for (index, name) in smallNetwork.parameterNames.prefix(cnn).enumerated() {
        let numeric = numericalGradient(at: network.parameters[index], eps: 1e-3) { value in
            var probe = network
            probe.parameters[index] = value
            return loss(probe)
        }
        let report = compareClose(result.gradients[index], numeric, atol: 2e-3, rtol: 3e-2, name: name)
        #expect(report.passed, "\(report)\nengine \(result.gradients[index].scalars.prefix(12))\nnumeric \(numeric.scalars.prefix(12))")
    }
    // BatchNorm2d counted the batch.
    #expect(result.buffers.count == 3 && result.buffers[2].scalars == [1])
}

@Test("evaluation mode: dropout is the identity and BatchNorm2d uses the running statistics")
func evaluationModeIsDeterministicAndUsesRunningStatistics() throws {
    var network = AdderNetwork(smallNetwork, seed: 11)
    network.buffers[0] = Tensor(shape: [4], scalars: [0.1, -0.2, 0.3, 0])   // running_mean
    network.buffers[1] = Tensor(shape: [4], scalars: [1.5, 0.5, 2, 1])      // running_var
    let images = randomTensor([3, 1, 8, 8], seed: 13)
    let out = AdderEngine(threads: 2, pieceSize: 1).forward(network, images: images, addends: [1, 2, 3])
    // The same network by hand with NNCore's tensor ops.
    var x = conv2dForward(input: images, weight: network.parameters[0], bias: Tensor(shape: [4]))
    x = batchNorm2dInference(input: x, weight: network.parameters[1], bias: network.parameters[2],
                             runningMean: network.buffers[0], runningVar: network.buffers[1])
    x = maxPool2dForward(input: reluForward(x), kernelSize: 2, stride: 2).output.reshaped(to: [3, 36])
    x = reluForward(linearForward(input: x, weight: network.parameters[3], bias: network.parameters[4]))
    x = linearForward(input: x, weight: network.parameters[5], bias: network.parameters[6])
    let report = compareClose(out.logits, x, atol: 1e-5, rtol: 1e-5, name: "logits")
    #expect(report.passed, "\(report)")
}
