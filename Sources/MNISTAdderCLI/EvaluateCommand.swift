// `mnist-adder evaluate`: the test metrics of a checkpoint, ours or PyTorch's.
import AdderNet
import ArgumentParser
import Foundation
import MNISTData

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test-set metrics of a checkpoint (written by mnist-adder or by PyTorch for the seed network).")

    @Option(help: "A model.safetensors file, or a run folder holding one. (default: the shipped model)") var checkpoint: String?
    @OptionGroup var testPass: TestPassOptions
    @Flag(help: "Print the metrics as JSON.") var json = false
    @OptionGroup var data: DataOptions

    struct Output: Encodable {
        let checkpoint: String
        let count: Int
        let classificationAccuracy: Double
        let additionAccuracy: Double
        let crossEntropy: Double
        let mse: Double
        let perDigitAccuracy: [Double?]
        let confusion: [[Int]]
    }

    func run() throws {
        let addendRange = try testPass.validated()
        let model = try loadModel(checkpoint)
        let (network, url) = (model.network, model.url)
        let test = try AdderDataset.load(.test, from: data.directory, addendRange: addendRange, seed: 0)
        let e = try namingCheckpoint(url) {
            try evaluate(network, on: test, engine: AdderEngine(threads: testPass.threads), batchSize: testPass.batchSize)
        }
        if json {
            print(try prettyJSON(Output(
                checkpoint: checkpoint ?? url.path, count: e.count, classificationAccuracy: e.classificationAccuracy,
                additionAccuracy: e.additionAccuracy, crossEntropy: e.crossEntropy, mse: e.mse,
                perDigitAccuracy: e.perDigitAccuracy, confusion: e.confusion)))
            return
        }
        print("Test set, \(e.count) images: classification accuracy \(percent(e.classificationAccuracy)), "
              + "addition accuracy \(percent(e.additionAccuracy))")
        print(String(format: "cross-entropy %.4f nats, MSE %.4f", e.crossEntropy, e.mse))
        print(perDigitTable(e))
    }
}
