// What a run folder keeps so that a stopped or killed run goes on exactly: the weights, the optimizer's
// moments and step count, the history, and in the middle of an epoch how far the epoch got (its running
// sums). Everything else that decides the arithmetic is a pure function of what is saved: the
// schedule's rate of (step, total steps), each epoch's order of (seed, epoch), the integers of the seed,
// the dropout masks of (seed, step).
import Foundation
import MNISTData
import NNCore

/// How far an unfinished epoch got: what a mid-epoch training state holds besides the weights and the
/// optimizer, so the resumed epoch skips the batches done and ends with the same history line.
public struct EpochProgress: Codable, Sendable, Equatable {
    /// The epoch in progress, 1-based.
    public var epoch: Int
    /// Optimizer steps (batches) of this epoch already taken; the next batch is this index of the
    /// epoch's order.
    public var batchesDone = 0
    /// Sum over the batches done of (mean total loss × batch size).
    public var lossSum = 0.0
    /// Sum over the batches done of (mean cross-entropy × batch size), in nats.
    public var crossEntropySum = 0.0
    /// Sum over the batches done of (MSE × batch size).
    public var mseSum = 0.0
    /// Training items whose digit was predicted right so far.
    public var classificationCorrect = 0
    /// Training items whose rounded sum was right so far.
    public var additionCorrect = 0
    /// Training items seen so far in this epoch.
    public var seen = 0
    /// Wall-clock seconds of training in this epoch so far.
    public var trainSeconds = 0.0
    /// Seconds of this epoch so far spent waiting for batches.
    public var dataSeconds = 0.0

    /// The start of `epoch`: nothing done yet.
    public init(epoch: Int) { self.epoch = epoch }
}

/// How `Trainer.run` ended.
public enum TrainingOutcome: Sendable, Equatable {
    /// Every epoch asked for (or up to `stopAfterEpoch`) is done.
    case finished
    /// Stopped on request: in `epoch` after `batchesDone` of its batches, or after the whole of
    /// `epoch` (its checkpoint written) when `batchesDone` is nil. The training state is saved.
    case stopped(epoch: Int, batchesDone: Int?)
}

/// Writes the training state during an epoch once `interval` seconds have passed since the last save.
struct PeriodicSaver {
    let directory: URL?
    let interval: Double?
    private var last = Date()

    init(directory: URL?, interval: Double?) {
        self.directory = directory
        self.interval = interval
    }

    /// Notes a save made elsewhere (the epoch's checkpoint).
    mutating func saved() { last = Date() }

    /// Writes `trainer`'s state now (when there is a folder).
    mutating func save(_ trainer: Trainer) throws {
        guard let directory else { return }
        try trainer.saveState(to: directory)
        last = Date()
    }

    /// Writes `trainer`'s state when `interval` has passed since the last save.
    mutating func saveIfDue(_ trainer: Trainer) throws {
        guard let interval, Date().timeIntervalSince(last) >= interval else { return }
        try save(trainer)
    }
}

extension Trainer {
    /// Writes the model, the training state and the history into `directory` (created if missing).
    /// The files are replaced all together or not at all (`FileSetWriter`): on a full disk or a
    /// read-only folder the previous epoch's files stay whole. Throws `TrainingError.cannotWrite`
    /// naming the file and the system's reason, or `SafetensorsError`.
    public func save(to directory: URL) throws {
        try Self.createFolder(directory)
        let metadata = try checkpointMetadata()
        // All four files or none: a full disk or a read-only folder keeps the last epoch's set whole.
        try FileSetWriter.write([
            (RunFolder(directory).trainingState, try stateBytes(metadata)),
            (RunFolder(directory).model, try Checkpoint.encode(network, metadata: metadata)),
            (RunFolder(directory).historyJSON, Array(try jsonString(history).utf8)),
            (RunFolder(directory).historyCSV, Array(Self.csv(history).utf8)),
        ])
    }

    /// Writes the training state alone (with `progress`, the epoch in progress), atomically: the
    /// model and history files stay those of the last finished epoch. Throws as `save(to:)`.
    public func saveState(to directory: URL) throws {
        try Self.createFolder(directory)
        try FileSetWriter.write([(RunFolder(directory).trainingState, try stateBytes(try checkpointMetadata()))])
    }

    private static func createFolder(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw TrainingError.cannotWrite(path: directory.path, reason: "\(error.localizedDescription)")
        }
    }

    private func stateBytes(_ metadata: [String: String]) throws -> [UInt8] {
        var state: [String: Tensor] = [:]
        for (name, tensor) in network.stateDict { state["model." + name] = tensor }
        for (name, tensor) in optimizer.stateDict() { state["optimizer." + name] = tensor }
        var stateMetadata = metadata
        stateMetadata["history"] = try jsonString(history)
        if let progress { stateMetadata["progress"] = try jsonString(progress) }
        return try Safetensors.encode(state, metadata: stateMetadata)
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
        if let version { metadata[Self.versionKey] = version }
        return metadata
    }

    /// Whether every epoch of `options.epochs` is done (nothing left for a resume without more epochs).
    public var isFinished: Bool { completedEpochs >= options.epochs && progress == nil }

    /// Optimizer steps in one epoch of this run.
    public var stepsPerEpoch: Int { Self.batchesPerEpoch(count: trainSet.count, options: options) }

    /// The options of the run saved in `directory`, read before its data is loaded (a resumed run
    /// needs the same `limit` and `addendRange`). Throws `TrainingError.cannotResume`.
    public static func savedOptions(in directory: URL) throws -> TrainingOptions {
        try readState(directory).options
    }

    private static func readState(_ directory: URL) throws
        -> (file: SafetensorsFile, options: TrainingOptions, history: [EpochRecord], progress: EpochProgress?)
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
        var progress: EpochProgress?
        if let text = file.metadata["progress"] {
            guard let decoded = try? decoder.decode(EpochProgress.self, from: Data(text.utf8)) else {
                throw TrainingError.cannotResume(
                    folder: directory.path, reason: "\(RunFolder.trainingStateFile) has an unreadable 'progress' entry")
            }
            progress = decoded
        }
        return (file, options, history, progress)
    }

    /// Removes the temporary files (`.<file>.tmp-<pid>-<random>`, see `Safetensors.stageFile`) that a
    /// run killed while writing its files left in `directory`.
    static func removeStaleTemporaries(in directory: URL) {
        let names = [RunFolder.trainingStateFile, RunFolder.modelFile, RunFolder.historyJSONFile, RunFolder.historyCSVFile]
        let prefixes = names.map { "." + $0 + ".tmp-" }
        let found = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in found where prefixes.contains(where: name.hasPrefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Continues the run saved in `directory`: the same options, weights, optimizer state, history,
    /// and the epoch in progress from the batch it stopped at.
    ///
    /// `epochs` extends (or shortens, not below the epochs begun) the run to that many epochs; the
    /// learning-rate schedule is then the one of a run started with `epochs` epochs, at the step the
    /// run stands at (identical for `.constant`; the step drops and the one-cycle curve move with the
    /// new total). Throws `TrainingError.invalidOption` for such an `epochs` out of range, and
    /// `TrainingError.cannotResume` naming the folder and what is missing or inconsistent.
    public static func resume(
        from directory: URL, trainSet: AdderDataset, testSet: AdderDataset, epochs: Int? = nil
    ) throws -> Trainer {
        var (file, options, history, progress) = try readState(directory)
        if let epochs {
            let begun = history.count + (progress == nil ? 0 : 1)
            guard epochs >= max(1, begun) else {
                throw TrainingError.invalidOption(
                    name: "epochs", expected: "at least \(max(1, begun)) (epochs begun in \(directory.path): \(begun))",
                    found: "\(epochs)")
            }
            options.epochs = epochs
        }
        let trainer = try Trainer(options: options, trainSet: trainSet, testSet: testSet)
        let model = try Checkpoint.description(of: file)
        guard model.name == options.model else {
            throw TrainingError.cannotResume(
                folder: directory.path, reason: "its model is '\(model.name)' but its options say '\(options.model)'")
        }
        trainer.network = try AdderNetwork(model, stateDict: file.float32Tensors(withPrefix: "model."))
        try trainer.optimizer.loadStateDict(file.float32Tensors(withPrefix: "optimizer."))
        trainer.history = history
        if let progress, progress.epoch != history.count + 1 || progress.batchesDone > trainer.stepsPerEpoch {
            throw TrainingError.cannotResume(
                folder: directory.path,
                reason: "its progress is in epoch \(progress.epoch), batch \(progress.batchesDone) of \(trainer.stepsPerEpoch), "
                    + "expected epoch \(history.count + 1) after \(history.count) finished")
        }
        trainer.progress = progress
        removeStaleTemporaries(in: directory)
        let steps = history.count * trainer.stepsPerEpoch + (progress?.batchesDone ?? 0)
        guard trainer.optimizer.stepCount == steps else {
            throw TrainingError.cannotResume(
                folder: directory.path,
                reason: "its optimizer has taken \(trainer.optimizer.stepCount) steps, expected \(steps) "
                    + "(\(history.count) epochs of \(trainer.stepsPerEpoch) and \(progress?.batchesDone ?? 0) batches)")
        }
        return trainer
    }
}
