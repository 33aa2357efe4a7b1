// `mnist-adder report RUN_DIR`: the pictures of an existing run.
import AdderNet
import ArgumentParser
import Foundation
import MNISTData

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Draw a run's pictures: curves, confusion matrix, misclassified digits and report.html.")

    @Argument(help: "A folder written by `mnist-adder train`.") var runDirectory: String
    @OptionGroup var data: DataOptions

    func run() throws {
        let run = RunFolder(URL(fileURLWithPath: runDirectory))
        let folder = run.url
        let historyURL = run.historyJSON
        guard let historyData = try? Data(contentsOf: historyURL) else {
            throw CommandError("\(folder.path) is not a training run: no readable \(RunFolder.historyJSONFile)", status: .noInput)
        }
        let history: [EpochRecord]
        do {
            history = try JSONDecoder().decode([EpochRecord].self, from: historyData)
        } catch {
            throw CommandError("\(historyURL.path) is not a history written by mnist-adder train: \(error)", status: .dataError)
        }
        let (network, metadata, _) = try loadCheckpoint(run.model.path)
        let options = (try? Trainer.savedOptions(in: folder)) ?? TrainingOptions()
        let test = try AdderDataset.load(
            .test, from: data.directory, limit: options.testLimit, addendRange: options.addendRange, seed: options.seed)
        let engine = AdderEngine(threads: options.threads)
        let evaluation = try evaluate(network, on: test, engine: engine)
        let note = "The machine above drew this report (mnist-adder report), not necessarily the one that trained; "
            + "the training's plan: \(metadata["plan"] ?? "not recorded")."
        try writeRunReport(
            to: folder, history: history, options: options, threads: engine.threads, finished: (evaluation, test),
            machineNote: note)
        print("Wrote curves, confusion matrix, misclassified digits and report.html in \(folder.path)")
    }
}
