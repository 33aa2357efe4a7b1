// `mnist-adder calibrate`: fits a run's calibration on the images it kept aside for validation
// (temperature, the "not a digit" and "two digits alike" thresholds) and writes it into the
// checkpoint; `train --validation N` does the same at its end. The test set only reports.
import AdderInference
import AdderNet
import ArgumentParser
import Foundation
import MNISTData
import NNCore

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit a run's calibration (temperature, unsure thresholds) on its validation images.",
        discussion: """
            The run must have been trained with --validation N: its options (seed, limit, integers) rebuild the \
            same validation set. Class means and covariances of the pooled features (the three layers before the \
            last) come from the training images, the temperature (NLL) and both thresholds from the validation images. The test set \
            only reports the expected calibration error (15 bins) before and after. The calibration is written \
            into the checkpoint as calibration.* tensors (replacing an earlier one), or into --output.
            """)

    @Option(help: "A model.safetensors file of a --validation run, or its run folder.") var checkpoint: String
    @Option(help: "Write the calibrated checkpoint here instead of replacing the given one. (default: the given one, replaced)") var output: String?
    @OptionGroup var data: DataOptions

    func run() throws {
        let (network, metadata, url) = try loadCheckpoint(checkpoint)
        let destination = output.map { URL(fileURLWithPath: $0) } ?? url
        try calibrateCheckpoint(network: network, metadata: metadata, url: url, dataDirectory: data.directory, to: destination)
    }
}

/// The training, test and (with `--validation`) validation sets of a run with options `o`: the
/// training set is then the rest of the training split (`ValidationSplit`).
func loadRunData(_ o: TrainingOptions, from directory: URL?) throws -> (AdderDataset, AdderDataset, AdderDataset?) {
    let test = try AdderDataset.load(.test, from: directory, limit: o.testLimit, addendRange: o.addendRange, seed: o.seed)
    guard let validation = o.validation else {
        let train = try AdderDataset.load(.train, from: directory, limit: o.limit, addendRange: o.addendRange, seed: o.seed)
        return (train, test, nil)
    }
    let mnist = try MNIST.load(.train, from: directory, limit: o.limit)
    let sets = try AdderDataset.splitting(mnist, validation: validation, addendRange: o.addendRange, seed: o.seed)
    return (sets.training, test, sets.validation)
}

/// What `calibrate` stores in the `calibration` metadata: the fit's report and the test set's
/// figures (measured after the fit, never used by it).
struct CalibrationRecord: Codable {
    var fit: CalibrationReport
    /// ECE (15 bins) of the test set at temperature 1, a fraction.
    var testECEBefore: Double
    /// ECE of the test set at the fitted temperature.
    var testECEAfter: Double
    /// Mean NLL of the test set at temperature 1 and at the fitted one, nats.
    var testNLLBefore: Double
    var testNLLAfter: Double
    /// Fraction of test digits flagged unsure, for either reason and for each.
    var testFlagged: Double
    var testFlaggedNotADigit: Double
    var testFlaggedTwoDigitsAlike: Double
}

/// Fits the calibration of `network` (read from `url` with `metadata`) on its run's validation set,
/// reports it with the test set's ECE before and after, and writes the checkpoint with the
/// calibration to `destination` (atomically). Throws `CalibrationError.noValidationSet` for a run
/// without one, `CommandError` for unreadable options.
func calibrateCheckpoint(
    network: AdderNetwork, metadata: [String: String], url: URL, dataDirectory: URL?, to destination: URL
) throws {
    guard let optionsText = metadata["options"],
          let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(optionsText.utf8))
    else {
        throw CommandError(
            "\(url.path): no readable training options in its metadata, expected a checkpoint of `mnist-adder train --validation N`",
            status: .dataError)
    }
    let (train, test, held) = try loadRunData(options, from: dataDirectory)
    guard let validation = held else { throw CalibrationError.noValidationSet(checkpoint: url.path) }
    let engine = AdderEngine()
    print("Calibrating \(url.path): means and covariances on \(train.count) training images, temperature and thresholds on \(validation.count) validation images")
    let (calibration, report) = try namingCheckpoint(url) {
        try CalibrationFit.fit(network, engine: engine, training: train, validation: validation)
    }
    let scores = try namingCheckpoint(url) { try CalibrationFit.scores(network, on: test, engine: engine) }
    let classes = AdderNetwork.classes
    var raw: [Float] = [], scaled: [Float] = []
    var notADigit = 0, alike = 0
    for i in scores.labels.indices {
        let logits = scores.logits[(i * classes)..<((i + 1) * classes)]
        raw += TemperatureScaling.probabilities(logits, temperature: 1)
        let verdict = calibration.assess(logits: logits, pooledFeatures: scores.pooledFeatures[i])
        scaled += verdict.probabilities
        if verdict.reason == .notADigit { notADigit += 1 }
        if verdict.reason == .twoDigitsAlike { alike += 1 }
    }
    let n = Double(max(1, scores.labels.count))
    let record = CalibrationRecord(
        fit: report,
        testECEBefore: TemperatureScaling.expectedCalibrationError(probabilities: raw, labels: scores.labels),
        testECEAfter: TemperatureScaling.expectedCalibrationError(probabilities: scaled, labels: scores.labels),
        testNLLBefore: TemperatureScaling.negativeLogLikelihood(logits: scores.logits, labels: scores.labels, temperature: 1),
        testNLLAfter: TemperatureScaling.negativeLogLikelihood(
            logits: scores.logits, labels: scores.labels, temperature: Double(calibration.temperature)),
        testFlagged: Double(notADigit + alike) / n, testFlaggedNotADigit: Double(notADigit) / n,
        testFlaggedTwoDigitsAlike: Double(alike) / n)
    print(String(format: "Temperature %.4f (validation NLL %.4f → %.4f nats; validation accuracy %@)",
                 report.temperature, report.validationNLLBefore, report.validationNLLAfter, percent(report.validationAccuracy)))
    print(String(format: "Thresholds: not a digit above squared Mahalanobis distance %.2f (%.1f%% of validation digits below), "
                 + "two digits alike below a top-two margin of %.4f (%.1f%% of validation digits below)",
                 calibration.distanceThreshold, report.distanceQuantile * 100, calibration.marginThreshold, report.marginQuantile * 100))
    print("Validation digits flagged unsure: \(percent(report.validationFlagged))")
    print(String(format: "Test set (reported only): ECE (15 bins) %.4f → %.4f, NLL %.4f → %.4f nats; ",
                 record.testECEBefore, record.testECEAfter, record.testNLLBefore, record.testNLLAfter)
          + "digits flagged unsure \(percent(record.testFlagged)) (not a digit \(percent(record.testFlaggedNotADigit)), "
          + "two digits alike \(percent(record.testFlaggedTwoDigitsAlike)))")
    var updated = metadata
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    updated["calibration"] = String(decoding: try encoder.encode(record), as: UTF8.self)
    try Safetensors.writeAtomically(
        Checkpoint.encode(network, metadata: updated, extra: calibration.tensors), to: destination)
    print("Wrote the calibrated checkpoint \(destination.path)")
}
