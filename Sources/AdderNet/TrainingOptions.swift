// The settings of a training run, checked before anything is loaded, and saved with every
// checkpoint so a resumed run continues with exactly the same ones.
import MNISTData
import NNCore

/// Which optimizer trains the network.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// `torch.optim.Adam` (β 0.9/0.999, eps 1e-8).
    case adam
    /// `torch.optim.AdamW` (decoupled weight decay).
    case adamw
    /// `torch.optim.SGD` with momentum 0.9 (Nesterov).
    case sgd
}

/// How the learning rate changes over the run.
public enum ScheduleKind: String, Codable, Sendable, CaseIterable {
    /// `torch.optim.lr_scheduler.OneCycleLR` over the whole run, peaking at the learning rate.
    case onecycle
    /// `torch.optim.lr_scheduler.StepLR`: ×0.1 every third of the run, per step.
    case step
    /// The learning rate throughout.
    case constant
}

/// Every setting of a training run.
///
/// The defaults are the project's choice for the best test accuracy after 10 epochs with the seed's
/// architecture unchanged (see README, "Results"): Adam, batch 128, one-cycle schedule peaking at 3e-3.
public struct TrainingOptions: Codable, Sendable, Equatable {
    /// The network, by its built-in name (`seed`, `pytorch-examples`, `seed-bn`).
    public var model = ModelDescription.seed.name
    /// Passes over the training set.
    public var epochs = 10
    /// Images per optimizer step.
    public var batchSize = 128
    /// The learning rate (the peak of the one-cycle schedule).
    public var learningRate: Float = 3e-3
    /// The optimizer.
    public var optimizer: OptimizerKind = .adam
    /// The learning-rate schedule.
    public var schedule: ScheduleKind = .onecycle
    /// L2 weight decay (decoupled for AdamW).
    public var weightDecay: Float = 0
    /// Seeds the weights, the training integers and the order of every epoch.
    public var seed: UInt64 = 0
    /// Weights of the two losses in the total.
    public var lossWeights = LossWeights()
    /// The integers added to the digit, inclusive.
    public var addendRange: ClosedRange<Int> = AdderDataset.defaultAddendRange
    /// Train on the first `limit` training images only (nil: all 60,000).
    public var limit: Int?
    /// Evaluate on the first `testLimit` test images only (nil: all 10,000), for quick runs.
    public var testLimit: Int?
    /// Training images kept aside as a validation set, chosen by `seed` (`ValidationSplit`; nil:
    /// none, every image is trained on). Calibration and the `unsure` thresholds are fitted on them.
    public var validation: Int?
    /// Worker threads (0: one per core).
    public var threads = 0
    /// Drop the last partial batch of each epoch.
    public var dropLast = false
    /// Per convolution (by module name), the algorithm `--plan measure` chose instead of the
    /// table's; empty: the table's (`ConvAlgorithmTable`). Saved with the run, so `--resume`
    /// computes exactly as the run began.
    public var algorithms: [String: Conv2dAlgorithm] = [:]
    /// Which library ran the GEMMs (`GEMMDispatch.choice` when the run began: `auto`, `openblas` or
    /// `libxsmm`); saved with the run so that `--resume` computes as it began. nil in runs saved before
    /// there was a choice: those ran every GEMM on OpenBLAS.
    public var gemmBackend: GEMMBackendChoice?
    /// The random affine transform of every training image, per epoch (nil: none, the images as they are).
    /// Each image's transform is a function of (`seed`, epoch, image index), so a resumed run and any
    /// thread count see the same images. Test and validation images are never augmented.
    public var augmentation: AffineAugmentation?

    /// The seed's settings with the project's defaults.
    public init() {}

    /// Reads saved options; `model` may be absent (runs saved before there was a choice trained the seed).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model) ?? ModelDescription.seed.name
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
        schedule = try c.decode(ScheduleKind.self, forKey: .schedule)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        seed = try c.decode(UInt64.self, forKey: .seed)
        lossWeights = try c.decode(LossWeights.self, forKey: .lossWeights)
        addendRange = try c.decode(ClosedRange<Int>.self, forKey: .addendRange)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        testLimit = try c.decodeIfPresent(Int.self, forKey: .testLimit)
        validation = try c.decodeIfPresent(Int.self, forKey: .validation)
        threads = try c.decode(Int.self, forKey: .threads)
        dropLast = try c.decode(Bool.self, forKey: .dropLast)
        algorithms = try c.decodeIfPresent([String: Conv2dAlgorithm].self, forKey: .algorithms) ?? [:]
        gemmBackend = try c.decodeIfPresent(GEMMBackendChoice.self, forKey: .gemmBackend)
        augmentation = try c.decodeIfPresent(AffineAugmentation.self, forKey: .augmentation)
    }

    /// The most epochs a run may ask for (a year of epochs on this machine; more is a typo).
    public static let maximumEpochs = 1_000_000

    /// The most worker threads a run may ask for. Each worker holds an arena of activations (5.4 MiB for
    /// the seed network at batch 128), so `--threads 100000` would ask for half a terabyte before the
    /// first batch; 256 is more cores than the machines this runs on have. Deviation: PyTorch's
    /// `torch.set_num_threads` sets no upper bound.
    public static let maximumThreads = 256

    /// Checks a `--threads` value (every command that takes one calls this): 0 (one per core) up to
    /// `maximumThreads`. Throws `TrainingError.invalidOption` naming `threads`, the range and the value.
    public static func checkThreads(_ threads: Int) throws {
        guard (0...maximumThreads).contains(threads) else {
            throw TrainingError.invalidOption(name: "threads", expected: "0 (one per core) to \(maximumThreads)", found: "\(threads)")
        }
    }

    /// Throws `TrainingError.invalidOption` naming the first setting that makes no sense.
    public func validate() throws {
        func bad(_ name: String, _ expected: String, _ found: String) -> TrainingError {
            .invalidOption(name: name, expected: expected, found: found)
        }
        guard ModelDescription.builtIn.contains(where: { $0.name == model }) else {
            throw bad("model", "one of \(ModelDescription.builtIn.map(\.name).joined(separator: ", "))", model)
        }
        guard epochs >= 1 else { throw bad("epochs", "at least 1", "\(epochs)") }
        guard epochs <= Self.maximumEpochs else { throw bad("epochs", "at most \(Self.maximumEpochs)", "\(epochs)") }
        guard batchSize >= 1 else { throw bad("batch-size", "at least 1", "\(batchSize)") }
        guard learningRate.isFinite && learningRate > 0 else {
            throw bad("learning-rate", "a positive number", "\(learningRate)")
        }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw bad("weight-decay", "a number ≥ 0", "\(weightDecay)")
        }
        guard lossWeights.crossEntropy.isFinite, lossWeights.mse.isFinite,
              lossWeights.crossEntropy >= 0, lossWeights.mse >= 0 else {
            throw bad("loss-weights", "two numbers ≥ 0", "\(lossWeights.crossEntropy),\(lossWeights.mse)")
        }
        guard addendRange.lowerBound >= 0, addendRange.upperBound <= AdderDataset.maximumAddend else {
            throw bad("addend-range", "within 0...\(AdderDataset.maximumAddend)", "\(addendRange)")
        }
        if let limit, limit < 1 { throw bad("limit", "at least 1", "\(limit)") }
        if let testLimit, testLimit < 1 { throw bad("test-limit", "at least 1", "\(testLimit)") }
        if let validation, validation < 1 { throw bad("validation", "at least 1 image", "\(validation)") }
        try Self.checkThreads(threads)
        if let problem = augmentation?.validationProblem { throw bad(problem.name, problem.expected, problem.found) }
    }
}

/// A training run that cannot start or continue.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A setting outside its range.
    case invalidOption(name: String, expected: String, found: String)
    /// A folder to resume from that lacks a file or holds one that does not fit.
    case cannotResume(folder: String, reason: String)
    /// The run diverged: the loss became NaN or infinite; `layer` is where the first non-finite
    /// value appeared (a plan step's name such as `conv3 + ReLU`, `adder`, `cross-entropy` or `MSE`).
    case diverged(epoch: Int, batch: Int, layer: String)
    /// A split holds no images: training needs at least one of each.
    case emptyDataset(split: String)
    /// A file could not be written.
    case cannotWrite(path: String, reason: String)

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case .invalidOption(let name, let expected, let found): "--\(name): expected \(expected), found \(found)"
        case .cannotResume(let folder, let reason): "cannot resume from \(folder): \(reason)"
        case .diverged(let epoch, let batch, let layer):
            "training diverged: loss is not finite at epoch \(epoch), batch \(batch), first non-finite output in "
                + "layer '\(layer)', expected finite values (try a smaller --learning-rate; "
                + (epoch > 1 ? "the checkpoint of epoch \(epoch - 1) is kept)" : "no checkpoint was written)")
        case .emptyDataset(let split):
            "the \(split) set is empty (0 images), expected at least 1 image (check --\(split == "test" ? "test-limit" : "limit") "
                + "and the data folder)"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}
