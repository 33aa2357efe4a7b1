// The training loop on real MNIST: it learns, it is repeatable, and a run stopped after an epoch
// resumes to exactly the weights of a run that was never stopped.
import AdderNet
import Foundation
import MNISTData
import NNCore
import Testing

private func temporaryFolder() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("adder-\(UUID().uuidString)")
}

@Test("one epoch on 4,000 real images learns far above chance (10%)")
func smokeTraining() throws {
    var options = TrainingOptions()
    options.epochs = 1
    options.batchSize = 64
    options.limit = 4000
    options.testLimit = 2000
    let train = try AdderDataset.load(.train, limit: options.limit, seed: options.seed)
    let test = try AdderDataset.load(.test, limit: options.testLimit, seed: options.seed)
    let trainer = try Trainer(options: options, trainSet: train, testSet: test)
    try trainer.run(outputDirectory: nil)
    let record = try #require(trainer.history.last)
    #expect(record.testClassificationAccuracy > 0.8, "test classification accuracy \(record.testClassificationAccuracy)")
    #expect(record.loss.isFinite && record.crossEntropy < 2.0, "mean cross-entropy \(record.crossEntropy)")
    let evaluation = try evaluate(trainer.network, on: test, engine: trainer.engine, batchSize: 300)
    #expect(evaluation.count == 2000)
    #expect(evaluation.confusion.joined().reduce(0, +) == 2000)
    #expect(abs(evaluation.classificationAccuracy - record.testClassificationAccuracy) < 1e-12)
}

@Test("a run stopped after epoch 1 and resumed ends with the same weights as one never stopped")
func resumeIsExact() throws {
    var options = TrainingOptions()
    options.epochs = 3
    options.batchSize = 50
    options.limit = 300
    options.testLimit = 100
    let train = try AdderDataset.load(.train, limit: options.limit, seed: options.seed)
    let test = try AdderDataset.load(.test, limit: options.testLimit, seed: options.seed)

    let whole = try Trainer(options: options, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)

    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try Trainer(options: options, trainSet: train, testSet: test)
    try first.run(outputDirectory: folder, stopAfterEpoch: 1)
    #expect(first.completedEpochs == 1)
    let resumed = try Trainer.resume(from: folder, trainSet: train, testSet: test)
    #expect(resumed.completedEpochs == 1)
    #expect(resumed.options == options)
    try resumed.run(outputDirectory: folder)

    #expect(resumed.network == whole.network, "resumed weights differ from the uninterrupted run")
    #expect(resumed.history.map(\.loss) == whole.history.map(\.loss))
    let (saved, metadata) = try Checkpoint.load(contentsOf: RunFolder(folder).model)
    #expect(saved == whole.network)
    #expect(metadata["epoch"] == "3")
    let csv = try String(contentsOf: RunFolder(folder).historyCSV, encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 4, "header and three epochs")
}

@Test("the same seed and options give identical metrics; another seed does not")
func repeatable() throws {
    var options = TrainingOptions()
    options.epochs = 1
    options.batchSize = 32
    options.limit = 200
    options.testLimit = 100
    func run(seed: UInt64) throws -> [EpochRecord] {
        var o = options
        o.seed = seed
        let train = try AdderDataset.load(.train, limit: o.limit, seed: seed)
        let test = try AdderDataset.load(.test, limit: o.testLimit, seed: seed)
        let trainer = try Trainer(options: o, trainSet: train, testSet: test)
        try trainer.run(outputDirectory: nil)
        return trainer.history
    }
    let a = try run(seed: 5), b = try run(seed: 5), c = try run(seed: 6)
    #expect(a.map(\.loss) == b.map(\.loss))
    #expect(a.map(\.testClassificationAccuracy) == b.map(\.testClassificationAccuracy))
    #expect(a.map(\.loss) != c.map(\.loss))
}

private func optionsWith(_ change: (inout TrainingOptions) -> Void) -> TrainingOptions {
    var options = TrainingOptions()
    change(&options)
    return options
}

@Test("nonsense options are refused with the option named", arguments: [
    ("epochs", optionsWith { $0.epochs = 0 }),
    ("epochs", optionsWith { $0.epochs = TrainingOptions.maximumEpochs + 1 }),
    ("batch-size", optionsWith { $0.batchSize = 0 }),
    ("learning-rate", optionsWith { $0.learningRate = .nan }),
    ("limit", optionsWith { $0.limit = 0 }),
    ("loss-weights", optionsWith { $0.lossWeights = LossWeights(crossEntropy: -1, mse: 1) }),
    ("augment-scale", optionsWith {
        $0.augmentation = AffineAugmentation(rotation: 10, shift: 2, minimumScale: 1.1, maximumScale: 0.9, shear: 0)
    }),
    ("augment-rotation", optionsWith {
        $0.augmentation = AffineAugmentation(rotation: -1, shift: 2, minimumScale: 0.9, maximumScale: 1.1, shear: 0)
    }),
])
func badOptions(name: String, options: TrainingOptions) {
    #expect {
        try options.validate()
    } throws: { error in
        guard case TrainingError.invalidOption(let found, _, _) = error else { return false }
        return found == name
    }
}

@Test("resuming from a folder without a training state names the folder and the file")
func resumeFromEmptyFolder() throws {
    let folder = temporaryFolder()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(throws: TrainingError.cannotResume(folder: folder.path, reason: "no training-state.safetensors in it")) {
        try Trainer.savedOptions(in: folder)
    }
}

/// A small run for the stop-and-go-on tests: 2 epochs of 6 batches.
private func smallRun(epochs: Int = 2, schedule: ScheduleKind = .onecycle) throws
    -> (TrainingOptions, AdderDataset, AdderDataset)
{
    var options = TrainingOptions()
    options.epochs = epochs
    options.batchSize = 25
    options.limit = 150
    options.testLimit = 50
    options.schedule = schedule
    let train = try AdderDataset.load(.train, limit: options.limit, seed: options.seed)
    let test = try AdderDataset.load(.test, limit: options.testLimit, seed: options.seed)
    return (options, train, test)
}

/// The history without its timings (wall-clock seconds differ from run to run).
private func untimed(_ history: [EpochRecord]) -> [EpochRecord] {
    history.map {
        var r = $0
        r.trainSeconds = 0
        r.testSeconds = 0
        r.dataSeconds = 0
        return r
    }
}

@Test("a run stopped after batch 4 of epoch 1 and resumed ends with the weights and history of one never stopped")
func midEpochResumeIsExact() throws {
    let (options, train, test) = try smallRun()
    let whole = try Trainer(options: options, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)

    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try Trainer(options: options, trainSet: train, testSet: test)
    var asked = 0
    let outcome = try first.run(outputDirectory: folder, saveEvery: 3600, stopRequested: {
        asked += 1
        return asked == 4
    })
    #expect(outcome == .stopped(epoch: 1, batchesDone: 4))
    #expect(first.progress?.batchesDone == 4 && first.progress?.seen == 100)
    #expect(!RunFolder(folder).holdsModel, "no epoch finished, so no model checkpoint yet")

    let resumed = try Trainer.resume(from: folder, trainSet: train, testSet: test)
    #expect(resumed.progress == first.progress)
    #expect(resumed.completedEpochs == 0 && !resumed.isFinished)
    #expect(try resumed.run(outputDirectory: folder) == .finished)
    #expect(resumed.network == whole.network, "resumed weights differ from the uninterrupted run")
    #expect(untimed(resumed.history) == untimed(whole.history))
    #expect(resumed.progress == nil && resumed.isFinished)
}

@Test("a stop after an epoch's last step goes on with that epoch's test pass")
func stopAfterLastBatch() throws {
    let (options, train, test) = try smallRun()
    let whole = try Trainer(options: options, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try Trainer(options: options, trainSet: train, testSet: test)
    var asked = 0
    let outcome = try first.run(outputDirectory: folder, stopRequested: {
        asked += 1
        return asked == 6
    })
    #expect(outcome == .stopped(epoch: 1, batchesDone: 6))
    let resumed = try Trainer.resume(from: folder, trainSet: train, testSet: test)
    try resumed.run(outputDirectory: folder)
    #expect(resumed.network == whole.network)
    #expect(untimed(resumed.history) == untimed(whole.history))
}

@Test("a 1-epoch run with a constant schedule extended to 3 equals a 3-epoch run; fewer epochs than begun are refused")
func extendedConstantRun() throws {
    let (options, train, test) = try smallRun(epochs: 3, schedule: .constant)
    let whole = try Trainer(options: options, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)

    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var short = options
    short.epochs = 1
    let first = try Trainer(options: short, trainSet: train, testSet: test)
    try first.run(outputDirectory: folder)
    #expect(try Trainer.resume(from: folder, trainSet: train, testSet: test).isFinished)
    #expect(throws: TrainingError.invalidOption(name: "epochs", expected: "at least 1 (epochs begun in \(folder.path): 1)", found: "0")) {
        try Trainer.resume(from: folder, trainSet: train, testSet: test, epochs: 0)
    }
    let extended = try Trainer.resume(from: folder, trainSet: train, testSet: test, epochs: 3)
    #expect(extended.options == options)
    try extended.run(outputDirectory: folder)
    #expect(extended.network == whole.network, "the extended run's weights differ from the 3-epoch run's")
    #expect(untimed(extended.history) == untimed(whole.history))
    #expect(try Trainer.savedOptions(in: folder).epochs == 3)
}

@Test("a one-cycle run extended takes the longer cycle's learning rate: not the 1-epoch run's last one")
func extendedOneCycleRun() throws {
    let (options, train, test) = try smallRun(epochs: 1)
    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try Trainer(options: options, trainSet: train, testSet: test)
    try first.run(outputDirectory: folder)
    let extended = try Trainer.resume(from: folder, trainSet: train, testSet: test, epochs: 2)
    try extended.run(outputDirectory: nil)
    var longer = options
    longer.epochs = 2
    let whole = try Trainer(options: longer, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)
    // Epoch 2's last rate is the 2-epoch cycle's end; epoch 1's ended the 1-epoch cycle.
    #expect(extended.history[1].learningRate == whole.history[1].learningRate)
    #expect(extended.history[0].learningRate == first.history[0].learningRate)
    #expect(extended.history[0].learningRate != whole.history[0].learningRate)
}

@Test("an augmented run stopped mid-epoch resumes exactly, keeps its ranges, and differs from the plain run")
func augmentedResumeIsExact() throws {
    var (options, train, test) = try smallRun()
    let plain = try Trainer(options: options, trainSet: train, testSet: test)
    try plain.run(outputDirectory: nil)
    options.augmentation = AffineAugmentation(rotation: 12, shift: 2.5, minimumScale: 0.85, maximumScale: 1.1, shear: 8)
    let whole = try Trainer(options: options, trainSet: train, testSet: test)
    try whole.run(outputDirectory: nil)
    #expect(whole.network != plain.network, "augmentation changed nothing")

    let folder = temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let first = try Trainer(options: options, trainSet: train, testSet: test)
    var asked = 0
    #expect(try first.run(outputDirectory: folder, saveEvery: 3600, stopRequested: {
        asked += 1
        return asked == 9
    }) == .stopped(epoch: 2, batchesDone: 2))
    #expect(try Trainer.savedOptions(in: folder).augmentation == options.augmentation)
    let resumed = try Trainer.resume(from: folder, trainSet: train, testSet: test)
    #expect(resumed.options.augmentation == options.augmentation)
    #expect(try resumed.run(outputDirectory: folder) == .finished)
    #expect(resumed.network == whole.network, "resumed weights differ from the uninterrupted run")
    #expect(untimed(resumed.history) == untimed(whole.history))
}

@Test("the GEMM backend choice is saved with the options; options saved before it existed read as nil (OpenBLAS)")
func gemmBackendChoiceSavedWithTheOptions() throws {
    var options = TrainingOptions()
    options.gemmBackend = .forced(.libxsmm)
    let data = try JSONEncoder().encode(options)
    let text = String(decoding: data, as: UTF8.self)
    #expect(text.contains("\"gemmBackend\":\"libxsmm\""), "\(text)")
    #expect(try JSONDecoder().decode(TrainingOptions.self, from: data).gemmBackend == .forced(.libxsmm))
    options.gemmBackend = .automatic
    #expect(try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(options)).gemmBackend == .automatic)

    var old = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    old["gemmBackend"] = nil
    let oldData = try JSONSerialization.data(withJSONObject: old)
    #expect(try JSONDecoder().decode(TrainingOptions.self, from: oldData).gemmBackend == nil)
    old["gemmBackend"] = "blis"
    #expect(throws: DecodingError.self) {
        try JSONDecoder().decode(TrainingOptions.self, from: JSONSerialization.data(withJSONObject: old))
    }
}
