// The combined task of the seed network: each MNIST image comes with a random integer, and the
// network predicts both the digit and the digit plus the integer. The integers are drawn once, when
// the dataset is built, so an item keeps its integer across epochs (as in the seed).
import Foundation
import NNCore

/// One MNIST split paired with an integer per item: item i is (image i, addend i) with targets
/// (label i, label i + addend i).
///
/// Addends are uniform in the closed `addendRange` (default 0...9, so sums are 0...18), drawn with
/// `SplitMix64` in item order. The training split draws them from the run's seed; the test split from
/// the fixed `testAddendSeed`, so evaluation sees the same integers whatever seed trained the network.
/// Matches the seed's dataset class, which drew `random.randint(0, 9)` per item in `__init__`; it
/// differs in the generator (SplitMix64, not Python's Mersenne Twister), so the integers themselves differ.
public struct AdderDataset: Sendable {
    /// The seed of the test split's integers, fixed so evaluation is repeatable across runs.
    public static let testAddendSeed: UInt64 = 0x7E57_AD0E_5EED_0001
    /// The largest allowed addend, which keeps the number of sum classes (`10 + upper bound`) sane.
    public static let maximumAddend = 1_000_000
    /// The default range of the added integer, as in the seed.
    public static let defaultAddendRange: ClosedRange<Int> = 0...9

    /// The images and digit labels.
    public let mnist: MNIST
    /// Which split `mnist` is (decides where the addends come from).
    public let split: MNISTSplit
    /// The closed range the addends are uniform in.
    public let addendRange: ClosedRange<Int>
    /// The integer added to each item's digit, one per item.
    public let addends: [Int]
    /// Each item's digit as an Int (the first target).
    public let labels: [Int]
    /// Each item's digit plus its addend (the second target).
    public let sums: [Int]

    /// Number of items.
    public var count: Int { mnist.count }

    /// Number of classes of the sum head: sums run 0 ... 9 + `addendRange.upperBound` (19 for 0...9).
    public var sumClassCount: Int { 10 + addendRange.upperBound }

    /// Draws the addends for `mnist`: from `seed` for `.train`, from `testAddendSeed` for `.test`
    /// (`seed` is then ignored). Throws `MNISTError.invalidAddendRange` unless
    /// `0 <= addendRange.lowerBound` and `addendRange.upperBound <= maximumAddend`.
    public init(_ mnist: MNIST, split: MNISTSplit, addendRange: ClosedRange<Int> = defaultAddendRange,
                seed: UInt64) throws {
        guard addendRange.lowerBound >= 0, addendRange.upperBound <= Self.maximumAddend else {
            throw MNISTError.invalidAddendRange(found: addendRange, maximum: Self.maximumAddend)
        }
        var generator = SplitMix64(seed: Self.addendSeed(split: split, seed: seed))
        let addends = (0..<mnist.count).map { _ in Sampling.uniform(in: addendRange, using: &generator) }
        let labels = mnist.labels.map { Int($0) }
        self.mnist = mnist
        self.split = split
        self.addendRange = addendRange
        self.addends = addends
        self.labels = labels
        sums = zip(labels, addends).map { $0 + $1 }
    }

    /// Loads a split (see `MNIST.load`) and draws its addends (see `init`).
    /// Throws `MNISTError` or `IDXError`.
    public static func load(
        _ split: MNISTSplit, from directory: URL? = nil, limit: Int? = nil,
        addendRange: ClosedRange<Int> = defaultAddendRange, seed: UInt64
    ) throws -> AdderDataset {
        try AdderDataset(MNIST.load(split, from: directory, limit: limit), split: split,
                         addendRange: addendRange, seed: seed)
    }

    /// The seed the addends of `split` are drawn from: derived from the run's `seed` for training,
    /// `testAddendSeed` for test.
    public static func addendSeed(split: MNISTSplit, seed: UInt64) -> UInt64 {
        split == .test ? testAddendSeed : Sampling.derivedSeed(seed, stream: 0xADD)
    }

    /// The item order of `epoch`: a permutation of `0..<count` that is a pure function of
    /// (`seed`, `epoch`), so a run resumed at epoch e sees the order it would have seen.
    /// Fisher–Yates with SplitMix64 (not `torch.randperm`'s order).
    public static func order(count: Int, epoch: Int, seed: UInt64) -> [Int] {
        let epochSeed = Sampling.derivedSeed(
            Sampling.derivedSeed(seed, stream: 0x5AFF1E), stream: UInt64(bitPattern: Int64(epoch)))
        var generator = SplitMix64(seed: epochSeed)
        return Sampling.permutation(count: count, using: &generator)
    }

    /// The batches of one epoch, in `order(count:epoch:seed:)` when `shuffle`, else in item order.
    ///
    /// Every batch has `batchSize` items except perhaps the last, which is kept with its true size unless
    /// `dropLast` (matches `torch.utils.data.DataLoader(batch_size:, shuffle:, drop_last:)`). With
    /// `prefetch`, the next batch is assembled on another thread while the caller works on the current one.
    /// With `augmentation`, every image gets its random affine transform of (`seed`, `epoch`, its index).
    /// Throws `MNISTError.invalidBatchSize` when `batchSize < 1`.
    public func batches(batchSize: Int, epoch: Int = 0, shuffle: Bool = true, seed: UInt64 = 0,
                        dropLast: Bool = false, prefetch: Bool = false,
                        augmentation: AffineAugmentation? = nil) throws -> AdderBatches {
        guard batchSize >= 1 else { throw MNISTError.invalidBatchSize(found: batchSize) }
        let order = shuffle ? Self.order(count: count, epoch: epoch, seed: seed) : Array(0..<count)
        return AdderBatches(dataset: self, order: order, batchSize: batchSize, dropLast: dropLast, prefetch: prefetch,
                            augmentation: augmentation.map { EpochAugmentation($0, seed: seed, epoch: epoch) })
    }
}
