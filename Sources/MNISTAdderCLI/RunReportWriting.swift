// The run's pictures and report.html, from `train` (after every epoch and at the end) and `report`.
import AdderNet
import AdderReport
import BuildInfo
import Foundation
import MNISTData

/// Writes the pictures and report.html of the run in `directory`: with `finished` (the final model's test
/// evaluation and the test set it ran on) the finished run's, without it a running run's progress page.
/// The version is the model checkpoint's `version` metadata when it has one, else "unknown". `stoppedNote`
/// (how to go on) marks a run stopped by a signal.
func writeRunReport(
    to directory: URL, history: [EpochRecord], options: TrainingOptions, threads: Int,
    finished: (evaluation: Evaluation, testSet: AdderDataset)? = nil, machineNote: String? = nil,
    stoppedNote: String? = nil
) throws {
    var results: TestResults?
    if let (evaluation, testSet) = finished {
        let shown = zip(evaluation.misclassified, evaluation.misclassifiedProbabilities)
            .prefix(RunReport.maximumMisclassifiedShown)
        let wrong = shown.map { index, probability in
            MisclassifiedDigit(
                testIndex: index, pixels: Array(testSet.mnist.image(at: index)),
                label: testSet.labels[index], predicted: evaluation.predictedDigits[index], probability: probability)
        }
        results = TestResults(
            confusion: evaluation.confusion, misclassifiedCount: evaluation.misclassified.count, misclassified: wrong)
    }
    let details = RunDetails(
        options: RunSetting.list(options), version: runVersion(in: directory),
        machine: .current(threads: threads), written: Date(), plannedEpochs: options.epochs,
        machineNote: machineNote, stoppedNote: stoppedNote)
    let report = try RunReport(
        title: "mnist-adder: \(directory.lastPathComponent)", history: history, results: results, details: details)
    try report.write(to: directory)
    if finished != nil, !SVGRasterizer.isAvailable {
        print("Pictures written as SVG only: this build has no librsvg to render their PNGs (it links it on Linux)")
    }
}

/// The `version` metadata of the run's model checkpoint; before the first epoch's checkpoint, this build's
/// version (the run is being made by it); "unknown" when the checkpoint records none.
private func runVersion(in directory: URL) -> String {
    let model = RunFolder(directory).model
    guard FileManager.default.fileExists(atPath: model.path) else { return BuildInfo.version }
    guard let (_, metadata) = try? Checkpoint.load(contentsOf: model),
          let version = metadata["version"], !version.isEmpty
    else { return "unknown" }
    return version
}
