// The integers and orders drawn from seeds. Written out here rather than taken from the standard
// library (`Int.random(in:using:)`, `shuffle(using:)`), whose algorithms may change between Swift
// releases: a run resumed with a newer compiler must see the same integers and batch order.
import NNCore

enum Sampling {
    /// An integer uniform in `range`, unbiased: Lemire's multiply-and-reject (ACM TOMACS 2019).
    static func uniform(in range: ClosedRange<Int>, using generator: inout SplitMix64) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound) &+ 1
        guard span != 0 else { return range.lowerBound &+ Int(bitPattern: UInt(generator.next())) }
        var product = generator.next().multipliedFullWidth(by: span)
        if product.low < span {
            let threshold = (0 &- span) % span
            while product.low < threshold {
                product = generator.next().multipliedFullWidth(by: span)
            }
        }
        return range.lowerBound + Int(product.high)
    }

    /// A permutation of `0..<count` by Fisher–Yates (Durstenfeld), drawing from `generator`.
    static func permutation(count: Int, using generator: inout SplitMix64) -> [Int] {
        var order = Array(0..<count)
        var i = count - 1
        while i > 0 {
            let j = uniform(in: 0...i, using: &generator)
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }

    /// A seed for one purpose (`stream`) derived from a run's seed, so that weight initialisation,
    /// the integers and each epoch's shuffle draw from unrelated streams of one user-facing seed.
    static func derivedSeed(_ seed: UInt64, stream: UInt64) -> UInt64 {
        var outer = SplitMix64(seed: seed)
        var inner = SplitMix64(seed: outer.next() ^ stream)
        return inner.next()
    }
}
