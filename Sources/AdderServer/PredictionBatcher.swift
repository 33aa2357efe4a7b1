// Gathers concurrent predictions into one forward pass. The engines are few (one per core), a forward
// pass over many images costs less per image than one pass each, and one batch answers all its callers
// at once, so a prediction that finds the engines busy, or other requests on their way, waits a little
// for company.
//
// A batch leaves for a free engine when it holds `maximumBatch` images, when its first image has
// waited `batchWait`, or at once when no other batch is running and no other prediction request is
// being prepared (nobody could join it soon: a lone client never waits). While a batch runs, the next
// one fills, so under load the engines take turns with large batches rather than each running single
// images; a second engine starts when a batch has waited `batchWait`. While every engine is busy, the
// batch keeps filling.
// `batchWait` zero is "no batching": every image runs alone, in arrival order.
import AdderInference
import AdderNet
import Foundation

/// One image's prediction and the number of images in the batch it was computed with.
package struct BatchedPrediction: Sendable {
    /// The image's prediction.
    package var prediction: DigitPrediction
    /// How many images its batch held (1: it ran alone).
    package var batchSize: Int
}

/// Runs predictions for concurrent requests in shared forward passes on a fixed set of single-threaded
/// engines; each caller gets its own image's answer.
package final class PredictionBatcher: @unchecked Sendable {
    /// One image waiting for its answer.
    private struct Item {
        let pixels: [UInt8]
        let addend: Int
        let arrived: ContinuousClock.Instant
        let continuation: CheckedContinuation<BatchedPrediction, any Error>
    }

    private let network: AdderNetwork
    private let calibration: Calibration?
    private let maximumBatch: Int
    private let wait: Duration
    private let lock = NSLock()
    // Guarded by `lock`.
    private var idle: [AdderEngine]
    private var pending: [Item] = []
    private var preparing = 0
    private var running = 0
    private var timerArmed = false

    /// `engines` single-threaded engines; batches of at most `maximumBatch` images (1 when `wait` is zero).
    package init(network: AdderNetwork, calibration: Calibration?, engines: Int, maximumBatch: Int, wait: Duration) {
        self.network = network
        self.calibration = calibration
        self.wait = wait
        self.maximumBatch = wait > .zero ? max(1, maximumBatch) : 1
        self.idle = (0..<max(1, engines)).map { _ in AdderEngine(threads: 1) }
    }

    /// Notes a request that will soon ask for a prediction (its body is being parsed and its picture
    /// prepared): a batch waits for it, at most `wait`. Balance with `predict` or `withdraw`.
    package func admit() {
        lock.withLock { preparing += 1 }
    }

    /// An admitted request that will not ask for a prediction after all (its body was refused).
    package func withdraw() {
        let due = lock.withLock {
            preparing -= 1
            return takeDueBatches()
        }
        launch(due)
    }

    /// The prediction for one admitted request's 784 pixels and addend, computed in a batch with whatever
    /// other requests are waiting, and that batch's size. Throws what `DigitInference.predict` throws for
    /// this image.
    package func predict(pixels: [UInt8], addend: Int) async throws -> BatchedPrediction {
        try await withCheckedThrowingContinuation { continuation in
            let due = lock.withLock {
                preparing -= 1
                pending.append(Item(pixels: pixels, addend: addend, arrived: .now, continuation: continuation))
                return takeDueBatches()
            }
            // The first batch runs on this task's thread (no hop to another task), the rest on tasks.
            if let first = due.first {
                run(first.engine, first.items)
                launch(Array(due.dropFirst()))
            }
        }
    }

    /// The batches that may leave now, each with the engine it takes; arms the timer when a batch must
    /// wait. Call with `lock` held.
    private func takeDueBatches() -> [(engine: AdderEngine, items: [Item])] {
        var due: [(engine: AdderEngine, items: [Item])] = []
        while let first = pending.first, !idle.isEmpty {
            let full = pending.count >= maximumBatch
            let alone = running == 0 && preparing == 0
            guard full || alone || ContinuousClock.now - first.arrived >= wait else {
                armTimer(deadline: first.arrived + wait)
                break
            }
            let count = min(maximumBatch, pending.count)
            due.append((idle.removeLast(), Array(pending.prefix(count))))
            pending.removeFirst(count)
            running += 1
        }
        return due
    }

    /// Wakes the batcher at `deadline` unless a wake-up is already due. Call with `lock` held.
    private func armTimer(deadline: ContinuousClock.Instant) {
        guard !timerArmed else { return }
        timerArmed = true
        Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            let due = self.lock.withLock {
                self.timerArmed = false
                return self.takeDueBatches()
            }
            self.launch(due)
        }
    }

    private func launch(_ batches: [(engine: AdderEngine, items: [Item])]) {
        for batch in batches {
            Task { self.run(batch.engine, batch.items) }
        }
    }

    /// Runs one batch, answers its callers, gives the engine back and starts what became due.
    private func run(_ engine: AdderEngine, _ items: [Item]) {
        let results = predictions(engine, items)
        let due = lock.withLock {
            idle.append(engine)
            running -= 1
            return takeDueBatches()
        }
        for (item, result) in zip(items, results) {
            item.continuation.resume(with: result.map { BatchedPrediction(prediction: $0, batchSize: items.count) })
        }
        launch(due)
    }

    /// The batch's predictions, in forward passes whose sizes are powers of two (37 images: 32, 4 and 1), so
    /// that an engine compiles and keeps the plan and memory of at most nine batch sizes (1, 2, 4, ... 256)
    /// rather than one per size a batch happened to have (each about 3 MB). When a pass fails for a
    /// non-finite value, each of its images runs alone, so that only the images that really give one get
    /// the error.
    private func predictions(_ engine: AdderEngine, _ items: [Item]) -> [Result<DigitPrediction, any Error>] {
        let run = { (items: ArraySlice<Item>) throws -> [DigitPrediction] in
            try DigitInference.predict(
                items.map(\.pixels), addends: items.map(\.addend), network: self.network, engine: engine,
                calibration: self.calibration)
        }
        var results: [Result<DigitPrediction, any Error>] = []
        results.reserveCapacity(items.count)
        var start = 0
        for size in Self.passSizes(items.count) {
            let chunk = items[start..<(start + size)]
            do {
                results += try run(chunk).map { .success($0) }
            } catch is NonFiniteForwardError where size > 1 {
                results += chunk.indices.map { i in Result { try run(items[i...i])[0] } }
            } catch {
                results += chunk.map { _ in .failure(error) }
            }
            start += size
        }
        return results
    }

    /// `count` as a sum of powers of two, largest first: the sizes of the forward passes of one batch.
    package static func passSizes(_ count: Int) -> [Int] {
        var sizes: [Int] = []
        var bit = 1 << (Int.bitWidth - 2)
        while bit > 0 {
            if count & bit != 0 { sizes.append(bit) }
            bit >>= 1
        }
        return sizes
    }
}
