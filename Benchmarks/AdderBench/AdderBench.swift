// Speed of the engine on the seed network: training and inference throughput, each layer's forward
// and backward, and sgemm on the shapes the layers use, all in one process so the figures share
// one machine state. scripts/pytorch/bench.py measures the same workloads in PyTorch and
// scripts/bench/compare prints the two side by side.
//
// Shape letters: N batch, C input channels, O output channels, CKK = C·kh·kw, P = OH·OW.
//
// Inputs are random (uniform over the normalized pixel range, labels and addends uniform in
// 0...9): the engine does the same arithmetic whatever the pixels are, so MNIST itself is not needed.
// Process-wide peak memory can only grow, so training runs first and its peak is read before
// anything else allocates.
import AdderNet
import Dispatch
import MNISTData
import NNCore

/// What one benchmark run does.
public struct BenchOptions: Sendable, Equatable {
    /// Images per training batch and per layer measurement (the seed trains at 128).
    public var batch: Int
    /// Timed training batches.
    public var trainingBatches: Int
    /// Untimed training batches before them.
    public var warmupBatches: Int
    /// Inference batch sizes.
    public var inferenceBatches: [Int]
    /// Engine workers; 0 means one per core (the engine's default).
    public var threads: Int
    /// Timed samples of each layer and sgemm measurement.
    public var samples: Int

    /// The defaults take about half a minute on two idle cores.
    public init(
        batch: Int = 128, trainingBatches: Int = 30, warmupBatches: Int = 3,
        inferenceBatches: [Int] = [1, 128, 1000], threads: Int = 0, samples: Int = 7
    ) {
        self.batch = batch
        self.trainingBatches = trainingBatches
        self.warmupBatches = warmupBatches
        self.inferenceBatches = inferenceBatches
        self.threads = threads
        self.samples = samples
    }

    /// A run of a few seconds with the same structure, for checking that the benchmark works.
    public static let quick = BenchOptions(
        batch: 32, trainingBatches: 3, warmupBatches: 1, inferenceBatches: [1, 32], samples: 2)
}

/// The benchmark of the engine: one entry point and one function per kind of measurement.
public enum AdderBench {
    /// Runs every measurement in order (training, inference, layers, sgemm) and returns the figures.
    ///
    /// Call it in a process started with `OPENBLAS_CORETYPE` set as `scripts/blas-coretype` says,
    /// or OpenBLAS may run its slow generic kernels (the report's `blasCore` tells which ran).
    /// `progress` receives one line per finished measurement.
    public static func run(_ options: BenchOptions = BenchOptions(), progress: (String) -> Void = { _ in }) throws -> BenchReport {
        let engine = AdderEngine(threads: options.threads)
        let training = try measureTraining(engine: engine, options: options)
        progress("training: \(Int(training.imagesPerSecond)) images/s")
        var inference: [InferenceFigures] = []
        for batch in options.inferenceBatches {
            let figures = measureInference(engine: engine, batch: batch, samples: inferenceSamples(batch: batch, options))
            progress("inference batch \(batch): \(Int(figures.imagesPerSecond)) images/s")
            inference.append(figures)
        }
        let layers = measureLayers(batch: options.batch, workers: engine.threads, samples: options.samples)
        progress("layers: \(layers.count) measured")
        let gemm = measureGemm(workers: engine.threads, batch: options.batch, samples: options.samples)
        progress("sgemm: \(gemm.count) shapes measured")
        return BenchReport(
            implementation: "swift", threads: engine.threads, blasCore: BLASKernels.coreName,
            training: training, inference: inference, layers: layers, gemm: gemm)
    }

    /// More calls for small batches, whose single call is short and noisy.
    static func inferenceSamples(batch: Int, _ options: BenchOptions) -> Int {
        max(options.samples, min(200, 2000 / max(batch, 1)))
    }

    // MARK: - Training and inference

    /// Times `engine.step` plus `Adam.step` (lr 1e-3) over `options.trainingBatches` batches.
    /// Throws what `Adam.init` or `engine.step` throw (neither does for these inputs).
    public static func measureTraining(engine: AdderEngine, options: BenchOptions) throws -> TrainingFigures {
        let residentBefore = ResidentMemory.currentKiB
        let session = try TrainingSession(engine: engine, batch: options.batch)
        var times: [Double] = [], stepTimes: [Double] = [], optimizerTimes: [Double] = []
        for i in 0..<(options.warmupBatches + options.trainingBatches) {
            let (step, optimizer, _) = try session.step()
            if i >= options.warmupBatches {
                times.append(step + optimizer)
                stepTimes.append(step)
                optimizerTimes.append(optimizer)
            }
        }
        let summary = TimingSummary(samples: times)
        let total = times.reduce(0, +)
        return TrainingFigures(
            batch: options.batch, batches: options.trainingBatches, warmupBatches: options.warmupBatches,
            imagesPerSecond: Double(options.batch * times.count) / total,
            medianImagesPerSecond: Double(options.batch) / summary.median,
            perBatch: summary, forwardBackward: TimingSummary(samples: stepTimes),
            optimizer: TimingSummary(samples: optimizerTimes), peakResidentKiB: ResidentMemory.peakKiB, residentBeforeKiB: residentBefore)
    }

    /// Times `engine.forward` on one random batch of `batch` images, `samples` calls after 2 untimed.
    public static func measureInference(engine: AdderEngine, batch: Int, samples: Int) -> InferenceFigures {
        let network = AdderNetwork(seed: 0)
        var generator = SplitMix64(seed: 2)
        let input = RandomBatch(size: batch, generator: &generator)
        var checksum = 0
        let summary = timeSamples(warmup: 2, samples: samples) {
            checksum &+= engine.forward(network, images: input.images, addends: input.addends).digits.count
        }
        precondition(checksum > 0)
        return InferenceFigures(batch: batch, imagesPerSecond: Double(batch) / summary.median, perCall: summary)
    }

    // MARK: - Layers

    /// Times each convolution's and the pool's forward and backward on `batch` random images cut into
    /// the engine's pieces, shared by `workers` threads (each one BLAS thread, each piece its own
    /// buffers). Each 3×3 stride-1 layer is timed with both algorithms (the engine's named as the
    /// module, the other `name/algorithm`), and conv2 also fused with the pool (`conv2+pool`).
    public static func measureLayers(batch: Int, workers: Int, samples: Int) -> [LayerFigures] {
        var figures: [LayerFigures] = []
        let largestPiece = pieceSizes(batch).max() ?? batch
        for index in convLayers.indices {
            let spec = convLayers[index], g = spec.geometry
            let preferred = Conv2dAlgorithm.preferred(for: g, batch: largestPiece)
            let others = Conv2dAlgorithm.allCases.filter { $0 != preferred && $0.supports(g) }
            var runs = ([preferred] + others).map { ($0 == preferred ? spec.name : "\(spec.name)/\($0.rawValue)", $0, false) }
            let beforePool = spec.fusesPool
            if beforePool {
                runs.append(("\(spec.name)+pool", .winograd, true))
            }
            for (name, algorithm, fused) in runs {
                let workload = ConvLayerWorkload(
                    index: index, batch: batch, workers: workers, algorithm: algorithm, fusedPool: fused)
                let forward = timeSamples(warmup: 1, samples: samples) { workload.forward() }
                let backward = timeSamples(warmup: 1, samples: samples) { workload.backward() }
                let flops = 2 * Double(batch * g.outChannels * g.columnRows * g.outputPlane)
                let backwardFLOPs = workload.computesGradInput ? 2 * flops : flops
                figures.append(LayerFigures(
                    name: name, algorithm: algorithm.rawValue, forwardFLOPs: flops, backwardFLOPs: backwardFLOPs,
                    forward: forward, backward: backward,
                    forwardGFLOPs: flops / forward.median / 1e9, backwardGFLOPs: backwardFLOPs / backward.median / 1e9))
            }
            if beforePool {
                figures.append(measurePool(
                    pieces: pieceSizes(batch), workers: workers, planes: g.outChannels, size: g.outputHeight, samples: samples))
            }
        }
        return figures
    }

    static func measurePool(pieces: [Int], workers: Int, planes: Int, size: Int, samples: Int) -> LayerFigures {
        let k = 2
        let buffers = pieces.enumerated().map { PoolBuffers(planes: $1 * planes, size: size, kernel: k, seed: UInt64(99 + $0)) }
        let forward = timeSamples(warmup: 1, samples: samples) { roundRobin(buffers, workers: workers) { $0.forward() } }
        let backward = timeSamples(warmup: 1, samples: samples) { roundRobin(buffers, workers: workers) { $0.backward() } }
        return LayerFigures(
            name: "pool", algorithm: nil, forwardFLOPs: 0, backwardFLOPs: 0, forward: forward, backward: backward,
            forwardGFLOPs: 0, backwardGFLOPs: 0)
    }

    /// Runs `body` on every element of `pieces`, shared round-robin by at most `workers` threads.
    static func roundRobin<Piece: Sendable>(_ pieces: [Piece], workers: Int, _ body: @Sendable (Piece) -> Void) {
        let threads = max(1, min(workers, pieces.count))
        DispatchQueue.concurrentPerform(iterations: threads) { w in
            for p in stride(from: w, to: pieces.count, by: threads) { body(pieces[p]) }
        }
    }

    /// The engine's pieces of a batch (`AdderEngine.pieces` at the default piece size), as sizes.
    public static func pieceSizes(_ batch: Int) -> [Int] {
        AdderEngine.pieces(batch: batch, pieceSize: AdderEngine.defaultPieceSize).map(\.count)
    }

    // MARK: - sgemm

    /// sgemm on 512×512×512 (one core, then one call per worker at once) and on the three GEMMs
    /// conv2 makes per column chunk (forward, gradWeight, gradInput) for the engine's pieces of `batch`.
    public static func measureGemm(workers: Int, batch: Int, samples: Int) -> [GemmFigures] {
        let pooled = convLayers.first(where: \.fusesPool) ?? convLayers[0]
        let conv2 = pooled.geometry
        let slice = pieceSizes(batch).max() ?? batch
        let ld = conv2dChunkSize(geometry: conv2, batch: slice) * conv2.outputPlane
        let (o, ckk) = (conv2.outChannels, conv2.columnRows)
        let shapes: [(String, Int, Int, Int, Bool, Bool, Int)] = [
            ("512x512x512", 512, 512, 512, false, false, 1),
            ("512x512x512", 512, 512, 512, false, false, workers),
            ("\(pooled.name).forward", o, ld, ckk, false, false, workers),
            ("\(pooled.name).gradWeight", o, ckk, ld, false, true, workers),
            ("\(pooled.name).gradInput", ckk, ld, o, true, false, workers),
        ] + winogradShapes(conv2, slice: slice, workers: workers)
        return shapes.map { name, m, n, k, transA, transB, concurrent in
            let workload = GemmWorkload(m: m, n: n, k: k, transA: transA, transB: transB, concurrent: concurrent)
            // Repeat small GEMMs inside one sample so a sample lasts milliseconds, not microseconds.
            let flops = 2 * Double(m * n * k)
            let repeats = max(1, Int(2e8 / flops))
            let time = timeSamples(warmup: 1, samples: samples) { workload.run(repeats: repeats) }
            let summary = TimingSummary(
                median: time.median / Double(repeats), min: time.min / Double(repeats), samples: time.samples)
            return GemmFigures(
                name: name, m: m, n: n, k: k, transA: transA, transB: transB, concurrent: concurrent,
                time: summary, gflops: Double(concurrent) * flops / summary.median / 1e9)
        }
    }

    /// The three GEMM shapes Winograd makes for `g` per chunk (each run 16 times, once per ξ):
    /// forward O×(T·chunk)×C, gradWeight O×C×(T·chunk) (`nn`, on V transposed, as the engine runs
    /// it since 2026-12-03; `transB` before), gradInput C×(T·chunk)×O Aᵀ.
    static func winogradShapes(_ g: Conv2dGeometry, slice: Int, workers: Int) -> [(String, Int, Int, Int, Bool, Bool, Int)] {
        let (o, c) = (g.outChannels, g.inChannels)
        let tiles = ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2)
        let ld = tiles * winogradChunkSize(geometry: g, batch: slice)
        return [
            ("conv2.winograd.forward", o, ld, c, false, false, workers),
            ("conv2.winograd.gradWeight", o, c, ld, false, false, workers),
            ("conv2.winograd.gradInput", c, ld, o, true, false, workers),
        ]
    }

    // MARK: - Helpers

    /// Runs `body` `warmup` times untimed, then `samples` times timed.
    static func timeSamples(warmup: Int, samples: Int, _ body: () -> Void) -> TimingSummary {
        for _ in 0..<warmup { body() }
        var times: [Double] = []
        for _ in 0..<max(samples, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return TimingSummary(samples: times)
    }
}

extension TimingSummary {
    init(median: Double, min: Double, samples: Int) {
        self.median = median
        self.min = min
        self.samples = samples
    }
}

/// The training workload kept between calls: the seed network (seed 0), Adam (lr 1e-3) and four
/// random batches (seed 1) taken in turn, so that `measureTraining` and the paired runs of
/// `scripts/bench/compare` (`adder-bench --paired`) time the same thing as
/// `scripts/pytorch/bench.py`'s `TrainingSession`. Not thread-safe. No PyTorch counterpart (a
/// benchmark harness).
public final class TrainingSession {
    /// Images per batch.
    public let batch: Int
    private let engine: AdderEngine
    private var network = AdderNetwork(seed: 0)
    private var adam: Adam
    private let inputs: [RandomBatch]
    private var taken = 0

    /// A session of `batch`-image steps on `engine`. Throws what `Adam.init` throws (it does not
    /// for the network's shapes).
    public init(engine: AdderEngine, batch: Int) throws {
        self.engine = engine
        self.batch = batch
        adam = try Adam(parameterShapes: ModelDescription.seed.parameterShapes, learningRate: 1e-3)
        var generator = SplitMix64(seed: 1)
        inputs = (0..<4).map { _ in RandomBatch(size: batch, generator: &generator) }
    }

    /// A session on a new engine with `threads` workers (0: one per core).
    public convenience init(threads: Int, batch: Int) throws {
        try self.init(engine: AdderEngine(threads: threads), batch: batch)
    }

    /// One training step on the next batch: `engine.step`, then `Adam.step`. Returns the seconds
    /// each took, and the step's loss (cross-entropy + MSE). Throws what `engine.step` throws
    /// (it does not for these inputs).
    @discardableResult
    public func step() throws -> (forwardBackward: Double, optimizer: Double, loss: Float) {
        let input = inputs[taken % inputs.count]
        taken += 1
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try engine.step(network, images: input.images, addends: input.addends, labels: input.labels)
        let stepped = DispatchTime.now().uptimeNanoseconds
        adam.step(parameters: &network.parameters, gradients: result.gradients)
        let end = DispatchTime.now().uptimeNanoseconds
        return (Double(stepped - start) / 1e9, Double(end - stepped) / 1e9, result.loss)
    }

    /// Runs `batches` steps and returns their total time in seconds (what the paired runs report).
    public func train(batches: Int) throws -> Double {
        var seconds = 0.0
        for _ in 0..<batches {
            let (step, optimizer, _) = try self.step()
            seconds += step + optimizer
        }
        return seconds
    }
}

/// A random batch with the seed's value ranges: normalized pixels, labels and addends in 0...9.
public struct RandomBatch: Sendable {
    /// (N, 1, 28, 28), uniform over the normalized pixel range [−0.4242, 2.8215].
    public var images: Tensor
    /// N digits, uniform in 0...9.
    public var labels: [Int]
    /// N addends, uniform in 0...9.
    public var addends: [Int]

    /// `size` images drawn from `seed`.
    public init(size: Int, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        self.init(size: size, generator: &generator)
    }

    init(size: Int, generator: inout SplitMix64) {
        let side = AdderNetwork.imageSize
        let low = (0 - MNISTNormalization.mean) / MNISTNormalization.std
        let high = (1 - MNISTNormalization.mean) / MNISTNormalization.std
        var g = generator
        images = Tensor(shape: [size, 1, side, side], scalars: (0..<(size * side * side)).map { _ in g.nextUniform(low, high) })
        labels = (0..<size).map { _ in Int.random(in: 0...9, using: &g) }
        addends = (0..<size).map { _ in Int.random(in: 0...9, using: &g) }
        generator = g
    }
}

/// A line of `adder-bench --paired`'s input: how many training batches to time next.
public enum PairedRequest {
    /// The most batches one line may ask for (under a minute of our training, two of PyTorch's).
    public static let most = 1000

    /// The batch count `line` asks for (a whole number from 1 to `most`, spaces around it
    /// allowed), or nil for anything else.
    public static func batches(_ line: String) -> Int? {
        var text = Substring(line)
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        guard let n = Int(text), (1...most).contains(n) else { return nil }
        return n
    }
}
