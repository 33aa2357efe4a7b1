// The bundled MNIST files and other data folders: counts, known labels, compression told by content,
// checksums, and how the data folder is chosen.
import Foundation
import MNISTData
import Testing

/// The bundled splits, loaded once for the whole suite (the training images take a fraction of a second).
enum Bundled {
    static let train = Result { try MNIST.load(.train) }
    static let test = Result { try MNIST.load(.test) }
}

@Test func bundledTrainingSplitHasKnownCountsAndLabels() throws {
    let train = try Bundled.train.get()
    #expect(train.count == 60_000)
    #expect(train.rows == 28 && train.columns == 28)
    #expect(train.pixels.count == 60_000 * 784)
    var histogram = [Int](repeating: 0, count: 10)
    for label in train.labels { histogram[Int(label)] += 1 }
    #expect(histogram == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    #expect(Array(train.labels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
}

@Test func bundledTestSplitHasKnownCountsAndLabels() throws {
    let test = try Bundled.test.get()
    #expect(test.count == 10_000)
    #expect(test.labels.count == 10_000)
    #expect(Array(test.labels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    // The first test image is a 7: ink in the middle rows, blank corners.
    let first = test.image(at: 0)
    #expect(first.count == 784)
    #expect(first.first == 0 && first.last == 0)
    #expect(first.max() == 255)
}

/// The raw IDX bytes of the bundled test split, rebuilt from the parsed values.
private func rawFiles(_ mnist: MNIST) -> (images: [UInt8], labels: [UInt8]) {
    let images = idxBytes(magic: 2051, dimensions: [UInt32(mnist.count), 28, 28], payload: mnist.pixels)
    let labels = idxBytes(magic: 2049, dimensions: [UInt32(mnist.count)], payload: mnist.labels)
    return (images, labels)
}

@Test func gzipRawAndGzipWithoutExtensionGiveIdenticalData() throws {
    let bundled = try Bundled.test.get()
    let raw = rawFiles(bundled)
    // The SHA-256 of `gzip -dc t10k-*.gz`: the reader reproduces the decompressed files byte for byte.
    #expect(SHA256Sums.digest(of: raw.images) == "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7")
    #expect(SHA256Sums.digest(of: raw.labels) == "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")

    let split = MNISTSplit.test
    let gzipFolder = try temporaryDirectory("gz")
    let rawFolder = try temporaryDirectory("raw")
    let bareFolder = try temporaryDirectory("bare")
    defer { for folder in [gzipFolder, rawFolder, bareFolder] { try? FileManager.default.removeItem(at: folder) } }
    for name in [split.imagesFileName, split.labelsFileName] {
        let gzipped = MNIST.bundledDirectory.appendingPathComponent(name + ".gz")
        try FileManager.default.copyItem(at: gzipped, to: gzipFolder.appendingPathComponent(name + ".gz"))
        try FileManager.default.copyItem(at: gzipped, to: bareFolder.appendingPathComponent(name))
    }
    try Data(raw.images).write(to: rawFolder.appendingPathComponent(split.imagesFileName))
    try Data(raw.labels).write(to: rawFolder.appendingPathComponent(split.labelsFileName))

    #expect(try MNIST.load(.test, from: gzipFolder) == bundled)
    #expect(try MNIST.load(.test, from: rawFolder) == bundled)
    #expect(try MNIST.load(.test, from: bareFolder) == bundled)
}

@Test func limitKeepsTheFirstItems() throws {
    let full = try Bundled.test.get()
    let first = try MNIST.load(.test, limit: 100)
    #expect(first.count == 100)
    #expect(first.labels == Array(full.labels.prefix(100)))
    #expect(first.pixels == Array(full.pixels.prefix(100 * 784)))
    #expect(try MNIST.load(.test, limit: 20_000).count == 10_000)
    #expect(throws: MNISTError.invalidLimit(found: 0)) { try MNIST.load(.test, limit: 0) }
}

@Test func checksumListInADataFolderIsEnforced() throws {
    let folder = try temporaryDirectory("sums")
    defer { try? FileManager.default.removeItem(at: folder) }
    let split = MNISTSplit.test
    for name in [split.imagesFileName, split.labelsFileName] {
        try FileManager.default.copyItem(
            at: MNIST.bundledDirectory.appendingPathComponent(name + ".gz"),
            to: folder.appendingPathComponent(name + ".gz"))
    }
    let bundledSums = try SHA256Sums(contentsOf: MNIST.bundledDirectory.appendingPathComponent("SHA256SUMS"))
    let sumsURL = folder.appendingPathComponent("SHA256SUMS")
    try bundledSums.text.write(to: sumsURL, atomically: true, encoding: .utf8)
    #expect(try MNIST.load(.test, from: folder).count == 10_000)

    var wrong = bundledSums
    let labelsName = split.labelsFileName + ".gz"
    let realDigest = try #require(bundledSums[labelsName])
    wrong.digests[labelsName] = String(repeating: "0", count: 64)
    try wrong.text.write(to: sumsURL, atomically: true, encoding: .utf8)
    let labelsPath = folder.appendingPathComponent(labelsName).path
    let mismatch = MNISTError.checksumMismatch(file: labelsPath, expected: String(repeating: "0", count: 64), found: realDigest)
    #expect(throws: mismatch) { try MNIST.load(.test, from: folder) }
    #expect(mismatch.description.contains(labelsName))

    wrong.digests[labelsName] = nil
    try wrong.text.write(to: sumsURL, atomically: true, encoding: .utf8)
    #expect(throws: MNISTError.notInChecksumList(file: labelsPath, checksumList: sumsURL.path)) {
        try MNIST.load(.test, from: folder)
    }

    try "not a checksum line\n".write(to: sumsURL, atomically: true, encoding: .utf8)
    #expect(throws: MNISTError.malformedChecksumList(file: sumsURL.path, line: 1, found: "not a checksum line")) {
        try MNIST.load(.test, from: folder)
    }
}

@Test func checksumListParsesSha256sumOutput() throws {
    let text = """
        # made by sha256sum
        1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be  a.gz
        B91679A0ACFE4BA0E50A2437A903084CBA1F5F92592B016A25A7DFD00455798B *b.gz

        """
    let sums = try SHA256Sums(parsing: text, file: "SHA256SUMS")
    #expect(sums["a.gz"] == "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be")
    #expect(sums["b.gz"] == "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b")
    #expect(sums.digests.count == 2)
    // The SHA-256 test vector of "abc" (FIPS 180-2).
    #expect(SHA256Sums.digest(of: Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
}

@Test func missingAndEmptyFilesNameTheFile() throws {
    let folder = try temporaryDirectory("missing")
    defer { try? FileManager.default.removeItem(at: folder) }
    #expect(throws: MNISTError.fileNotFound(directory: folder.path,
                                            expected: ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"])) {
        try MNIST.load(.test, from: folder)
    }
    let imagesURL = folder.appendingPathComponent("t10k-images-idx3-ubyte")
    try Data().write(to: imagesURL)
    try Data(idxBytes(magic: 2049, dimensions: [0], payload: [])).write(
        to: folder.appendingPathComponent("t10k-labels-idx1-ubyte"))
    #expect(throws: IDXError.empty(file: imagesURL.path)) { try MNIST.load(.test, from: folder) }
}

@Test func dataDirectoryOptionWinsOverEnvironment() {
    let environment = [MNIST.dataDirectoryEnvironmentVariable: "/from/env"]
    #expect(MNIST.dataDirectoryEnvironmentVariable == "MNIST_ADDER_DATA_DIR")
    #expect(MNIST.dataDirectory(option: "/from/option", environment: environment)?.path == "/from/option")
    #expect(MNIST.dataDirectory(option: nil, environment: environment)?.path == "/from/env")
    #expect(MNIST.dataDirectory(option: nil, environment: [:]) == nil)
    #expect(MNIST.dataDirectory(option: nil, environment: [MNIST.dataDirectoryEnvironmentVariable: ""]) == nil)
}
