// A user's PNG against the IDX path: an MNIST test digit saved as an 8-bit grayscale PNG comes back
// as exactly the same 28×28 input, and the CLI predicts exactly the same for both.
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

@Test("MNIST test images written as grayscale PNG read back as exactly the IDX tensor")
func pngRoundTripIsExact() throws {
    let test = try MNIST.load(.test, limit: 200)
    for index in 0..<test.count {
        let pixels = Array(test.image(at: index))
        let png = try PNGCodec.encodeGray(pixels, width: 28, height: 28)
        let digit = DigitPreprocessor.mnistPixels(from: try PNGCodec.decode(png, source: "test[\(index)]"))
        #expect(!digit.isBlank)
        #expect(digit.pixels == pixels, "image \(index) changed on the PNG path")
        #expect(MNISTNormalization.images(digit.pixels) == MNISTNormalization.images(pixels))
    }
}

@Test("predict on a PNG of a test image prints exactly what --test-index prints")
func predictPNGMatchesIDX() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let test = try MNIST.load(.test, limit: 5)
    let png = folder.appendingPathComponent("digit.png")
    try Data(try PNGCodec.encodeGray(Array(test.image(at: 3)), width: 28, height: 28)).write(to: png)

    struct Prediction: Decodable { let digit: Int?; let probabilities: [Float]?; let sum: Float?; let blank: Bool }
    func predict(_ args: [String]) throws -> Prediction {
        let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--addend", "7", "--json"] + args)
        #expect(r.status == 0, "\(r.stderr)")
        let list = try JSONDecoder().decode([Prediction].self, from: Data(r.stdout.utf8))
        return try #require(list.first)
    }
    let fromPNG = try predict(["--image", png.path])
    let fromIDX = try predict(["--test-index", "3"])
    #expect(fromPNG.digit == fromIDX.digit)
    #expect(fromPNG.probabilities == fromIDX.probabilities)
    #expect(fromPNG.sum == fromIDX.sum)
    let probabilities = try #require(fromPNG.probabilities)
    #expect(abs(probabilities.reduce(0, +) - 1) < 1e-5)
    #expect(fromPNG.digit == probabilities.indices.max { probabilities[$0] < probabilities[$1] })
}

@Test("an image file named like a test image keeps its own prediction next to that test image's")
func predictSameNames() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    // A trained network (98.5%), so that test images 3 (a 0) and 0 (a 7) get different digits.
    let checkpoint = Fixtures.directory.appendingPathComponent("pytorch-trained.safetensors")
    let test = try MNIST.load(.test, limit: 5)
    try Data(try PNGCodec.encodeGray(Array(test.image(at: 3)), width: 28, height: 28))
        .write(to: folder.appendingPathComponent("test[0]"))

    struct Prediction: Decodable { let source: String; let digit: Int?; let probabilities: [Float]? }
    func predict(_ args: [String]) throws -> [Prediction] {
        let r = try runProcess(binary, ["predict", "--checkpoint", checkpoint.path, "--json"] + args, in: folder)
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode([Prediction].self, from: Data(r.stdout.utf8))
    }
    func close(_ a: [Float]?, _ b: [Float]?) -> Bool {
        guard let a, let b, a.count == b.count else { return false }
        return zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }  // a batch of 2 rounds unlike a batch of 1
    }
    let both = try predict(["--image", "test[0]", "--test-index", "0"])
    let image = try predict(["--image", "test[0]"]), index = try predict(["--test-index", "0"])
    #expect(both.map(\.source) == ["test[0]", "test[0]"])
    #expect(both.map(\.digit) == [Int(test.labels[3]), Int(test.labels[0])])
    #expect(image.map(\.digit) == [Int(test.labels[3])] && index.map(\.digit) == [Int(test.labels[0])])
    #expect(close(both.first?.probabilities, image.first?.probabilities))
    #expect(close(both.last?.probabilities, index.first?.probabilities))
}

@Test("a blank image is reported as blank, with no digit and no NaN")
func blankImage() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let png = folder.appendingPathComponent("blank.png")
    try Data(try PNGCodec.encodeGray([UInt8](repeating: 255, count: 64 * 64), width: 64, height: 64)).write(to: png)
    let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", png.path, "--json"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("\"blank\" : true"))
    #expect(!r.stdout.contains("nan") && !r.stdout.contains("NaN"))
    let text = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", png.path])
    #expect(text.stdout.contains("blank image"))
}

@Test("a file that is not a PNG is refused with one line naming it")
func notAPNG() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let jpeg = folder.appendingPathComponent("photo.png")
    try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46, 0, 1]).write(to: jpeg)
    let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", jpeg.path])
    #expect(r.status != 0)
    #expect(r.stderr.split(separator: "\n").count == 1)
    #expect(r.stderr.contains("photo.png"), "\(r.stderr)")
}

@Test("--max-pixels: a PNG over the budget is refused from its header in one line naming the flag")
func pixelBudgetFlag() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    let png = folder.appendingPathComponent("wide.png")
    try Data(try PNGCodec.encodeGray([UInt8](repeating: 255, count: 40 * 30), width: 40, height: 30)).write(to: png)
    let base = ["predict", "--checkpoint", checkpoint.path, "--image", png.path]

    let refused = try runCLI(base + ["--max-pixels", "1199"])
    #expect(refused.status != 0)
    #expect(refused.stderr.split(separator: "\n").count == 1)
    #expect(refused.stderr.contains(
        "wide.png: image is 40×30 (1200 pixels), expected at most 1199 pixels in all and 16384 per side "
            + "(--max-pixels raises the budget)"), "\(refused.stderr)")
    #expect(try runCLI(base + ["--max-pixels", "1200"]).status == 0)
    for value in ["783", "-1", "268435457"] {
        let r = try runCLI(base + ["--max-pixels", value])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--max-pixels: expected 784...268435456, found \(value)"), "\(r.stderr)")
    }
}

@Test("a 4032×3024 photo fits the default budget and predicts what its 512×384 average predicts")
func phonePhotoIsAveragedDown() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 11), to: checkpoint)
    // A dark diagonal stroke on light paper, 12.2 megapixels.
    var gray = [UInt8](repeating: 215, count: 4032 * 3024)
    for y in 600..<2400 {
        let x = 2400 - (y - 600) / 3
        for dx in -90..<90 { gray[y * 4032 + x + dx] = 25 }
    }
    let photo = try PNGCodec.encodeGray(gray, width: 4032, height: 3024)
    let reduced = try PNGCodec.decodeReduced(photo, source: "photo.png")
    #expect(reduced.image.width == 512 && reduced.image.height == 384)
    let photoURL = folder.appendingPathComponent("photo.png"), smallURL = folder.appendingPathComponent("small.png")
    try Data(photo).write(to: photoURL)
    try Data(try PNGCodec.encode(reduced.image)).write(to: smallURL)

    struct Prediction: Decodable { let digit: Int?; let probabilities: [Float]?; let blank: Bool }
    func predict(_ url: URL) throws -> Prediction {
        let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", url.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try #require(try JSONDecoder().decode([Prediction].self, from: Data(r.stdout.utf8)).first)
    }
    let fromPhoto = try predict(photoURL), fromSmall = try predict(smallURL)
    #expect(!fromPhoto.blank && fromPhoto.digit != nil)
    #expect(fromPhoto.digit == fromSmall.digit && fromPhoto.probabilities == fromSmall.probabilities)
}
