// `evaluate --image-folder` and `finetune` as a person runs them: a folder of their digits in ImageFolder
// layout, the shipped model by default, and a fine-tuned run folder that predict and evaluate take.
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNTestSupport
import Testing

/// Writes MNIST test images `indices` as PNGs into `root/<label>/<index>.png`, boxed (`boxed`: a 44×44
/// picture with a frame, a style the shipped model reads badly) or as they are (28×28, passed through).
private func writeDigits(_ test: MNIST, _ indices: [Int], to root: URL, boxed: Bool) throws {
    for index in indices {
        let folder = root.appendingPathComponent(String(test.labels[index]))
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var pixels = Array(test.image(at: index)), side = 28
        if boxed {
            side = 44
            var framed = [UInt8](repeating: 0, count: side * side)
            for (i, v) in pixels.enumerated() { framed[(8 + i / 28) * side + 8 + i % 28] = v }
            for a in 2...41 { for t in [2, 3, 40, 41] { framed[t * side + a] = 255; framed[a * side + t] = 255 } }
            pixels = framed
        }
        try Data(try PNGCodec.encodeGray(pixels, width: side, height: side))
            .write(to: folder.appendingPathComponent("\(index).png"))
    }
}

private struct Evaluated: Decodable {
    struct Interval: Decodable { let lower: Double, upper: Double }
    struct Mistake: Decodable { let path: String, label: Int, predicted: Int }
    let source: String
    let count: Int
    let classificationAccuracy: Double
    let classificationInterval95: Interval
    let confusion: [[Int]]
    let misclassified: [Mistake]?
    let ignored: [String]?
}

@Test("evaluate --image-folder: the shipped model on a folder scores as predict answers, with interval, table and confusion")
func evaluateImageFolder() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let test = try MNIST.load(.test, limit: 200)
    // Test images 0..<40 and the eight the shipped model may get wrong among the first 200 do not matter: the
    // folder's score must be predict's, image by image.
    try writeDigits(test, Array(0..<40), to: root, boxed: false)
    try Data("notes".utf8).write(to: root.appendingPathComponent("notes.txt"))
    try FileManager.default.createDirectory(at: root.appendingPathComponent("originals"), withIntermediateDirectories: true)

    let r = try runCLI(["evaluate", "--image-folder", root.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("ignored 2 entries of \(root.path) that are not a class folder 0-9 or a PNG/JPEG image in one: "
        + "notes.txt, originals"), "\(r.stderr)")
    let e = try JSONDecoder().decode(Evaluated.self, from: Data(r.stdout.utf8))
    #expect(e.source == root.path && e.count == 40 && e.ignored == ["notes.txt", "originals"])
    #expect(e.confusion.joined().reduce(0, +) == 40)
    for (digit, row) in e.confusion.enumerated() {
        #expect(row.reduce(0, +) == test.labels[0..<40].filter { Int($0) == digit }.count)
    }
    let p = try runCLI(["predict", "--json"] + (0..<40).flatMap { ["--test-index", String($0)] })
    let answers = try #require(try JSONSerialization.jsonObject(with: Data(p.stdout.utf8)) as? [[String: Any]])
    let right = answers.enumerated().filter { $0.element["digit"] as? Int == Int(test.labels[$0.offset]) }.count
    #expect(abs(e.classificationAccuracy - Double(right) / 40) < 1e-12)
    let interval = try Statistics.wilsonInterval(successes: right, trials: 40)
    #expect(abs(e.classificationInterval95.lower - interval.lower) < 1e-12 && abs(e.classificationInterval95.upper - interval.upper) < 1e-12)
    #expect(e.misclassified?.count == 40 - right)

    let text = try runCLI(["evaluate", "--image-folder", root.path])
    #expect(text.status == 0)
    #expect(text.stdout.hasPrefix("Image folder \(root.path), 40 images: classification accuracy "), "\(text.stdout)")
    #expect(text.stdout.contains("95% Wilson interval") && text.stdout.contains("confusion (rows: true digit, columns: predicted digit)"))
    #expect(text.stdout.contains("digit  images  classification"))

    try FileManager.default.createDirectory(at: root.appendingPathComponent("5/empty"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: root.appendingPathComponent("8"), withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("8").path) {
        try FileManager.default.removeItem(at: root.appendingPathComponent("8/\(name)"))
    }
    let empty = try runCLI(["evaluate", "--image-folder", root.path])
    #expect(empty.status == 65)
    #expect(empty.stderr.hasSuffix("class folder \(root.appendingPathComponent("8").path) holds no PNG or JPEG image, "
        + "expected at least one (found 0 other entries); remove the folder or add images\n"), "\(empty.stderr)")
    let missing = try runCLI(["evaluate", "--image-folder", root.appendingPathComponent("none").path])
    #expect(missing.status == 66 && missing.stderr.contains("no such folder"))
}

@Test("finetune: a run folder that predict and evaluate take, better on held-out boxed digits, MNIST kept")
func finetuneRunFolder() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let digits = root.appendingPathComponent("digits"), run = root.appendingPathComponent("run")
    try writeDigits(try MNIST.load(.test), Array(9000..<9160), to: digits, boxed: true)
    let r = try runCLI(["finetune", "--image-folder", digits.path, "--output", run.path, "--epochs", "2", "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    let before = try #require(report["before"] as? [String: Any]), after = try #require(report["after"] as? [String: Any])
    func accuracy(_ figures: [String: Any], _ name: String) -> Double {
        Double(figures[name + "Correct"] as? Int ?? 0) / Double(max(1, figures[name + "Count"] as? Int ?? 1))
    }
    #expect(accuracy(after, "heldOut") > accuracy(before, "heldOut") + 0.1, "\(before) → \(after)")
    #expect(accuracy(after, "mnistTest") > accuracy(before, "mnistTest") - 0.005, "\(before) → \(after)")
    #expect(r.stderr.contains("your held-out images (") && r.stderr.contains("MNIST test set (10000)"), "\(r.stderr)")
    #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("finetune.json").path))

    let predicted = try runCLI(["predict", "--checkpoint", run.path, "--test-index", "0", "--json"])
    #expect(predicted.status == 0, "\(predicted.stderr)")
    let answer = try #require((try JSONSerialization.jsonObject(with: Data(predicted.stdout.utf8)) as? [[String: Any]])?.first)
    #expect(answer["digit"] as? Int == 7 && answer["calibrated"] as? Bool == true)
    let evaluated = try runCLI(["evaluate", "--checkpoint", run.path, "--json"])
    let e = try JSONDecoder().decode(Evaluated.self, from: Data(evaluated.stdout.utf8))
    #expect(abs(e.classificationAccuracy - accuracy(after, "mnistTest")) < 1e-12)

    let again = try runCLI(["finetune", "--image-folder", digits.path, "--output", run.path])
    #expect(again.status == 64 && again.stderr.contains("already holds a model.safetensors"), "\(again.stderr)")
}

@Test("finetune with too few images to keep any aside: one line, bad data (65), nothing written")
func finetuneTooFewImages() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let digits = root.appendingPathComponent("digits"), run = root.appendingPathComponent("run")
    try writeDigits(try MNIST.load(.test, limit: 1), [0], to: digits, boxed: false)
    let r = try runCLI(["finetune", "--image-folder", digits.path, "--output", run.path])
    #expect(r.status == 65, "\(r.stderr)")
    let last = r.stderr.split(separator: "\n").last.map(String.init) ?? ""
    #expect(last == "mnist-adder: --held-out 0.25 keeps none of the 1 images aside, expected at least one: give a digit "
        + "at least 2 images, or raise --held-out", "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("model.safetensors").path))
}
