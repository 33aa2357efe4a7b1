// The training loop: the seed's job (cross-entropy + MSE, trained together, then both accuracies
// on the test set), with a checkpoint after every epoch that a killed run resumes from exactly.
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
    public private(set) var network: AdderNetwork
    /// Metrics of every finished epoch, oldest first.
    public private(set) var history: [EpochRecord] = []
    /// The training split with its integers.
    public let trainSet: AdderDataset
    /// The test split with its fixed integers.
    public let testSet: AdderDataset
    /// Runs forward and backward.
    public let engine: AdderEngine
    private var optimizer: any Optimizer
    private let schedule: any LearningRateSchedule

    /// Sets up a fresh run: weights from `options.seed`, optimizer and schedule as the options say.
    /// Throws `TrainingError.invalidOption` for a bad setting, or when `dropLast` with a batch larger
    /// than the training set would leave an epoch without a step; `TrainingError.emptyDataset` when
    /// either set holds no images.
    public init(options: TrainingOptions, trainSet: AdderDataset, testSet: AdderDataset) throws {
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
        self.network = AdderNetwork(model, seed: options.seed)
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

    /// Trains from the next unfinished epoch to `options.epochs`, or to `stopAfterEpoch` if it comes
    /// first (as if the run were interrupted there; the checkpoint then resumes it exactly).
    ///
    /// After each epoch: the test set is evaluated, and when `outputDirectory` is given, the model,
    /// the training state and the history are written atomically into it. Throws
    /// `TrainingError.diverged` on a non-finite loss, `.cannotWrite` or a `SafetensorsError` on I/O.
    public func run(
        outputDirectory: URL?, stopAfterEpoch: Int? = nil,
        onEvent: (TrainingEvent) -> Void = { _ in }
    ) throws {
        let lastEpoch = min(options.epochs, stopAfterEpoch ?? options.epochs)
        guard completedEpochs < lastEpoch else { return }
        for epoch in (completedEpochs + 1)...lastEpoch {
            let record = try trainEpoch(epoch, onEvent: onEvent)
            history.append(record)
            if let outputDirectory { try save(to: outputDirectory) }
            onEvent(.epoch(record))
        }
    }

    private func trainEpoch(_ epoch: Int, onEvent: (TrainingEvent) -> Void) throws -> EpochRecord {
        let batches = try trainSet.batches(
            batchSize: options.batchSize, epoch: epoch - 1, shuffle: true, seed: options.seed,
            dropLast: options.dropLast, prefetch: true)
        let total = batches.count
        var lossSum = 0.0, ceSum = 0.0, mseSum = 0.0
        var classification = AccuracyMeter(), addition = AccuracyMeter()
        let start = Date()
        var dataSeconds = 0.0
        var waitStart = Date()
        var done = 0
        for batch in batches {
            dataSeconds += Date().timeIntervalSince(waitStart)
            try schedule.apply(to: &optimizer, step: optimizer.stepCount)
            let result = try engine.step(
                network, images: batch.images, addends: batch.addends, labels: batch.labels,
                weights: options.lossWeights, dropout: DropoutContext(seed: options.seed, step: optimizer.stepCount))
            guard result.loss.isFinite else { throw try divergence(result, batch: batch, epoch: epoch, number: done + 1) }
            optimizer.step(parameters: &network.parameters, gradients: result.gradients)
            network.buffers = result.buffers
            let n = Double(batch.count)
            lossSum += Double(result.loss) * n
            ceSum += Double(result.crossEntropy) * n
            mseSum += Double(result.mse) * n
            classification.update(predictions: result.forward.digits, targets: batch.labels)
            addition.update(predictions: result.forward.sums.scalars.map(roundedSum), targets: batch.sums)
            done += 1
            let elapsed = Date().timeIntervalSince(start)
            onEvent(.batch(
                epoch: epoch, done: done, total: total,
                imagesPerSecond: Double(classification.seen) / max(elapsed, 1e-9),
                runningLoss: lossSum / Double(classification.seen)))
            waitStart = Date()
        }
        let trainSeconds = Date().timeIntervalSince(start)
        let testStart = Date()
        let test = try evaluate(network, on: testSet, engine: engine)
        let seen = Double(max(1, classification.seen))
        return EpochRecord(
            epoch: epoch, loss: lossSum / seen, crossEntropy: ceSum / seen, mse: mseSum / seen,
            trainClassificationAccuracy: classification.accuracy, trainAdditionAccuracy: addition.accuracy,
            testClassificationAccuracy: test.classificationAccuracy, testAdditionAccuracy: test.additionAccuracy,
            trainSeconds: trainSeconds, testSeconds: Date().timeIntervalSince(testStart), dataSeconds: dataSeconds,
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

    // MARK: - Checkpoints

    /// Writes the model, the training state and the history into `directory` (created if missing).
    /// The files are replaced all together or not at all (`FileSetWriter`): on a full disk or a
    /// read-only folder the previous epoch's files stay whole. Throws `TrainingError.cannotWrite`
    /// naming the file and the system's reason, or `SafetensorsError`.
    public func save(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.cannotWrite(path: directory.path, reason: "\(error.localizedDescription)")
        }
        let metadata = try checkpointMetadata()
        var state: [String: Tensor] = [:]
        for (name, tensor) in network.stateDict { state["model." + name] = tensor }
        for (name, tensor) in optimizer.stateDict() { state["optimizer." + name] = tensor }
        var stateMetadata = metadata
        stateMetadata["history"] = try jsonString(history)
        let folder = RunFolder(directory)
        // All four files or none: a full disk or a read-only folder keeps the last epoch's set whole.
        try FileSetWriter.write([
            (folder.trainingState, try Safetensors.encode(state, metadata: stateMetadata)),
            (folder.model, try Checkpoint.encode(network, metadata: metadata)),
            (folder.historyJSON, Array(try jsonString(history).utf8)),
            (folder.historyCSV, Array(Self.csv(history).utf8)),
        ])
    }

    private func checkpointMetadata() throws -> [String: String] {
        var metadata: [String: String] = [
            "format": Checkpoint.formatName,
            "epoch": String(completedEpochs),
            "options": try jsonString(options),
            Checkpoint.addendRangeKey: Checkpoint.addendRangeText(options.addendRange),
            "seed": String(options.seed),
            Checkpoint.modelKey: try network.model.jsonString(),
            "plan": try engine.plan(for: network.model, batch: trainingBatch, mode: .training).choicesText,
        ]
        if let last = history.last { metadata["metrics"] = try jsonString(last) }
        return metadata
    }

    /// The options of the run saved in `directory`, read before its data is loaded (a resumed run
    /// needs the same `limit` and `addendRange`). Throws `TrainingError.cannotResume`.
    public static func savedOptions(in directory: URL) throws -> TrainingOptions {
        try readState(directory).options
    }

    private static func readState(_ directory: URL) throws
        -> (file: SafetensorsFile, options: TrainingOptions, history: [EpochRecord])
    {
        let url = RunFolder(directory).trainingState
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainingError.cannotResume(folder: directory.path, reason: "no \(RunFolder.trainingStateFile) in it")
        }
        let file = try SafetensorsFile(contentsOf: url)
        let decoder = JSONDecoder()
        guard let optionsText = file.metadata["options"], let historyText = file.metadata["history"],
              let options = try? decoder.decode(TrainingOptions.self, from: Data(optionsText.utf8)),
              let history = try? decoder.decode([EpochRecord].self, from: Data(historyText.utf8))
        else {
            throw TrainingError.cannotResume(
                folder: directory.path, reason: "\(RunFolder.trainingStateFile) lacks readable options and history metadata")
        }
        return (file, options, history)
    }

    /// Continues the run saved in `directory`: the same options, weights, optimizer state and history.
    ///
    /// Throws `TrainingError.cannotResume` naming the folder and what is missing or inconsistent.
    public static func resume(from directory: URL, trainSet: AdderDataset, testSet: AdderDataset) throws -> Trainer {
        let (file, options, history) = try readState(directory)
        let trainer = try Trainer(options: options, trainSet: trainSet, testSet: testSet)
        let model = try Checkpoint.description(of: file)
        guard model.name == options.model else {
            throw TrainingError.cannotResume(
                folder: directory.path, reason: "its model is '\(model.name)' but its options say '\(options.model)'")
        }
        trainer.network = try AdderNetwork(model, stateDict: file.float32Tensors(withPrefix: "model."))
        try trainer.optimizer.loadStateDict(file.float32Tensors(withPrefix: "optimizer."))
        trainer.history = history
        return trainer
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
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
