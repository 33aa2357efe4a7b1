// Keeping part of a person's own digits aside (`mnist-adder finetune`): the same fraction of every digit,
// chosen by a seed, so the held-out accuracy before and after fine-tuning is measured on images never
// trained on and covers every digit the person gave. Also the random draw of MNIST images mixed in.
import NNCore

/// Which items of a labelled set are kept aside: of each digit's n items, `round(n · fraction)` (at most
/// n − 1, so every digit with two or more items keeps one to train on; none of a digit with one item), drawn
/// without replacement by a Fisher–Yates permutation seeded from `seed` on its own stream, per digit.
/// Both index lists are ascending and together are `0..<labels.count`.
public struct StratifiedSplit: Sendable, Equatable {
    /// Indices trained on, ascending.
    public let training: [Int]
    /// Indices kept aside, ascending.
    public let heldOut: [Int]

    /// Splits items with `labels` (digits 0...9), keeping `fraction` of each digit aside (0 ≤ fraction < 1).
    public init(labels: [Int], fraction: Double, seed: UInt64) {
        precondition(fraction >= 0 && fraction < 1, "StratifiedSplit: fraction \(fraction)")
        var training: [Int] = [], heldOut: [Int] = []
        for digit in 0...9 {
            let items = labels.indices.filter { labels[$0] == digit }
            guard items.count >= 2 else {
                training += items
                continue
            }
            let aside = min(items.count - 1, Int((Double(items.count) * fraction).rounded()))
            var generator = SplitMix64(
                seed: Sampling.derivedSeed(Sampling.derivedSeed(seed, stream: 0x4E1D_0017), stream: UInt64(digit)))
            let order = Sampling.permutation(count: items.count, using: &generator)
            heldOut += order[0..<aside].map { items[$0] }
            training += order[aside...].map { items[$0] }
        }
        self.training = training.sorted()
        self.heldOut = heldOut.sorted()
    }
}

extension MNIST {
    /// `count` items drawn without replacement by a permutation seeded from `seed` (its own stream), in
    /// ascending index order; all items when `count >= self.count`.
    public func randomSample(_ count: Int, seed: UInt64) -> MNIST {
        guard count < self.count else { return self }
        var generator = SplitMix64(seed: Sampling.derivedSeed(seed, stream: 0x5A3B_1E5))
        let order = Sampling.permutation(count: self.count, using: &generator)
        return subset(order[0..<max(0, count)].sorted())
    }
}
