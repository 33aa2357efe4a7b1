// Buffers one worker owns while a layer or sgemm is timed: allocated and filled once, so the timed
// region holds only the kernel. Classes so the workers' closures can share them without copies.
//
// Shape letters as in AdderBench.swift.
import AdderNet
import Dispatch
import NNCore

/// Allocates `count` floats uniform in [-1, 1) from `seed`.
func randomBuffer(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
    var generator = SplitMix64(seed: seed)
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    for i in 0..<count { buffer[i] = generator.nextUniform(-1, 1) }
    return buffer
}

/// One worker's convolution: input N·C·H·W, weight O·CKK, bias O, output and gradOutput N·O·P,
/// gradInput N·C·H·W, gradWeight O·CKK, gradBias O, workspace.
final class LayerBuffers: @unchecked Sendable {
    let geometry: Conv2dGeometry
    let batch: Int
    let algorithm: Conv2dAlgorithm
    let input, weight, bias, output, gradOutput, gradInput, gradWeight, gradBias, workspace: UnsafeMutablePointer<Float>

    /// The pool's output and indices when the convolution runs fused with a 2×2 max pool.
    let pooled: UnsafeMutablePointer<Float>?
    let poolIndices: UnsafeMutablePointer<Int32>?

    init(geometry g: Conv2dGeometry, batch: Int, algorithm: Conv2dAlgorithm, fusedPool: Bool, seed: UInt64) {
        geometry = g
        self.batch = batch
        self.algorithm = algorithm
        let pooledCount = batch * g.outChannels * (g.outputHeight / 2) * (g.outputWidth / 2)
        pooled = fusedPool ? randomBuffer(pooledCount, seed: seed + 10) : nil
        poolIndices = fusedPool ? .allocate(capacity: pooledCount) : nil
        input = randomBuffer(batch * g.inputImageSize, seed: seed)
        weight = randomBuffer(g.outChannels * g.columnRows, seed: seed + 1)
        bias = randomBuffer(g.outChannels, seed: seed + 2)
        output = randomBuffer(batch * g.outputImageSize, seed: seed + 3)
        gradOutput = randomBuffer(batch * g.outputImageSize, seed: seed + 4)
        gradInput = randomBuffer(batch * g.inputImageSize, seed: seed + 5)
        gradWeight = randomBuffer(g.outChannels * g.columnRows, seed: seed + 6)
        gradBias = randomBuffer(g.outChannels, seed: seed + 7)
        workspace = randomBuffer(conv2dWorkspaceSize(geometry: g, batch: batch), seed: seed + 8)
    }

    func forward() {
        if let pooled, let poolIndices {
            conv2dReLUMaxPool2x2Forward(
                input: input, batch: batch, geometry: geometry, weight: weight, bias: bias,
                pooled: pooled, indices: poolIndices, workspace: workspace)
            return
        }
        conv2dForward(
            input: input, batch: batch, geometry: geometry, weight: weight, bias: bias,
            output: output, workspace: workspace, fuseReLU: true, algorithm: algorithm)
    }

    /// With the fused pool: the fused backward, the pool's outputs standing in for their gradient
    /// (any values do), as the engine runs it.
    func backward(gradInput wantsGradInput: Bool) {
        if let pooled, let poolIndices {
            conv2dReLUMaxPool2x2Backward(
                input: input, batch: batch, geometry: geometry, weight: weight, gradPooled: pooled,
                pooled: pooled, indices: poolIndices, gradWeight: gradWeight, gradBias: gradBias,
                gradInput: wantsGradInput ? gradInput : nil, workspace: workspace)
            return
        }
        conv2dBackward(
            input: input, batch: batch, geometry: geometry, weight: weight, gradOutput: gradOutput,
            gradWeight: gradWeight, gradBias: gradBias, gradInput: wantsGradInput ? gradInput : nil,
            workspace: workspace, algorithm: algorithm)
    }

    deinit {
        for p in [input, weight, bias, output, gradOutput, gradInput, gradWeight, gradBias, workspace] { p.deallocate() }
        pooled?.deallocate()
        poolIndices?.deallocate()
    }
}

/// One worker's max-pool over `planes` square planes of side `size`.
final class PoolBuffers: @unchecked Sendable {
    let planes, size, kernel: Int
    let input, output, gradInput: UnsafeMutablePointer<Float>
    let indices: UnsafeMutablePointer<Int32>

    init(planes: Int, size: Int, kernel: Int, seed: UInt64) {
        (self.planes, self.size, self.kernel) = (planes, size, kernel)
        let out = size / kernel
        input = randomBuffer(planes * size * size, seed: seed)
        output = randomBuffer(planes * out * out, seed: seed + 1)
        gradInput = randomBuffer(planes * size * size, seed: seed + 2)
        indices = .allocate(capacity: planes * out * out)
        forward()
    }

    func forward() {
        maxPool2dForward(
            input: input, planes: planes, height: size, width: size, kernelSize: kernel, stride: kernel,
            output: output, indices: indices)
    }

    /// Uses the forward's output as the incoming gradient: any values do, only the indices matter.
    func backward() {
        let out = size / kernel
        maxPool2dBackward(
            gradOutput: output, indices: indices, planes: planes, height: size, width: size,
            outputHeight: out, outputWidth: out, gradInput: gradInput)
    }

    deinit {
        for p in [input, output, gradInput] { p.deallocate() }
        indices.deallocate()
    }
}

/// One sgemm call's operands: op(A) m×k, op(B) k×n, C m×n, stored row-major as `gemm` reads them.
final class GemmBuffers: @unchecked Sendable {
    let m, n, k: Int
    let transA, transB: Bool
    let a, b, c: UnsafeMutablePointer<Float>

    init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, seed: UInt64) {
        (self.m, self.n, self.k, self.transA, self.transB) = (m, n, k, transA, transB)
        a = randomBuffer(m * k, seed: seed)
        b = randomBuffer(k * n, seed: seed + 1)
        c = randomBuffer(m * n, seed: seed + 2)
    }

    func run() {
        gemm(
            transA: transA, transB: transB, m: m, n: n, k: k,
            a: a, lda: transA ? m : k, b: b, ldb: transB ? k : n, c: c, ldc: n)
    }

    deinit {
        for p in [a, b, c] { p.deallocate() }
    }
}

/// One convolution of the seed network run on a batch cut into pieces as the engine cuts it
/// (`AdderEngine.pieces`), the pieces shared round-robin by the workers, each worker with one BLAS
/// thread; every piece has its own random inputs and gradients.
public final class ConvLayerWorkload: @unchecked Sendable {
    /// The layer's module name and geometry.
    public let spec: ConvLayer
    /// Whether backward computes the input gradient (every layer but `input1`, as in training).
    public let computesGradInput: Bool
    /// How the convolution is computed.
    public let algorithm: Conv2dAlgorithm
    /// Whether the layer runs fused with ReLU and a 2×2 max pool, forward
    /// (`conv2dReLUMaxPool2x2Forward`) and backward (`conv2dReLUMaxPool2x2Backward`), as the engine
    /// runs conv2.
    public let fusedPool: Bool
    let pieces: [LayerBuffers]
    let workers: Int

    /// The workload of `AdderBench.convLayers[index]` on `batch` images over `workers` threads, computed
    /// with `algorithm` (nil: the one the engine uses for its pieces, `Conv2dAlgorithm.preferred(for:batch:)`).
    public init(index: Int, batch: Int, workers: Int, algorithm: Conv2dAlgorithm? = nil, fusedPool: Bool = false) {
        spec = AdderBench.convLayers[index]
        computesGradInput = index > 0
        let g = spec.geometry
        let sizes = AdderBench.pieceSizes(batch)
        let algorithm = algorithm ?? .preferred(for: g, batch: sizes.max() ?? batch)
        precondition(!fusedPool || algorithm == .winograd, "the fused pool runs with Winograd only")
        self.algorithm = algorithm
        self.fusedPool = fusedPool
        self.workers = workers
        pieces = sizes.enumerated().map {
            LayerBuffers(geometry: g, batch: $1, algorithm: algorithm, fusedPool: fusedPool, seed: UInt64(index * 16 + $0))
        }
    }

    private func run(_ body: @Sendable (LayerBuffers) -> Void) {
        AdderBench.roundRobin(pieces, workers: workers, body)
    }

    /// Forward (with ReLU) on every piece.
    public func forward() { run { $0.forward() } }

    /// Backward (gradWeight, gradBias and, unless `input1`, gradInput) on every piece.
    public func backward() {
        let gradInput = computesGradInput
        run { $0.backward(gradInput: gradInput) }
    }
}

/// `concurrent` single-threaded sgemm calls of one shape at once, each on its own random operands.
public final class GemmWorkload: @unchecked Sendable {
    let calls: [GemmBuffers]

    /// op(A) m×k times op(B) k×n, `concurrent` calls at once.
    public init(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false, concurrent: Int = 1) {
        calls = (0..<max(concurrent, 1)).map {
            GemmBuffers(m: m, n: n, k: k, transA: transA, transB: transB, seed: UInt64($0))
        }
    }

    /// Runs `repeats` calls on every worker.
    public func run(repeats: Int = 1) {
        DispatchQueue.concurrentPerform(iterations: calls.count) { w in
            for _ in 0..<repeats { calls[w].run() }
        }
    }
}

/// A convolution of the seed network as the benchmark times it: its module name, geometry and
/// whether the engine runs it fused with ReLU and the pool.
public struct ConvLayer: Sendable {
    /// The module name (the first layer of its plan step).
    public let name: String
    /// Its geometry on one image.
    public let geometry: Conv2dGeometry
    /// Whether the training plan runs it as convolution + ReLU + 2×2 pool.
    public let fusesPool: Bool
}

extension AdderBench {
    /// The seed network's convolutions in forward order, from its training plan at batch 128.
    public static let convLayers: [ConvLayer] = {
        guard let plan = try? ExecutionPlan(
            model: .seed, batch: 128, threads: 1, pieceSize: AdderEngine.defaultPieceSize, mode: .training)
        else { return [] }
        return plan.steps.compactMap { step in
            guard let g = step.geometry, case .conv2d(let c) = plan.model.layers[step.layers.lowerBound] else { return nil }
            if case .conv2dReLUMaxPool = step.operation { return ConvLayer(name: c.name, geometry: g, fusesPool: true) }
            return ConvLayer(name: c.name, geometry: g, fusesPool: false)
        }
    }()
}
