// `mnist-adder compare A B`: two checkpoints on the same 10,000 test images, with how sure each figure
// is (Wilson intervals) and whether they differ (McNemar's exact test on the paired outcomes).
import AdderNet
import AdderReport
import ArgumentParser
import DigitImage
import Foundation
import MNISTData

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two checkpoints on the test set: accuracies with 95% intervals, McNemar's test, disagreements.",
        discussion: """
            Both networks see the same test images with the same integers as `evaluate`. For the digit and for \
            the sum: each accuracy with its 95% Wilson score interval, the paired table (both right, only A, \
            only B, both wrong) and the two-sided p-value of McNemar's exact test (binomial on the items only \
            one of them got right). A p-value under 0.05 says the two differ on this test set; above, the \
            test set cannot tell them apart. Then every test index where their answers differ, and an SVG \
            picture of those images (--picture).
            """)

    @Argument(help: "The first checkpoint (A): a model.safetensors file, or a run folder holding one.")
    var first: String
    @Argument(help: "The second checkpoint (B).")
    var second: String
    @Option(help: "Where to write the SVG picture of the images they disagree on; an SVG there is replaced, any other file refused. (default: disagreements.svg)")
    var picture: String?
    @Flag(help: "Do not write the picture.") var noPicture = false
    @OptionGroup var testPass: TestPassOptions
    @Flag(help: "Print the comparison as JSON.") var json = false
    @OptionGroup var data: DataOptions

    /// One network's side of one figure.
    struct Side: Encodable {
        let correct: Int
        let accuracy: Double
        /// The 95% Wilson score interval of `accuracy`.
        let interval95: ProportionInterval
    }

    /// One figure (digit or sum) of both networks, paired.
    struct Figure: Encodable {
        let first: Side
        let second: Side
        let bothRight: Int
        let onlyFirstRight: Int
        let onlySecondRight: Int
        let bothWrong: Int
        let mcNemarPValue: Double

        init(_ outcomes: PairedOutcomes) throws {
            let n = outcomes.count
            func side(_ correct: Int) throws -> Side {
                Side(correct: correct, accuracy: Double(correct) / Double(n),
                     interval95: try Statistics.wilsonInterval(successes: correct, trials: n))
            }
            first = try side(outcomes.firstRight)
            second = try side(outcomes.secondRight)
            (bothRight, onlyFirstRight, onlySecondRight, bothWrong) =
                (outcomes.bothRight, outcomes.onlyFirstRight, outcomes.onlySecondRight, outcomes.bothWrong)
            mcNemarPValue = outcomes.mcNemarPValue
        }
    }

    /// A test item on which the two answer differently.
    struct Disagreement: Encodable {
        let index: Int
        let label: Int
        let firstDigit: Int
        let secondDigit: Int
        let addend: Int
        let sum: Int
        let firstSum: Int
        let secondSum: Int
    }

    struct Output: Encodable {
        let first: String
        let second: String
        let firstModel: String
        let secondModel: String
        let count: Int
        let classification: Figure
        let addition: Figure
        let disagreements: [Disagreement]
        let picture: String?
    }

    /// The picture's path when `--picture` is left out.
    static let defaultPicture = "disagreements.svg"

    func validate() throws {
        if noPicture, let picture {
            throw ValidationError("--picture \(picture) and --no-picture do not go together: give one of them")
        }
    }

    func run() throws {
        let addendRange = try testPass.validated()
        let picturePath = noPicture ? nil : picture ?? Self.defaultPicture
        if let picturePath { try Self.checkPictureTarget(picturePath) }
        let a = try loadCheckpoint(first), b = try loadCheckpoint(second)
        let test = try AdderDataset.load(.test, from: data.directory, addendRange: addendRange, seed: 0)
        let engine = AdderEngine(threads: testPass.threads), batchSize = testPass.batchSize
        let pa = try namingCheckpoint(a.url) { try predictItems(a.network, on: test, engine: engine, batchSize: batchSize) }
        let pb = try namingCheckpoint(b.url) { try predictItems(b.network, on: test, engine: engine, batchSize: batchSize) }
        let classification = try Figure(PairedOutcomes(
            first: pa.digitCorrect(labels: test.labels), second: pb.digitCorrect(labels: test.labels)))
        let addition = try Figure(PairedOutcomes(
            first: pa.sumCorrect(sums: test.sums), second: pb.sumCorrect(sums: test.sums)))
        let disagreements = test.labels.indices
            .filter { pa.digits[$0] != pb.digits[$0] || pa.sums[$0] != pb.sums[$0] }
            .map {
                Disagreement(
                    index: $0, label: test.labels[$0], firstDigit: pa.digits[$0], secondDigit: pb.digits[$0],
                    addend: test.addends[$0], sum: test.sums[$0], firstSum: pa.sums[$0], secondSum: pb.sums[$0])
            }
        if let picturePath {
            try writePicture(disagreements, test: test, to: picturePath)
        }
        if json {
            print(try prettyJSON(Output(
                first: a.url.path, second: b.url.path, firstModel: a.network.model.name,
                secondModel: b.network.model.name, count: test.count, classification: classification,
                addition: addition, disagreements: disagreements, picture: picturePath)))
            return
        }
        print("A: \(a.url.path) (\(a.network.model.name))")
        print("B: \(b.url.path) (\(b.network.model.name))")
        print("Test set, \(test.count) images, integers \(test.addendRange.lowerBound)...\(test.addendRange.upperBound)")
        print(Self.table(classification: classification, addition: addition))
        for (name, figure) in [("classification", classification), ("addition", addition)] {
            print(Self.verdict(name, figure))
        }
        print("")
        let where_ = picturePath.map { "; picture: \($0)" } ?? ""
        print("They answer differently on \(disagreements.count) test images\(where_)")
        if !disagreements.isEmpty {
            print("index  true  A  B  integer  sum  A sum  B sum")
            for d in disagreements {
                print(String(format: "%5d  %4d  %d  %d  %7d  %3d  %5d  %5d",
                             d.index, d.label, d.firstDigit, d.secondDigit, d.addend, d.sum, d.firstSum, d.secondSum))
            }
        }
    }

    /// The two figures side by side: accuracy, 95% interval, the paired counts and McNemar's p.
    static func table(classification: Figure, addition: Figure) -> String {
        func cell(_ side: Side) -> String {
            String(format: "%6.2f%% [%.2f, %.2f]", side.accuracy * 100,
                   side.interval95.lower * 100, side.interval95.upper * 100).leftPadded(to: 24)
        }
        var lines = ["figure          A (95% Wilson interval)   B (95% Wilson interval)  both right  only A  only B  both wrong  McNemar p"]
        for (name, f) in [("classification", classification), ("addition", addition)] {
            lines.append(name.padding(toLength: 14, withPad: " ", startingAt: 0) + "  " + cell(f.first) + "  "
                + cell(f.second) + String(format: "  %10d  %6d  %6d  %10d  ", f.bothRight, f.onlyFirstRight,
                                          f.onlySecondRight, f.bothWrong)
                + pValue(f.mcNemarPValue).leftPadded(to: 9))
        }
        return lines.joined(separator: "\n")
    }

    /// A p-value with three significant digits; below the smallest double, "< 1e-300".
    static func pValue(_ p: Double) -> String {
        p < 1e-300 ? "< 1e-300" : String(format: "%.3g", p)
    }

    /// One sentence: does the test tell A and B apart on this figure, at the 5% level?
    static func verdict(_ name: String, _ f: Figure) -> String {
        let difference = (f.first.accuracy - f.second.accuracy) * 100
        let discordant = f.onlyFirstRight + f.onlySecondRight
        let p = pValue(f.mcNemarPValue)
        if discordant == 0 {
            return "\(name): A and B are right on exactly the same images; nothing tells them apart (p = 1)."
        }
        if f.mcNemarPValue < 0.05 {
            let better = difference > 0 ? "A" : "B"
            return "\(name): \(better) is more accurate by \(String(format: "%.2f", abs(difference))) point; "
                + "McNemar's test says so (p = \(p) < 0.05, on the \(discordant) images only one got right)."
        }
        return "\(name): a difference of \(String(format: "%.2f", abs(difference))) point that this test set cannot "
            + "tell from chance (McNemar p = \(p) ≥ 0.05, on the \(discordant) images only one got right)."
    }

    /// Refuses, before any work, a picture path that is a folder or an existing file other than an SVG (one of
    /// the checkpoints compared, a PNG...), which writing the picture would replace. Throws `CommandError` (usage).
    static func checkPictureTarget(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue {
            throw CommandError("--picture \(path): is a folder, expected the path of an SVG file to write")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        let found: String
        switch FileKind.of(head) {
        case .png: found = "a PNG image"
        case .jpeg: found = "a JPEG image"
        case .other(let kind):
            if head.isEmpty || kind == "an SVG/XML file" { return }
            found = kind
        }
        throw CommandError("--picture \(path): the file exists and is \(found), expected a new file or an SVG picture to "
            + "replace (--no-picture writes none)")
    }

    private func writePicture(_ disagreements: [Disagreement], test: AdderDataset, to path: String) throws {
        let items = disagreements.map {
            DisagreementItem(
                index: $0.index, pixels: Array(test.mnist.image(at: $0.index)), label: $0.label,
                firstDigit: $0.firstDigit, secondDigit: $0.secondDigit, sum: $0.sum, firstSum: $0.firstSum,
                secondSum: $0.secondSum)
        }
        let svg: String
        do {
            svg = try DisagreementPicture(
                title: "mnist-adder compare: \(disagreements.count) test images with different answers",
                firstName: first, secondName: second, items: items
            ).svg()
        } catch let error as DisagreementPictureError {
            throw CommandError(error.description)
        }
        do {
            try Data(svg.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandError("cannot write the picture \(path): \(error.localizedDescription)", status: .ioError)
        }
    }
}
