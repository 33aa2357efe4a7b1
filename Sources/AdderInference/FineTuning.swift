// Teaching a trained network a person's handwriting (`mnist-adder finetune`): a few epochs of the same
// training loop (`Trainer`, started from the trained weights) on the person's digits, each shown several
// times, mixed with MNIST training images so that MNIST accuracy is kept; part of the person's digits is
// kept aside to say whether it helped. The calibration and the `unsure` thresholds are then fitted again
// (`CalibrationFit`), since the features they rest on moved.
import AdderNet
import Foundation
import MNISTData
import NNCore

/// The settings of a fine-tuning run; saved in the result's metadata.
public struct FineTuningOptions: Codable, Sendable, Equatable {
    /// Fraction of each digit's own images kept aside (never trained on), in [0, 0.9] (`StratifiedSplit`).
    public var heldOutFraction = 0.25
    /// Passes over the mixed training set.
    public var epochs = 3
    /// Times each own image appears in one epoch.
    public var repeats = 8
    /// MNIST training images mixed in per own image shown (so 1/(1 + this) of every batch is the person's).
    public var mnistPerImage = 3
    /// Images per optimizer step.
    public var batchSize = 64
    /// Peak learning rate of the one-cycle schedule (Adam), well under training's 3e-3.
    public var learningRate: Float = 1e-3
    /// Seeds the held-out split, the MNIST images drawn, the integers and the order of every epoch.
    public var seed: UInt64 = 0
    /// Worker threads (0: one per core).
    public var threads = 0
    /// MNIST training images the calibration's class means and covariance are computed on (with the own
    /// training images).
    public var calibrationImages = 10_000

    /// The defaults.
    public init() {}

    /// Throws `TrainingError.invalidOption` naming the first setting out of range (by its command-line name).
    public func validate() throws {
        func bad(_ name: String, _ expected: String, _ found: String) -> TrainingError {
            .invalidOption(name: name, expected: expected, found: found)
        }
        guard heldOutFraction.isFinite, heldOutFraction > 0, heldOutFraction <= 0.9 else {
            throw bad("held-out", "a fraction in (0, 0.9]", "\(heldOutFraction)")
        }
        guard (1...1000).contains(epochs) else { throw bad("epochs", "1...1000", "\(epochs)") }
        guard (1...1000).contains(repeats) else { throw bad("repeat", "1...1000", "\(repeats)") }
        guard (0...1000).contains(mnistPerImage) else { throw bad("mnist-per-image", "0...1000", "\(mnistPerImage)") }
        guard batchSize >= 1 else { throw bad("batch-size", "at least 1", "\(batchSize)") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("learning-rate", "a positive number", "\(learningRate)") }
        try TrainingOptions.checkThreads(threads)
        guard calibrationImages >= 1 else { throw bad("calibration-images", "at least 1", "\(calibrationImages)") }
    }
}

/// A person's digits that cannot be fine-tuned on.
public enum FineTuningError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Keeping `fraction` of each digit aside leaves none aside (every digit has fewer than 2 images, or
    /// the fraction rounds to 0 for all).
    case nothingHeldOut(images: Int, fraction: Double)

    /// One line naming what was expected and found.
    public var description: String {
        switch self {
        case .nothingHeldOut(let images, let fraction):
            "--held-out \(fraction) keeps none of the \(images) images aside, expected at least one: give a digit at "
                + "least 2 images, or raise --held-out"
        }
    }
}

/// Accuracy on the images kept aside and on the MNIST test set, at one moment (before or after).
public struct FineTuningFigures: Codable, Sendable, Equatable {
    /// Own images kept aside whose digit was right.
    public var heldOutCorrect: Int
    /// Own images kept aside.
    public var heldOutCount: Int
    /// MNIST test images whose digit was right.
    public var mnistTestCorrect: Int
    /// MNIST test images.
    public var mnistTestCount: Int
    /// Fraction of MNIST test images whose rounded sum was right.
    public var mnistTestAdditionAccuracy: Double
    /// Held-out images flagged `unsure` by the network's calibration (nil without one).
    public var heldOutUnsure: Int?

    /// `heldOutCorrect / heldOutCount`.
    public var heldOutAccuracy: Double { Double(heldOutCorrect) / Double(max(1, heldOutCount)) }
    /// `mnistTestCorrect / mnistTestCount`.
    public var mnistTestAccuracy: Double { Double(mnistTestCorrect) / Double(max(1, mnistTestCount)) }
}

/// What a fine-tuning run did and how it went; stored as JSON in the result's `finetune` metadata.
public struct FineTuningReport: Codable, Sendable, Equatable {
    /// The settings.
    public var options: FineTuningOptions
    /// Own images trained on (each shown `repeats` times per epoch).
    public var ownTraining: Int
    /// Own images kept aside.
    public var ownHeldOut: Int
    /// MNIST training images mixed in.
    public var mnistMixed: Int
    /// Images in one epoch: `ownTraining · repeats + mnistMixed`.
    public var imagesPerEpoch: Int
    /// Before fine-tuning (the base network).
    public var before: FineTuningFigures
    /// After fine-tuning and calibrating.
    public var after: FineTuningFigures
    /// Wall-clock seconds of the training loop (without the evaluations and the calibration).
    public var trainSeconds: Double
    /// The epochs' metrics; their test figures are those of the held-out own images.
    public var history: [EpochRecord]
    /// The calibration fitted after training.
    public var calibration: CalibrationReport
}

/// The network, calibration and report of a fine-tuning run.
public struct FineTuningResult: Sendable {
    /// The fine-tuned network.
    public var network: AdderNetwork
    /// Its calibration, fitted again.
    public var calibration: Calibration
    /// What happened.
    public var report: FineTuningReport
    /// Which own images were trained on and which kept aside (indices into the own set).
    public var split: StratifiedSplit
}

/// Fine-tuning a trained network on a person's digits.
public enum FineTuning {
    /// The mixed training set: every own image `options.repeats` times, then
    /// `own.count · repeats · mnistPerImage` MNIST images drawn from `mnist` without replacement by the seed
    /// (all of them when there are fewer), with integers in `addendRange` drawn from the seed. The order within
    /// does not matter: the training loop shuffles each epoch. Throws `MNISTError.invalidAddendRange`.
    public static func trainingSet(
        own: MNIST, mnist: MNIST, options: FineTuningOptions, addendRange: ClosedRange<Int>
    ) throws -> AdderDataset {
        let shown = own.count * options.repeats
        let mixed = mnist.randomSample(shown * options.mnistPerImage, seed: options.seed)
        let parts = [MNIST](repeating: own, count: options.repeats) + [mixed]
        return try AdderDataset(MNIST.concatenating(parts), split: .train, addendRange: addendRange, seed: options.seed)
    }

    /// Fine-tunes `base` on `own` (a person's digits) mixed with MNIST training images.
    ///
    /// Steps: `own` is split by `StratifiedSplit(fraction: heldOutFraction, seed:)`; the base network is scored
    /// on the held-out images and on `mnistTest`; `Trainer` (Adam, one-cycle schedule peaking at `learningRate`,
    /// the loss weights of `baseOptions`, a fresh optimizer state) runs `epochs` epochs on `trainingSet` from
    /// `base`'s weights, its test set being the held-out images; the calibration is fitted again
    /// (`CalibrationFit.fit`: class means and covariance on the own training images and `calibrationImages`
    /// of `mnistTraining`, temperature and thresholds on `mnistValidation`); the result is scored as before.
    /// - Parameters:
    ///   - base: the trained network (its description must be the built-in `baseOptions.model`).
    ///   - baseCalibration: the base's calibration, for the held-out images flagged `unsure` before (nil: not counted).
    ///   - baseOptions: the base run's options (model, loss weights, integer range).
    ///   - own: the person's digits, e.g. `ImageFolder.mnist()`.
    ///   - mnistTraining: MNIST training images to mix in, none of `mnistValidation`'s.
    ///   - mnistValidation: MNIST images the base never trained on (its validation set), for the calibration.
    ///   - mnistTest: the MNIST test set, only reported on.
    ///   - onEvent: the training loop's events.
    /// - Throws: `FineTuningError.nothingHeldOut`, `TrainingError` (options, a diverged run), `EmptyDatasetError`,
    ///   `NonFiniteForwardError`, `CalibrationError.malformed`, `MNISTError`.
    public static func run(
        base: AdderNetwork, baseCalibration: Calibration?, baseOptions: TrainingOptions, own: MNIST,
        mnistTraining: MNIST, mnistValidation: AdderDataset, mnistTest: AdderDataset, options: FineTuningOptions,
        onEvent: (TrainingEvent) -> Void = { _ in }
    ) throws -> FineTuningResult {
        try options.validate()
        let split = StratifiedSplit(labels: own.labels.map(Int.init), fraction: options.heldOutFraction, seed: options.seed)
        guard !split.heldOut.isEmpty else {
            throw FineTuningError.nothingHeldOut(images: own.count, fraction: options.heldOutFraction)
        }
        let range = baseOptions.addendRange
        let ownTraining = own.subset(split.training)
        let heldOut = try AdderDataset(own.subset(split.heldOut), split: .test, addendRange: range, seed: options.seed)
        let engine = AdderEngine(threads: options.threads)
        let before = try figures(base, calibration: baseCalibration, heldOut: heldOut, test: mnistTest, engine: engine)

        var training = TrainingOptions()
        training.model = baseOptions.model
        training.epochs = options.epochs
        training.batchSize = options.batchSize
        training.learningRate = options.learningRate
        training.optimizer = .adam
        training.schedule = .onecycle
        training.seed = options.seed
        training.lossWeights = baseOptions.lossWeights
        training.addendRange = range
        training.threads = options.threads
        training.algorithms = baseOptions.algorithms
        let trainSet = try trainingSet(own: ownTraining, mnist: mnistTraining, options: options, addendRange: range)
        let trainer = try Trainer(options: training, trainSet: trainSet, testSet: heldOut, startingFrom: base)
        try trainer.run(outputDirectory: nil, onEvent: onEvent)
        let network = trainer.network

        let calibrationSet = try AdderDataset(
            MNIST.concatenating([ownTraining, mnistTraining.randomSample(options.calibrationImages, seed: options.seed)]),
            split: .train, addendRange: range, seed: options.seed)
        let (calibration, calibrationReport) = try CalibrationFit.fit(
            network, engine: engine, training: calibrationSet, validation: mnistValidation)
        let after = try figures(network, calibration: calibration, heldOut: heldOut, test: mnistTest, engine: engine)
        let report = FineTuningReport(
            options: options, ownTraining: ownTraining.count, ownHeldOut: heldOut.count,
            mnistMixed: trainSet.count - ownTraining.count * options.repeats, imagesPerEpoch: trainSet.count,
            before: before, after: after, trainSeconds: trainer.history.reduce(0) { $0 + $1.trainSeconds },
            history: trainer.history, calibration: calibrationReport)
        return FineTuningResult(network: network, calibration: calibration, report: report, split: split)
    }

    /// Digits right on the held-out images and on the test set, and held-out images flagged `unsure`.
    static func figures(
        _ network: AdderNetwork, calibration: Calibration?, heldOut: AdderDataset, test: AdderDataset,
        engine: AdderEngine
    ) throws -> FineTuningFigures {
        let held = try CalibrationFit.scores(network, on: heldOut, engine: engine)
        let classes = AdderNetwork.classes
        var correct = 0, unsure = 0
        for (i, label) in held.labels.enumerated() {
            let logits = held.logits[(i * classes)..<((i + 1) * classes)]
            if argmax(logits) == label { correct += 1 }
            if let calibration, calibration.assess(logits: logits, pooledFeatures: held.pooledFeatures[i]).unsure { unsure += 1 }
        }
        let e = try evaluate(network, on: test, engine: engine)
        let testCorrect = (0..<classes).reduce(0) { $0 + e.confusion[$1][$1] }
        return FineTuningFigures(
            heldOutCorrect: correct, heldOutCount: held.labels.count, mnistTestCorrect: testCorrect,
            mnistTestCount: e.count, mnistTestAdditionAccuracy: e.additionAccuracy, heldOutUnsure: calibration == nil ? nil : unsure)
    }

    /// The index of the largest value (the first on a tie), as the network's digit.
    private static func argmax(_ values: ArraySlice<Float>) -> Int {
        var best = values.startIndex
        for i in values.indices where values[i] > values[best] { best = i }
        return best - values.startIndex
    }
}
