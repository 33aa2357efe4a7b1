// The roofline of a plan on this machine: per step and direction, the multiply-adds its algorithm
// really does, the time it takes inside a real training step (or forward pass), and the rate that
// gives against the machine's measured ceilings. `mnist-adder summary --plan --measure` prints it.
import Dispatch
import MNISTData
import NNCore

/// One plan step in one direction, timed inside the engine's own step.
public struct RooflineRow: Sendable, Equatable {
    /// The plan step's name (`conv2 + ReLU + pool`), or `loss` (softmax cross-entropy and its
    /// gradient) or `zero gradients` (clearing the pieces' gradient slots).
    public var step: String
    /// `forward` or `backward` (empty for the loss and the slots).
    public var direction: String
    /// The algorithm as the plan names it (`winograd F(2,3)`, `im2col+GEMM`, ...).
    public var algorithm: String
    /// Multiply-adds for the whole batch as the algorithm computes them (Winograd: its 16 products
    /// per tile and channel pair, not a direct convolution's count; transforms, bias, ReLU and
    /// pooling are not multiply-adds and count 0). Backward: the weight gradient's and the input
    /// gradient's products (no input gradient for the first layer).
    public var multiplyAdds: Int
    /// Seconds per batch: the step's time summed over the pieces and divided by the workers that
    /// ran them (its share of the wall-clock step when the workers are busy), median over the calls.
    public var seconds: Double

    /// Floating-point operations per second achieved, in GFLOP/s (2 per multiply-add); nil for a
    /// step without multiply-adds.
    public var gflops: Double? { multiplyAdds > 0 && seconds > 0 ? 2 * Double(multiplyAdds) / seconds / 1e9 : nil }
}

/// A plan's roofline on this machine: its rows and the ceilings they are measured against.
///
/// No PyTorch counterpart: `torch.profiler` gives each op's time (and FLOPs for some), but neither the
/// multiply-adds an algorithm really does nor the machine's ceilings.
public struct Roofline: Sendable {
    /// The plan that ran.
    public var plan: ExecutionPlan
    /// Per step and direction, in the order they run.
    public var rows: [RooflineRow]
    /// Median wall-clock seconds of one whole call (`step` without the optimizer, or `forward`).
    public var callSeconds: Double
    /// Calls timed (after the untimed warm-up calls).
    public var calls: Int
    /// The FMA units' peak on all the plan's workers at once, GFLOP/s (nil on a CPU the loop does not know).
    public var fmaPeak: Double?
    /// The FMA vector width of that peak, in floats (16: AVX-512, 8: AVX2).
    public var fmaWidth: Int
    /// OpenBLAS sgemm 512³, one call per worker at once, GFLOP/s.
    public var sgemmPeak: Double
    /// The BLAS kernel set that ran (`Haswell`, `SkylakeX`, `Accelerate`).
    public var blasKernels: String

    /// Runs `calls` training steps (or forward passes, in inference mode) of `network` on `batch`
    /// random images with `engine`, after `warmup` untimed ones, timing every stage on every piece;
    /// then measures the machine's ceilings on as many threads as the plan has workers. Takes a few
    /// seconds. The images are uniform in MNIST's normalized range [−0.42, 2.82], the labels and
    /// addends uniform in 0...9, all from `seed`. Throws `ModelDescriptionError` for a description
    /// that does not validate and `PlanError` for a batch out of range.
    public static func measure(
        engine: AdderEngine, network: AdderNetwork, batch: Int, mode: PlanMode,
        calls: Int = 20, warmup: Int = 3, seed: UInt64 = 1
    ) throws -> Roofline {
        let plan = try engine.plan(for: network.model, batch: batch, mode: mode)
        var generator = SplitMix64(seed: seed)
        let imageSize = network.model.inputShape.reduce(1, *)
        let images = Tensor(
            shape: [batch] + network.model.inputShape,
            scalars: (0..<(batch * imageSize)).map { _ in
                generator.nextUniform(MNISTNormalization.normalize(0), MNISTNormalization.normalize(255))
            })
        let labels = (0..<batch).map { _ in Int(generator.next() % 10) }
        let addends = (0..<batch).map { _ in Int(generator.next() % 10) }
        let stages: [TrainingStage] = mode == .training ? plan.trainingStages : plan.steps.indices.map { .forward($0) }
        let clock = StageClock(pieces: max(plan.pieces.count, plan.channelParts), stages: stages.count)
        let workers = Double(plan.workers)
        var perStage = [[Double]](repeating: [], count: stages.count)
        var wall: [Double] = []
        for call in 0..<(warmup + calls) {
            clock.reset()
            let start = DispatchTime.now().uptimeNanoseconds
            if mode == .training {
                _ = try engine.runStep(
                    network, images: images, addends: addends, labels: labels, weights: LossWeights(),
                    dropout: DropoutContext(seed: seed, step: call), clock: clock)
            } else {
                _ = engine.runForward(network, images: images, addends: addends, clock: clock)
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard call >= warmup else { continue }
            wall.append(elapsed)
            for s in stages.indices { perStage[s].append(clock.seconds(stage: s) / workers) }
        }
        let seconds = perStage.map(median)
        let rows = Self.rows(plan: plan, stages: stages, seconds: seconds)
        let threads = Int(workers)
        return Roofline(
            plan: plan, rows: rows, callSeconds: median(wall), calls: calls,
            fmaPeak: MachinePeak.fmaGFLOPS(threads: threads), fmaWidth: MachinePeak.fmaWidth,
            sgemmPeak: MachinePeak.sgemmGFLOPS(threads: threads), blasKernels: BLASKernels.coreName)
    }

    /// The rows for `stages` timed at `seconds` each: a BatchNorm2d step's sums join its own row.
    static func rows(plan: ExecutionPlan, stages: [TrainingStage], seconds: [Double]) -> [RooflineRow] {
        var rows: [RooflineRow] = []
        var rowOf: [String: Int] = [:]
        func add(_ key: String, _ make: () -> RooflineRow, _ t: Double) {
            if let i = rowOf[key] {
                rows[i].seconds += t
            } else {
                var row = make()
                row.seconds = t
                rowOf[key] = rows.count
                rows.append(row)
            }
        }
        for (s, stage) in stages.enumerated() {
            switch stage {
            case .start:
                add("start", { RooflineRow(step: "zero gradients", direction: "", algorithm: "memset", multiplyAdds: 0, seconds: 0) }, seconds[s])
            case .loss:
                add("loss", { RooflineRow(step: "loss", direction: "", algorithm: "cross-entropy", multiplyAdds: 0, seconds: 0) }, seconds[s])
            case .forward(let k), .sums(let k, backward: false):
                add("f\(k)", { row(plan, k, backward: false) }, seconds[s])
            case .backward(let k), .sums(let k, backward: true):
                add("b\(k)", { row(plan, k, backward: true) }, seconds[s])
            case .meet:
                break
            }
        }
        return rows
    }

    /// Step `k`'s row without its time.
    static func row(_ plan: ExecutionPlan, _ k: Int, backward: Bool) -> RooflineRow {
        let step = plan.steps[k]
        var macs = step.forwardMACs * plan.batch
        if backward {
            switch step.operation {
            case .conv2d, .conv2dReLUMaxPool, .linear: macs *= step.gradInput == nil ? 1 : 2
            default: macs = 0
            }
        }
        return RooflineRow(
            step: step.name, direction: backward ? "backward" : "forward", algorithm: plan.algorithmName(step),
            multiplyAdds: macs, seconds: 0)
    }
}

/// The middle value of `values` (the mean of the two middle ones for an even count; 0 when empty).
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
