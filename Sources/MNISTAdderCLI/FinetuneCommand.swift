// `mnist-adder finetune`: teaches a trained model a person's handwriting from a folder of their digits
// (ImageFolder layout, as `serve --collect` writes it), keeping MNIST accuracy, and writes a run folder
// that predict, serve and evaluate take.
import AdderInference
import AdderNet
import ArgumentParser
import BuildInfo
import Foundation
import MNISTData
import NNCore

struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Teach a model your handwriting from a folder of your digits, keeping its MNIST accuracy.",
        discussion: """
            --image-folder DIR holds class folders named 0 to 9 of PNG or JPEG images (as serve --collect writes \
            them), each prepared as predict prepares a file. A part of each digit's images (--held-out) is kept \
            aside, chosen by --seed; the rest is trained on for a few epochs, each image --repeat times per epoch, \
            mixed with --mnist-per-image MNIST training images per image shown, so MNIST accuracy is kept. The \
            base run's validation images are never trained on: the calibration and the unsure thresholds are \
            fitted again on them. Accuracy on the held-out images and on the MNIST test set is printed before and \
            after. The output folder's model.safetensors is a normal checkpoint (predict, serve, evaluate, \
            summary, export); finetune.json there holds the report.
            """)

    @Option(help: "The model to start from: a model.safetensors file or a run folder. (default: the shipped model)")
    var checkpoint: String?
    @Option(help: "Your digits: class folders 0 to 9 of PNG or JPEG images.") var imageFolder: String
    @Option(help: "Folder for the fine-tuned model and its report. (default: runs/finetune-<date-time>)") var output: String?
    @Option(parsing: .unconditional, help: "Fraction of each digit's images kept aside to measure on.")
    var heldOut = FineTuningOptions().heldOutFraction
    @Option(parsing: .unconditional, help: "Passes over the mixed training set.") var epochs = FineTuningOptions().epochs
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Times each of your images is shown per epoch.")
    var repeats = FineTuningOptions().repeats
    @Option(parsing: .unconditional, help: "MNIST training images mixed in per image of yours shown.")
    var mnistPerImage = FineTuningOptions().mnistPerImage
    @Option(parsing: .unconditional, help: "Images per optimizer step.") var batchSize = FineTuningOptions().batchSize
    @Option(parsing: .unconditional, help: "Peak learning rate (Adam, one-cycle).") var learningRate = FineTuningOptions().learningRate
    @Option(parsing: .unconditional, help: "Seeds the held-out choice, the MNIST images mixed in and the order.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "Worker threads, 0 for one per core.") var threads = 0
    @Flag(help: "Print the report as JSON on standard output; the other lines go to standard error.") var json = false
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var data: DataOptions

    /// The validation images kept aside from MNIST's training split when the base run kept none.
    static let fallbackValidation = 5000

    func run() throws {
        var options = FineTuningOptions()
        options.heldOutFraction = heldOut
        options.epochs = epochs
        options.repeats = repeats
        options.mnistPerImage = mnistPerImage
        options.batchSize = batchSize
        options.learningRate = learningRate
        options.seed = seed
        options.threads = threads
        try options.validate()
        let maximumPixels = try imageOptions.validated()
        let say: (String) -> Void = json ? { printError($0) } : { print($0) }
        let started = Date()

        let model = try loadModel(checkpoint)
        var baseOptions = try Self.baseOptions(model)
        let outputDirectory = URL(fileURLWithPath: output ?? Self.defaultOutput())
        try TrainCommand.checkHoldsNoRun(outputDirectory)
        let folder = try readImageFolder(imageFolder, maximumPixels: maximumPixels)

        // The base run's split of MNIST's training images: its validation images were never trained on.
        if baseOptions.validation == nil {
            baseOptions.validation = Self.fallbackValidation
            printError("note: \(model.label) kept no validation images; the calibration is fitted on "
                + "\(Self.fallbackValidation) MNIST training images chosen by its seed \(baseOptions.seed), which it was trained on")
        }
        let (mnistTraining, mnistValidation) = try Self.mnistSplit(baseOptions, from: data.directory)
        let test = try AdderDataset.load(.test, from: data.directory, addendRange: baseOptions.addendRange, seed: 0)
        try TrainCommand.checkWritable(outputDirectory)

        let counts = folder.classCounts.enumerated().filter { $0.element > 0 }.map { "\($0.offset): \($0.element)" }
        say("Fine-tuning \(model.label) on \(folder.samples.count) images of \(imageFolder) (\(counts.joined(separator: ", "))), "
            + "\(percent(heldOut)) of each digit kept aside, seed \(seed)")
        let result = try namingCheckpoint(model.url) {
            try FineTuning.run(
                base: model.network, baseCalibration: model.calibration, baseOptions: baseOptions, own: folder.mnist(),
                mnistTraining: mnistTraining, mnistValidation: mnistValidation, mnistTest: test, options: options
            ) { event in
                guard case .epoch(let r) = event else { return }
                say(String(format: "epoch %d/%d  loss %.4f  train %@  held-out %@  %.1f s", r.epoch, epochs, r.loss,
                           percent(r.trainClassificationAccuracy), percent(r.testClassificationAccuracy), r.trainSeconds))
            }
        }
        let report = result.report
        try writeRun(result, baseOptions: baseOptions, base: model, to: outputDirectory)
        let seconds = Date().timeIntervalSince(started)
        if json {
            print(try prettyJSON(report))
        }
        say("Each epoch: \(report.ownTraining) of your images × \(options.repeats) and \(report.mnistMixed) MNIST images")
        say(Self.table(report))
        say(String(format: "Calibrated again on %d MNIST validation images: temperature %.4f", report.calibration.validationImages,
                   report.calibration.temperature))
        say(String(format: "Time: %.1f s in all (%.1f s training)", seconds, report.trainSeconds))
        say("Wrote \(RunFolder(outputDirectory).model.path) and finetune.json")
        say("Use it with: \(invokedProgram) predict --checkpoint \(shellQuoted(outputDirectory.path)) --image FILE")
    }

    /// Before and after, on the held-out images (with their Wilson intervals) and the MNIST test set.
    static func table(_ report: FineTuningReport) -> String {
        func cell(_ correct: Int, _ count: Int) -> String {
            let interval = (try? Statistics.wilsonInterval(successes: correct, trials: count)).map {
                String(format: " [%.1f, %.1f]", $0.lower * 100, $0.upper * 100)
            } ?? ""
            return (percent(Double(correct) / Double(max(1, count))) + interval).leftPadded(to: 22)
        }
        let (b, a) = (report.before, report.after)
        var lines = [
            "accuracy (95% Wilson interval)".padding(toLength: 34, withPad: " ", startingAt: 0)
                + "before".leftPadded(to: 22) + "after".leftPadded(to: 22),
            "your held-out images (\(b.heldOutCount))".padding(toLength: 34, withPad: " ", startingAt: 0)
                + cell(b.heldOutCorrect, b.heldOutCount) + cell(a.heldOutCorrect, a.heldOutCount),
            "MNIST test set (\(b.mnistTestCount))".padding(toLength: 34, withPad: " ", startingAt: 0)
                + cell(b.mnistTestCorrect, b.mnistTestCount) + cell(a.mnistTestCorrect, a.mnistTestCount),
        ]
        if let before = b.heldOutUnsure, let after = a.heldOutUnsure {
            lines.append("held-out images flagged unsure".padding(toLength: 34, withPad: " ", startingAt: 0)
                + "\(before)".leftPadded(to: 22) + "\(after)".leftPadded(to: 22))
        }
        return lines.joined(separator: "\n")
    }

    /// The base run's training options from its metadata, or for a checkpoint without them (a PyTorch file)
    /// the defaults with its network and the integer range its metadata gives.
    static func baseOptions(_ model: LoadedModel) throws -> TrainingOptions {
        if let text = model.metadata["options"] {
            guard let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(text.utf8)) else {
                throw CommandError("\(model.url.path): its 'options' metadata cannot be read, expected the training options "
                    + "of a mnist-adder run", status: .dataError)
            }
            return options
        }
        var options = TrainingOptions()
        options.model = model.network.model.name
        options.addendRange = try trainedAddendRange(model.metadata, checkpoint: model.url)
        return options
    }

    /// MNIST's training images of the base run (its `limit`) without its validation images, and those.
    static func mnistSplit(_ o: TrainingOptions, from directory: URL?) throws -> (MNIST, AdderDataset) {
        let mnist = try MNIST.load(.train, from: directory, limit: o.limit)
        let sets = try AdderDataset.splitting(
            mnist, validation: o.validation ?? fallbackValidation, addendRange: o.addendRange, seed: o.seed)
        return (sets.training.mnist, sets.validation)
    }

    /// Writes `model.safetensors` (the network, its calibration tensors, the base run's options so `calibrate`
    /// rebuilds the same validation set, and the report under `finetune`) and `finetune.json`.
    private func writeRun(_ result: FineTuningResult, baseOptions: TrainingOptions, base: LoadedModel, to directory: URL) throws {
        let report = result.report
        var metadata: [String: String] = [
            "format": Checkpoint.formatName,
            "epoch": String(report.options.epochs),
            "options": try JSONOutput.string(baseOptions),
            Checkpoint.addendRangeKey: Checkpoint.addendRangeText(baseOptions.addendRange),
            "seed": String(seed),
            "finetune": try JSONOutput.string(report),
            "finetune_base": base.label,
            Trainer.versionKey: BuildInfo.version,
        ]
        if var last = report.history.last {
            // `metrics` are the MNIST test set's, as for a trained run (the epochs' test figures were the held-out images').
            last.testClassificationAccuracy = report.after.mnistTestAccuracy
            last.testAdditionAccuracy = report.after.mnistTestAdditionAccuracy
            metadata["metrics"] = try JSONOutput.string(last)
        }
        let folder = RunFolder(directory)
        try Safetensors.writeAtomically(
            Checkpoint.encode(result.network, metadata: metadata, extra: result.calibration.tensors), to: folder.model)
        do {
            try Data((try prettyJSON(report) + "\n").utf8).write(
                to: directory.appendingPathComponent("finetune.json"), options: .atomic)
        } catch let error as CommandError {
            throw error
        } catch {
            throw TrainingError.cannotWrite(path: directory.appendingPathComponent("finetune.json").path, reason: error.localizedDescription)
        }
    }

    static func defaultOutput() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/finetune-" + formatter.string(from: Date())
    }
}
