// Where a forward pass first went non-finite. The normal paths check only the logits, the sums and
// the losses (no cost per step); when one of them is NaN or infinite, the batch runs again here, one
// step at a time on one thread, and the first step whose output holds a non-finite value is named.
import NNCore

/// A forward pass that produced NaN or infinity, with the layer where it first appeared.
public struct NonFiniteForwardError: Error, Equatable, CustomStringConvertible {
    /// Where the first non-finite value appeared: a plan step's name (`conv3 + ReLU`), `adder` (the
    /// sums), `cross-entropy` or `MSE` (the losses, when every output before them is finite).
    public var layer: String
    /// The plan step's index in `ExecutionPlan.steps`, nil for the adder and the losses.
    public var step: Int?
    /// The first image (in the batch given) whose output there is not finite, nil for a loss.
    public var image: Int?
    /// The first non-finite value as text: `nan`, `inf` or `-inf` (or a finite sum beyond ±2³⁰).
    public var value: String

    /// Creates the error; `value` is printed as Swift prints a Float (`nan`, `inf`, `-inf`).
    public init(layer: String, step: Int? = nil, image: Int? = nil, value: Float) {
        self.layer = layer
        self.step = step
        self.image = image
        self.value = "\(value)"
    }

    /// One line: the layer, the image and the value found, and that finite values were expected.
    public var description: String {
        let at = step.map { "layer '\(layer)' (plan step \($0 + 1))" } ?? "'\(layer)'"
        let of = image.map { " for image \($0) of the batch" } ?? ""
        let expected = ["nan", "inf", "-inf"].contains(value) ? "finite values" : "a sum within ±2^30"
        return "the network's output is not finite: \(at) gives \(value)\(of), expected \(expected) "
            + "(are the weights too large or damaged?)"
    }
}

extension AdderEngine {
    /// Throws `NonFiniteForwardError` when a forward pass's logits (N, 10) or sums (N) hold NaN or
    /// infinity, or a sum lies beyond ±2³⁰ (where rounding to an integer means nothing): the batch
    /// runs again step by step in evaluation mode (`firstNonFiniteStep`) to name the step where the
    /// first non-finite value appeared; when every step is finite, the adder is named.
    public func checkFinite(_ result: ForwardResult, network: AdderNetwork, images: Tensor, addends: [Int]) throws {
        let logitsFinite = result.logits.scalars.allSatisfy(\.isFinite)
        if logitsFinite, result.sums.scalars.allSatisfy({ $0.isFinite && abs($0) < Float(1 << 30) }) { return }
        if !logitsFinite, let found = try firstNonFiniteStep(network, images: images, mode: .inference) {
            throw found
        }
        let i = result.sums.scalars.firstIndex { !$0.isFinite || abs($0) >= Float(1 << 30) } ?? 0
        let sum = result.sums.scalars.isEmpty ? Float.nan : result.sums.scalars[i]
        throw NonFiniteForwardError(layer: "adder", image: i, value: sum)
    }

    /// Runs `images` (N, 1, 28, 28) through the network's plan in `mode` one step at a time on the
    /// calling thread, and returns where the first non-finite value appeared: the earliest step whose
    /// output holds NaN or infinity for some image (the first such image), or nil when every step's
    /// output is finite. In training mode dropout draws its masks from `dropout` and BatchNorm2d uses
    /// the batch's statistics, as in `step`; the network's running statistics are not changed.
    /// A diagnostic: slower than `forward` (no worker threads). Throws `ModelDescriptionError` for a
    /// description that does not validate.
    public func firstNonFiniteStep(
        _ network: AdderNetwork, images: Tensor, mode: PlanMode, dropout: DropoutContext = DropoutContext()
    ) throws -> NonFiniteForwardError? {
        let n = images.shape[0]
        precondition(images.shape == [n] + network.model.inputShape, "firstNonFiniteStep: images \(images.shape)")
        guard n > 0 else { return nil }
        let runtime = try runtime(network.model, batch: n, mode: mode)
        let plan = runtime.plan
        let imageSize = network.model.inputShape.reduce(1, *)
        let sizes = plan.buffers.map(\.byteCount)
        var buffers = network.buffers
        return network.withParameterPointers { params in
            images.scalars.withUnsafeBufferPointer { x in
                Self.prepare(runtime, params: params, buffers: buffers)
                let shared = StepShared(
                    runtime: runtime, network: network, parameters: params, dropout: mode == .training ? dropout : nil)
                // Each piece in its own arena when the pieces meet; otherwise one after another in arena 0.
                func memory(_ piece: Int) -> PieceMemory {
                    PieceMemory(
                        arena: runtime.arenas[plan.meetsPerBatch ? piece : 0], offsets: plan.layout.offsets, sizes: sizes,
                        images: x.baseAddress! + plan.pieces[piece].lowerBound * imageSize)
                }
                func check(_ k: Int, _ piece: Int) -> NonFiniteForwardError? {
                    let step = plan.steps[k], range = plan.pieces[piece]
                    let output = memory(piece).floats(step.output)
                    for j in 0..<(range.count * step.outputCount) where !output[j].isFinite {
                        return NonFiniteForwardError(
                            layer: step.name, step: k, image: range.lowerBound + j / step.outputCount, value: output[j])
                    }
                    return nil
                }
                var first: NonFiniteForwardError?
                if plan.meetsPerBatch {
                    // Step by step over all pieces, meeting at each BatchNorm2d as a training step does.
                    for k in plan.steps.indices {
                        if case .batchNorm2d = plan.steps[k].operation {
                            for piece in plan.pieces.indices {
                                Self.batchNormSums(
                                    step: k, piece: piece, range: plan.pieces[piece], memory: memory(piece), shared: shared,
                                    backward: false)
                            }
                            Self.meet(runtime, step: k, backward: false, params: params, buffers: &buffers)
                        }
                        for piece in plan.pieces.indices {
                            Self.forward(step: k, piece: piece, range: plan.pieces[piece], memory: memory(piece), shared: shared)
                        }
                        for piece in plan.pieces.indices {
                            if let found = check(k, piece) { return found }
                        }
                    }
                    return nil
                }
                for piece in plan.pieces.indices {
                    for k in plan.steps.indices where k < (first?.step ?? plan.steps.count) {
                        Self.forward(step: k, piece: piece, range: plan.pieces[piece], memory: memory(piece), shared: shared)
                        if let found = check(k, piece) {
                            first = found
                            break
                        }
                    }
                }
                return first
            }
        }
    }
}
