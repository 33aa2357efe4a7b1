// The misclassified items evaluation reports: their test indices and the probability of the wrong
// prediction, checked one image at a time against a forward pass of that image alone.
import AdderNet
import Foundation
import MNISTData
import NNCore
import Testing

@Test("evaluate: misclassified test indices and the softmax probability of each wrong prediction")
func misclassifiedIndicesAndProbabilities() throws {
    let network = AdderNetwork(seed: 3)
    let test = try AdderDataset.load(.test, limit: 30, seed: 0)
    let engine = AdderEngine(threads: 1)
    let evaluation = try evaluate(network, on: test, engine: engine, batchSize: 7)
    let correct = (0..<10).reduce(0) { $0 + evaluation.confusion[$1][$1] }
    #expect(evaluation.misclassified.count == 30 - correct)
    #expect(evaluation.misclassified.count > 5, "an untrained network gets most digits wrong")
    #expect(evaluation.misclassifiedProbabilities.count == evaluation.misclassified.count)

    var index = 0
    var checked = 0
    for batch in try test.batches(batchSize: 1, shuffle: false) {
        defer { index += 1 }
        let logits = engine.forward(network, images: batch.images, addends: batch.addends).logits.scalars.map(Double.init)
        let largest = logits.max() ?? 0
        let exps = logits.map { exp($0 - largest) }
        let predicted = logits.indices.max { logits[$0] < logits[$1] } ?? -1
        guard let k = evaluation.misclassified.firstIndex(of: index) else {
            #expect(predicted == test.labels[index], "item \(index) is not listed but was predicted wrong")
            continue
        }
        #expect(predicted != test.labels[index] && predicted == evaluation.predictedDigits[index])
        let probability = exps[predicted] / exps.reduce(0, +)
        #expect(abs(evaluation.misclassifiedProbabilities[k] - probability) < 1e-5,
                "item \(index): \(evaluation.misclassifiedProbabilities[k]) vs \(probability)")
        checked += 1
    }
    #expect(checked == evaluation.misclassified.count)
}
