// `mnist-adder evaluate`: the test metrics of a checkpoint, ours or PyTorch's, on the MNIST test set or
// on a folder of a person's own digits (`--image-folder`).
import AdderInference
import AdderNet
import ArgumentParser
import Foundation
import MNISTData

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test-set metrics of a checkpoint (written by mnist-adder or by PyTorch for the seed network).",
        discussion: """
            By default the MNIST test set (--data-dir for other IDX files). --image-folder DIR scores your own \
            digits instead: DIR holds class folders named 0 to 9 (as serve --collect writes them; nested folders \
            allowed) of PNG or JPEG images, each prepared as predict prepares a file; anything else in DIR is \
            ignored with a note. Accuracy comes with its 95% Wilson interval, then the per-digit table and the \
            confusion matrix.
            """)

    @Option(help: "A model.safetensors file, or a run folder holding one. (default: the shipped model)") var checkpoint: String?
    @Option(help: "A folder of your own digits: class folders 0 to 9 of PNG or JPEG images. (default: the MNIST test set)")
    var imageFolder: String?
    @OptionGroup var testPass: TestPassOptions
    @Flag(help: "Print the metrics as JSON.") var json = false
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var data: DataOptions

    /// An image of the folder whose digit was predicted wrong.
    struct Mistake: Encodable {
        /// The file, relative to the folder.
        let path: String
        let label: Int
        let predicted: Int
    }

    struct Output: Encodable {
        let checkpoint: String
        /// "MNIST test set" or the image folder's path.
        let source: String
        let count: Int
        let classificationAccuracy: Double
        /// The 95% Wilson score interval of `classificationAccuracy`.
        let classificationInterval95: ProportionInterval
        let additionAccuracy: Double
        let crossEntropy: Double
        let mse: Double
        let perDigitAccuracy: [Double?]
        let confusion: [[Int]]
        /// With --image-folder: the images predicted wrong, the entries ignored and the blank images.
        let misclassified: [Mistake]?
        let ignored: [String]?
        let blank: [String]?
    }

    func run() throws {
        let range = try testPass.validated()
        let maximumPixels = try imageOptions.validated()
        let model = try loadModel(checkpoint)
        let (network, url) = (model.network, model.url)
        let folder = try imageFolder.map { try readImageFolder($0, maximumPixels: maximumPixels) }
        let test = try folder.map { try imageFolderDataset($0, addendRange: range) }
            ?? AdderDataset.load(.test, from: data.directory, addendRange: range, seed: 0)
        let e = try namingCheckpoint(url) {
            try evaluate(network, on: test, engine: AdderEngine(threads: testPass.threads), batchSize: testPass.batchSize)
        }
        let correct = (0..<AdderNetwork.classes).reduce(0) { $0 + e.confusion[$1][$1] }
        let mistakes = folder.map { f in
            e.misclassified.map { Mistake(path: f.samples[$0].path, label: f.samples[$0].label, predicted: e.predictedDigits[$0]) }
        }
        let source = imageFolder ?? "MNIST test set"
        if json {
            print(try prettyJSON(Output(
                checkpoint: checkpoint ?? url.path, source: source, count: e.count,
                classificationAccuracy: e.classificationAccuracy,
                classificationInterval95: try Statistics.wilsonInterval(successes: correct, trials: e.count),
                additionAccuracy: e.additionAccuracy, crossEntropy: e.crossEntropy, mse: e.mse,
                perDigitAccuracy: e.perDigitAccuracy, confusion: e.confusion, misclassified: mistakes,
                ignored: folder?.ignored, blank: folder?.blank)))
            return
        }
        let name = folder == nil ? "Test set" : "Image folder \(source)"
        print("\(name), \(e.count) images: classification accuracy \(accuracyWithInterval(correct: correct, count: e.count)), "
              + "addition accuracy \(percent(e.additionAccuracy))")
        print(String(format: "cross-entropy %.4f nats, MSE %.4f", e.crossEntropy, e.mse))
        print(perDigitTable(e))
        print(confusionTable(e.confusion))
        if let mistakes, !mistakes.isEmpty {
            let shown = mistakes.prefix(20).map { "\($0.path) (\($0.label) read as \($0.predicted))" }
            print("Misclassified: " + shown.joined(separator: ", ")
                  + (mistakes.count > shown.count ? " and \(mistakes.count - shown.count) more (--json lists all)" : ""))
        }
    }
}
