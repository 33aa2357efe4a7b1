// The training loop: the seed's job (cross-entropy + MSE, trained together, then both accuracies
// on the test set), with a checkpoint after every epoch and a training state (TrainingState.swift)
// that a stopped or killed run resumes from exactly.
import Foundation
import MNISTData
import NNCore

/// One epoch's metrics, as printed after the epoch and kept in the run's history.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based epoch number.
    public var epoch: Int
    /// Mean total loss over the epoch's training batches (weighted by batch size).
    public var loss: Double
    /// Mean cross-entropy over the epoch, in nats.
    public var crossEntropy: Double
    /// Mean MSE of the sums over the epoch.
    public var mse: Double
    /// Classification accuracy on the training items, measured during the epoch (weights changing).
    public var trainClassificationAccuracy: Double
    /// Addition accuracy on the training items, measured during the epoch.
    public var trainAdditionAccuracy: Double
    /// Classification accuracy on the test set after the epoch.
    public var testClassificationAccuracy: Double
    /// Addition accuracy on the test set after the epoch.
    public var testAdditionAccuracy: Double
    /// Wall-clock seconds of the epoch's training (without the test pass).
    public var trainSeconds: Double
    /// Wall-clock seconds of the test pass.
    public var testSeconds: Double
    /// Seconds spent waiting for batches to be assembled (should be a small fraction of `trainSeconds`).
    public var dataSeconds: Double
    /// Learning rate at the epoch's last step (group 0).
    public var learningRate: Double
}

/// What the loop reports while it runs, for a progress bar or log lines.
public enum TrainingEvent: Sendable {
    /// A batch finished: epoch (1-based), batches done and total, images per second so far, running mean loss.
    case batch(epoch: Int, done: Int, total: Int, imagesPerSecond: Double, runningLoss: Double)
    /// An epoch finished and was checkpointed.
    case epoch(EpochRecord)
}

/// Trains the network on the combined dataset and checkpoints it after each epoch.
public final class Trainer {
    /// The run's settings.
    public let options: TrainingOptions
    /// The network being trained.
    public internal(set) var network: AdderNetwork
    /// Metrics of every finished epoch, oldest first.
    public internal(set) var history: [EpochRecord] = []
    /// The training split with its integers.
    public let trainSet: AdderDataset
    /// The test split with its fixed integers.
    public let testSet: AdderDataset
    /// Runs forward and backward.
    public let engine: AdderEngine
    /// The version of the program that trains (the CLI gives `BuildInfo.version`, the git commit),
    /// written into every checkpoint's metadata under `versionKey`; nil leaves the key out. A resumed
    /// run's checkpoints carry the version that wrote them last.
    public var version: String?
    /// The checkpoint metadata key of `version`.
    public static let versionKey = "version"
    var optimizer: any Optimizer
    private let schedule: any LearningRateSchedule
    /// How far the epoch in progress got (nil between epochs); saved in a mid-epoch training state.
    public internal(set) var progress: EpochProgress?

    /// Sets up a fresh run: weights from `options.seed` (or, to fine-tune, those of `network`), optimizer and
    /// schedule as the options say (a fresh optimizer state and schedule either way).
    /// Throws `TrainingError.invalidOption` for a bad setting, or when `dropLast` with a batch larger
    /// than the training set would leave an epoch without a step, or when `network`'s description is not
    /// the built-in `options.model`; `TrainingError.emptyDataset` when either set holds no images.
    public init(
        options: TrainingOptions, trainSet: AdderDataset, testSet: AdderDataset, startingFrom network: AdderNetwork? = nil
    ) throws {
        try options.validate()
        guard trainSet.count > 0 else { throw TrainingError.emptyDataset(split: "training") }
        guard testSet.count > 0 else { throw TrainingError.emptyDataset(split: "test") }
        guard Self.batchesPerEpoch(count: trainSet.count, options: options) >= 1 else {
            throw TrainingError.invalidOption(
                name: "batch-size", expected: "at most the \(trainSet.count) training images with --drop-last",
                found: "\(options.batchSize)")
        }
        self.options = options
        self.trainSet = trainSet
        self.testSet = testSet
        let model = try ModelDescription.named(options.model)
        if let network {
            guard network.model == model else {
                throw TrainingError.invalidOption(
                    name: "model", expected: "the built-in '\(model.name)' network's description",
                    found: "a network described otherwise ('\(network.model.name)')")
            }
            self.network = network
        } else {
            self.network = AdderNetwork(model, seed: options.seed)
        }
        self.engine = AdderEngine(threads: options.threads)
        engine.algorithms = options.algorithms
        let stepsPerEpoch = Self.batchesPerEpoch(count: trainSet.count, options: options)
        (optimizer, schedule) = try Self.makeOptimizer(
            options, shapes: model.parameterShapes, totalSteps: stepsPerEpoch * options.epochs)
    }

    /// Number of optimizer steps in one epoch.
    public static func batchesPerEpoch(count: Int, options: TrainingOptions) -> Int {
        options.dropLast ? count / options.batchSize : (count + options.batchSize - 1) / options.batchSize
    }

    private static func makeOptimizer(_ o: TrainingOptions, shapes: [[Int]], totalSteps: Int) throws
        -> (any Optimizer, any LearningRateSchedule)
    {
        let optimizer: any Optimizer
        switch o.optimizer {
        case .adam:
            optimizer = try Adam(parameterShapes: shapes, learningRate: o.learningRate, weightDecay: o.weightDecay)
        case .adamw:
            optimizer = try Adam(
                parameterShapes: shapes, learningRate: o.learningRate, weightDecay: o.weightDecay,
                decoupledWeightDecay: true)
        case .sgd:
            optimizer = try SGD(
                parameterShapes: shapes, learningRate: o.learningRate, momentum: 0.9, weightDecay: o.weightDecay,
                nesterov: true)
        }
        let rate = Double(o.learningRate)
        let schedule: any LearningRateSchedule
        switch o.schedule {
        case .onecycle:
            schedule = try OneCycleLR(maxLearningRate: rate, totalSteps: max(totalSteps, 2))
        case .step:
            schedule = try StepLR(baseLearningRates: [rate], stepSize: max(1, totalSteps / 3), gamma: 0.1)
        case .constant:
            schedule = try StepLR(baseLearningRates: [rate], stepSize: max(1, totalSteps + 1), gamma: 1)
        }
        return (optimizer, schedule)
    }

    /// Images in a full training batch: the batch size, or the whole training set when that is smaller.
    public var trainingBatch: Int { max(1, min(options.batchSize, trainSet.count)) }

    /// Epochs already finished (after a resume, the epoch it continues from).
    public var completedEpochs: Int { history.count }

    /// Trains from where the run stands (the next unfinished epoch, or the middle of one after a
    /// resume) to `options.epochs`, or to `stopAfterEpoch` if it comes first (as if the run were
    /// interrupted there; the checkpoint then resumes it exactly).
    ///
    /// After each epoch: the test set is evaluated, and when `outputDirectory` is given, the model,
    /// the training state and the history are written atomically into it. With `saveEvery` (seconds,
    /// 0: after every step) the training state alone is also written during an epoch whenever that
    /// long has passed since the last save, and once before the first step of a new run, so a run
    /// killed at any moment resumes exactly. `stopRequested` is asked after every step and every
    /// epoch: when it answers true the state is saved and the run returns `.stopped`. Throws
    /// `TrainingError.diverged` on a non-finite loss, `.cannotWrite` or a `SafetensorsError` on I/O.
    @discardableResult
    public func run(
        outputDirectory: URL?, stopAfterEpoch: Int? = nil, saveEvery: Double? = nil,
        stopRequested: () -> Bool = { false }, onEvent: (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingOutcome {
        var saver = PeriodicSaver(directory: outputDirectory, interval: saveEvery)
        if saveEvery != nil, history.isEmpty, progress == nil { try saver.save(self) }
        let lastEpoch = min(options.epochs, stopAfterEpoch ?? options.epochs)
        guard completedEpochs < lastEpoch else { return .finished }
        for epoch in (completedEpochs + 1)...lastEpoch {
            guard let record = try trainEpoch(epoch, saver: &saver, stopRequested: stopRequested, onEvent: onEvent)
            else { return .stopped(epoch: epoch, batchesDone: progress?.batchesDone ?? 0) }
            history.append(record)
            progress = nil
            if let outputDirectory { try save(to: outputDirectory) }
            saver.saved()
            onEvent(.epoch(record))
            if epoch < lastEpoch && stopRequested() { return .stopped(epoch: epoch, batchesDone: nil) }
        }
        return .finished
    }

    /// Trains one epoch from `progress` (or its start) and evaluates the test set; nil when
    /// `stopRequested` stopped it after a step (its progress then saved).
    private func trainEpoch(
        _ epoch: Int, saver: inout PeriodicSaver, stopRequested: () -> Bool, onEvent: (TrainingEvent) -> Void
    ) throws -> EpochRecord? {
        let resumed = progress.flatMap { $0.epoch == epoch ? $0 : nil }
        var p = resumed ?? EpochProgress(epoch: epoch)
        var classification = AccuracyMeter(), addition = AccuracyMeter()
        classification.update(correct: p.classificationCorrect, count: p.seen)
        addition.update(correct: p.additionCorrect, count: p.seen)
        // The epoch's order is a pure function of (seed, epoch): a resumed epoch skips the batches done.
        let full = try trainSet.batches(
            batchSize: options.batchSize, epoch: epoch - 1, shuffle: true, seed: options.seed,
            dropLast: options.dropLast, prefetch: true, augmentation: options.augmentation)
        let total = full.count
        let batches = AdderBatches(
            dataset: trainSet, order: Array(full.order.dropFirst(p.batchesDone * options.batchSize)),
            batchSize: options.batchSize, dropLast: options.dropLast, prefetch: true, augmentation: full.augmentation)
        let start = Date().addingTimeInterval(-p.trainSeconds)
        var waitStart = Date()
        for batch in batches {
            p.dataSeconds += Date().timeIntervalSince(waitStart)
            try schedule.apply(to: &optimizer, step: optimizer.stepCount)
            let result = try engine.step(
                network, images: batch.images, addends: batch.addends, labels: batch.labels,
                weights: options.lossWeights, dropout: DropoutContext(seed: options.seed, step: optimizer.stepCount))
            guard result.loss.isFinite else {
                throw try divergence(result, batch: batch, epoch: epoch, number: p.batchesDone + 1)
            }
            optimizer.step(parameters: &network.parameters, gradients: result.gradients)
            network.buffers = result.buffers
            let n = Double(batch.count)
            p.lossSum += Double(result.loss) * n
            p.crossEntropySum += Double(result.crossEntropy) * n
            p.mseSum += Double(result.mse) * n
            classification.update(predictions: result.forward.digits, targets: batch.labels)
            addition.update(predictions: result.forward.sums.scalars.map(roundedSum), targets: batch.sums)
            p.batchesDone += 1
            p.classificationCorrect = classification.correct
            p.additionCorrect = addition.correct
            p.seen = classification.seen
            p.trainSeconds = Date().timeIntervalSince(start)
            progress = p
            onEvent(.batch(
                epoch: epoch, done: p.batchesDone, total: total,
                imagesPerSecond: Double(classification.seen) / max(p.trainSeconds, 1e-9),
                runningLoss: p.lossSum / Double(classification.seen)))
            if stopRequested() {
                try saver.save(self)
                return nil
            }
            try saver.saveIfDue(self)
            waitStart = Date()
        }
        let trainSeconds = Date().timeIntervalSince(start)
        let testStart = Date()
        let test = try evaluate(network, on: testSet, engine: engine)
        let seen = Double(max(1, classification.seen))
        return EpochRecord(
            epoch: epoch, loss: p.lossSum / seen, crossEntropy: p.crossEntropySum / seen, mse: p.mseSum / seen,
            trainClassificationAccuracy: classification.accuracy, trainAdditionAccuracy: addition.accuracy,
            testClassificationAccuracy: test.classificationAccuracy, testAdditionAccuracy: test.additionAccuracy,
            trainSeconds: trainSeconds, testSeconds: Date().timeIntervalSince(testStart), dataSeconds: p.dataSeconds,
            learningRate: Double(optimizer.parameterGroups.first?.learningRate ?? 0))
    }

    /// The error for a step whose loss is not finite: the batch runs again step by step (with the
    /// same dropout masks) to name the layer where the first non-finite value appeared.
    private func divergence(_ result: StepResult, batch: AdderBatch, epoch: Int, number: Int) throws -> TrainingError {
        let found = try engine.firstNonFiniteStep(
            network, images: batch.images, mode: .training,
            dropout: DropoutContext(seed: options.seed, step: optimizer.stepCount))
        let layer = found?.layer
            ?? (!result.forward.sums.scalars.allSatisfy(\.isFinite) ? "adder"
                : !result.crossEntropy.isFinite ? "cross-entropy" : "MSE")
        return TrainingError.diverged(epoch: epoch, batch: number, layer: layer)
    }

    /// The history as CSV: a header, then one row per epoch.
    public static func csv(_ history: [EpochRecord]) -> String {
        var lines = ["epoch,loss,cross_entropy,mse,train_classification_accuracy,train_addition_accuracy,"
            + "test_classification_accuracy,test_addition_accuracy,train_seconds,test_seconds,data_seconds,learning_rate"]
        for r in history {
            let values: [Double] = [
                r.loss, r.crossEntropy, r.mse, r.trainClassificationAccuracy, r.trainAdditionAccuracy,
                r.testClassificationAccuracy, r.testAdditionAccuracy, r.trainSeconds, r.testSeconds, r.dataSeconds,
                r.learningRate,
            ]
            lines.append(([String(r.epoch)] + values.map { String($0) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

func jsonString<T: Encodable>(_ value: T) throws -> String {
    try JSONOutput.string(value)
}
