// The validation split of `train --validation N`: disjoint, complete, fixed by the seed.
import Foundation
import MNISTData
import Testing

@Test("the validation split keeps N items aside, disjoint from training, together all of them, fixed by the seed")
func validationSplit() throws {
    let split = try ValidationSplit(count: 60_000, validation: 5_000, seed: 0)
    #expect(split.validation.count == 5_000 && split.training.count == 55_000)
    #expect(split.validation == split.validation.sorted() && split.training == split.training.sorted())
    #expect(Set(split.validation).isDisjoint(with: split.training))
    #expect(Set(split.validation + split.training) == Set(0..<60_000))
    #expect(try ValidationSplit(count: 60_000, validation: 5_000, seed: 0) == split)
    let other = try ValidationSplit(count: 60_000, validation: 5_000, seed: 1)
    #expect(other.validation != split.validation)
    // Drawn from the whole split, not its end as TensorFlow's read_data_sets did.
    #expect(split.validation.first! < 1_000 && split.validation.last! > 59_000)
}

@Test("a validation size that leaves nothing to train on, or none at all, is refused in one line")
func validationSplitRefused() {
    #expect(throws: MNISTError.invalidValidationSize(found: 100, trainingImages: 100)) {
        try ValidationSplit(count: 100, validation: 100, seed: 0)
    }
    #expect(MNISTError.invalidValidationSize(found: 0, trainingImages: 100).description
        == "--validation: expected 1...99 images (of 100 training images), found 0")
}

@Test("splitting a dataset: the subsets hold the right images and labels")
func splittingDataset() throws {
    let mnist = try MNIST.load(.test, limit: 20)
    let (training, validation, split) = try AdderDataset.splitting(mnist, validation: 3, seed: 5)
    #expect(validation.count == 3 && training.count == 17)
    #expect(validation.labels == split.validation.map { Int(mnist.labels[$0]) })
    #expect(training.labels == split.training.map { Int(mnist.labels[$0]) })
    for (i, index) in split.validation.enumerated() {
        #expect(Array(validation.mnist.image(at: i)) == Array(mnist.image(at: index)))
    }
}
