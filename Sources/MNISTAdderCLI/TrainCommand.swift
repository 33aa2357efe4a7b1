// `mnist-adder train`: the seed's job, 10 epochs of cross-entropy + MSE on the bundled MNIST,
// then both accuracies on the 10,000 test images.
import AdderNet
import ArgumentParser
import BuildInfo
import DigitImage
import Foundation
import MNISTData
import NNCore

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the network and report both accuracies on the test set.",
        discussion: """
            With no options this is the seed's run on the bundled MNIST: 10 epochs, loss = cross-entropy + MSE. \
            After every epoch the model, the optimizer state and the history are written atomically into the \
            output folder, with pictures of the run (curves, confusion matrix, misclassified digits, report.html). \
            During an epoch the training state alone is written at least every --save-every seconds.

            Ctrl-C or SIGTERM finishes the step under way, saves the training state, prints the command that goes \
            on (mnist-adder train --resume DIR) and exits with 130 (Ctrl-C) or 143 (SIGTERM). A resumed run ends \
            bit-identical to one never stopped. A stop after the last step prints the commands that finish the run \
            (report, and calibrate for a --validation run) instead.

            --resume DIR --epochs N extends a run (finished or not) to N epochs in all. The learning-rate schedule \
            is then the one of a run started with N epochs, at the step the run has reached: constant is unchanged, \
            so the result is bit-identical to an N-epoch run; step moves its x0.1 drops to the thirds of the new \
            total, so the rate can go back up; onecycle stretches its cycle over the new total, so the rate goes \
            back up to where the longer cycle is at that step (still annealing to nearly 0 at the end).
            """)

    @Option(help: "The network: \(ModelDescription.builtIn.map(\.name).joined(separator: ", ")). (default: seed)") var model: String?
    @Option(parsing: .unconditional, help: "Passes over the training set. (default: \(Self.defaults.epochs))") var epochs: Int?
    @Option(parsing: .unconditional, help: "Images per optimizer step. (default: \(Self.defaults.batchSize))") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Learning rate, the peak of the one-cycle schedule. (default: \(Self.defaults.learningRate))") var learningRate: Float?
    @Option(help: "adam, adamw or sgd, Nesterov with momentum 0.9. (default: \(Self.defaults.optimizer.rawValue))") var optimizer: OptimizerKind?
    @Option(help: "onecycle, step or constant. (default: \(Self.defaults.schedule.rawValue))") var schedule: ScheduleKind?
    @Option(parsing: .unconditional, help: "L2 weight decay, decoupled for adamw. (default: \(Self.defaults.weightDecay))") var weightDecay: Float?
    @Option(parsing: .unconditional, help: "Seeds the weights, the integers and the shuffling. (default: \(Self.defaults.seed))") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Weights of cross-entropy and MSE in the loss, as CE,MSE. (default: \(Self.defaults.lossWeights.crossEntropy),\(Self.defaults.lossWeights.mse))") var lossWeights: String?
    @Option(parsing: .unconditional, help: "Range of the integer added to the digit, as LO...HI. (default: \(AddendRange(Self.defaults.addendRange).text))") var addendRange: AddendRange?
    @Option(parsing: .unconditional, help: "Train on the first N training images only, for quick runs. (default: all)") var limit: Int?
    @Option(parsing: .unconditional, help: "Evaluate on the first N test images only, for quick runs. (default: all)") var testLimit: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(
        "Keep N training images aside as a validation set, chosen by the seed, e.g. 5000. (default: none)",
        discussion: "They are never trained on; at the end the run is calibrated on them (temperature and the "
            + "unsure thresholds, as `mnist-adder calibrate` does)."))
    var validation: Int?
    @Option(parsing: .unconditional, help: "Worker threads, 0 for one per core. (default: one per core)") var threads: Int?
    @Flag(help: "Drop the last partial batch of each epoch.") var dropLast = false
    @Flag(help: ArgumentHelp(
        "Augment the training images: a random rotation, shift, scale and shear per image and epoch.",
        discussion: "Drawn from the seed, the epoch and the image's index (a resumed run sees the same images), "
            + "resampled bilinearly as torchvision's RandomAffine; the --augment-* options set the ranges."))
    var augment = false
    @Option(parsing: .unconditional, help: "With --augment, the largest rotation either way, in degrees. (default: \(Self.augmentDefaults.rotation))")
    var augmentRotation: Float?
    @Option(parsing: .unconditional, help: "With --augment, the largest shift along each axis, in pixels. (default: \(Self.augmentDefaults.shift))")
    var augmentShift: Float?
    @Option(parsing: .unconditional, help: "With --augment, the range of the scale factor, as LO...HI. (default: \(Self.augmentDefaults.minimumScale)...\(Self.augmentDefaults.maximumScale))")
    var augmentScale: String?
    @Option(parsing: .unconditional, help: "With --augment, the largest horizontal shear either way, in degrees. (default: \(Self.augmentDefaults.shear))")
    var augmentShear: Float?
    @Option(help: ArgumentHelp(
        "How the convolutions' algorithms are chosen: table (fixed per CPU kind) or measure. (default: table)",
        discussion: "measure times each convolution with each algorithm that fits it on this machine (cached in "
            + "~/.cache/mnist-adder/plans.json) and keeps the faster; the choice is saved with the run and --resume reuses it."))
    var plan: PlanChoice?
    @Option(help: "Folder for the checkpoint, history and pictures. (default: runs/<date-time>)") var output: String?
    @Option(help: "Continue the run saved in this folder, with its own options (of the training options only --epochs, to extend it).") var resume: String?
    @Option(parsing: .unconditional, help: "Seconds between saves of the training state during an epoch, 0 for after every step.")
    var saveEvery: Double = 60
    @Flag(help: "Print one JSON object per epoch on standard output; the other lines go to standard error.") var json = false
    @OptionGroup var data: DataOptions

    /// The options a run gets when none is given, shown in `--help` (the options are Optional here,
    /// so that `--resume` can tell which were given).
    static let defaults = TrainingOptions()
    /// The ranges `--augment` uses when no `--augment-*` option is given.
    static let augmentDefaults = AffineAugmentation()

    func run() throws {
        guard saveEvery.isFinite, (0...86_400).contains(saveEvery) else {
            throw TrainingError.invalidOption(name: "save-every", expected: "seconds in [0, 86400]", found: "\(saveEvery)")
        }
        // With --json, standard output holds the JSON lines alone.
        let say: (String) -> Void = json ? { printError($0) } : { print($0) }
        let trainer: Trainer
        let outputDirectory: URL
        var validationSet: AdderDataset?
        if let resume {
            let folder = URL(fileURLWithPath: resume)
            let saved = try Trainer.savedOptions(in: folder)
            let given = givenTrainingOptions().map(\.flag).filter { $0 != "--epochs" }
            guard given.isEmpty else {
                throw CommandError(
                    "--resume continues \(folder.path) with the options it was started with (\(saved.epochs) epochs, "
                        + "batch \(saved.batchSize), seed \(saved.seed)); remove \(given.joined(separator: ", ")), "
                        + "or start a new run without --resume (--epochs N is the one training option it takes)")
            }
            // The run's GEMM backend again (runs saved before there was a choice ran on OpenBLAS), before any GEMM.
            GEMMDispatch.choice = saved.gemmBackend ?? .forced(.openBLAS)
            let (train, test, held) = try loadData(saved)
            validationSet = held
            trainer = try Trainer.resume(from: folder, trainSet: train, testSet: test, epochs: epochs)
            outputDirectory = output.map { URL(fileURLWithPath: $0) } ?? folder
            if outputDirectory.standardizedFileURL.path != folder.standardizedFileURL.path {
                try Self.checkHoldsNoRun(outputDirectory)
            }
            guard !trainer.isFinished else {
                let done = trainer.completedEpochs
                throw CommandError(
                    "\(folder.path) is a finished run (\(done) of \(done) epochs), nothing to resume; to train it further "
                        + "give the new total: \(invokedProgram) train --resume \(shellQuoted(folder.path)) --epochs N (N > \(done))")
            }
            let position = trainer.progress.map {
                "in epoch \($0.epoch) of \(trainer.options.epochs) after batch \($0.batchesDone) of \(trainer.stepsPerEpoch)"
            } ?? "after epoch \(trainer.completedEpochs) of \(trainer.options.epochs)"
            let extended = trainer.options.epochs == saved.epochs ? ""
                : " (extended from \(saved.epochs) epochs; the \(saved.schedule.rawValue) schedule is now that of \(trainer.options.epochs))"
            say("Resuming \(folder.path) \(position)\(extended)")
        } else {
            let options = try makeOptions()
            try options.validate()
            let (train, test, held) = try loadData(options)
            validationSet = held
            trainer = try Trainer(options: options, trainSet: train, testSet: test)
            outputDirectory = URL(fileURLWithPath: output ?? Self.defaultOutput())
            try Self.checkHoldsNoRun(outputDirectory)
        }
        try Self.checkWritable(outputDirectory)
        trainer.version = BuildInfo.version
        let o = trainer.options
        let heldOut = validationSet.map { " (\($0.count) kept aside for validation)" } ?? ""
        say("Training \(trainer.network.model.name) (\(trainer.network.model.parameterCount) parameters) on \(trainer.trainSet.count) images\(heldOut), testing on \(trainer.testSet.count); "
              + "\(o.epochs) epochs, batch \(o.batchSize), \(o.optimizer.rawValue) \(o.schedule.rawValue) "
              + "lr \(o.learningRate), seed \(o.seed), \(trainer.engine.threads) threads, integers \(o.addendRange)"
              + (o.augmentation.map { ", augmented (\($0))" } ?? ""))
        let measured = o.algorithms.isEmpty ? "" : " (measured on this machine)"
        say("Plan\(measured): " + (try trainer.engine.plan(for: trainer.network.model, batch: trainer.trainingBatch, mode: .training).choicesText))
        say("GEMM: " + GEMMDispatch.choice.explanation + (resume != nil ? ", as the run was started" : ""))
        say("Winograd transforms: " + WinogradKernels.explanation)
        say("epoch   loss    train class  train add   test class  test add   seconds")
        let progress = ProgressBar(enabled: standardErrorIsTerminal, epochs: o.epochs)
        var history = trainer.history
        // The progress page; a failure to draw it must not stop the run, the checkpoint is written.
        func drawProgressPage() {
            do {
                try writeRunReport(to: outputDirectory, history: history, options: o, threads: trainer.engine.threads)
            } catch {
                printError("mnist-adder: report.html not updated: \(error)")
            }
        }
        // It exists from the start ("0 of N epochs done"), not only after the first epoch.
        if history.isEmpty { drawProgressPage() }
        let stop = StopRequest()
        stop.install()
        let outcome = try trainer.run(
            outputDirectory: outputDirectory, saveEvery: saveEvery, stopRequested: { stop.receivedSignal != nil }
        ) { event in
            switch event {
            case .batch(let epoch, let done, let total, let speed, let loss):
                progress.update(epoch: epoch, done: done, total: total, imagesPerSecond: speed, loss: loss)
            case .epoch(let r):
                progress.finished(r)
                history.append(r)
                drawProgressPage()
                let accuracies = [
                    r.trainClassificationAccuracy, r.trainAdditionAccuracy,
                    r.testClassificationAccuracy, r.testAdditionAccuracy,
                ].map { percent($0).leftPadded(to: 10) }.joined(separator: "  ")
                say(String(format: "%3d/%-3d ", r.epoch, o.epochs) + lossColumn(r.loss) + "  " + accuracies
                    + String(format: "  %7.1f", r.trainSeconds + r.testSeconds) + WarmUp.note(r))
                if json, let line = try? EpochJSON(r, epochs: o.epochs).line() { print(line) }
            }
        }
        if case .stopped(let epoch, let batchesDone) = outcome {
            progress.clear()
            let place = batchesDone.map { "in epoch \(epoch) after batch \($0) of \(trainer.stepsPerEpoch)" }
                ?? "after epoch \(epoch) of \(o.epochs)"
            say("Stopped \(place); the training state is saved in \(outputDirectory.path). Go on with:")
            say("  " + goOnCommand(outputDirectory))
            markStopped(outputDirectory, trainer: trainer, note: "Go on with: " + goOnCommand(outputDirectory))
            TrainStopExit.exitStopped(by: stop.receivedSignal ?? SIGINT)
        }
        // Every epoch is done and saved. A stop asked for since the last step (in the last epoch's test pass,
        // or in the test pass and report below) ends the run at the next of these checks, naming what is left.
        let folderWord = shellQuoted(outputDirectory.path)
        let calibrateStep = validationSet == nil ? [] : ["\(invokedProgram) calibrate --checkpoint \(folderWord)"]
        exitIfStopped(
            stop, in: outputDirectory, trainer: trainer, left: ["\(invokedProgram) report \(folderWord)"] + calibrateStep, say: say)
        let evaluation = try evaluate(trainer.network, on: trainer.testSet, engine: trainer.engine)
        let totalSeconds = trainer.history.reduce(0) { $0 + $1.trainSeconds + $1.testSeconds }
        say("")
        say("Test set, \(evaluation.count) images: classification accuracy \(percent(evaluation.classificationAccuracy)), "
              + "addition accuracy \(percent(evaluation.additionAccuracy))")
        say(perDigitTable(evaluation))
        say(String(format: "Time: %.1f s in all (%.1f s training, data waits %.2f s)", totalSeconds,
                   trainer.history.reduce(0) { $0 + $1.trainSeconds }, trainer.history.reduce(0) { $0 + $1.dataSeconds }))
        try writeRunReport(
            to: outputDirectory, history: trainer.history, options: o, threads: trainer.engine.threads,
            finished: (evaluation, trainer.testSet))
        exitIfStopped(stop, in: outputDirectory, trainer: trainer, left: calibrateStep, say: say)
        stop.uninstall()
        let model = RunFolder(outputDirectory).model
        if validationSet != nil {
            say("")
            let (network, metadata, url) = try loadCheckpoint(model.path)
            try calibrateCheckpoint(network: network, metadata: metadata, url: url, dataDirectory: data.directory, to: url)
        }
        say("Wrote \(model.path), history and report.html in \(outputDirectory.path)")
        say("Evaluate it again with: \(invokedProgram) evaluate --checkpoint \(shellQuoted(model.path))")
    }

    /// Ends the process with the signal's status when `stop` caught one after the last epoch was saved:
    /// says that the run is finished and lists the commands that do what was `left`.
    private func exitIfStopped(
        _ stop: StopRequest, in directory: URL, trainer: Trainer, left: [String], say: (String) -> Void
    ) {
        guard let signal = stop.receivedSignal else { return }
        let epochs = trainer.options.epochs
        let saved = "Stopped after the last epoch (\(epochs) of \(epochs)): the run is finished, its model saved in "
            + RunFolder(directory).model.path
        if left.isEmpty {
            say(saved + " with its report.")
        } else {
            say(saved + ". Do the rest with:")
            left.forEach { say("  " + $0) }
            markStopped(directory, trainer: trainer, note: "The run is finished; do the rest with: " + left.joined(separator: "; "))
        }
        TrainStopExit.exitStopped(by: signal)
    }

    /// Rewrites the run's report.html as stopped, with `note` (how to go on) in its status line, so that it
    /// no longer says the run is going; a failure says so on standard error and is not fatal.
    private func markStopped(_ directory: URL, trainer: Trainer, note: String) {
        do {
            try writeRunReport(
                to: directory, history: trainer.history, options: trainer.options, threads: trainer.engine.threads,
                stoppedNote: note)
        } catch {
            printError("mnist-adder: report.html not updated: \(error)")
        }
    }

    /// The command that continues the run saved in `directory`, with the options that are not saved in it.
    private func goOnCommand(_ directory: URL) -> String {
        var words = ["train", "--resume", directory.path]
        if let dataDir = data.dataDir { words += ["--data-dir", dataDir] }
        if saveEvery != 60 { words += ["--save-every", String(format: "%g", saveEvery)] }
        if json { words.append("--json") }
        return ([invokedProgram] + words.map(shellQuoted)).joined(separator: " ")
    }

    /// One training option given on the command line: its flag, and how it sets `TrainingOptions`.
    private typealias GivenOption = (flag: String, apply: (inout TrainingOptions) throws -> Void)

    /// The training options given on the command line, in the order of `--help`: the one list of
    /// them, which `makeOptions()` applies and `--resume` refuses (it continues a run with the
    /// options saved in it).
    private func givenTrainingOptions() -> [GivenOption] {
        func given<T>(_ flag: String, _ value: T?, _ set: @escaping (inout TrainingOptions, T) throws -> Void) -> GivenOption? {
            value.map { value in (flag, { try set(&$0, value) }) }
        }
        let options: [GivenOption?] = [
            given("--model", model) { $0.model = $1 },
            given("--epochs", epochs) { $0.epochs = $1 },
            given("--batch-size", batchSize) { $0.batchSize = $1 },
            given("--learning-rate", learningRate) { $0.learningRate = $1 },
            given("--optimizer", optimizer) { $0.optimizer = $1 },
            given("--schedule", schedule) { $0.schedule = $1 },
            given("--weight-decay", weightDecay) { $0.weightDecay = $1 },
            given("--seed", seed) { $0.seed = $1 },
            given("--loss-weights", lossWeights) { $0.lossWeights = try Self.parseLossWeights($1) },
            given("--addend-range", addendRange) { $0.addendRange = try $1.validated() },
            given("--limit", limit) { $0.limit = $1 },
            given("--test-limit", testLimit) { $0.testLimit = $1 },
            given("--validation", validation) { $0.validation = $1 },
            given("--threads", threads) { $0.threads = $1 },
            given("--drop-last", dropLast ? true : nil) { $0.dropLast = $1 },
            given("--augment", augment ? true : nil) { o, _ in o.augmentation = o.augmentation ?? AffineAugmentation() },
            given("--augment-rotation", augmentRotation) { o, degrees in try Self.tune(&o, "--augment-rotation") { $0.rotation = degrees } },
            given("--augment-shift", augmentShift) { o, pixels in try Self.tune(&o, "--augment-shift") { $0.shift = pixels } },
            given("--augment-scale", augmentScale) { o, text in
                let range = try Self.parseScale(text)
                try Self.tune(&o, "--augment-scale") { $0.minimumScale = range.lower; $0.maximumScale = range.upper }
            },
            given("--augment-shear", augmentShear) { o, degrees in try Self.tune(&o, "--augment-shear") { $0.shear = degrees } },
            given("--plan", plan) { o, choice in
                guard choice == .measure else { return }
                let model = try ModelDescription.named(o.model)
                let piece = AdderEngine.pieces(batch: max(1, o.batchSize), pieceSize: AdderEngine.defaultPieceSize).map(\.count).max() ?? 1
                let measured = try PlanMeasurement.cachedOrMeasured(model, pieceSize: piece)
                print("Plan measured on this machine\(measured.fromCache ? " (cached in \(PlanMeasurement.cacheFile.path))" : "")")
                o.algorithms = measured.choices
            },
        ]
        return options.compactMap { $0 }
    }

    private func makeOptions() throws -> TrainingOptions {
        var o = TrainingOptions()
        for option in givenTrainingOptions() { try option.apply(&o) }
        o.gemmBackend = GEMMDispatch.choice
        return o
    }

    /// `--loss-weights CE,MSE` as the two weights. Throws `TrainingError.invalidOption` for anything
    /// but two numbers.
    private static func parseLossWeights(_ text: String) throws -> LossWeights {
        let parts = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let ce = parts[0], let m = parts[1] else {
            throw TrainingError.invalidOption(name: "loss-weights", expected: "two numbers as CE,MSE", found: text)
        }
        return LossWeights(crossEntropy: ce, mse: m)
    }

    /// Changes the augmentation ranges set by `--augment` (applied before the `--augment-*` options); throws a
    /// usage error when `flag` comes without `--augment`.
    private static func tune(_ o: inout TrainingOptions, _ flag: String, _ change: (inout AffineAugmentation) -> Void) throws {
        guard var augmentation = o.augmentation else {
            throw CommandError("\(flag) sets a range of --augment, which is not given: add --augment or remove \(flag)")
        }
        change(&augmentation)
        o.augmentation = augmentation
    }

    /// `--augment-scale LO...HI` as its two bounds (checked against the limits by `TrainingOptions.validate`).
    private static func parseScale(_ text: String) throws -> (lower: Float, upper: Float) {
        let parts = text.components(separatedBy: "...").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let lower = parts[0], let upper = parts[1] else {
            throw TrainingError.invalidOption(name: "augment-scale", expected: "two numbers as LO...HI, e.g. 0.9...1.1", found: text)
        }
        return (lower, upper)
    }

    private func loadData(_ o: TrainingOptions) throws -> (AdderDataset, AdderDataset, AdderDataset?) {
        try loadRunData(o, from: data.directory)
    }

    /// Throws when `directory` already holds a run or a model this run would overwrite: its
    /// training state (continue it with `--resume`) or a `model.safetensors` of any origin.
    static func checkHoldsNoRun(_ directory: URL) throws {
        let run = RunFolder(directory)
        if run.holdsTrainingState {
            throw CommandError(
                "\(directory.path) already holds a training run: use --resume \(directory.path) to continue it, "
                    + "or another --output")
        }
        if run.holdsModel {
            throw CommandError(
                "\(directory.path) already holds a \(RunFolder.modelFile) that this run would overwrite: "
                    + "expected a new or empty --output folder")
        }
    }

    /// Creates `directory` if needed and writes and removes a probe file in it, so that an output folder
    /// that cannot be written fails before the first epoch instead of after it.
    static func checkWritable(_ directory: URL) throws {
        let probe = directory.appendingPathComponent(".mnist-adder-write-check-\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: probe)
            try FileManager.default.removeItem(at: probe)
        } catch {
            throw TrainingError.cannotWrite(
                path: directory.path, reason: "\(error.localizedDescription) (expected a folder this user can write)")
        }
    }

    static func defaultOutput() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/" + formatter.string(from: Date())
    }
}

extension OptimizerKind: ExpressibleByArgument {}
extension ScheduleKind: ExpressibleByArgument {}

/// `train --plan`: the algorithm table or a measurement on this machine.
enum PlanChoice: String, ExpressibleByArgument, CaseIterable {
    /// The table fixed per CPU kind (reproducible on any machine of that kind).
    case table
    /// Timed here, the faster algorithm per convolution.
    case measure
}
