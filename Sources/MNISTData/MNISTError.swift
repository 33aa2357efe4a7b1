// Errors above the byte level: finding, checking and combining the files of a split, building the
// combined dataset, and downloading. IDXError covers the bytes of one file.

/// What is wrong with an MNIST-format data folder, a dataset option or a download.
///
/// Paths in messages are the ones the files were read from.
public enum MNISTError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Neither the raw nor the `.gz` file of a standard name exists in the folder.
    case fileNotFound(directory: String, expected: [String])
    /// The file exists but could not be read; `reason` is the system's.
    case unreadable(file: String, reason: String)
    /// The file's SHA-256 differs from the one its SHA256SUMS lists.
    case checksumMismatch(file: String, expected: String, found: String)
    /// A file or folder could not be written (download); `reason` is the system's.
    case unwritable(file: String, reason: String)
    /// A SHA256SUMS file exists beside the data but does not list this file.
    case notInChecksumList(file: String, checksumList: String)
    /// A line of a SHA256SUMS file is not `<64 hex digits>  <file name>`.
    case malformedChecksumList(file: String, line: Int, found: String)
    /// The images and labels files of a split hold different numbers of items.
    case countMismatch(imagesFile: String, images: Int, labelsFile: String, labels: Int)
    /// A label is not a digit 0...9.
    case labelOutOfRange(file: String, index: Int, found: UInt8)
    /// The images are not 28 × 28 pixels, the size the network takes.
    case imageSize(file: String, expectedRows: Int, expectedColumns: Int, foundRows: Int, foundColumns: Int)
    /// The `limit` option (first N items) is below 1.
    case invalidLimit(found: Int)
    /// The range of added integers is empty, negative or too large.
    case invalidAddendRange(found: ClosedRange<Int>, maximum: Int)
    /// The batch size is below 1.
    case invalidBatchSize(found: Int)
    /// The number of training images kept aside for validation is below 1 or leaves none to train on.
    case invalidValidationSize(found: Int, trainingImages: Int)
    /// No mirror served a file with the expected checksum; `reasons` has one entry per mirror tried.
    case downloadFailed(file: String, reasons: [String])

    /// A one-line message naming the file or option, the problem, and the expected and found values.
    public var description: String {
        switch self {
        case .fileNotFound(let directory, let expected):
            return "\(directory): no MNIST-format file found: expected one of \(expected.joined(separator: ", "))"
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file (\(reason))"
        case .unwritable(let file, let reason):
            return "\(file): cannot write (\(reason))"
        case .checksumMismatch(let file, let expected, let found):
            return "\(file): SHA-256 mismatch: expected \(expected), found \(found)"
        case .notInChecksumList(let file, let checksumList):
            return "\(file): not listed in \(checksumList) (expected a line '<sha256>  \(baseName(file))')"
        case .malformedChecksumList(let file, let line, let found):
            return "\(file):\(line): expected '<64 hex digits>  <file name>', found '\(found)'"
        case .countMismatch(let imagesFile, let images, let labelsFile, let labels):
            return "\(imagesFile) has \(images) images but \(labelsFile) has \(labels) labels (expected equal counts)"
        case .labelOutOfRange(let file, let index, let found):
            return "\(file): label \(index) is \(found), expected a digit 0...9"
        case .imageSize(let file, let expectedRows, let expectedColumns, let foundRows, let foundColumns):
            return "\(file): images are \(foundRows)x\(foundColumns) pixels, expected \(expectedRows)x\(expectedColumns)"
        case .invalidLimit(let found):
            return "limit must be at least 1 image, found \(found)"
        case .invalidAddendRange(let found, let maximum):
            return "the added integer's range must lie within 0...\(maximum), found \(found)"
        case .invalidBatchSize(let found):
            return "batch size must be at least 1, found \(found)"
        case .invalidValidationSize(let found, let trainingImages):
            return "--validation: expected 1...\(trainingImages - 1) images (of \(trainingImages) training images), found \(found)"
        case .downloadFailed(let file, let reasons):
            return "could not download \(file): \(reasons.joined(separator: "; "))"
        }
    }

    private func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
