// `mnist-adder compare` on two small checkpoints the binary trains: its figures against `evaluate` run
// in this process, its paired table against the predictions counted here, and its picture.
import AdderNet
import Foundation
import MNISTData
import NNTestSupport
import Testing

/// The JSON of `compare --json`, as far as the tests read it.
private struct CompareJSON: Decodable {
    struct Side: Decodable {
        let correct: Int
        let accuracy: Double
        let interval95: ProportionInterval
    }
    struct Figure: Decodable {
        let first: Side
        let second: Side
        let bothRight: Int
        let onlyFirstRight: Int
        let onlySecondRight: Int
        let bothWrong: Int
        let mcNemarPValue: Double
    }
    struct Disagreement: Decodable {
        let index: Int
        let label: Int
        let firstDigit: Int
        let secondDigit: Int
        let addend: Int
        let sum: Int
        let firstSum: Int
        let secondSum: Int
    }
    let count: Int
    let classification: Figure
    let addition: Figure
    let disagreements: [Disagreement]
    let picture: String?
}

@Suite("compare", .serialized)
struct CompareCLITests {
    /// Two checkpoints trained by the binary for one epoch on 1,000 images with different seeds.
    static func trainTwo(in folder: URL) throws -> (URL, URL) {
        var runs: [URL] = []
        for seed in [1, 2] {
            let run = folder.appendingPathComponent("run-\(seed)")
            let r = try runCLI([
                "train", "--epochs", "1", "--limit", "1000", "--test-limit", "100", "--seed", "\(seed)",
                "--output", run.path,
            ])
            try #require(r.status == 0, "train failed: \(r.stderr)")
            runs.append(run)
        }
        return (runs[0], runs[1])
    }

    @Test("compare's accuracies, paired table, disagreements and picture agree with evaluate and with each other")
    func figuresAgreeWithEvaluate() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (a, b) = try Self.trainTwo(in: folder)
        let picture = folder.appendingPathComponent("disagreements.svg")
        let r = try runCLI(["compare", a.path, b.appendingPathComponent("model.safetensors").path,
                            "--json", "--picture", picture.path])
        try #require(r.status == 0, "compare failed: \(r.stderr)")
        let out = try JSONDecoder().decode(CompareJSON.self, from: Data(r.stdout.utf8))

        // The same figures as `evaluate` on each checkpoint, computed here in-process.
        let test = try AdderDataset.load(.test, seed: 0)
        let engine = AdderEngine()
        let ea = try evaluate(try Checkpoint.load(contentsOf: a.appendingPathComponent("model.safetensors")).0,
                              on: test, engine: engine)
        let eb = try evaluate(try Checkpoint.load(contentsOf: b.appendingPathComponent("model.safetensors")).0,
                              on: test, engine: engine)
        #expect(out.count == 10_000)
        #expect(out.classification.first.accuracy == ea.classificationAccuracy)
        #expect(out.classification.second.accuracy == eb.classificationAccuracy)
        #expect(out.addition.first.accuracy == ea.additionAccuracy)
        #expect(out.addition.second.accuracy == eb.additionAccuracy)

        // The paired table of the digits, counted from evaluate's predictions.
        var table = (both: 0, onlyA: 0, onlyB: 0, neither: 0)
        for i in 0..<test.count {
            switch (ea.predictedDigits[i] == test.labels[i], eb.predictedDigits[i] == test.labels[i]) {
            case (true, true): table.both += 1
            case (true, false): table.onlyA += 1
            case (false, true): table.onlyB += 1
            case (false, false): table.neither += 1
            }
        }
        let c = out.classification
        let counted: [Int] = [table.both, table.onlyA, table.onlyB, table.neither]
        let printed: [Int] = [c.bothRight, c.onlyFirstRight, c.onlySecondRight, c.bothWrong]
        #expect(printed == counted)
        #expect(c.mcNemarPValue == (try Statistics.mcNemarExactPValue(onlyFirst: table.onlyA, onlySecond: table.onlyB)))
        #expect(c.first.interval95 == (try Statistics.wilsonInterval(successes: table.both + table.onlyA, trials: 10_000)))
        #expect(c.first.interval95.lower < c.first.accuracy && c.first.accuracy < c.first.interval95.upper)
        let s = out.addition
        #expect(s.bothRight + s.onlyFirstRight == s.first.correct && s.bothRight + s.onlySecondRight == s.second.correct)
        #expect(s.bothRight + s.onlyFirstRight + s.onlySecondRight + s.bothWrong == 10_000)

        // Disagreements: exactly the items where the digits differ, plus those where only the sums do.
        let digitsDiffer = (0..<test.count).filter { ea.predictedDigits[$0] != eb.predictedDigits[$0] }
        let listed = out.disagreements.map(\.index)
        #expect(Set(digitsDiffer).isSubset(of: Set(listed)))
        #expect(listed == listed.sorted())
        for d in out.disagreements {
            #expect(d.firstDigit != d.secondDigit || d.firstSum != d.secondSum, "item \(d.index) listed without a difference")
            #expect(d.label == test.labels[d.index] && d.addend == test.addends[d.index] && d.sum == test.sums[d.index])
            #expect(d.firstDigit == ea.predictedDigits[d.index] && d.secondDigit == eb.predictedDigits[d.index])
        }
        // Items only one network got right are all disagreements.
        #expect(out.disagreements.filter { ($0.firstDigit == $0.label) != ($0.secondDigit == $0.label) }.count
                == c.onlyFirstRight + c.onlySecondRight)

        // The picture: one tile per disagreement up to 200, in order, with the right labels.
        #expect(out.picture == picture.path)
        let svg = try String(contentsOf: picture, encoding: .utf8)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let tiles = svg.components(separatedBy: "<g class=\"tile\"").dropFirst()
        #expect(tiles.count == min(200, out.disagreements.count))
        if let d = out.disagreements.first, let tile = tiles.first {
            #expect(tile.hasPrefix(" data-index=\"\(d.index)\" data-true=\"\(d.label)\" "
                                   + "data-first=\"\(d.firstDigit)\" data-second=\"\(d.secondDigit)\""), "\(tile.prefix(120))")
        }
    }

    @Test("a checkpoint against itself: same accuracies, no discordant pair, p = 1, no disagreement")
    func againstItself() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.safetensors")
        try Checkpoint.save(AdderNetwork(seed: 5), to: model)
        let picture = folder.appendingPathComponent("same.svg")
        let r = try runCLI(["compare", model.path, folder.path, "--picture", picture.path])
        try #require(r.status == 0, "compare failed: \(r.stderr)")
        #expect(r.stdout.contains("classification: A and B are right on exactly the same images"), "\(r.stdout)")
        #expect(r.stdout.contains("They answer differently on 0 test images"), "\(r.stdout)")
        let svg = try String(contentsOf: picture, encoding: .utf8)
        #expect(svg.contains("no disagreements") && !svg.contains("class=\"tile\""))
    }

    @Test("compare's bad input gets one line naming it", arguments: [
        (["compare", "/nonexistent/a.safetensors", "/nonexistent/b.safetensors"], "/nonexistent/a.safetensors"),
        (["compare", "A", "B", "--batch-size", "0"], "--batch-size: expected at least 1, found 0"),
    ])
    func badInput(arguments: [String], message: String) throws {
        let r = try runCLI(arguments)
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    @Test("a picture that cannot be written fails in one line naming it")
    func unwritablePicture() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.safetensors")
        try Checkpoint.save(AdderNetwork(seed: 5), to: model)
        let target = folder.appendingPathComponent("missing-folder/d.svg").path
        let r = try runCLI(["compare", model.path, model.path, "--picture", target])
        #expect(r.status != 0)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write the picture \(target)"), "\(r.stderr)")
    }

    @Test("a --picture that would replace a checkpoint or names a folder is refused, the file kept; --no-picture with it is a usage error")
    func pictureTargets() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.safetensors")
        try Checkpoint.save(AdderNetwork(seed: 5), to: model)
        let bytes = try Data(contentsOf: model)
        let overwrite = try runCLI(["compare", model.path, model.path, "--picture", model.path])
        #expect(overwrite.status == 64, "\(overwrite.stderr)")
        #expect(overwrite.stderr == "mnist-adder: --picture \(model.path): the file exists and is a safetensors file, expected "
            + "a new file or an SVG picture to replace (--no-picture writes none)\n", "\(overwrite.stderr)")
        #expect(try Data(contentsOf: model) == bytes)

        let intoFolder = try runCLI(["compare", model.path, model.path, "--picture", folder.path])
        #expect(intoFolder.status == 64, "\(intoFolder.stderr)")
        #expect(intoFolder.stderr == "mnist-adder: --picture \(folder.path): is a folder, expected the path of an SVG file "
            + "to write\n", "\(intoFolder.stderr)")

        let both = try runCLI(["compare", model.path, model.path, "--picture", "x.svg", "--no-picture"])
        #expect(both.status == 64, "\(both.stderr)")
        #expect(both.stderr.contains("--picture x.svg and --no-picture do not go together"), "\(both.stderr)")

        // An SVG (an earlier comparison's) is replaced.
        let svg = folder.appendingPathComponent("d.svg")
        try Data("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".utf8).write(to: svg)
        let again = try runCLI(["compare", model.path, model.path, "--picture", svg.path])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOf: svg, encoding: .utf8).contains("no disagreements"))
    }
}
