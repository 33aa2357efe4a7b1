// Options and helpers several subcommands share.
import AdderNet
import ArgumentParser
import DigitImage
import Foundation
import MNISTData
import NNCore

/// An integer range written `LO...HI`, `LO..HI` or `LO-HI`; `validated()` checks LO ≤ HI.
struct AddendRange: ExpressibleByArgument {
    let lower: Int
    let upper: Int
    let text: String

    init(_ range: ClosedRange<Int>) {
        (lower, upper) = (range.lowerBound, range.upperBound)
        text = "\(lower)...\(upper)"
    }

    init?(argument: String) {
        for separator in ["...", "..", "-"] {
            let parts = argument.components(separatedBy: separator)
            if parts.count == 2, let lo = Int(parts[0].trimmingCharacters(in: .whitespaces)),
               let hi = Int(parts[1].trimmingCharacters(in: .whitespaces)) {
                (lower, upper, text) = (lo, hi, argument)
                return
            }
        }
        return nil
    }

    /// The range, or a one-line error naming the option and the found value when LO > HI.
    func validated() throws -> ClosedRange<Int> {
        guard lower <= upper else {
            throw TrainingError.invalidOption(name: "addend-range", expected: "LO...HI with LO ≤ HI", found: text)
        }
        return lower...upper
    }

    var defaultValueDescription: String { "\(lower)...\(upper)" }
}

/// The test pass of `evaluate` and `compare`: the test integers' range, the batch and the threads.
struct TestPassOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Range of the test integers, as LO...HI.")
    var addendRange = AddendRange(AdderDataset.defaultAddendRange)
    @Option(parsing: .unconditional, help: "Images per forward pass.") var batchSize = 1000
    @Option(parsing: .unconditional, help: "Worker threads, 0 for one per core.") var threads = 0

    /// The range of the test integers, once `batchSize` and `threads` are checked too. Throws
    /// `TrainingError.invalidOption` naming the first option out of range.
    func validated() throws -> ClosedRange<Int> {
        guard batchSize >= 1 else {
            throw TrainingError.invalidOption(name: "batch-size", expected: "at least 1", found: "\(batchSize)")
        }
        try TrainingOptions.checkThreads(threads)
        return try addendRange.validated()
    }
}

/// Data options shared by `train`, `evaluate` and `predict`.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Folder of MNIST-format IDX files (raw or .gz) to use instead of the bundled MNIST. (default: none, the bundled MNIST)",
        discussion: "Also read from the environment variable \(MNIST.dataDirectoryEnvironmentVariable); the option wins."))
    var dataDir: String?

    var directory: URL? { MNIST.dataDirectory(option: dataDir) }
}

/// `--max-pixels` of `predict` and `serve`: the largest PNG or JPEG (width · height) read, checked from its header.
struct ImageOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Largest PNG or JPEG in pixels (width × height), read from its header before decoding.",
            discussion: """
                Larger images are refused; the default (16 Mi) admits a 4032×3024 phone photo. \
                Images over \(PNGCodec.reducedSide) pixels a side are averaged down to \(PNGCodec.reducedSide) \
                while they are decoded (a JPEG first scaled by libjpeg by n/8), so memory stays bounded; the budget \
                bounds the decoding time and a progressive JPEG's coefficient buffer.
                """))
    var maxPixels = PNGCodec.defaultMaximumPixelCount

    /// The budget, or a `CommandError` naming the flag when it is outside `PNGCodec.pixelBudgetRange`.
    func validated() throws -> Int {
        let range = PNGCodec.pixelBudgetRange
        guard range.contains(maxPixels) else {
            throw CommandError("--max-pixels: expected \(range.lowerBound)...\(range.upperBound), found \(maxPixels)")
        }
        return maxPixels
    }
}

/// Loads the checkpoint a user named: a `.safetensors` file, or a run folder holding `model.safetensors`.
/// The errors name the file: `CheckpointError`s (keys, shapes, values) come back as one line prefixed
/// with its path; `SafetensorsError`s already name it.
func loadCheckpoint(_ path: String) throws -> (network: AdderNetwork, metadata: [String: String], url: URL) {
    let url: URL
    do {
        url = try RunFolder.checkpoint(at: path)
    } catch let error as RunFolderError {
        throw CommandError(error.description, status: .noInput)
    }
    do {
        let (network, metadata) = try Checkpoint.load(contentsOf: url)
        return (network, metadata, url)
    } catch let error as CheckpointError {
        throw CommandError("\(url.path): \(error)", status: .dataError)
    } catch let error as ModelDescriptionError {
        throw CommandError("\(url.path): \(error)", status: .dataError)
    }
}

/// A thrown error that the command line prints as one line, and the status it exits with
/// (`ExitStatus.usage` unless said otherwise: most are a bad option value).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    let status: ExitStatus
    init(_ description: String, status: ExitStatus = .usage) {
        self.description = description
        self.status = status
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// True when standard error is a terminal (progress bars go there).
var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

/// A percentage with two decimals: 0.99312 → "99.31%".
func percent(_ fraction: Double) -> String { String(format: "%.2f%%", fraction * 100) }

/// JSON text of a value in the shared format (`JSONOutput`: keys sorted, `/` unescaped), pretty-printed. The values printed are checked finite before;
/// should one still be NaN or infinite, a `CommandError` names its field instead of `EncodingError`.
func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    do {
        return try JSONOutput.string(value, pretty: true)
    } catch let EncodingError.invalidValue(found, context) {
        let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
        throw CommandError(
            "cannot print JSON: \(field.isEmpty ? "the output" : field) is \(found), expected a finite number", status: .dataError)
    }
}

/// Runs `body`; a non-finite forward pass comes back as one line prefixed with the checkpoint's path.
func namingCheckpoint<R>(_ url: URL, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch let error as NonFiniteForwardError {
        throw CommandError("\(url.path): \(error)", status: .dataError)
    }
}

/// The per-digit accuracy table: one line per digit with its count and accuracy.
func perDigitTable(_ evaluation: Evaluation) -> String {
    var lines = ["digit  images  classification"]
    for (digit, row) in evaluation.confusion.enumerated() {
        let total = row.reduce(0, +)
        let accuracy = evaluation.perDigitAccuracy[digit].map(percent) ?? "-"
        lines.append(String(format: "%5d  %6d  ", digit, total) + accuracy.leftPadded(to: 14))
    }
    return lines.joined(separator: "\n")
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
