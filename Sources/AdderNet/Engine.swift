// Forward and backward passes of the whole network over a batch, split across worker threads.
//
// The batch is cut into pieces of at most `pieceSize` images. Each worker thread takes the next
// piece, runs the CNN forward and backward on it with buffers it allocated once (calling BLAS with
// one thread), and takes another until none is left, so a core slowed by another process does less
// of the batch instead of holding up the step. Each piece writes its gradients into its own slot;
// the slots are then summed in piece order, so the result does not depend on which worker ran which
// piece nor on the number of workers. There is no batch-dependent layer. The adder (35 values) runs
// on the whole batch on the calling thread.
//
// The backward pass transforms each Winograd layer's input again (for the weight gradient) instead
// of keeping the transformed tiles V from the forward pass: redone, V is made one chunk at a time
// into the worker's workspace, which stays in L2, where kept it would be written out to buffers of
// its own (0.4–4 MiB per layer and piece of 16) and read back from L3. On the EPYC, keeping conv1's
// and conv2's V made training 18% slower, and keeping only conv3–conv5's made those three layers
// 6–11% slower than redoing it (BENCHMARKS.md). The values are the same either way.
//
// Shape letters: N batch, n the images of one piece, C channels, H×W image, P = OH·OW.
import Dispatch
import Foundation
import NNCore

/// What one forward pass produced for a batch.
public struct ForwardResult: Sendable {
    /// Class scores before softmax, (N, 10).
    public var logits: Tensor
    /// The predicted digit per image, `argmax(logits)` (first on ties).
    public var digits: [Int]
    /// The adder's predicted sum per image, (N).
    public var sums: Tensor
}

/// Losses and gradients of one training step.
public struct StepResult: Sendable {
    /// The forward pass's outputs.
    public var forward: ForwardResult
    /// Cross-entropy of the logits against the labels, mean over the batch, in nats.
    public var crossEntropy: Float
    /// Mean squared error of the sums against label + addend.
    public var mse: Float
    /// `weights.crossEntropy · crossEntropy + weights.mse · mse`, the loss that was differentiated.
    public var loss: Float
    /// Gradient of `loss` for every parameter, in `AdderNetwork.parameterNames` order.
    public var gradients: [Tensor]
}

/// The two loss weights: total loss = crossEntropy·CE + mse·MSE (both 1 in the seed).
public struct LossWeights: Sendable, Equatable, Codable {
    /// Weight of the classification loss.
    public var crossEntropy: Float
    /// Weight of the addition loss.
    public var mse: Float
    /// Creates weights; the seed uses 1 and 1.
    public init(crossEntropy: Float = 1, mse: Float = 1) {
        self.crossEntropy = crossEntropy
        self.mse = mse
    }
}

/// Buffers for the piece a worker is running, allocated once for the largest piece.
final class WorkerBuffers: @unchecked Sendable {
    let capacity: Int
    /// Post-ReLU outputs of each convolution (the last, conv6, holds the logits; conv2's is a
    /// placeholder when it runs fused with the pool), and the pool output.
    var activations: [UnsafeMutablePointer<Float>]
    var pooled: UnsafeMutablePointer<Float>
    var poolIndices: UnsafeMutablePointer<Int32>
    var gradA: UnsafeMutablePointer<Float>
    var gradB: UnsafeMutablePointer<Float>
    var workspace: UnsafeMutablePointer<Float>

    static let poolGeometry = (planes: 64, size: 22, out: 11)

    init(capacity: Int) {
        self.capacity = capacity
        // conv2's output is never written when it runs fused with the pool (the choice only ever
        // goes from im2col to Winograd as batches grow, so fused at 1 image means fused at any).
        let fused = AdderEngine.fusesPool(batch: 1)
        activations = AdderNetwork.convs.enumerated().map { i, conv in
            let unused = fused && i == AdderNetwork.convsBeforePool.count - 1
            return .allocate(capacity: unused ? 1 : capacity * conv.geometry.outputImageSize)
        }
        let poolSize = Self.poolGeometry.planes * Self.poolGeometry.out * Self.poolGeometry.out
        pooled = .allocate(capacity: capacity * poolSize)
        poolIndices = .allocate(capacity: capacity * poolSize)
        let largest = AdderNetwork.convs.map { max($0.geometry.inputImageSize, $0.geometry.outputImageSize) }.max()!
        gradA = .allocate(capacity: capacity * largest)
        gradB = .allocate(capacity: capacity * largest)
        let workspaceSize = AdderNetwork.convs.map { conv2dWorkspaceSize(geometry: $0.geometry, batch: capacity) }.max()!
        workspace = .allocate(capacity: workspaceSize)
    }

    deinit {
        activations.forEach { $0.deallocate() }
        for p in [pooled, gradA, gradB, workspace] { p.deallocate() }
        poolIndices.deallocate()
    }
}

/// Runs the network forward (and backward) on batches, cutting each batch into pieces that worker
/// threads share.
///
/// Create one engine per training run or server: it keeps its buffers between calls and grows them
/// when a larger batch arrives. Not safe to call from two threads at once (it is a class with mutable
/// buffers); the server serialises calls or keeps one engine per concurrent request.
public final class AdderEngine: @unchecked Sendable {
    /// Worker threads per batch (each with one BLAS thread).
    public let threads: Int
    /// Most images one worker runs through the CNN at a time (a piece of the batch).
    public let pieceSize: Int
    private var workers: [WorkerBuffers] = []
    /// One flat CNN gradient per piece, in parameter order.
    private var pieceGradients: UnsafeMutablePointer<Float>?
    private var pieceGradientCapacity = 0
    static let cnnGradientCount =
        AdderNetwork.parameterShapes[..<AdderNetwork.adderParameterStart].reduce(0) { $0 + $1.reduce(1, *) }

    /// An engine with `threads` workers (0: one per active processor core) that run pieces of at most
    /// `pieceSize` images (16: large enough for efficient GEMMs and for Winograd in every 3×3 layer,
    /// small enough that a piece's activations stay near a core's L2 cache and that a
    /// batch of 128 makes eight pieces to share among the cores).
    public init(threads: Int = 0, pieceSize: Int = AdderEngine.defaultPieceSize) {
        let cores = ProcessInfoCores.active
        self.threads = threads > 0 ? threads : cores
        self.pieceSize = max(1, pieceSize)
        BLASThreads.set(1)
    }

    /// Per convolution, its Winograd-transformed weight for the current call (nil where unused),
    /// computed once per call instead of once per piece and pass.
    private var transformedWeights: [UnsafeMutablePointer<Float>?] = AdderNetwork.convs.map {
        Conv2dAlgorithm.winograd.supports($0.geometry) ? .allocate(capacity: winogradTransformedWeightSize(geometry: $0.geometry)) : nil
    }

    deinit {
        pieceGradients?.deallocate()
        transformedWeights.forEach { $0?.deallocate() }
    }

    /// Transforms the weights of the convolutions that run as Winograd on the largest of `pieces`
    /// (a smaller piece that runs im2col instead ignores its transformed weight).
    private func transformWeights(_ params: [UnsafePointer<Float>], pieces: [Range<Int>]) -> [UnsafePointer<Float>?] {
        let pieceImages = pieces.map(\.count).max() ?? 1
        return AdderNetwork.convs.enumerated().map { i, conv in
            guard let u = transformedWeights[i],
                  Conv2dAlgorithm.preferred(for: conv.geometry, batch: pieceImages) == .winograd else { return nil }
            winogradTransformWeight(params[2 * i], geometry: conv.geometry, into: u)
            return UnsafePointer(u)
        }
    }

    /// The default most images per piece, 16 (see `init(threads:pieceSize:)`); among 8, 12, 16, 24
    /// and 32 it trained fastest on the Xeon this project was first measured on, and no slower than 8
    /// or 32 on the EPYC it runs on now (BENCHMARKS.md).
    public static let defaultPieceSize = 16

    /// How the engine cuts `batch` images: ⌈batch / pieceSize⌉ contiguous pieces whose sizes differ
    /// by at most one (so with pieces of 16: 128 → 8 × 16, 100 → 15 + 15 + 14 + 14 + 14 + 14 + 14,
    /// 1 → 1). No PyTorch counterpart:
    /// PyTorch splits the work inside each op; the pieces change only the order of additions.
    public static func pieces(batch: Int, pieceSize: Int) -> [Range<Int>] {
        let parts = max(1, (batch + pieceSize - 1) / max(1, pieceSize))
        let base = batch / parts, extra = batch % parts
        var pieces: [Range<Int>] = []
        var start = 0
        for i in 0..<parts {
            let size = base + (i < extra ? 1 : 0)
            pieces.append(start..<(start + size))
            start += size
        }
        return pieces
    }

    /// Cuts `batch` into pieces and makes sure there are buffers for them: one set per worker
    /// (the workers that have a piece to run), sized for the largest piece.
    private func prepare(batch: Int) -> [Range<Int>] {
        let pieces = Self.pieces(batch: batch, pieceSize: pieceSize)
        let largest = max(1, pieces.map(\.count).max() ?? 0)
        let needed = min(threads, pieces.count)
        if workers.count < needed || workers.contains(where: { $0.capacity < largest }) {
            workers = (0..<needed).map { _ in WorkerBuffers(capacity: largest) }
        }
        return pieces
    }

    /// Runs `body(piece index, worker buffers)` for every piece, each worker taking the next piece
    /// until none is left.
    private func runPieces(_ count: Int, _ body: @Sendable (Int, WorkerBuffers) -> Void) {
        let workers = Array(self.workers.prefix(min(threads, count)))
        let next = PieceQueue(count: count)
        DispatchQueue.concurrentPerform(iterations: workers.count) { w in
            while let piece = next.take() { body(piece, workers[w]) }
        }
    }

    /// Predicts digits and sums for a batch. `images` is (N, 1, 28, 28), normalized as in training;
    /// `addends` has N integers. Matches the seed's `model(x1, x2)` in eval mode.
    public func forward(_ network: AdderNetwork, images: Tensor, addends: [Int]) -> ForwardResult {
        let n = images.shape[0]
        precondition(images.shape == [n, 1, AdderNetwork.imageSize, AdderNetwork.imageSize] && addends.count == n)
        var logits = Tensor(shape: [n, AdderNetwork.classes])
        let ranges = prepare(batch: n)
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    let weightsU = transformWeights(params, pieces: ranges)
                    let shared = Unchecked((params, x.baseAddress!, out.baseAddress!, weightsU))
                    runPieces(ranges.count) { piece, buffers in
                        let (params, xp, op, weightsU) = shared.value
                        let r = ranges[piece]
                        guard !r.isEmpty else { return }
                        Self.cnnForward(
                            params, weightsU, input: xp + r.lowerBound * 784, count: r.count, buffers: buffers)
                        (op + r.lowerBound * 10).update(from: buffers.activations.last!, count: r.count * 10)
                    }
                }
            }
        }
        let digits = argmax(logits)
        let (sums, _) = Self.adderForward(network, digits: digits, addends: addends)
        return ForwardResult(logits: logits, digits: digits, sums: sums)
    }

    /// One training step's forward and backward: losses and the gradient of
    /// `weights.crossEntropy · CE(logits, labels) + weights.mse · MSE(sums, labels + addends)`.
    ///
    /// The CNN's gradients come from cross-entropy only and the adder's from MSE only, because the
    /// argmax between them has no gradient (as in the seed). Losses are means over the batch.
    /// Throws `ShapeError` when a label is outside 0...9 or the counts differ.
    public func step(
        _ network: AdderNetwork, images: Tensor, addends: [Int], labels: [Int],
        weights: LossWeights = LossWeights()
    ) throws -> StepResult {
        let n = images.shape[0]
        precondition(images.shape == [n, 1, AdderNetwork.imageSize, AdderNetwork.imageSize])
        guard addends.count == n, labels.count == n else {
            throw ShapeError.mismatch(operation: "step", expected: [n], found: [min(addends.count, labels.count)])
        }
        for (i, t) in labels.enumerated() where t < 0 || t >= AdderNetwork.classes {
            throw ShapeError.targetOutOfRange(operation: "crossEntropy", index: i, target: t, classes: AdderNetwork.classes)
        }
        let ranges = prepare(batch: n)
        let gradientCount = Self.cnnGradientCount
        if pieceGradientCapacity < ranges.count {
            pieceGradients?.deallocate()
            pieceGradients = .allocate(capacity: ranges.count * gradientCount)
            pieceGradientCapacity = ranges.count
        }
        let slots = pieceGradients!
        var logits = Tensor(shape: [n, AdderNetwork.classes])
        var ceSums = [Double](repeating: 0, count: ranges.count)
        let ceScale = weights.crossEntropy / Float(n)
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    ceSums.withUnsafeMutableBufferPointer { ce in
                        let weightsU = self.transformWeights(params, pieces: ranges)
                        let shared = Unchecked((params, x.baseAddress!, out.baseAddress!, ce.baseAddress!, slots, weightsU))
                        runPieces(ranges.count) { piece, buffers in
                            let (params, xp, op, cp, slots, weightsU) = shared.value
                            let r = ranges[piece]
                            let gradients = slots + piece * gradientCount
                            gradients.update(repeating: 0, count: gradientCount)
                            guard !r.isEmpty else { return }
                            let input = xp + r.lowerBound * 784
                            Self.cnnForward(params, weightsU, input: input, count: r.count, buffers: buffers)
                            let z = buffers.activations.last!
                            (op + r.lowerBound * 10).update(from: z, count: r.count * 10)
                            cp[piece] = Self.crossEntropyGradient(
                                logits: z, labels: labels, offset: r.lowerBound, count: r.count,
                                scale: ceScale, into: buffers.gradA)
                            Self.cnnBackward(
                                params, weightsU, input: input, count: r.count, buffers: buffers, gradients: gradients)
                        }
                    }
                }
            }
        }
        var gradients = AdderNetwork.parameterShapes.map { Tensor(shape: $0) }
        // Sum the pieces' CNN gradients, in piece order, into the parameter-shaped tensors.
        var offset = 0
        for i in 0..<AdderNetwork.adderParameterStart {
            let count = gradients[i].count
            gradients[i].scalars.withUnsafeMutableBufferPointer { g in
                for piece in ranges.indices {
                    let src = slots + piece * gradientCount + offset
                    for j in 0..<count { g[j] += src[j] }
                }
            }
            offset += count
        }
        let digits = argmax(logits)
        let (sums, cache) = Self.adderForward(network, digits: digits, addends: addends)
        let targets = Tensor(shape: [n], scalars: zip(labels, addends).map { Float($0 + $1) })
        let (mseLoss, gradSums) = try mse(predictions: sums, targets: targets)
        let adderGrads = Self.adderBackward(
            network, cache: cache, gradSums: gradSums.reshaped(to: [n, 1]), scale: weights.mse)
        for (k, g) in adderGrads.enumerated() { gradients[AdderNetwork.adderParameterStart + k] = g }
        let ce = Float(ceSums.reduce(0, +) / Double(n))
        return StepResult(
            forward: ForwardResult(logits: logits, digits: digits, sums: sums),
            crossEntropy: ce, mse: mseLoss, loss: weights.crossEntropy * ce + weights.mse * mseLoss,
            gradients: gradients)
    }

    // MARK: - CNN on one piece

    /// Whether the convolution before the pool (conv2) computes the pool itself for `n` images,
    /// forward and backward: it does when it runs as Winograd with ReLU on an even output, the pool
    /// being 2×2 with stride 2.
    static func fusesPool(batch n: Int) -> Bool {
        let conv = AdderNetwork.convs[AdderNetwork.convsBeforePool.count - 1]
        let g = conv.geometry
        return Conv2dAlgorithm.preferred(for: g, batch: n) == .winograd && conv.relu && AdderNetwork.poolKernel == 2
            && g.outputHeight % 2 == 0 && g.outputWidth % 2 == 0
    }

    /// Forward over one piece of `n` images, leaving in `buffers` what `cnnBackward` reads: each
    /// convolution's output (conv2's only when it runs apart from the pool; conv6's, the logits,
    /// last) and the pool's output and indices. `weightsU`: per convolution, its
    /// Winograd-transformed weight or nil.
    private static func cnnForward(
        _ params: [UnsafePointer<Float>], _ weightsU: [UnsafePointer<Float>?], input: UnsafePointer<Float>,
        count n: Int, buffers: WorkerBuffers
    ) {
        let fusesPool = Self.fusesPool(batch: n)
        var x = input
        let poolIndex = AdderNetwork.convsBeforePool.count
        for (i, spec) in AdderNetwork.convs.enumerated() {
            if i == poolIndex - 1 && fusesPool {
                // conv2 + ReLU + pool in one pass: its Winograd tiles are the pool's 2×2 windows.
                conv2dReLUMaxPool2x2Forward(
                    input: x, batch: n, geometry: spec.geometry, weight: params[2 * i], bias: params[2 * i + 1],
                    pooled: buffers.pooled, indices: buffers.poolIndices, workspace: buffers.workspace,
                    transformedWeight: weightsU[i])
                x = UnsafePointer(buffers.pooled)
                continue
            }
            if i == poolIndex && !fusesPool {
                let g = WorkerBuffers.poolGeometry
                maxPool2dForward(
                    input: x, planes: n * g.planes, height: g.size, width: g.size,
                    kernelSize: AdderNetwork.poolKernel, stride: AdderNetwork.poolKernel,
                    output: buffers.pooled, indices: buffers.poolIndices)
                x = UnsafePointer(buffers.pooled)
            }
            conv2dForward(
                input: x, batch: n, geometry: spec.geometry, weight: params[2 * i], bias: params[2 * i + 1],
                output: buffers.activations[i], workspace: buffers.workspace, fuseReLU: spec.relu,
                transformedWeight: weightsU[i])
            x = UnsafePointer(buffers.activations[i])
        }
    }

    /// Softmax cross-entropy for `count` rows of logits; writes `scale·(softmax − onehot)` into `grad`
    /// and returns the summed (not averaged) loss in Double.
    private static func crossEntropyGradient(
        logits z: UnsafePointer<Float>, labels: [Int], offset: Int, count: Int, scale: Float,
        into grad: UnsafeMutablePointer<Float>
    ) -> Double {
        let c = AdderNetwork.classes
        let rows = Tensor(shape: [count, c], scalars: Array(UnsafeBufferPointer(start: z, count: count * c)))
        // Reuse the one cross-entropy implementation; its gradient is (softmax − onehot)/count.
        guard let (loss, g) = try? crossEntropy(logits: rows, targets: Array(labels[offset..<(offset + count)])) else {
            return .nan
        }
        let rescale = scale * Float(count)
        for j in 0..<(count * c) { grad[j] = g.scalars[j] * rescale }
        return Double(loss) * Double(count)
    }

    /// Backward over one piece; adds the CNN's gradients into `gradients` (flat, parameter order).
    private static func cnnBackward(
        _ params: [UnsafePointer<Float>], _ weightsU: [UnsafePointer<Float>?], input: UnsafePointer<Float>,
        count n: Int, buffers: WorkerBuffers, gradients: UnsafeMutablePointer<Float>
    ) {
        var gradOut = buffers.gradA, spare = buffers.gradB
        var gradientOffsets: [Int] = []
        var offset = 0
        for i in 0..<AdderNetwork.adderParameterStart {
            gradientOffsets.append(offset)
            offset += AdderNetwork.parameterShapes[i].reduce(1, *)
        }
        let convs = AdderNetwork.convs
        let poolIndex = AdderNetwork.convsBeforePool.count
        // `gradOut` always holds the gradient of a convolution's pre-activation output: the ReLU mask
        // of each layer is applied when its gradient is made (fused into the layer above's backward).
        // With the fused pool, `gradOut` holds the pooled output's gradient after oneconv1 instead, and
        // conv2's backward routes it through the pool and ReLU itself.
        let fusesPool = Self.fusesPool(batch: n)
        for i in stride(from: convs.count - 1, through: 0, by: -1) {
            let spec = convs[i]
            let afterPool = i == poolIndex
            let layerInput: UnsafePointer<Float> =
                i == 0 ? input : afterPool ? UnsafePointer(buffers.pooled) : UnsafePointer(buffers.activations[i - 1])
            // The pool's output is the maximum of ReLU outputs, so masking the gradient by `pooled > 0`
            // before routing it back equals masking by ReLU(conv2) > 0 after.
            let inputIsReLUOutput = i > 0 && ((afterPool && !fusesPool) || (!afterPool && convs[i - 1].relu))
            let (gradWeight, gradBias) = (gradients + gradientOffsets[2 * i], gradients + gradientOffsets[2 * i + 1])
            if i == poolIndex - 1 && fusesPool {
                conv2dReLUMaxPool2x2Backward(
                    input: layerInput, batch: n, geometry: spec.geometry, weight: params[2 * i],
                    gradPooled: gradOut, pooled: buffers.pooled, indices: buffers.poolIndices,
                    gradWeight: gradWeight, gradBias: gradBias, gradInput: i == 0 ? nil : spare,
                    gradInputReLUOutput: inputIsReLUOutput ? layerInput : nil, workspace: buffers.workspace,
                    transformedWeight: weightsU[i])
            } else {
                conv2dBackward(
                    input: layerInput, batch: n, geometry: spec.geometry, weight: params[2 * i],
                    gradOutput: gradOut, gradWeight: gradWeight, gradBias: gradBias,
                    gradInput: i == 0 ? nil : spare, gradInputReLUOutput: inputIsReLUOutput ? layerInput : nil,
                    workspace: buffers.workspace, transformedWeight: weightsU[i])
            }
            swap(&gradOut, &spare)
            if afterPool && !fusesPool {
                let g = WorkerBuffers.poolGeometry
                maxPool2dBackward(
                    gradOutput: gradOut, indices: buffers.poolIndices, planes: n * g.planes,
                    height: g.size, width: g.size, outputHeight: g.out, outputWidth: g.out, gradInput: spare)
                swap(&gradOut, &spare)
            }
        }
    }

    // MARK: - Adder on the whole batch

    struct AdderCache {
        var inputs: [Tensor]  // the input of input2, layer1, out2
    }

    /// The adder on (argmax digit, integer) pairs: (N, 2) → input2 → layer1 → out2 → (N).
    static func adderForward(_ network: AdderNetwork, digits: [Int], addends: [Int]) -> (Tensor, AdderCache) {
        let n = digits.count
        var x = Tensor(shape: [n, 2], scalars: zip(digits, addends).flatMap { [Float($0), Float($1)] })
        var inputs: [Tensor] = []
        for k in 0..<AdderNetwork.linears.count {
            inputs.append(x)
            let p = AdderNetwork.adderParameterStart + 2 * k
            x = linearForward(input: x, weight: network.parameters[p], bias: network.parameters[p + 1])
        }
        return (x.reshaped(to: [n]), AdderCache(inputs: inputs))
    }

    static func adderBackward(_ network: AdderNetwork, cache: AdderCache, gradSums: Tensor, scale: Float) -> [Tensor] {
        var grads: [Tensor] = []
        var g = gradSums
        if scale != 1 { g.scalars = g.scalars.map { $0 * scale } }
        for k in stride(from: AdderNetwork.linears.count - 1, through: 0, by: -1) {
            let p = AdderNetwork.adderParameterStart + 2 * k
            let back = linearBackward(input: cache.inputs[k], weight: network.parameters[p], gradOutput: g)
            grads.insert(contentsOf: [back.gradWeight, back.gradBias], at: 0)
            g = back.gradInput
        }
        return grads
    }
}

extension AdderNetwork {
    /// Calls `body` with a read-only pointer to every parameter's storage, in parameter order.
    func withParameterPointers<R>(_ body: ([UnsafePointer<Float>]) -> R) -> R {
        func nest(_ index: Int, _ acc: [UnsafePointer<Float>]) -> R {
            if index == parameters.count { return body(acc) }
            return parameters[index].scalars.withUnsafeBufferPointer { nest(index + 1, acc + [$0.baseAddress!]) }
        }
        return nest(0, [])
    }
}

/// Hands out piece indices 0..<count, each once, to whichever worker asks first.
final class PieceQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    init(count: Int) { self.count = count }

    /// The next piece to run, or nil when all are taken.
    func take() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
}

/// Carries raw pointers into worker closures: each piece writes only its own rows and slots,
/// which the compiler cannot see.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The number of cores this process may use.
enum ProcessInfoCores {
    static var active: Int {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, n)
        #else
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
        #endif
    }
}
