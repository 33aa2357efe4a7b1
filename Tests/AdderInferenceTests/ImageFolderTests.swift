// Reading a person's digits in the ImageFolder layout: labels from the class folders' names, nested
// folders, other entries ignored with one note, an empty class refused, and each image prepared as
// `predict` prepares a file.
import AdderInference
import DigitImage
import Foundation
import MNISTData
import Testing

private func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("image-folder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func write(_ bytes: [UInt8], _ root: URL, _ path: String) throws {
    let url = root.appendingPathComponent(path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(bytes).write(to: url)
}

/// MNIST test image `index` as an 8-bit gray 28×28 PNG (which `predict` passes through unchanged).
private func mnistPNG(_ test: MNIST, _ index: Int) throws -> [UInt8] {
    try PNGCodec.encodeGray(Array(test.image(at: index)), width: 28, height: 28)
}

/// A dark stroke on a light 90×60 RGB page, as a photo or a drawing gives: not MNIST-shaped, so the
/// preprocessor inverts, crops, scales and centers it.
private func drawnPNG() throws -> [UInt8] {
    let width = 90, height = 60
    var pixels = [UInt8](repeating: 235, count: width * height * 3)
    for y in 12..<50 {
        for x in 40..<47 { for c in 0..<3 { pixels[(y * width + x) * 3 + c] = 30 } }
    }
    for x in 30..<47 { for y in 12..<17 { for c in 0..<3 { pixels[(y * width + x) * 3 + c] = 30 } } }
    return try PNGCodec.encodeRGB(pixels, width: width, height: height)
}

private func jpegFixture() throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("DigitImageTests/Fixtures/jpeg-gray.jpg")))
}

@Suite("Image folder")
struct ImageFolderTests {
    @Test("labels come from the class folders' names, nested folders included, in path order")
    func labelsAndNesting() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let test = try MNIST.load(.test, limit: 10)
        // Test images 0, 1, 2 are a 7, a 2 and a 1: filed under other digits, the folder must win.
        try write(try mnistPNG(test, 0), root, "3/a.png")
        try write(try mnistPNG(test, 1), root, "3/week 2/deeper/b.png")
        try write(try mnistPNG(test, 2), root, "0/c.png")
        try write(try mnistPNG(test, 3), root, "9/sub/d.png")
        let folder = try ImageFolder.read(root.path)
        #expect(folder.samples.map(\.path) == ["0/c.png", "3/a.png", "3/week 2/deeper/b.png", "9/sub/d.png"])
        #expect(folder.samples.map(\.label) == [0, 3, 3, 9])
        #expect(test.labels[0...3].map(Int.init) == [7, 2, 1, 0], "the images' own digits differ from the folders'")
        #expect(folder.samples.map(\.pixels) == [2, 0, 1, 3].map { Array(test.image(at: $0)) })
        #expect(folder.classCounts == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1])
        #expect(folder.ignored.isEmpty && folder.blank.isEmpty && folder.note == nil)
        let mnist = folder.mnist()
        #expect(mnist.count == 4 && mnist.labels == [0, 3, 3, 9])
        #expect(Array(mnist.image(at: 1)) == Array(test.image(at: 0)))
    }

    @Test("each image is prepared exactly as predict prepares the file (PNG and JPEG)")
    func preparedAsPredict() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let drawn = try drawnPNG(), jpeg = try jpegFixture()
        try write(drawn, root, "7/drawn.png")
        try write(jpeg, root, "2/photo.jpg")
        let folder = try ImageFolder.read(root.path)
        #expect(folder.samples.map(\.path) == ["2/photo.jpg", "7/drawn.png"])
        let budget = PNGCodec.defaultMaximumPixelCount
        let expected = try [jpeg, drawn].map { try DigitInference.prepare(image: $0, source: "x", maximumPixels: budget).digit }
        #expect(folder.samples.map(\.pixels) == expected.map(\.pixels))
        #expect(expected.allSatisfy { !$0.isBlank && !$0.isPassThrough && $0.pixels.count == 784 })
        // The drawing was inverted and centered: light ink on black, nothing at the corners.
        let pixels = folder.samples[1].pixels
        #expect(pixels[0] == 0 && pixels[783] == 0 && (pixels.max() ?? 0) > 200)
        // A smaller pixel budget is applied to every image, as predict's --max-pixels.
        #expect(throws: (any Error).self) { try ImageFolder.read(root.path, maximumPixels: 784) }
    }

    @Test("entries that are not class folders or images are ignored and named in one note")
    func ignoredEntries() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let test = try MNIST.load(.test, limit: 2)
        try write(try mnistPNG(test, 0), root, "7/a.png")
        try write(Array("a note\n".utf8), root, "7/readme.txt")
        try write([], root, "7/.empty")
        try write(try mnistPNG(test, 1), root, "originals/x.png")
        try write(try mnistPNG(test, 1), root, "10/y.png")
        try write(try mnistPNG(test, 1), root, "loose.png")
        try write(Array("{}".utf8), root, "labels.json")
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("7/link").path, withDestinationPath: root.appendingPathComponent("originals").path)
        let folder = try ImageFolder.read(root.path)
        #expect(folder.samples.map(\.path) == ["7/a.png"])
        let ignored = ["10", "7/.empty", "7/link", "7/readme.txt", "labels.json", "loose.png", "originals"]
        #expect(folder.ignored == ignored)
        let note = try #require(folder.note)
        #expect(!note.contains("\n"))
        #expect(note.hasPrefix("ignored 7 entries of \(root.path) that are not a class folder 0-9 or a PNG/JPEG image in one: "))
        #expect(note.hasSuffix(ignored.joined(separator: ", ")), "\(note)")
    }

    @Test("a FIFO, a link to one and a dangling link are passed over without being opened; a link to a PNG is read")
    func specialFiles() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let test = try MNIST.load(.test, limit: 2)
        try write(try mnistPNG(test, 0), root, "7/a.png")
        try write(try mnistPNG(test, 1), root, "elsewhere/b.png")
        let fifo = root.appendingPathComponent("7/fifo.png").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let links = ["7/to-fifo.png": fifo, "7/dangling.png": root.appendingPathComponent("none.png").path,
                     "7/to-png.png": root.appendingPathComponent("elsewhere/b.png").path]
        for (link, target) in links {
            try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(link).path, withDestinationPath: target)
        }
        // Opening a FIFO for reading blocks until a writer comes; should the reader open one, a writer opened after
        // 10 s lets it go on (with nothing to read), so that a regression fails here instead of hanging.
        final class Unblocked: @unchecked Sendable { var value = false }
        let finished = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0), unblocked = Unblocked()
        DispatchQueue.global().async {
            if finished.wait(timeout: .now() + 10) == .timedOut {
                unblocked.value = true
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
            released.signal()
        }
        let folder = try ImageFolder.read(root.path)
        finished.signal()
        released.wait()
        #expect(!unblocked.value, "ImageFolder.read opened a FIFO and waited for a writer")
        #expect(folder.samples.map(\.path) == ["7/a.png", "7/to-png.png"])
        #expect(folder.samples.map(\.label) == [7, 7])
        #expect(folder.ignored == ["7/dangling.png", "7/fifo.png", "7/to-fifo.png", "elsewhere"])
    }

    @Test("a class folder that is a symbolic link to a folder is read, as torchvision's ImageFolder reads it")
    func linkedClassFolder() throws {
        let root = try temporaryFolder(), elsewhere = try temporaryFolder()
        defer { for url in [root, elsewhere] { try? FileManager.default.removeItem(at: url) } }
        let test = try MNIST.load(.test, limit: 2)
        try write(try mnistPNG(test, 0), root, "7/a.png")
        try write(try mnistPNG(test, 1), elsewhere, "nines/b.png")
        try FileManager.default.createSymbolicLink(
            atPath: root.appendingPathComponent("9").path, withDestinationPath: elsewhere.appendingPathComponent("nines").path)
        let folder = try ImageFolder.read(root.path)
        #expect(folder.samples.map(\.path) == ["7/a.png", "9/b.png"])
        #expect(folder.samples.map(\.label) == [7, 9])
        #expect(folder.samples[1].pixels == Array(test.image(at: 1)))
        #expect(folder.ignored.isEmpty, "\(folder.ignored)")
    }

    @Test("a blank image is left out and named; past namesInNote the note counts the rest")
    func blankImages() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let test = try MNIST.load(.test, limit: 1)
        try write(try mnistPNG(test, 0), root, "7/a.png")
        try write(try PNGCodec.encodeGray([UInt8](repeating: 255, count: 40 * 40), width: 40, height: 40), root, "7/white.png")
        for i in 0..<(ImageFolder.namesInNote + 3) { try write(Array("x".utf8), root, String(format: "n%02d.txt", i)) }
        let folder = try ImageFolder.read(root.path)
        #expect(folder.samples.map(\.path) == ["7/a.png"])
        #expect(folder.blank == ["7/white.png"])
        let note = try #require(folder.note)
        #expect(note.contains("n19.txt and 3 more; left out 1 blank image (no digit found): 7/white.png"), "\(note)")
        #expect(!note.contains("n20.txt"))
    }

    @Test("an empty class folder, no class folder, a file or a missing path are one-line errors")
    func refusals() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let test = try MNIST.load(.test, limit: 1)
        try write(try mnistPNG(test, 0), root, "7/a.png")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("4/sub"), withIntermediateDirectories: true)
        try write(Array("x".utf8), root, "4/sub/notes.txt")
        #expect(throws: ImageFolderError.emptyClass(folder: root.appendingPathComponent("4").path, otherEntries: 1)) {
            try ImageFolder.read(root.path)
        }
        let message = ImageFolderError.emptyClass(folder: "d/4", otherEntries: 1).description
        #expect(message == "class folder d/4 holds no PNG or JPEG image, expected at least one (found 1 other entries); "
            + "remove the folder or add images")
        try FileManager.default.removeItem(at: root.appendingPathComponent("4"))
        #expect(try ImageFolder.read(root.path).samples.count == 1)

        let none = root.appendingPathComponent("7")
        #expect(throws: ImageFolderError.noClassFolders(path: none.path, entries: 1)) { try ImageFolder.read(none.path) }
        let file = none.appendingPathComponent("a.png").path
        #expect(throws: ImageFolderError.notAFolder(path: file)) { try ImageFolder.read(file) }
        let missing = root.appendingPathComponent("nothing").path
        #expect(throws: ImageFolderError.notFound(path: missing)) { try ImageFolder.read(missing) }
        try write(try mnistPNG(test, 0), root, "7/b.png")
        #expect(throws: ImageFolderError.tooManyImages(path: root.path, maximum: 1)) {
            try ImageFolder.read(root.path, maximumImages: 1)
        }
    }

    @Test("MNIST from memory checks its sizes and labels; concatenating keeps the order")
    func mnistFromMemory() throws {
        let a = try MNIST(pixels: [UInt8](repeating: 1, count: 784), labels: [3])
        let b = try MNIST(pixels: [UInt8](repeating: 2, count: 2 * 784), labels: [4, 5])
        let joined = MNIST.concatenating([a, b])
        #expect(joined.count == 3 && joined.labels == [3, 4, 5] && joined.image(at: 1).first == 2 && joined.image(at: 0).first == 1)
        #expect(throws: MNISTError.countMismatch(imagesFile: "s", images: 1, labelsFile: "s", labels: 2)) {
            try MNIST(pixels: [UInt8](repeating: 0, count: 784), labels: [1, 2], source: "s")
        }
        #expect(throws: MNISTError.labelOutOfRange(file: "s", index: 0, found: 10)) {
            try MNIST(pixels: [UInt8](repeating: 0, count: 784), labels: [10], source: "s")
        }
    }
}
