// What the engine keeps for each plan it has run: the arenas and the per-call shared values
// (Winograd-transformed weights, BatchNorm2d's batch statistics, the pieces' gradient slots).
import Foundation
import NNCore

/// The memory behind one `ExecutionPlan`, allocated once and reused by every call with that plan.
final class PlanRuntime: @unchecked Sendable {
    let plan: ExecutionPlan
    /// One arena per worker, or per piece when the pieces meet (`plan.arenaCount`).
    let arenas: [UnsafeMutableRawPointer]
    /// Per step: its Winograd-transformed weight (16·O·C), when some piece runs it as Winograd.
    let transformedWeights: [UnsafeMutablePointer<Float>?]
    /// Inference plans, per Winograd step: a copy of the weight `transformedWeights` was made from (nil
    /// before the first call), so a call with the same weights skips the transform. Training plans: nil.
    private var transformedFrom: [[Float]?]
    /// Zeros, as long as the widest layer: the bias of a convolution that has none.
    let zeros: UnsafeMutablePointer<Float>
    /// Floats of one piece's gradient slot: every CNN parameter, in parameter order.
    let slotSize: Int
    /// Offset of each CNN parameter in a slot.
    let slotOffsets: [Int]
    /// The pieces' gradient slots, `plan.pieces.count · slotSize` floats (training plans).
    let slots: UnsafeMutablePointer<Float>?
    /// Per BatchNorm2d step: each piece's sums (2C Doubles each) and the batch's totals (2C).
    let pieceSums: [UnsafeMutablePointer<Double>?]
    /// Per BatchNorm2d step: the batch's mean, invstd, scale and shift (4C floats).
    let statistics: [UnsafeMutablePointer<Float>?]

    init(plan: ExecutionPlan) {
        self.plan = plan
        arenas = (0..<plan.arenaCount).map { _ in
            .allocate(byteCount: plan.layout.byteCount, alignment: ArenaLayout.alignment)
        }
        transformedWeights = plan.steps.map { step in
            guard let g = step.geometry, step.algorithms.values.contains(.winograd) else { return nil }
            return .allocate(capacity: winogradTransformedWeightSize(geometry: g))
        }
        transformedFrom = Array(repeating: nil, count: plan.steps.count)
        let widest = plan.steps.map { $0.outputShape.first ?? 1 }.max() ?? 1
        zeros = .allocate(capacity: widest)
        zeros.initialize(repeating: 0, count: widest)
        let cnnEntries = plan.model.parameterEntries.prefix(plan.model.adderParameterStart)
        var offsets: [Int] = [], offset = 0
        for entry in cnnEntries {
            offsets.append(offset)
            offset += entry.count
        }
        slotOffsets = offsets
        slotSize = offset
        slots = plan.mode == .training ? .allocate(capacity: max(1, plan.pieces.count * offset)) : nil
        let batchNorm = plan.steps.map { step -> Int? in
            if case .batchNorm2d(let b, _, _) = step.operation { b.numFeatures } else { nil }
        }
        pieceSums = batchNorm.map { c in c.map { .allocate(capacity: 2 * $0 * (plan.pieces.count + 1)) } }
        statistics = batchNorm.map { c in c.map { .allocate(capacity: 4 * $0) } }
    }

    /// Transforms step `k`'s Winograd weight `weight` (O·C·3·3 floats) into `transformedWeights[k]`, unless
    /// this inference plan's last call transformed the very same values (compared bit for bit): weights that
    /// do not change between calls, as when serving or evaluating, are transformed once. Training plans
    /// transform on every call (their weights change at every step). When the plan splits output channels
    /// (`channelParts`), each part's kernels are transformed as a weight of their own, at
    /// `partTransformedWeight`.
    func transformWeight(step k: Int, weight: UnsafePointer<Float>, geometry g: Conv2dGeometry) {
        guard transformedWeights[k] != nil else { return }
        let count = g.outChannels * g.columnRows
        if plan.mode == .inference {
            let same = transformedFrom[k]?.withUnsafeBytes { memcmp($0.baseAddress!, weight, count * 4) == 0 } ?? false
            if same { return }
            transformedFrom[k] = Array(UnsafeBufferPointer(start: weight, count: count))
        }
        for part in 0..<plan.channelParts {
            let range = plan.channelRange(part: part, outChannels: g.outChannels)
            guard !range.isEmpty, let u = partTransformedWeight(step: k, range: range, geometry: g) else { continue }
            winogradTransformWeight(weight + range.lowerBound * g.columnRows, geometry: g.withOutChannels(range.count), into: u)
        }
    }

    /// Where the transformed weight of output channels `range` of step `k` lies: 16·C floats per channel from
    /// the start of `transformedWeights[k]`, laid out [16][range.count][C] (the whole step's [16][O][C] when
    /// the range is all of it).
    func partTransformedWeight(step k: Int, range: Range<Int>, geometry g: Conv2dGeometry) -> UnsafeMutablePointer<Float>? {
        transformedWeights[k].map { $0 + 16 * g.inChannels * range.lowerBound }
    }

    deinit {
        arenas.forEach { $0.deallocate() }
        transformedWeights.forEach { $0?.deallocate() }
        zeros.deallocate()
        slots?.deallocate()
        pieceSums.forEach { $0?.deallocate() }
        statistics.forEach { $0?.deallocate() }
    }
}

/// One piece's view of its arena: buffer indices to pointers.
struct PieceMemory {
    let arena: UnsafeMutableRawPointer
    let offsets: [Int]
    let sizes: [Int]
    /// The piece's images, the network's input.
    let images: UnsafePointer<Float>

    /// Buffer `index` as floats (the images for `ExecutionPlan.networkInput`; they are only read).
    @inline(__always)
    func floats(_ index: Int) -> UnsafeMutablePointer<Float> {
        index == ExecutionPlan.networkInput
            ? UnsafeMutablePointer(mutating: images)
            : (arena + offsets[index]).bindMemory(to: Float.self, capacity: sizes[index] / 4)
    }

    /// Buffer `index` as Int32 (pool indices).
    @inline(__always)
    func int32s(_ index: Int) -> UnsafeMutablePointer<Int32> {
        (arena + offsets[index]).bindMemory(to: Int32.self, capacity: sizes[index] / 4)
    }
}
