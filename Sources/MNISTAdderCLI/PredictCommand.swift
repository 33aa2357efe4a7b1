// `mnist-adder predict`: the digit, the ten probabilities and the sum for a user's own image
// (PNG) or an MNIST test image.
import AdderInference
import AdderNet
import ArgumentParser
import DigitImage
import Foundation
import MNISTData
import NNCore

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict the digit and the sum for PNG or JPEG images or MNIST test images.",
        discussion: """
            A PNG of any kind (gray, RGB, palette, with or without transparency) or a JPEG (gray, colour, CMYK, \
            progressive; turned upright by its EXIF orientation), up to --max-pixels, is prepared \
            as MNIST's digits were: transparency composited, dark-on-light inverted, cropped, scaled into 20×20, \
            centered by its center of mass in 28×28, then normalized as in training. An image over 512 pixels a side \
            is first averaged down to 512 on its longer side as it is decoded. A blank image is reported as blank. \
            --image - reads one image from standard input; --image FOLDER predicts every PNG and JPEG in it (not \
            in subfolders), sorted by name, as a table (--json: the same array as for several files), and names \
            the files it skipped. The addend must lie in the range the checkpoint was trained on.
            """)

    @Option(help: "A model.safetensors file, or a run folder holding one. (default: the shipped model)") var checkpoint: String?
    @Option(name: .customLong("image"), help: "A PNG or JPEG image of one digit, - for standard input, or a folder of them (repeat for several).")
    var images: [String] = []
    @Option(name: .customLong("test-index"), parsing: .unconditionalSingleValue, help: "An MNIST test image by index 0..<10000 (repeat for several).")
    var testIndices: [Int] = []
    @Option(parsing: .unconditional, help: "The integer to add to the digit, within the range the checkpoint was trained on.") var addend = 0
    @Flag(help: "Print the predictions as JSON.") var json = false
    @OptionGroup var imageOptions: ImageOptions
    @OptionGroup var data: DataOptions

    struct Prediction: Encodable {
        let source: String
        let blank: Bool
        let digit: Int?
        let probabilities: [Float]?
        let addend: Int
        let sum: Float?
        let roundedSum: Int?
        let label: Int?
        /// True when the answer should not be trusted (always true for a blank image).
        let unsure: Bool
        /// Why: "not a digit", "two digits alike", "blank image"; nil when sure.
        let reason: String?
        /// Whether the probabilities are calibrated and the "not a digit" check ran.
        let calibrated: Bool
    }

    func run() throws {
        guard !images.isEmpty || !testIndices.isEmpty else {
            throw ValidationError("give at least one --image FILE or --test-index N")
        }
        // The upper bound is the checkpoint's trained range, checked once it is loaded (checkAddend).
        guard addend >= 0 else {
            throw CommandError("--addend: expected an integer 0 or more (within the range the model was trained on), found \(addend)")
        }
        let maximumPixels = try imageOptions.validated()
        let model = try loadModel(checkpoint)
        let (network, metadata, url) = (model.network, model.metadata, model.url)
        try checkAddend(addend, trainedOn: metadata, checkpoint: url)
        let files = try ImageInputs.read(images)
        if !files.skipped.isEmpty {
            printError("skipped \(files.skipped.count) file(s) that are not PNG or JPEG images: "
                       + files.skipped.joined(separator: ", "))
        }
        var inputs: [(source: String, pixels: [UInt8]?, label: Int?)] = []
        for (source, bytes) in files.images {
            let digit: PreprocessedDigit
            do {
                digit = try DigitInference.prepare(image: bytes, source: source, maximumPixels: maximumPixels).digit
            } catch {
                if let budget = ImageDecoder.budgetExceeded(error), budget.width <= budget.maximumSide,
                    budget.height <= budget.maximumSide
                {
                    throw CommandError("\(error) (--max-pixels raises the budget)", status: .dataError)
                }
                throw error
            }
            inputs.append((source, digit.isBlank ? nil : digit.pixels, nil))
        }
        if !testIndices.isEmpty {
            let test = try MNIST.load(.test, from: data.directory)
            for index in testIndices {
                guard (0..<test.count).contains(index) else {
                    throw CommandError("--test-index: expected 0..<\(test.count), found \(index)")
                }
                inputs.append(("test[\(index)]", Array(test.image(at: index)), Int(test.labels[index])))
            }
        }
        // Results by input position: two inputs may print the same name (an image file called "test[0]").
        let drawn = inputs.indices.filter { inputs[$0].pixels != nil }
        var results: [Int: DigitPrediction] = [:]
        let predicted = try namingCheckpoint(url) {
            try DigitInference.predict(
                drawn.map { inputs[$0].pixels ?? [] }, addends: Array(repeating: addend, count: drawn.count),
                network: network, engine: AdderEngine(), calibration: model.calibration)
        }
        for (position, prediction) in zip(drawn, predicted) { results[position] = prediction }
        let predictions = inputs.indices.map { position in
            let input = inputs[position], r = results[position]
            return Prediction(
                source: input.source, blank: r == nil, digit: r?.digit, probabilities: r?.probabilities,
                addend: addend, sum: r?.sum, roundedSum: r?.roundedSum, label: input.label,
                unsure: r?.unsure ?? true, reason: r == nil ? "blank image" : r?.reason?.rawValue,
                calibrated: model.calibration != nil)
        }
        if json {
            print(try prettyJSON(predictions))
            return
        }
        if files.hadFolder {
            print(predictionTable(predictions.map { p in
                (p.source, p.digit, p.digit.flatMap { d in p.probabilities?[d] }, p.roundedSum, p.label, p.unsure ? p.reason : nil)
            }, addend: addend))
            return
        }
        for p in predictions {
            guard let digit = p.digit, let probabilities = p.probabilities, let sum = p.sum else {
                print("\(p.source): blank image, no digit found")
                continue
            }
            let label = p.label.map { " (true digit \($0))" } ?? ""
            let unsure = p.reason.map { ", UNSURE: \($0)" } ?? ""
            print("\(p.source): digit \(digit)\(label), \(digit) + \(addend) = \(roundedSum(sum)) "
                  + String(format: "(sum %.3f)", sum) + unsure)
            print("  probabilities: " + probabilities.enumerated().map { String(format: "%d:%.3f", $0, $1) }
                .joined(separator: " "))
        }
    }
}
