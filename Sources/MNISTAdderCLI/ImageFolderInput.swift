// `--image-folder DIR` of `evaluate` and `finetune`: a person's digits in ImageFolder layout (class folders
// 0 to 9, as `serve --collect` writes them), read by AdderInference's ImageFolder, with its note on standard
// error and the tables both commands print.
import AdderInference
import AdderNet
import DigitImage
import Foundation
import MNISTData

/// Reads the image folder at `path` with the pixel budget `maximumPixels`, printing its note (entries
/// ignored, blank images) on standard error. Throws `ImageFolderError`, `PNGError` or `JPEGError` (a
/// too-large image's error then names `--max-pixels`), and `CommandError` when no image holds a digit.
func readImageFolder(_ path: String, maximumPixels: Int) throws -> ImageFolder {
    let folder: ImageFolder
    do {
        folder = try ImageFolder.read(path, maximumPixels: maximumPixels)
    } catch {
        if let budget = ImageDecoder.budgetExceeded(error), budget.width <= budget.maximumSide,
            budget.height <= budget.maximumSide
        {
            throw CommandError("\(error) (--max-pixels raises the budget)", status: .dataError)
        }
        throw error
    }
    if let note = folder.note { printError(note) }
    guard !folder.samples.isEmpty else {
        throw CommandError(
            "image folder \(path): no digit found in any of its \(folder.blank.count) images, expected at least one",
            status: .dataError)
    }
    return folder
}

/// The folder's digits as a dataset of the test kind: each image gets an integer from the test split's fixed
/// seed in `addendRange`, so the same folder is scored with the same integers every time.
func imageFolderDataset(_ folder: ImageFolder, addendRange: ClosedRange<Int>) throws -> AdderDataset {
    try AdderDataset(folder.mnist(), split: .test, addendRange: addendRange, seed: 0)
}

/// The confusion matrix as text: one row per true digit, one column per predicted digit.
func confusionTable(_ confusion: [[Int]]) -> String {
    let width = max(4, String(confusion.joined().max() ?? 0).count + 1)
    var lines = ["confusion (rows: true digit, columns: predicted digit)",
                 "true" + (0..<confusion.count).map { String($0).leftPadded(to: width) }.joined()]
    for (digit, row) in confusion.enumerated() {
        lines.append(String(digit).leftPadded(to: 4) + row.map { String($0).leftPadded(to: width) }.joined())
    }
    return lines.joined(separator: "\n")
}

/// "85.00% (95% Wilson interval 78.12% to 90.31%)", or without the interval for no items.
func accuracyWithInterval(correct: Int, count: Int) -> String {
    guard count > 0, let interval = try? Statistics.wilsonInterval(successes: correct, trials: count) else {
        return "-"
    }
    return percent(Double(correct) / Double(count))
        + " (95% Wilson interval \(percent(interval.lower)) to \(percent(interval.upper)))"
}
