// The figures one benchmark run produces, as JSON-encodable values. Field names are the ones
// scripts/pytorch/bench.py prints, so scripts/bench/compare reads both sides with one schema.
//
// Units: seconds for times, images per second for throughput, GFLOP/s = 10⁹ floating-point
// operations per second (a multiply-add counts as 2), KiB for memory (Linux's ru_maxrss unit).

/// Median and best of repeated timings of one workload, in seconds.
public struct TimingSummary: Codable, Sendable, Equatable {
    /// The median of the samples (the figure the comparison uses: robust to a busy machine).
    public var median: Double
    /// The fastest sample (the closest to an idle machine).
    public var min: Double
    /// How many timed samples (warm-up runs excluded).
    public var samples: Int

    /// Summarises `samples` (at least one) seconds.
    public init(samples times: [Double]) {
        let sorted = times.sorted()
        let mid = sorted.count / 2
        median = sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
        min = sorted.first ?? 0
        samples = sorted.count
    }
}

/// Training throughput: engine step plus Adam step over a fixed number of batches.
public struct TrainingFigures: Codable, Sendable, Equatable {
    /// Images per batch.
    public var batch: Int
    /// Timed batches (after `warmupBatches` untimed ones).
    public var batches: Int
    /// Untimed batches run first (buffers, page faults, BLAS thread start-up).
    public var warmupBatches: Int
    /// `batch · batches / total seconds`.
    public var imagesPerSecond: Double
    /// `batch / median batch seconds`.
    public var medianImagesPerSecond: Double
    /// Seconds per batch.
    public var perBatch: TimingSummary
    /// Seconds per batch in forward, losses and backward (`engine.step`; PyTorch: zero_grad to backward).
    public var forwardBackward: TimingSummary
    /// Seconds per batch in the optimizer's step.
    public var optimizer: TimingSummary
    /// Peak resident set of the process after training and nothing else (ru_maxrss), KiB.
    public var peakResidentKiB: Int
    /// Resident set before the first batch, KiB: what the process held before training.
    public var residentBeforeKiB: Int
}

/// Inference throughput at one batch size (forward only, no gradient).
public struct InferenceFigures: Codable, Sendable, Equatable {
    /// Images per call.
    public var batch: Int
    /// `batch / median seconds`.
    public var imagesPerSecond: Double
    /// Seconds per call.
    public var perCall: TimingSummary
}

/// One layer's forward and backward at the benchmark batch, split across the engine's workers.
public struct LayerFigures: Codable, Sendable, Equatable {
    /// Module name (`input1`, `conv1`, ..., `pool`); `conv2/im2col` for a convolution timed with the
    /// algorithm the engine does not use for it.
    public var name: String
    /// The convolution algorithm timed (`im2col` or `winograd`, `Conv2dAlgorithm`'s raw values);
    /// nil for pooling and in PyTorch's report.
    public var algorithm: String?
    /// Floating-point operations of the forward: 2·N·O·CKK·P for a convolution, 0 for pooling.
    public var forwardFLOPs: Double
    /// Of the backward: twice the forward, except `input1` whose input gradient nobody computes (once).
    public var backwardFLOPs: Double
    /// Forward seconds.
    public var forward: TimingSummary
    /// Backward seconds.
    public var backward: TimingSummary
    /// `forwardFLOPs / forward.median / 1e9`.
    public var forwardGFLOPs: Double
    /// `backwardFLOPs / backward.median / 1e9`.
    public var backwardGFLOPs: Double
}

/// sgemm throughput on one shape.
public struct GemmFigures: Codable, Sendable, Equatable {
    /// What the shape is (`512x512x512`, `conv2.forward`, ...).
    public var name: String
    /// Rows of op(A) and C.
    public var m: Int
    /// Columns of op(B) and C.
    public var n: Int
    /// The shared dimension.
    public var k: Int
    /// Whether A is transposed, as the convolution calls it.
    public var transA: Bool
    /// Whether B is transposed.
    public var transB: Bool
    /// How many single-threaded sgemm calls ran at once, one per core (as the engine's workers do).
    public var concurrent: Int
    /// Seconds per call (per round of `concurrent` calls).
    public var time: TimingSummary
    /// `concurrent · 2·m·n·k / time.median / 1e9`.
    public var gflops: Double
}

/// Everything one run measured, with what it ran on.
public struct BenchReport: Codable, Sendable, Equatable {
    /// `swift` for this engine (`pytorch` in bench.py's output).
    public var implementation: String
    /// Worker threads of the engine.
    public var threads: Int
    /// OpenBLAS's kernel set (`SkylakeX`, `Prescott`, ...).
    public var blasCore: String
    /// Training throughput at the benchmark batch with Adam.
    public var training: TrainingFigures
    /// Inference at each batch size asked for.
    public var inference: [InferenceFigures]
    /// Each layer's forward and backward at the benchmark batch.
    public var layers: [LayerFigures]
    /// sgemm on a square shape and on the shapes conv2 hands to BLAS.
    public var gemm: [GemmFigures]
}
