// A model description compiled for one batch size, thread count and mode: the steps the engine
// runs, each with its shapes, algorithm and fusions, and every buffer as an offset in one arena.
// The engine's forward pass is a loop over `steps`, its backward pass the same loop reversed.
//
// Time in a plan: forward step i runs at time i, the loss at S (the number of steps), the backward
// of step i at 2S − i. A buffer is alive from the first time it is written to the last time it is
// read; `ArenaLayout` gives buffers alive at the same time disjoint bytes.
import NNCore

/// How a plan runs its layers.
public enum PlanMode: String, Sendable, Codable {
    /// Forward and backward; dropout on, BatchNorm2d with the batch's statistics.
    case training
    /// Forward only; dropout off, BatchNorm2d with its running statistics. Matches `model.eval()`.
    case inference
}

/// The compiled form of a model for one batch size: what `AdderEngine` runs.
public struct ExecutionPlan: Sendable {
    /// The network.
    public let model: ModelDescription
    /// Images per batch.
    public let batch: Int
    /// Worker threads.
    public let threads: Int
    /// Training or inference.
    public let mode: PlanMode
    /// The CPU kind whose algorithm table was used.
    public let cpu: CPUKind
    /// The batch cut into pieces: consecutive image ranges, sizes differing by at most one.
    public let pieces: [Range<Int>]
    /// The steps in forward order.
    public let steps: [PlanStep]
    /// Every buffer of one piece: `steps` refer to them by index.
    public let buffers: [BufferRequest]
    /// Where each buffer lies in a piece's arena.
    public let layout: ArenaLayout

    /// The buffer index that stands for the images (they stay in the caller's tensor).
    public static let networkInput = 0

    /// Images in the largest piece: the arena is sized for it.
    public var capacity: Int { pieces.map(\.count).max() ?? 1 }
    /// Whether a step needs the whole batch at once (BatchNorm2d in training): the pieces then meet
    /// there, and each piece keeps its own arena for the whole step.
    public var meetsPerBatch: Bool {
        mode == .training && steps.contains { if case .batchNorm2d = $0.operation { true } else { false } }
    }
    /// Workers that share each convolution of a one-image inference call, each computing a contiguous
    /// part of its output channels (`channelRange`): the plan's threads for an inference plan of batch 1,
    /// else 1 (the workers then take whole pieces, and a batch of one image would leave all but one idle).
    /// Chosen by measurement: at batch 1 on the 2-core Zen 5 the split pass took 0.71–0.77× the time of
    /// one worker (BENCHMARKS.md). No PyTorch counterpart in name; PyTorch splits each op across its
    /// intra-op threads the same way.
    public var channelParts: Int { mode == .inference && batch == 1 ? threads : 1 }
    /// Threads that run a call: the channel parts, or the workers taking pieces.
    public var workers: Int { channelParts > 1 ? channelParts : min(threads, pieces.count) }
    /// Arenas the engine allocates: one per piece when the pieces meet, else one per worker.
    public var arenaCount: Int { meetsPerBatch ? pieces.count : workers }

    /// The output channels part `part` of `channelParts` computes of a convolution with `outChannels`:
    /// contiguous ranges, sizes differing by at most one, at least 8 channels each (so a narrow layer,
    /// conv6's 10, runs in one part and the other workers wait); empty for a part past the last.
    public func channelRange(part: Int, outChannels: Int) -> Range<Int> {
        let parts = channelPartCount(outChannels: outChannels)
        guard part < parts else { return outChannels..<outChannels }
        let base = outChannels / parts, extra = outChannels % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }

    /// How many of the `channelParts` a convolution with `outChannels` output channels is cut into: as many
    /// as leave at least 8 channels a part, at least 1 (the non-empty `channelRange`s).
    public func channelPartCount(outChannels: Int) -> Int { max(1, min(channelParts, outChannels / 8)) }

    /// Compiles `model` for batches of `batch` images cut into pieces of at most `pieceSize` (in
    /// inference, of at most ⌈batch / threads⌉, so that every thread has a piece).
    ///
    /// Throws `ModelDescriptionError` when the description does not validate. `cpu` picks the
    /// algorithm table's column (`ConvAlgorithmTable`); `algorithms` overrides it per convolution
    /// (by module name, as `--plan measure` chose; an algorithm that does not fit is ignored).
    public init(
        model: ModelDescription, batch: Int, threads: Int, pieceSize: Int, mode: PlanMode,
        cpu: CPUKind = .current, algorithms: [String: Conv2dAlgorithm] = [:]
    ) throws {
        try model.validate()
        guard (1...Self.maximumBatch).contains(batch) else { throw PlanError.batchOutOfRange(batch, maximum: Self.maximumBatch) }
        precondition(threads >= 1 && pieceSize >= 1, "plan needs a positive thread count and piece size")
        let shapes = try model.activationShapes()
        self.model = model
        self.batch = batch
        self.threads = threads
        self.mode = mode
        self.cpu = cpu
        // Inference cuts a small batch into at least as many pieces as there are threads (10 images on 2
        // threads: 5 + 5, not one piece of 10 on one thread); training keeps its pieces, which set the
        // order in which the gradients add up.
        let piece = mode == .inference ? min(pieceSize, max(1, (batch + threads - 1) / threads)) : pieceSize
        self.pieces = AdderEngine.pieces(batch: batch, pieceSize: piece)
        let pieceSizes = Set(pieces.map(\.count)).sorted()
        let capacity = pieceSizes.last ?? 1
        var builder = PlanBuilder(model: model, shapes: shapes, mode: mode, capacity: capacity, pieceSizes: pieceSizes, cpu: cpu)
        builder.overrides = algorithms
        builder.build()
        self.steps = builder.steps
        self.buffers = builder.buffers
        self.layout = ArenaLayout(builder.buffers)
    }

    /// The largest batch a plan is made for: 2²⁰ images (beyond it sizes no longer fit in memory).
    public static let maximumBatch = 1 << 20

    /// Bytes the engine allocates to run this plan: every arena, the pieces' gradient slots and
    /// the Winograd-transformed weights (an estimate within a few KiB).
    public var memoryBytes: Int {
        let slots = mode == .training ? pieces.count * model.parameterCount * MemoryLayout<Float>.stride : 0
        return arenaCount * layout.byteCount + slots
    }

    /// Byte offset of buffer `index` in a piece's arena.
    public func offset(of index: Int) -> Int { layout.offsets[index] }
}

/// Turns a description into steps and buffer requests (the work of `ExecutionPlan.init`).
struct PlanBuilder {
    let model: ModelDescription
    let shapes: [[Int]]
    let mode: PlanMode
    let capacity: Int
    let pieceSizes: [Int]
    let cpu: CPUKind
    /// Algorithms chosen by measurement, by convolution name, in place of the table's.
    var overrides: [String: Conv2dAlgorithm] = [:]
    var steps: [PlanStep] = []
    /// Buffer 0 is the network's input, outside the arena (no bytes).
    var buffers = [BufferRequest(name: "images", byteCount: 0, lifetime: 0...0)]

    init(model: ModelDescription, shapes: [[Int]], mode: PlanMode, capacity: Int, pieceSizes: [Int], cpu: CPUKind) {
        self.model = model
        self.shapes = shapes
        self.mode = mode
        self.capacity = capacity
        self.pieceSizes = pieceSizes
        self.cpu = cpu
    }

    mutating func build() {
        let layers = model.layers
        var parameterOf: [Int: Int] = [:], bufferOf: [Int: Int] = [:]
        for (k, e) in model.parameterEntries.enumerated() where e.layerIndex != nil && e.role == .weight {
            parameterOf[e.layerIndex!] = k
        }
        for (k, e) in model.bufferEntries.enumerated() where e.role == .runningMean { bufferOf[e.layerIndex!] = k }
        func isReLU(_ j: Int) -> Bool { j < layers.count && layers[j] == .relu }

        var i = 0
        while i < layers.count {
            let input = shapes[i]
            var step: PlanStep
            switch layers[i] {
            case .conv2d(let c):
                let g = Conv2dGeometry(
                    inChannels: c.inChannels, outChannels: c.outChannels, kernelHeight: c.kernelSize,
                    kernelWidth: c.kernelSize, stride: c.stride, padding: c.padding,
                    inputHeight: input[1], inputWidth: input[2])
                let choices = pieceSizes.map { size -> (algorithm: Conv2dAlgorithm, reason: String) in
                    if let chosen = overrides[c.name], chosen.supports(g) { return (chosen, "measured on this machine") }
                    return ConvAlgorithmTable.choose(for: g, pieceSize: size, cpu: cpu)
                }
                var algorithms: [Int: Conv2dAlgorithm] = [:]
                for (size, choice) in zip(pieceSizes, choices) { algorithms[size] = choice.algorithm }
                let relu = isReLU(i + 1)
                var last = relu ? i + 1 : i
                var operation = PlanStep.Operation.conv2d(g, relu: relu, bias: c.bias)
                var name = c.name + (relu ? " + ReLU" : "")
                var reason = Set(choices.map(\.reason)).sorted().joined(separator: "; ")
                if relu, i + 2 < layers.count, case .maxPool2d(let p) = layers[i + 2], p.kernelSize == 2, p.stride == 2,
                   choices.allSatisfy({ $0.algorithm == .winograd }), g.outputHeight % 2 == 0, g.outputWidth % 2 == 0 {
                    operation = .conv2dReLUMaxPool(g, bias: c.bias)
                    last = i + 2
                    name += " + \(p.name ?? "max_pool2d")"
                    reason += "; pool fused: tiles are its windows"
                }
                let tiles = ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2)
                let winogradMACs = 16 * g.outChannels * g.inChannels * tiles
                let direct = g.outChannels * g.columnRows * g.outputPlane
                step = makeStep(name, i...last, operation, input: input, output: shapes[last + 1])
                step.algorithms = algorithms
                step.reason = reason
                step.parameterIndex = parameterOf[i]
                step.directMACs = direct
                step.forwardMACs = algorithms[capacity] == .winograd ? winogradMACs : direct
                i = last + 1
            case .batchNorm2d(let b):
                let relu = isReLU(i + 1)
                let last = relu ? i + 1 : i
                step = makeStep(b.name + (relu ? " + ReLU" : ""), i...last,
                                .batchNorm2d(b, planeSize: input[1] * input[2], relu: relu), input: input, output: shapes[last + 1])
                step.reason = mode == .training ? "batch statistics: pieces meet twice" : "running statistics"
                step.parameterIndex = parameterOf[i]
                step.bufferIndex = bufferOf[i]
                i = last + 1
            case .relu:
                step = makeStep("ReLU", i...i, .relu, input: input, output: shapes[i + 1])
                i += 1
            case .maxPool2d(let p):
                step = makeStep(p.name ?? "max_pool2d", i...i, .maxPool2d(kernelSize: p.kernelSize, stride: p.stride),
                                input: input, output: shapes[i + 1])
                i += 1
            case .dropout(let d):
                step = makeStep(d.name, i...i, .dropout(p: d.p), input: input, output: shapes[i + 1])
                step.reason = mode == .training ? "mask from (seed, step, image)" : "identity in evaluation"
                i += 1
            case .flatten:
                step = makeStep("flatten", i...i, .flatten, input: input, output: shapes[i + 1])
                step.reason = "view"
                i += 1
            case .linear(let l):
                let relu = isReLU(i + 1)
                let last = relu ? i + 1 : i
                step = makeStep(l.name + (relu ? " + ReLU" : ""), i...last,
                                .linear(inFeatures: l.inFeatures, outFeatures: l.outFeatures, relu: relu, bias: l.bias),
                                input: input, output: shapes[last + 1])
                step.reason = "GEMM"
                step.parameterIndex = parameterOf[i]
                step.directMACs = l.inFeatures * l.outFeatures
                step.forwardMACs = step.directMACs
                i = last + 1
            }
            let producer = steps.last
            switch step.operation {
            case .conv2d(_, let relu, _), .batchNorm2d(_, _, let relu), .linear(_, _, let relu, _): step.outputIsReLU = relu
            case .conv2dReLUMaxPool: step.outputIsReLU = false
            case .relu: step.outputIsReLU = true
            case .maxPool2d, .dropout, .flatten: step.outputIsReLU = producer?.outputIsReLU ?? false
            }
            step.masksGradInput = producer?.outputIsReLU == true && !step.passesMaskThrough
            steps.append(step)
        }
        assignBuffers()
    }

    private func makeStep(_ name: String, _ layers: ClosedRange<Int>, _ operation: PlanStep.Operation,
                          input: [Int], output: [Int]) -> PlanStep {
        PlanStep(
            name: name, layers: layers, operation: operation, inputShape: input, outputShape: output,
            algorithms: [:], reason: "", parameterIndex: nil, bufferIndex: nil, masksGradInput: false,
            outputIsReLU: false, input: ExecutionPlan.networkInput, output: ExecutionPlan.networkInput,
            saved: nil, workspace: nil, backwardWorkspace: nil, gradOutput: nil, gradInput: nil,
            discardedGradBias: nil, forwardMACs: 0, directMACs: 0)
    }

    /// Whether a step's output is its input's buffer (flatten always; dropout in evaluation).
    private func aliasesInput(_ step: PlanStep) -> Bool {
        switch step.operation {
        case .flatten: true
        case .dropout: mode == .inference
        default: false
        }
    }

    /// Gives every step its buffers, each with the span of plan time in which it is alive.
    private mutating func assignBuffers() {
        let s = steps.count
        let training = mode == .training
        let floats = MemoryLayout<Float>.stride * capacity
        func add(_ name: String, _ bytes: Int, _ lifetime: ClosedRange<Int>) -> Int {
            buffers.append(BufferRequest(name: name, byteCount: bytes, lifetime: lifetime))
            return buffers.count - 1
        }
        func extend(_ index: Int, to time: Int) {
            guard index != ExecutionPlan.networkInput else { return }
            let span = buffers[index].lifetime
            buffers[index].lifetime = min(span.lowerBound, time)...max(span.upperBound, time)
        }
        var current = ExecutionPlan.networkInput
        var gradCurrent: Int? = nil  // gradient of `current`, made by the step that reads it
        // Forward: outputs, saved values and workspaces.
        for k in 0..<s {
            var step = steps[k]
            step.input = current
            let last = training ? 2 * s - k : (k == s - 1 ? s : k + 1)
            extend(current, to: training ? 2 * s - k : k)
            if aliasesInput(step) {
                step.output = current
                extend(current, to: last)
            } else {
                step.output = add("\(step.name) output", step.outputCount * floats, k...last)
            }
            switch step.operation {
            case .conv2d(let g, _, _), .conv2dReLUMaxPool(let g, _):
                let bytes = conv2dWorkspaceSize(geometry: g, batch: capacity) * MemoryLayout<Float>.stride
                step.workspace = add("\(step.name) workspace", bytes, k...k)
                if training { step.backwardWorkspace = add("\(step.name) backward workspace", bytes, (2 * s - k)...(2 * s - k)) }
                if case .conv2dReLUMaxPool = step.operation {
                    step.saved = add("\(step.name) indices", step.outputCount * floats, k...(training ? 2 * s - k : k))
                }
            case .maxPool2d:
                step.saved = add("\(step.name) indices", step.outputCount * floats, k...(training ? 2 * s - k : k))
            case .dropout where training:
                step.saved = add("\(step.name) mask", step.outputCount * floats, k...(2 * s - k))
            default:
                break
            }
            current = step.output
            steps[k] = step
        }
        guard training else { return }
        // Backward: the gradient of each step's output, made by the step above (or the loss).
        for k in stride(from: s - 1, through: 0, by: -1) {
            var step = steps[k]
            let time = 2 * s - k
            if k == s - 1 {
                gradCurrent = add("grad \(step.name) output", step.outputCount * floats, (time - 1)...time)
            }
            step.gradOutput = gradCurrent
            if let g = gradCurrent { extend(g, to: time) }
            if step.input != ExecutionPlan.networkInput {
                if aliasesInput(step) {
                    step.gradInput = gradCurrent
                } else {
                    step.gradInput = add("grad \(step.name) input", step.inputCount * floats, time...(time + 1))
                }
            } else {
                step.gradInput = nil
            }
            if case .conv2d(let g, _, false) = step.operation {
                step.discardedGradBias = add("\(step.name) unused bias gradient", g.outChannels * MemoryLayout<Float>.stride, time...time)
            }
            gradCurrent = step.gradInput
            steps[k] = step
        }
    }
}

/// A plan that cannot be made.
public enum PlanError: Error, Equatable, CustomStringConvertible {
    /// The batch is not in 1...`maximum`.
    case batchOutOfRange(Int, maximum: Int)
    /// Running the plan needs more memory than this machine has.
    case tooLarge(batch: Int, bytes: Int, available: Int)

    /// One line naming the batch, the expected and the found value.
    public var description: String {
        switch self {
        case let .batchOutOfRange(batch, maximum):
            "batch size \(batch) is out of range, expected 1...\(maximum)"
        case let .tooLarge(batch, bytes, available):
            "a batch of \(batch) needs \(bytes >> 20) MiB of buffers, expected at most half of this machine's "
                + "\(available >> 20) MiB: use a smaller --batch-size"
        }
    }
}
