// The IDX reader on bytes built in the test: good files, raw and gzip, and every malformed case.
import Foundation
import MNISTData
import Testing

/// Two 2×3 images with pixels 0...11 and their labels.
private let smallPixels: [UInt8] = Array(0..<12)
private let smallImages = idxBytes(magic: 2051, dimensions: [2, 2, 3], payload: smallPixels)
private let smallLabels = idxBytes(magic: 2049, dimensions: [2], payload: [7, 3])

@Test func parsesRawImagesAndLabels() throws {
    let images = try IDXImages(parsing: smallImages, file: "small")
    #expect(images.count == 2)
    #expect(images.rows == 2)
    #expect(images.columns == 3)
    #expect(images.pixels == smallPixels)
    let labels = try IDXLabels(parsing: smallLabels, file: "small")
    #expect(labels.count == 2)
    #expect(labels.labels == [7, 3])
}

@Test func parsesGzipByMagicBytes() throws {
    let gzipped = gzipStored(smallImages)
    #expect(IDX.isGzip(gzipped))
    #expect(!IDX.isGzip(smallImages))
    #expect(try IDXImages(parsing: gzipped) == IDXImages(parsing: smallImages))
    #expect(try IDXLabels(parsing: gzipStored(smallLabels)).labels == [7, 3])
    // Two members back to back (`cat a.gz b.gz`) are one stream, as gzip -d treats them.
    let split = gzipStored(Array(smallImages[0..<10])) + gzipStored(Array(smallImages[10...]))
    #expect(try IDXImages(parsing: split).pixels == smallPixels)
}

@Test func parsesSlicesThatDoNotStartAtZero() throws {
    let padded: [UInt8] = [9, 9, 9, 9, 9] + smallImages + [9, 9]
    let slice = padded[5..<(5 + smallImages.count)]
    #expect(slice.startIndex == 5)
    #expect(try IDXImages(parsing: slice).pixels == smallPixels)

    let data = Data(padded)[5..<(5 + smallImages.count)]
    #expect(data.startIndex == 5)
    #expect(try IDXImages(parsing: data).pixels == smallPixels)

    let gzipped = gzipStored(smallLabels)
    let paddedGzip = Data([1, 2, 3] + gzipped)[3...]
    #expect(try IDXLabels(parsing: paddedGzip).labels == [7, 3])
    // A collection without contiguous storage is read too.
    #expect(try IDXLabels(parsing: smallLabels.lazy.map { $0 }).labels == [7, 3])
}

@Test func emptyFileIsAnError() {
    #expect(throws: IDXError.empty(file: "empty.idx")) {
        try IDXImages(parsing: [UInt8](), file: "empty.idx")
    }
    #expect(throws: IDXError.empty(file: "empty.idx")) {
        try IDXLabels(parsing: Data(), file: "empty.idx")
    }
    #expect(IDXError.empty(file: "empty.idx").description.contains("empty.idx"))
}

@Test func truncatedImagesNameExpectedAndFoundByteCounts() {
    // A header for 60,000 images followed by only 100 images.
    let bytes = idxBytes(magic: 2051, dimensions: [60_000, 28, 28], payload: [UInt8](repeating: 1, count: 100 * 784))
    #expect(bytes.count == 78_416)
    let expected = IDXError.truncated(file: "train-images", expected: 47_040_016, found: 78_416)
    #expect(throws: expected) { try IDXImages(parsing: bytes, file: "train-images") }
    #expect(throws: expected) { try IDXImages(parsing: gzipStored(bytes), file: "train-images") }
    let message = expected.description
    #expect(message.contains("train-images") && message.contains("47040016") && message.contains("78416"))
}

@Test func headerCutShortAndExtraBytesAreErrors() {
    #expect(throws: IDXError.truncatedHeader(file: "h", expected: 16, found: 10)) {
        try IDXImages(parsing: Array(smallImages[0..<10]), file: "h")
    }
    #expect(throws: IDXError.truncatedHeader(file: "h", expected: 16, found: 3)) {
        try IDXImages(parsing: gzipStored(Array(smallImages[0..<3])), file: "h")
    }
    #expect(throws: IDXError.trailingBytes(file: "t", expected: 10, found: 11)) {
        try IDXLabels(parsing: smallLabels + [0], file: "t")
    }
    #expect(throws: IDXError.trailingBytes(file: "t", expected: 10, found: 11)) {
        try IDXLabels(parsing: gzipStored(smallLabels + [0]), file: "t")
    }
}

@Test func labelsFileWhereImagesAreExpectedIsBadMagic() {
    let labels = idxBytes(magic: 2049, dimensions: [10_000], payload: [UInt8](repeating: 3, count: 10_000))
    let expected = IDXError.badMagic(file: "t10k-labels", expected: 2051, found: 2049)
    #expect(throws: expected) { try IDXImages(parsing: labels, file: "t10k-labels") }
    #expect(throws: expected) { try IDXImages(parsing: gzipStored(labels), file: "t10k-labels") }
    #expect(expected.description.contains("2051") && expected.description.contains("2049"))
    #expect(throws: IDXError.badMagic(file: "i", expected: 2049, found: 2051)) {
        try IDXLabels(parsing: smallImages, file: "i")
    }
}

@Test func hugeDimensionsAreRejectedWithoutAllocating() {
    let absurd = idxBytes(magic: 2051, dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], payload: [])
    #expect(throws: IDXError.dimensionsTooLarge(file: "a", dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF])) {
        try IDXImages(parsing: absurd, file: "a")
    }
    // 78 GB promised by a gzip stream of a few bytes: reported as truncated, never allocated.
    let promise = idxBytes(magic: 2051, dimensions: [100_000_000, 28, 28], payload: [1, 2, 3])
    #expect(throws: IDXError.truncated(file: "p", expected: 78_400_000_016, found: 19)) {
        try IDXImages(parsing: gzipStored(promise), file: "p")
    }
}

@Test func corruptGzipIsAnError() throws {
    var badChecksum = gzipStored(smallImages)
    badChecksum[badChecksum.count - 8] ^= 0xFF
    let error = try #require(throws: IDXError.self) { try IDXImages(parsing: badChecksum, file: "bad.gz") }
    guard case .corruptGzip(let file, let reason) = error else {
        Issue.record("expected corruptGzip, got \(error)")
        return
    }
    #expect(file == "bad.gz")
    #expect(reason.contains("check"))

    // Block type 3 is reserved (RFC 1951): invalid after a valid gzip header.
    let badBlock: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF, 0x07, 0, 0, 0]
    #expect {
        try IDXLabels(parsing: badBlock, file: "block.gz")
    } throws: { error in
        guard case IDXError.corruptGzip(file: "block.gz", _) = error else { return false }
        return true
    }

    let garbageAfter = gzipStored(smallLabels) + [0x00, 0x01]
    #expect {
        try IDXLabels(parsing: garbageAfter, file: "tail.gz")
    } throws: { error in
        guard case IDXError.corruptGzip(file: "tail.gz", let reason) = error else { return false }
        return reason.contains("2 bytes")
    }
}

@Test func gzipCutShortIsAnError() throws {
    let whole = gzipStored(smallImages)
    for keep in [2, 10, 20, whole.count - 8, whole.count - 1] {
        #expect(throws: IDXError.truncatedGzip(file: "cut.gz", compressedBytes: keep)) {
            try IDXImages(parsing: Array(whole[0..<keep]), file: "cut.gz")
        }
    }
    // A real compressed file cut in half.
    let real = try Data(contentsOf: MNIST.bundledDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
    let half = real.prefix(real.count / 2)
    #expect(throws: IDXError.truncatedGzip(file: "t10k", compressedBytes: half.count)) {
        try IDXLabels(parsing: half, file: "t10k")
    }
}

@Test func countMismatchAndLabelRangeAreErrors() throws {
    let images = try IDXImages(
        parsing: idxBytes(magic: 2051, dimensions: [60_000, 28, 28],
                          payload: [UInt8](repeating: 0, count: 60_000 * 784)))
    let labels = try IDXLabels(
        parsing: idxBytes(magic: 2049, dimensions: [10_000], payload: [UInt8](repeating: 1, count: 10_000)))
    let mismatch = MNISTError.countMismatch(imagesFile: "train-images", images: 60_000,
                                           labelsFile: "t10k-labels", labels: 10_000)
    #expect(throws: mismatch) {
        try MNIST(images: images, labels: labels, imagesFile: "train-images", labelsFile: "t10k-labels")
    }
    #expect(mismatch.description.contains("60000") && mismatch.description.contains("10000"))

    let threeImages = try IDXImages(
        parsing: idxBytes(magic: 2051, dimensions: [3, 28, 28], payload: [UInt8](repeating: 0, count: 3 * 784)))
    let badLabels = try IDXLabels(parsing: idxBytes(magic: 2049, dimensions: [3], payload: [4, 9, 10]))
    #expect(throws: MNISTError.labelOutOfRange(file: "labels", index: 2, found: 10)) {
        try MNIST(images: threeImages, labels: badLabels, labelsFile: "labels")
    }

    let wide = try IDXImages(parsing: idxBytes(magic: 2051, dimensions: [1, 28, 30], payload: [UInt8](repeating: 0, count: 840)))
    let one = try IDXLabels(parsing: idxBytes(magic: 2049, dimensions: [1], payload: [0]))
    #expect(throws: MNISTError.imageSize(file: "wide", expectedRows: 28, expectedColumns: 28,
                                         foundRows: 28, foundColumns: 30)) {
        try MNIST(images: wide, labels: one, imagesFile: "wide")
    }
}

@Test func errorMessagesAreOneLine() {
    let errors: [any Error & CustomStringConvertible] = [
        IDXError.empty(file: "f"), IDXError.truncatedGzip(file: "f", compressedBytes: 3),
        MNISTError.fileNotFound(directory: "/d", expected: ["a", "a.gz"]),
        MNISTError.downloadFailed(file: "f", reasons: ["m1: offline", "m2: offline"]),
    ]
    for error in errors {
        #expect(!error.description.contains("\n"), "\(error)")
    }
}
