// One step of an execution plan: a layer, or a few layers run as one (convolution + ReLU,
// convolution + ReLU + 2×2 pool, BatchNorm2d + ReLU, Linear + ReLU), with its shapes, its
// algorithm and the arena buffers it reads and writes.
import NNCore

/// One step of an `ExecutionPlan`.
public struct PlanStep: Sendable, Equatable {
    /// What the step computes.
    public enum Operation: Sendable, Equatable {
        /// A convolution (bias when `bias`), then ReLU when `relu`.
        case conv2d(Conv2dGeometry, relu: Bool, bias: Bool)
        /// A 3×3 convolution, ReLU and a 2×2 stride-2 max pool in one Winograd pass; the
        /// convolution's own output is never written.
        case conv2dReLUMaxPool(Conv2dGeometry, bias: Bool)
        /// Batch normalization of `planeSize`-value planes, then ReLU when `relu`.
        case batchNorm2d(BatchNorm2d, planeSize: Int, relu: Bool)
        /// ReLU on its own (after a layer it cannot be fused into).
        case relu
        /// Max pooling of (C, H, W) planes.
        case maxPool2d(kernelSize: Int, stride: Int)
        /// Dropout (training only; the inference plan has none).
        case dropout(p: Float)
        /// (C, H, W) → (C·H·W): no work, the output is the input's buffer.
        case flatten
        /// A fully connected layer, then ReLU when `relu`.
        case linear(inFeatures: Int, outFeatures: Int, relu: Bool, bias: Bool)
    }

    /// What the printout calls it: the module names and fused parts (`conv2 + ReLU + pool`).
    public var name: String
    /// The description's layers this step runs (indices into `ModelDescription.layers`).
    public var layers: ClosedRange<Int>
    /// What it computes.
    public var operation: Operation
    /// Shape of one image's input, (C, H, W) or (I).
    public var inputShape: [Int]
    /// Shape of one image's output.
    public var outputShape: [Int]
    /// For convolutions: the algorithm for each piece size the plan runs (pieces differ by at most one image).
    public var algorithms: [Int: Conv2dAlgorithm]
    /// Why that algorithm (or fusion), in a few words.
    public var reason: String
    /// Index in `AdderNetwork.parameters` of the step's weight (its bias follows when it has one).
    public var parameterIndex: Int?
    /// Index in `AdderNetwork.buffers` of BatchNorm2d's running mean (running_var and
    /// num_batches_tracked follow).
    public var bufferIndex: Int?
    /// Whether the input gradient is multiplied by `input > 0` (the input is a ReLU's output and
    /// this step does not pass the gradient through unchanged in shape, as pool, dropout and flatten do).
    public var masksGradInput: Bool
    /// Whether the output is a ReLU output whose gradient the next layer masks (false for the fused
    /// pool, whose backward masks by itself).
    public var outputIsReLU: Bool

    /// Arena buffer of the input; `ExecutionPlan.networkInput` for the images themselves.
    public var input: Int
    /// Arena buffer of the output (the input's, for flatten).
    public var output: Int
    /// Pool indices (Int32) or dropout multipliers (Float), when the step has them.
    public var saved: Int?
    /// Scratch of the forward pass (convolutions).
    public var workspace: Int?
    /// Scratch of the backward pass (convolutions; training plans only).
    public var backwardWorkspace: Int?
    /// Gradient of the loss for the output (training plans only).
    public var gradOutput: Int?
    /// Gradient of the loss for the input (training plans; nil when the input is the images).
    public var gradInput: Int?
    /// Where a convolution without bias sends the bias gradient it computes anyway (training only).
    public var discardedGradBias: Int?

    /// Multiply-adds per image of the forward pass as the algorithm computes them (Winograd: its
    /// 16 products per tile, channel pair; im2col: O·C·k·k per output).
    public var forwardMACs: Int
    /// Multiply-adds per image of a direct convolution or linear layer (the usual FLOP count / 2).
    public var directMACs: Int
    /// Values per image of the output.
    public var outputCount: Int { outputShape.reduce(1, *) }
    /// Values per image of the input.
    public var inputCount: Int { inputShape.reduce(1, *) }

    /// The convolution's geometry, for conv steps.
    public var geometry: Conv2dGeometry? {
        switch operation {
        case .conv2d(let g, _, _), .conv2dReLUMaxPool(let g, _): g
        default: nil
        }
    }

    /// Whether the backward pass only reshapes or routes the gradient (pool, dropout, flatten), so a
    /// ReLU mask owed by the layer below is applied above it.
    var passesMaskThrough: Bool {
        switch operation {
        case .maxPool2d, .dropout, .flatten: true
        default: false
        }
    }
}
