// Keeping part of the training split aside as a validation set, chosen by the run's seed (as
// TensorFlow's classic read_data_sets kept 5,000 of MNIST's 60,000 training images aside, though
// TensorFlow took the last 5,000 in file order). Calibration and the `unsure` threshold are fitted
// on these images, never on the test set, and training never sees them.

import NNCore

extension MNIST {
    /// The items at `indices`, in that order (each must be below `count`; callers pass indices from
    /// `ValidationSplit`).
    public func subset(_ indices: [Int]) -> MNIST {
        let size = rows * columns
        var kept = [UInt8]()
        kept.reserveCapacity(indices.count * size)
        for i in indices { kept += pixels[i * size..<(i + 1) * size] }
        return MNIST(count: indices.count, rows: rows, columns: columns, pixels: kept, labels: indices.map { labels[$0] })
    }
}

/// Which training items are kept aside for validation: `validation` items drawn without
/// replacement by a Fisher–Yates permutation of `0..<count` seeded from the run's seed (its own
/// stream, unrelated to the weights', the integers' and the epochs' orders). Both index lists are
/// sorted, so the training items keep their file order.
public struct ValidationSplit: Sendable, Equatable {
    /// Indices into the training split that are trained on, ascending.
    public let training: [Int]
    /// Indices kept aside for validation, ascending; disjoint from `training`, together `0..<count`.
    public let validation: [Int]

    /// Splits `count` items, `validation` of them aside, from `seed`.
    /// Throws `MNISTError.invalidValidationSize` unless `1 <= validation < count`.
    public init(count: Int, validation: Int, seed: UInt64) throws {
        guard validation >= 1, validation < count else {
            throw MNISTError.invalidValidationSize(found: validation, trainingImages: count)
        }
        var generator = SplitMix64(seed: Sampling.derivedSeed(seed, stream: 0x7A11_DA7E))
        let order = Sampling.permutation(count: count, using: &generator)
        self.validation = order[0..<validation].sorted()
        self.training = order[validation...].sorted()
    }
}

extension AdderDataset {
    /// The training and validation sets of a run that keeps `validation` items of `mnist` (the
    /// training split, possibly limited) aside. The training items draw their integers from `seed`
    /// as a run without validation does (over the remaining items); the validation items draw
    /// theirs from the fixed test seed's stream, so they do not depend on which items were kept.
    /// Throws `MNISTError.invalidValidationSize` or `.invalidAddendRange`.
    public static func splitting(
        _ mnist: MNIST, validation: Int, addendRange: ClosedRange<Int> = defaultAddendRange, seed: UInt64
    ) throws -> (training: AdderDataset, validation: AdderDataset, split: ValidationSplit) {
        let split = try ValidationSplit(count: mnist.count, validation: validation, seed: seed)
        let training = try AdderDataset(mnist.subset(split.training), split: .train, addendRange: addendRange, seed: seed)
        let held = try AdderDataset(mnist.subset(split.validation), split: .test, addendRange: addendRange, seed: seed)
        return (training, held, split)
    }
}
