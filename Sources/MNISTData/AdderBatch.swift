// Batches of the combined dataset. Assembly is a gather plus a table lookup per pixel into a buffer
// that is reused from batch to batch (or, with augmentation, a random affine warp per image); optionally
// it runs one batch ahead on another thread, where the warps overlap with training.
import NNCore

/// One batch of the combined task: inputs (`images`, `addends`) and targets (`labels`, `sums`).
public struct AdderBatch: Sendable, Equatable {
    /// Normalized images, NCHW `[count, 1, 28, 28]` (see `MNISTNormalization`).
    public var images: Tensor
    /// The integer input of each item, `[count]`.
    public var addends: [Int]
    /// The digit of each item (first target, class index 0...9), `[count]`.
    public var labels: [Int]
    /// Digit plus addend (second target, class index), `[count]`.
    public var sums: [Int]
    /// The dataset index of each item, `[count]`.
    public var indices: [Int]

    /// The number of items, `batchSize` or fewer for the last batch.
    public var count: Int { indices.count }
}

/// The batches of one epoch, as a sequence; iterating it again yields the same batches.
public struct AdderBatches: Sequence, Sendable {
    /// The dataset the batches come from.
    public let dataset: AdderDataset
    /// Dataset indices in the order the epoch visits them.
    public let order: [Int]
    /// Items per batch (the last may have fewer unless `dropLast`).
    public let batchSize: Int
    /// Whether a last batch smaller than `batchSize` is skipped.
    public let dropLast: Bool
    /// Whether the next batch is assembled on another thread ahead of time.
    public var prefetch: Bool
    /// The random affine transform applied to every image (nil: the images as they are). Each image's
    /// transform depends on its dataset index, not on its place in the order, so batches of any size, a
    /// resumed epoch's remaining order and prefetching all give the same images.
    public var augmentation: EpochAugmentation?

    /// Groups `order` into batches; see `AdderDataset.batches` (`batchSize` must be at least 1).
    public init(dataset: AdderDataset, order: [Int], batchSize: Int, dropLast: Bool = false, prefetch: Bool = false,
                augmentation: EpochAugmentation? = nil) {
        precondition(batchSize >= 1, "batch size must be at least 1, found \(batchSize)")
        self.dataset = dataset
        self.order = order
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.prefetch = prefetch
        self.augmentation = augmentation
    }

    /// Number of batches in the epoch.
    public var count: Int {
        dropLast ? order.count / batchSize : (order.count + batchSize - 1) / batchSize
    }

    /// Number of items the batches hold together (fewer than the dataset's only with `dropLast`).
    public var itemCount: Int {
        dropLast ? count * batchSize : order.count
    }

    /// Iterates the batches, prefetching when `prefetch` is set.
    public func makeIterator() -> Iterator {
        let assembler = BatchAssembler(batches: self)
        return prefetch ? Iterator(prefetching: PrefetchIterator(assembler)) : Iterator(direct: assembler)
    }

    /// Yields the batches of an `AdderBatches`, assembled in place or one ahead on another thread.
    public struct Iterator: IteratorProtocol {
        private var direct: BatchAssembler?
        private let prefetching: PrefetchIterator<BatchAssembler>?

        fileprivate init(direct: BatchAssembler) {
            self.direct = direct
            prefetching = nil
        }

        fileprivate init(prefetching: PrefetchIterator<BatchAssembler>) {
            direct = nil
            self.prefetching = prefetching
        }

        /// The next batch, or `nil` after the last.
        public mutating func next() -> AdderBatch? {
            if let prefetching { return prefetching.next() }
            return direct?.next()
        }
    }
}

/// Builds the batches one after another, alternating between two image buffers: the batch the caller
/// holds keeps one while the next is written into the other, so neither is copied nor reallocated.
struct BatchAssembler: IteratorProtocol, Sendable {
    private let batches: AdderBatches
    private var start = 0
    private var buffers: [[Float]] = [[], []]
    private var current = 0

    init(batches: AdderBatches) {
        self.batches = batches
    }

    mutating func next() -> AdderBatch? {
        let order = batches.order
        let remaining = order.count - start
        guard remaining > 0, !(batches.dropLast && remaining < batches.batchSize) else { return nil }
        let size = min(batches.batchSize, remaining)
        let indices = Array(order[start..<start + size])
        start += size

        let dataset = batches.dataset
        let imageSize = dataset.mnist.rows * dataset.mnist.columns
        current ^= 1
        if buffers[current].count != size * imageSize {
            buffers[current] = [Float](repeating: 0, count: size * imageSize)
        }
        let augmentation = batches.augmentation
        let (rows, columns) = (dataset.mnist.rows, dataset.mnist.columns)
        dataset.mnist.pixels.withUnsafeBufferPointer { pixels in
            buffers[current].withUnsafeMutableBufferPointer { output in
                for (slot, index) in indices.enumerated() {
                    let image = UnsafeBufferPointer(rebasing: pixels[index * imageSize..<(index + 1) * imageSize])
                    let target = UnsafeMutableBufferPointer(rebasing: output[slot * imageSize..<(slot + 1) * imageSize])
                    if let augmentation {
                        augmentation.normalizedImage(index: index, pixels: image, rows: rows, columns: columns, into: target)
                    } else {
                        MNISTNormalization.normalize(image, into: target)
                    }
                }
            }
        }
        return AdderBatch(
            images: Tensor(shape: [size, 1, dataset.mnist.rows, dataset.mnist.columns], scalars: buffers[current]),
            addends: indices.map { dataset.addends[$0] },
            labels: indices.map { dataset.labels[$0] },
            sums: indices.map { dataset.sums[$0] },
            indices: indices)
    }
}
