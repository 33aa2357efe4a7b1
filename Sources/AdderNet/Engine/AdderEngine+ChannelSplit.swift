// One image on several workers: each convolution's output channels are cut into contiguous parts
// (`ExecutionPlan.channelRange`) and the workers take the parts of one step at a time from a counter,
// then wait until every part of it is done before the next step; a step that is not a convolution
// (pool, flatten, linear, ...) is one part. A worker that starts late finds the parts taken or takes
// them itself (the pool may run fewer threads than asked), so no worker ever waits for one that has
// not started. This is the path of an inference call of batch 1 (`ExecutionPlan.channelParts`): the
// piece path would leave every worker but one idle.
import Atomics
import Dispatch
import Foundation
import NNCore

extension AdderEngine {
    /// Forward of the plan's single image with its output channels split across `plan.channelParts`
    /// workers; writes the logits to `out`. Each part's values are those a whole-layer call computes for
    /// those channels, up to the rounding of a GEMM whose row count changed (the test
    /// `channelSplitMatchesOneWorker` bounds the difference).
    /// `afterStep(k, memory)` runs on the calling thread once step k is done on every part (the feature
    /// copies of `forwardWithFeatures`).
    func runChannelSplitForward(
        _ runtime: PlanRuntime, images: UnsafePointer<Float>, shared: StepShared,
        out: UnsafeMutablePointer<Float>, clock: StageClock?,
        afterStep: (@Sendable (Int, PieceMemory) -> Void)? = nil
    ) {
        let plan = runtime.plan
        let sizes = plan.buffers.map(\.byteCount)
        let workers = splitWorkers(plan.channelParts)
        // On a busy machine a part taken by a thread the OS then deschedules holds up the call for a time
        // slice: the chooser runs the calls alone while that costs less (the roofline always splits).
        // The activations live in arena 0; each worker's workspace in its own arena.
        let memory = PieceMemory(arena: runtime.arenas[0], offsets: plan.layout.offsets, sizes: sizes, images: images)
        defer { out.update(from: memory.floats(plan.steps[plan.steps.count - 1].output), count: AdderNetwork.classes) }
        let started = DispatchTime.now().uptimeNanoseconds
        if clock == nil && workers.chooser.nextRunsAlone() {
            for k in plan.steps.indices {
                Self.forward(step: k, piece: 0, range: 0..<1, memory: memory, shared: shared)  // the parts in turn
                afterStep?(k, memory)
            }
            workers.chooser.record(alone: true, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
            return
        }
        defer {
            if clock == nil { workers.chooser.record(alone: false, nanoseconds: DispatchTime.now().uptimeNanoseconds - started) }
        }
        let board = PartBoard(steps: plan.steps.count, yieldAfter: workers.yieldAfter)
        let partCounts = plan.steps.map { step -> Int in
            switch step.operation {
            case let .conv2d(g, _, _), let .conv2dReLUMaxPool(g, _): plan.channelPartCount(outChannels: g.outChannels)
            default: 1
            }
        }
        let context = Unchecked((runtime.arenas, memory, shared))
        workers.run { worker in
            let (arenas, memory, shared) = context.value
            let plan = shared.runtime.plan
            let own = PieceMemory(arena: arenas[worker], offsets: plan.layout.offsets, sizes: sizes, images: memory.images)
            for k in plan.steps.indices {
                let start = clock?.now()
                while let part = board.take(step: k, parts: partCounts[k]) {
                    if !Self.forwardPart(step: k, part: part, memory: memory, workspace: own, shared: shared) {
                        Self.forward(step: k, piece: 0, range: 0..<1, memory: memory, shared: shared)
                    }
                    board.finish(step: k)
                }
                board.waitUntilDone(step: k, parts: partCounts[k])
                if worker == 0 { afterStep?(k, memory) }
                if let start { clock?.record(piece: worker, stage: k, since: start) }
            }
        }
    }

    /// Output channels `channelRange(part:)` of convolution step `k` on the plan's one image, with the
    /// workspace of `workspace`'s arena; false for a step that is not a convolution (worker 0 runs it whole).
    static func forwardPart(step k: Int, part: Int, memory: PieceMemory, workspace: PieceMemory, shared: StepShared) -> Bool {
        let runtime = shared.runtime, plan = runtime.plan
        let step = plan.steps[k]
        let x = UnsafePointer(memory.floats(step.input))
        let params = shared.parameters
        switch step.operation {
        case let .conv2d(g, relu, hasBias):
            let range = plan.channelRange(part: part, outChannels: g.outChannels)
            guard !range.isEmpty else { return true }
            let w = step.parameterIndex!, o0 = range.lowerBound
            let algorithm = step.algorithms[1]!
            let bias = hasBias ? params[w + 1] : UnsafePointer(runtime.zeros)
            conv2dForward(
                input: x, batch: 1, geometry: g.withOutChannels(range.count), weight: params[w] + o0 * g.columnRows,
                bias: bias + o0, output: memory.floats(step.output) + o0 * g.outputPlane,
                workspace: workspace.floats(step.workspace!), fuseReLU: relu, algorithm: algorithm,
                transformedWeight: algorithm == .winograd
                    ? UnsafePointer(runtime.partTransformedWeight(step: k, range: range, geometry: g)) : nil)
            return true
        case let .conv2dReLUMaxPool(g, hasBias):
            let range = plan.channelRange(part: part, outChannels: g.outChannels)
            guard !range.isEmpty else { return true }
            let w = step.parameterIndex!, o0 = range.lowerBound
            let pooledPlane = g.outputPlane / 4
            let bias = hasBias ? params[w + 1] : UnsafePointer(runtime.zeros)
            conv2dReLUMaxPool2x2Forward(
                input: x, batch: 1, geometry: g.withOutChannels(range.count), weight: params[w] + o0 * g.columnRows,
                bias: bias + o0, pooled: memory.floats(step.output) + o0 * pooledPlane,
                indices: memory.int32s(step.saved!) + o0 * pooledPlane, workspace: workspace.floats(step.workspace!),
                transformedWeight: UnsafePointer(runtime.partTransformedWeight(step: k, range: range, geometry: g)))
            return true
        default:
            return false
        }
    }
}

extension Conv2dGeometry {
    /// The same convolution with `outChannels` output channels: a part of its kernels.
    func withOutChannels(_ outChannels: Int) -> Conv2dGeometry {
        Conv2dGeometry(
            inChannels: inChannels, outChannels: outChannels, kernelHeight: kernelHeight, kernelWidth: kernelWidth,
            stride: stride, padding: padding, inputHeight: inputHeight, inputWidth: inputWidth)
    }
}

/// Per step of one call, how many of its parts have been taken and how many are done. Workers take parts
/// with `take` until it returns nil, then `waitUntilDone`: the parts still running were taken by workers
/// that are running them, so the wait ends. It spins (a step of one image takes microseconds, less than
/// waking a sleeping thread), yielding the core after a while so that a descheduled worker gets to run.
final class PartBoard: Sendable {
    private let taken: [ManagedAtomic<Int>]
    private let done: [ManagedAtomic<Int>]
    private let yieldAfter: Int

    /// A board for `steps` steps whose waits yield the core after `yieldAfter` spins (`SpinningWorkers.yieldAfter`).
    init(steps: Int, yieldAfter: Int) {
        self.yieldAfter = yieldAfter
        taken = (0..<steps).map { _ in ManagedAtomic(0) }
        done = (0..<steps).map { _ in ManagedAtomic(0) }
    }

    /// The next part of step `k` to run, or nil when all `parts` are taken.
    func take(step k: Int, parts: Int) -> Int? {
        let part = taken[k].loadThenWrappingIncrement(ordering: .relaxed)
        return part < parts ? part : nil
    }

    /// Marks one part of step `k` done (its writes visible to whoever sees the count).
    func finish(step k: Int) { done[k].wrappingIncrement(ordering: .releasing) }

    /// Returns once all `parts` of step `k` are done.
    func waitUntilDone(step k: Int, parts: Int) {
        var spins = 0
        while done[k].load(ordering: .acquiring) < parts {
            spins += 1
            if spins > yieldAfter { sched_yield() }
        }
    }
}
