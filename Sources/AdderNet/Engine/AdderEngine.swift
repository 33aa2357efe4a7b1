// Forward and backward passes of a whole network over a batch, split across worker threads, by
// running an `ExecutionPlan` compiled from the network's description.
//
// The batch is cut into pieces of at most `pieceSize` images. Each worker thread takes the next
// piece and runs the plan's steps on it in its own arena (calling BLAS with one thread), forward,
// loss and backward, then takes another until none is left, so a core slowed by another process
// does less of the batch instead of holding up the step. Each piece writes its gradients into its
// own slot; the slots are then summed in piece order, so the result depends neither on which
// worker ran which piece nor on the number of workers. A step that needs the whole batch
// (BatchNorm2d in training) is a meeting point: every piece runs up to it, the calling thread
// combines the pieces' sums, and all go on; each piece then keeps its own arena. The adder runs on
// the whole batch on the calling thread.
//
// The backward pass transforms each Winograd layer's input again (for the weight gradient) instead
// of keeping the transformed tiles from the forward pass: redone, they are made one chunk at a
// time in the workspace, which stays in L2; kept, they would go out to L3 and back (docs/benchmarks-history.md).
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
    /// Gradient of `loss` for every parameter, in `model.parameterNames` order.
    public var gradients: [Tensor]
    /// The network's buffers after the step: BatchNorm2d's running statistics updated with this
    /// batch's, as PyTorch's forward pass in training mode does (empty for networks without).
    public var buffers: [Tensor]
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

/// Where dropout's masks come from in a training step: they are a function of (seed, step, image).
public struct DropoutContext: Sendable, Equatable {
    /// The run's seed.
    public var seed: UInt64
    /// The optimizer step about to be taken (0 for the first), so a resumed run draws the same masks.
    public var step: Int
    /// Masks for `seed` at optimizer step `step`.
    public init(seed: UInt64 = 0, step: Int = 0) {
        self.seed = seed
        self.step = step
    }
}

/// Runs networks forward (and backward) on batches, cutting each batch into pieces that worker
/// threads share.
///
/// Create one engine per training run or server: it keeps a compiled plan and its memory per
/// (network, batch size, mode) between calls. Not safe to call from two threads at once (it is a
/// class with mutable buffers); the server keeps one engine per concurrent forward pass.
public final class AdderEngine: @unchecked Sendable {
    /// Worker threads per batch (each with one BLAS thread).
    public let threads: Int
    /// Most images one worker runs through the CNN at a time (a piece of the batch).
    public let pieceSize: Int
    private var runtimes: [PlanKey: PlanRuntime] = [:]
    /// The threads of the one-image split pass, started on its first call.
    private var keptWorkers: SpinningWorkers?

    /// The kept threads for a split pass of `count` workers (made on first use, or when the count changes).
    func splitWorkers(_ count: Int) -> SpinningWorkers {
        if let keptWorkers, keptWorkers.count == count { return keptWorkers }
        let workers = SpinningWorkers(count: count)
        keptWorkers = workers
        return workers
    }

    /// Per convolution (by module name), an algorithm to run instead of the table's: what
    /// `--plan measure` chose, recorded with a run. Setting it drops the compiled plans.
    public var algorithms: [String: Conv2dAlgorithm] = [:] {
        didSet { runtimes = [:] }
    }

    private struct PlanKey: Hashable {
        let model: String
        let batch: Int
        let mode: PlanMode
    }

    /// An engine with `threads` workers (0: one per active core) and pieces of at most `pieceSize`
    /// images. Sets BLAS to one thread: the workers are the parallelism.
    public init(threads: Int = 0, pieceSize: Int = AdderEngine.defaultPieceSize) {
        self.threads = threads > 0 ? threads : ProcessInfoCores.active
        self.pieceSize = max(1, pieceSize)
        BLASThreads.set(1)
    }

    /// The default most images per piece, 16; among 8, 12, 16, 24 and 32 it trained fastest on the
    /// Xeon this project was first measured on, and no slower than 8 or 32 on the EPYC (docs/benchmarks-history.md).
    public static let defaultPieceSize = 16

    /// How the engine cuts `batch` images: ⌈batch / pieceSize⌉ contiguous pieces whose sizes differ
    /// by at most one (so with pieces of 16: 128 → 8 × 16, 100 → 15 + 15 + 14 + 14 + 14 + 14 + 14,
    /// 1 → 1). No PyTorch counterpart: PyTorch splits the work inside each op; the pieces change
    /// only the order of additions.
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

    /// The plan this engine runs for `model` on batches of `batch` images in `mode`, compiled on
    /// first use. Throws `ModelDescriptionError` for a description that does not validate.
    public func plan(for model: ModelDescription, batch: Int, mode: PlanMode) throws -> ExecutionPlan {
        try runtime(model, batch: batch, mode: mode).plan
    }

    func runtime(_ model: ModelDescription, batch: Int, mode: PlanMode) throws -> PlanRuntime {
        let key = PlanKey(model: model.name, batch: batch, mode: mode)
        if let runtime = runtimes[key], runtime.plan.model == model { return runtime }
        let plan = try ExecutionPlan(
            model: model, batch: batch, threads: threads, pieceSize: pieceSize, mode: mode, algorithms: algorithms)
        let available = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard plan.memoryBytes <= available / 2 else {
            throw PlanError.tooLarge(batch: batch, bytes: plan.memoryBytes, available: available)
        }
        let runtime = PlanRuntime(plan: plan)
        runtimes[key] = runtime
        return runtime
    }

    /// Runs `body(piece, memory)` for every piece, each worker taking the next piece until none is
    /// left; a piece works in its worker's arena, or in its own when the plan's pieces meet.
    func runPieces(_ runtime: PlanRuntime, images: UnsafePointer<Float>, _ body: @Sendable (Int, PieceMemory) -> Void) {
        let plan = runtime.plan
        let perPiece = plan.meetsPerBatch
        let workers = min(threads, plan.pieces.count)
        let next = PieceQueue(count: plan.pieces.count)
        let imageSize = plan.model.inputShape.reduce(1, *)
        let sizes = plan.buffers.map(\.byteCount)
        let shared = Unchecked((runtime.arenas, images))
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let (arenas, images) = shared.value
            while let piece = next.take() {
                let memory = PieceMemory(
                    arena: arenas[perPiece ? piece : w], offsets: plan.layout.offsets, sizes: sizes,
                    images: images + plan.pieces[piece].lowerBound * imageSize)
                body(piece, memory)
            }
        }
    }

    /// Predicts digits and sums for a batch in evaluation mode (dropout off, BatchNorm2d with its
    /// running statistics). `images` is (N, 1, 28, 28), normalized as in training; `addends` has N
    /// integers. Matches the seed's `model.eval(); model(x1, x2)`.
    public func forward(_ network: AdderNetwork, images: Tensor, addends: [Int]) -> ForwardResult {
        runForward(network, images: images, addends: addends, clock: nil)
    }

    /// `forward`, and when `clock` is given, each step's time on each piece recorded in it (stage k: step k).
    func runForward(_ network: AdderNetwork, images: Tensor, addends: [Int], clock: StageClock?) -> ForwardResult {
        let n = images.shape[0]
        precondition(images.shape == [n] + network.model.inputShape && addends.count == n, "forward: images \(images.shape), \(addends.count) addends")
        let classes = AdderNetwork.classes
        guard n > 0 else {
            return ForwardResult(logits: Tensor(shape: [0, classes]), digits: [], sums: Tensor(shape: [0]))
        }
        // The built-in descriptions validate; a custom one that does not is a programming error here.
        guard let runtime = try? runtime(network.model, batch: n, mode: .inference) else {
            preconditionFailure("forward: the model description \(network.model.name) does not validate")
        }
        var logits = Tensor(shape: [n, classes])
        network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                logits.scalars.withUnsafeMutableBufferPointer { out in
                    Self.prepare(runtime, params: params, buffers: network.buffers)
                    let shared = StepShared(runtime: runtime, network: network, parameters: params, dropout: nil)
                    if runtime.plan.channelParts > 1 {
                        runChannelSplitForward(runtime, images: x.baseAddress!, shared: shared, out: out.baseAddress!, clock: clock)
                        return
                    }
                    let context = Unchecked((shared, out.baseAddress!))
                    runPieces(runtime, images: x.baseAddress!) { piece, memory in
                        let (shared, out) = context.value
                        let range = shared.runtime.plan.pieces[piece]
                        for k in shared.runtime.plan.steps.indices {
                            let start = clock?.now()
                            Self.forward(step: k, piece: piece, range: range, memory: memory, shared: shared)
                            if let start { clock?.record(piece: piece, stage: k, since: start) }
                        }
                        let last = shared.runtime.plan.steps[shared.runtime.plan.steps.count - 1]
                        (out + range.lowerBound * classes).update(from: memory.floats(last.output), count: range.count * classes)
                    }
                }
            }
        }
        let digits = argmax(logits)
        let sums = Self.adderForward(network, digits: digits, addends: addends).sums
        return ForwardResult(logits: logits, digits: digits, sums: sums)
    }
}

/// What every piece of one call shares: the plan's memory, the parameters and dropout's source.
struct StepShared: @unchecked Sendable {
    let runtime: PlanRuntime
    let network: AdderNetwork
    let parameters: [UnsafePointer<Float>]
    let dropout: DropoutContext?
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
    /// The cores online that this process may run on (its affinity mask: `taskset`, a cgroup's cpuset).
    static var active: Int {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, min(n, MachinePeak.allowedCPUs ?? n))
        #else
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
        #endif
    }
}
