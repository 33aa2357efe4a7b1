// predict's inputs as a person gives them: a folder, standard input, JPEG, a file that is no image, a PyTorch
// file as the checkpoint, and the addend range the checkpoint was trained on (predict and serve).
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNTestSupport
import Testing

private struct Prediction: Decodable, Equatable {
    let source: String
    let digit: Int?
    let probabilities: [Float]?
    let sum: Float?
    let blank: Bool
}

private func jpegFixture(_ name: String) throws -> Data {
    try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DigitImageTests/Fixtures/\(name)"))
}

/// A folder with a checkpoint, a PNG of test image 3, a JPEG, a text file and a subfolder.
private func imageFolder() throws -> (root: URL, checkpoint: URL, images: URL) {
    let root = try temporaryFolder()
    let checkpoint = root.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let images = root.appendingPathComponent("images")
    try FileManager.default.createDirectory(at: images.appendingPathComponent("sub"), withIntermediateDirectories: true)
    let test = try MNIST.load(.test, limit: 5)
    try Data(try PNGCodec.encodeGray(Array(test.image(at: 3)), width: 28, height: 28))
        .write(to: images.appendingPathComponent("b-digit.png"))
    try jpegFixture("jpeg-large-2048.jpg").write(to: images.appendingPathComponent("a-photo.jpg"))
    try Data("not an image\n".utf8).write(to: images.appendingPathComponent("notes.txt"))
    return (root, checkpoint, images)
}

@Test("--image FOLDER: its PNG and JPEG files sorted, the same JSON as naming them, one note for the rest")
func predictFolder() throws {
    let (root, checkpoint, images) = try imageFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let byFolder = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", images.path, "--json"])
    #expect(byFolder.status == 0, "\(byFolder.stderr)")
    let a = images.appendingPathComponent("a-photo.jpg").path, b = images.appendingPathComponent("b-digit.png").path
    #expect(byFolder.stderr == "skipped 2 file(s) that are not PNG or JPEG images: "
        + "\(images.appendingPathComponent("notes.txt").path), \(images.appendingPathComponent("sub").path)\n")
    let listed = try JSONDecoder().decode([Prediction].self, from: Data(byFolder.stdout.utf8))
    #expect(listed.map(\.source) == [a, b])
    let byFiles = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", a, "--image", b, "--json"])
    #expect(byFiles.status == 0 && byFiles.stderr.isEmpty, "\(byFiles.stderr)")
    #expect(try JSONDecoder().decode([Prediction].self, from: Data(byFiles.stdout.utf8)) == listed)
    #expect(listed.allSatisfy { !$0.blank && $0.digit != nil })

    let table = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", images.path, "--addend", "2"])
    let lines = table.stdout.split(separator: "\n").map(String.init)
    #expect(lines.count == 3, "\(table.stdout)")
    #expect(lines.first?.contains("digit  probability  sum (+2)") == true, "\(table.stdout)")
    #expect(lines.dropFirst().first?.hasPrefix(a) == true && lines.last?.hasPrefix(b) == true)
    if let p = listed.last, let digit = p.digit {
        #expect(lines.last?.contains(String(format: "%11.3f", p.probabilities?[digit] ?? -1)) == true, "\(table.stdout)")
    }

    try FileManager.default.removeItem(at: images.appendingPathComponent("a-photo.jpg"))
    try FileManager.default.removeItem(at: images.appendingPathComponent("b-digit.png"))
    let empty = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", images.path])
    #expect(empty.status != 0)
    #expect(empty.stderr == "mnist-adder: folder \(images.path) holds no PNG or JPEG image, expected at least one (2 entries)\n")
}

@Test("--image - reads the image from standard input and predicts what the file gives")
func predictStandardInput() throws {
    let (root, checkpoint, images) = try imageFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    for name in ["b-digit.png", "a-photo.jpg"] {
        let file = images.appendingPathComponent(name).path
        let piped = try runProcess(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", "exec \"$0\" predict --checkpoint \"$1\" --image - --json < \"$2\"", binary.path, checkpoint.path, file])
        #expect(piped.status == 0, "\(piped.stderr)")
        let direct = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", file, "--json"])
        let p = try JSONDecoder().decode([Prediction].self, from: Data(piped.stdout.utf8))
        let q = try JSONDecoder().decode([Prediction].self, from: Data(direct.stdout.utf8))
        #expect(p.map(\.source) == ["-"])
        #expect(p.map(\.probabilities) == q.map(\.probabilities) && p.map(\.sum) == q.map(\.sum))
    }
}

@Test("a file that is not an image says what it is, in one line", arguments: [
    ([0x1F, 0x8B, 0x08, 0x00], "is a gzip file, expected a PNG or JPEG image (first bytes 1f 8b 08 00)"),
    (Array("%PDF-1.4\n".utf8), "is a PDF, expected a PNG or JPEG image (first bytes 25 50 44 46 2d 31 2e 34)"),
    (Array("7\n".utf8), "is text, expected a PNG or JPEG image (first bytes 37 0a)"),
    ([], "is empty, expected a PNG or JPEG image"),
] as [([UInt8], String)])
func notAnImage(bytes: [UInt8], message: String) throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let checkpoint = root.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let file = root.appendingPathComponent("input.bin")
    try Data(bytes).write(to: file)
    let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", file.path])
    #expect(r.status != 0)
    #expect(r.stderr == "mnist-adder: \(file.path): \(message)\n")
}

@Test("a PyTorch .pt/.pth checkpoint (zip or pickle) gets the line that converts it, from every command", arguments: [
    (["predict", "--test-index", "0"], [0x50, 0x4B, 0x03, 0x04, 0, 0] as [UInt8], "a zip archive"),
    (["evaluate"], [0x80, 0x02, 0x7D, 0x71] as [UInt8], "a pickle"),
    (["summary"], [0x50, 0x4B, 0x03, 0x04] as [UInt8], "a zip archive"),
    (["export", "--output", "/tmp/never-written.onnx"], [0x80, 0x04, 0x95] as [UInt8], "a pickle"),
    (["serve", "--port", "0"], [0x50, 0x4B, 0x03, 0x04] as [UInt8], "a zip archive"),
])
func pyTorchCheckpoint(arguments: [String], bytes: [UInt8], kind: String) throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let file = root.appendingPathComponent("model.pt")
    try Data(bytes).write(to: file)
    let r = try runCLI([arguments[0], "--checkpoint", file.path] + arguments.dropFirst())
    #expect(r.status != 0)
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("\(file.path): checkpoint is a PyTorch .pt/.pth file (\(kind)), expected safetensors"), "\(r.stderr)")
    #expect(r.stderr.contains(#"safetensors.torch.save_file(model.state_dict(), "model.safetensors")"#), "\(r.stderr)")
}

@Test("predict refuses an addend outside the range the checkpoint was trained on, naming it", arguments: [
    ([Checkpoint.addendRangeKey: "[0,5]"], 7, "0...5"),
    ([Checkpoint.addendRangeKey: "[0,5]"], 5, nil),
    ([:], 10, "0...9"),  // a plain state_dict: the seed's 0...9
    ([:], 9, nil),
    (["options": #"{"addendRange":[2,20]}"#], 15, nil),  // a checkpoint from before the addendRange key
    (["options": #"{"addendRange":[2,20]}"#], 1, "2...20"),
] as [([String: String], Int, String?)])
func addendRange(metadata: [String: String], addend: Int, refused: String?) throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let checkpoint = root.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), metadata: metadata, to: checkpoint)
    let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--test-index", "0", "--addend", "\(addend)"])
    if let refused {
        #expect(r.status != 0)
        #expect(r.stderr == "mnist-adder: --addend: expected an integer in \(refused) (the range model.safetensors "
            + "was trained on), found \(addend)\n")
    } else {
        #expect(r.status == 0, "\(r.stderr)")
    }
}

@Test("serve --addend-range may only narrow the trained range; the page and the API then offer exactly it")
func serveAddendRange() throws {
    let root = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: root) }
    let checkpoint = root.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 2), metadata: [Checkpoint.addendRangeKey: "[0,5]"], to: checkpoint)
    let wider = try runCLI(["serve", "--checkpoint", checkpoint.path, "--port", "0", "--addend-range", "0-9"])
    #expect(wider.status != 0)
    #expect(wider.stderr == "mnist-adder: --addend-range: expected a range within 0...5 (the range model.safetensors "
        + "was trained on; it may only be narrowed), found 0...9\n")

    for (option, range) in [([String](), 0...5), (["--addend-range", "2-4"], 2...4)] {
        let server = Process()
        server.executableURL = binary
        server.arguments = ["serve", "--checkpoint", checkpoint.path, "--port", "0"] + option
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var text = ""
        let deadline = Date().addingTimeInterval(60)
        while !text.contains("\n") && Date() < deadline && server.isRunning {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        let port = try #require(Int(text.split(separator: ":").last?.split(separator: "/").first ?? ""), "\(text)")
        let base = "http://127.0.0.1:\(port)"
        let page = try runProcess(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", base + "/"]).stdout
        #expect(page.contains("const MIN = \(range.lowerBound), MAX = \(range.upperBound);"), "page range")
        let model = try runProcess(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", base + "/api/model"]).stdout
        #expect(model.contains("\"addendMinimum\":\(range.lowerBound)") && model.contains("\"addendMaximum\":\(range.upperBound)"), "\(model)")
        let pixels = "[" + Array(repeating: "0", count: 783).joined(separator: ",") + ",255]"
        let body = #"{"pixels": \#(pixels), "addend": \#(range.upperBound + 1)}"#
        let refused = try runProcess(
            URL(fileURLWithPath: "/usr/bin/curl"),
            ["-s", "-H", "Content-Type: application/json", "--data", body, base + "/api/predict"]).stdout
        #expect(refused.contains("addend \(range.upperBound + 1) is out of range, expected an integer in \(range)"), "\(refused)")
    }
}
