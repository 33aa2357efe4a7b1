// One split of MNIST (or of any data in its format, such as Fashion-MNIST) held in memory as bytes.
// The package ships the four MNIST files, so training works on a fresh clone with no download;
// they are checked against the bundled SHA256SUMS every time they are read.
import Foundation

/// Which half of MNIST: 60,000 training or 10,000 test items.
public enum MNISTSplit: String, Sendable, CaseIterable, Codable {
    /// The training split (`train-*` files).
    case train
    /// The test split (`t10k-*` files).
    case test

    /// The standard images file name without `.gz`, as published with MNIST and Fashion-MNIST.
    public var imagesFileName: String {
        self == .train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte"
    }

    /// The standard labels file name without `.gz`.
    public var labelsFileName: String {
        self == .train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte"
    }
}

/// One split of MNIST-format data in memory: `count` 28 × 28 images and their digit labels.
///
/// Pixels are the file's bytes (0 background, 255 ink), image after image, row-major:
/// pixel (r, c) of image i is `pixels[i * rows * columns + r * columns + c]`. Labels are 0...9.
/// Matches torchvision's `datasets.MNIST` `data` (uint8 `[count, 28, 28]`) and `targets`.
public struct MNIST: Sendable, Equatable {
    /// Pixel rows of every image: the network takes 28 × 28 inputs.
    public static let imageRows = 28
    /// Pixel columns of every image.
    public static let imageColumns = 28
    /// The environment variable naming a folder of IDX files to use instead of the bundled MNIST.
    public static let dataDirectoryEnvironmentVariable = "MNIST_ADDER_DATA_DIR"

    /// Number of items.
    public let count: Int
    /// Pixel rows per image (always 28).
    public let rows: Int
    /// Pixel columns per image (always 28).
    public let columns: Int
    /// All pixels, `count * rows * columns` bytes.
    public let pixels: [UInt8]
    /// One digit 0...9 per item.
    public let labels: [UInt8]

    /// Pairs parsed images with parsed labels; the file names are for messages only.
    /// Throws `MNISTError.countMismatch`, `.imageSize` (not 28 × 28) or `.labelOutOfRange` (a label above 9).
    public init(images: IDXImages, labels: IDXLabels,
                imagesFile: String = "<images>", labelsFile: String = "<labels>") throws {
        guard images.count == labels.count else {
            throw MNISTError.countMismatch(
                imagesFile: imagesFile, images: images.count, labelsFile: labelsFile, labels: labels.count)
        }
        guard images.rows == Self.imageRows, images.columns == Self.imageColumns else {
            throw MNISTError.imageSize(
                file: imagesFile, expectedRows: Self.imageRows, expectedColumns: Self.imageColumns,
                foundRows: images.rows, foundColumns: images.columns)
        }
        if let index = labels.labels.firstIndex(where: { $0 > 9 }) {
            throw MNISTError.labelOutOfRange(file: labelsFile, index: index, found: labels.labels[index])
        }
        count = images.count
        rows = images.rows
        columns = images.columns
        pixels = images.pixels
        self.labels = labels.labels
    }

    /// Images already in memory (a person's own, read from an image folder): `labels.count` 28 × 28 images,
    /// `pixels` image after image as in the files (0 background, 255 ink, row-major); `source` names them in
    /// errors. Throws `MNISTError.countMismatch` when `pixels` does not hold 784 bytes per label, and
    /// `.labelOutOfRange` for a label above 9.
    public init(pixels: [UInt8], labels: [UInt8], source: String = "<memory>") throws {
        let size = Self.imageRows * Self.imageColumns
        guard pixels.count == labels.count * size else {
            throw MNISTError.countMismatch(
                imagesFile: source, images: pixels.count / size, labelsFile: source, labels: labels.count)
        }
        if let index = labels.firstIndex(where: { $0 > 9 }) {
            throw MNISTError.labelOutOfRange(file: source, index: index, found: labels[index])
        }
        self.init(count: labels.count, rows: Self.imageRows, columns: Self.imageColumns, pixels: pixels, labels: labels)
    }

    /// The items of every part, in order (all parts hold 28 × 28 images).
    public static func concatenating(_ parts: [MNIST]) -> MNIST {
        MNIST(
            count: parts.reduce(0) { $0 + $1.count }, rows: imageRows, columns: imageColumns,
            pixels: parts.flatMap(\.pixels), labels: parts.flatMap(\.labels))
    }

    init(count: Int, rows: Int, columns: Int, pixels: [UInt8], labels: [UInt8]) {
        self.count = count
        self.rows = rows
        self.columns = columns
        self.pixels = pixels
        self.labels = labels
    }

    /// The first `n` items (all of them when `n >= count`); for quick runs. `n` must be at least 0.
    public func prefix(_ n: Int) -> MNIST {
        let kept = max(0, min(n, count))
        guard kept < count else { return self }
        return MNIST(count: kept, rows: rows, columns: columns,
                     pixels: Array(pixels[0..<kept * rows * columns]), labels: Array(labels[0..<kept]))
    }

    /// The `rows * columns` pixels of item `index` (0-based, must be below `count`).
    public func image(at index: Int) -> ArraySlice<UInt8> {
        let size = rows * columns
        return pixels[index * size..<(index + 1) * size]
    }

    /// The folder of the four MNIST `.gz` files and their SHA256SUMS shipped inside this package.
    public static var bundledDirectory: URL {
        Bundle.module.url(forResource: "mnist", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("mnist")
    }

    /// The data folder to use: the command-line option if given, else the environment variable
    /// `MNIST_ADDER_DATA_DIR` if set and not empty, else `nil` (the bundled MNIST). The option wins.
    public static func dataDirectory(
        option: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL? {
        if let option, !option.isEmpty { return URL(fileURLWithPath: option) }
        if let value = environment[dataDirectoryEnvironmentVariable], !value.isEmpty {
            return URL(fileURLWithPath: value)
        }
        return nil
    }

    /// Loads `split` from `directory` (`nil`: the bundled MNIST), keeping the first `limit` items if given.
    ///
    /// The folder holds the standard file names (`train-images-idx3-ubyte`, ...), each raw or `.gz`; the
    /// contents decide whether to inflate. When the folder has a `SHA256SUMS` file (the bundled one always
    /// does) every file read must be listed there with a matching SHA-256.
    /// Throws `MNISTError` (missing or unreadable file, checksum, counts, labels, size, limit) or `IDXError`.
    public static func load(_ split: MNISTSplit, from directory: URL? = nil, limit: Int? = nil) throws -> MNIST {
        if let limit, limit < 1 { throw MNISTError.invalidLimit(found: limit) }
        let folder = directory ?? bundledDirectory
        let checksumURL = folder.appendingPathComponent("SHA256SUMS")
        let checksums: SHA256Sums? =
            directory == nil || FileManager.default.fileExists(atPath: checksumURL.path)
            ? try SHA256Sums(contentsOf: checksumURL) : nil

        let imagesURL = try locate(split.imagesFileName, in: folder, checksums: checksums)
        let labelsURL = try locate(split.labelsFileName, in: folder, checksums: checksums)
        let imagesData = try read(imagesURL, checksums: checksums, checksumList: checksumURL)
        let labelsData = try read(labelsURL, checksums: checksums, checksumList: checksumURL)
        let images = try IDXImages(parsing: imagesData, file: imagesURL.path)
        let labels = try IDXLabels(parsing: labelsData, file: labelsURL.path)
        let mnist = try MNIST(images: images, labels: labels, imagesFile: imagesURL.path, labelsFile: labelsURL.path)
        return limit.map { mnist.prefix($0) } ?? mnist
    }

    /// Finds `name` or `name.gz` in `folder`, preferring one that `checksums` lists.
    /// Throws `MNISTError.fileNotFound` naming both.
    static func locate(_ name: String, in folder: URL, checksums: SHA256Sums?) throws -> URL {
        let candidates = [name, name + ".gz"]
        let existing = candidates.filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        guard let first = existing.first else {
            throw MNISTError.fileNotFound(directory: folder.path, expected: candidates)
        }
        let chosen = existing.first { checksums?[$0] != nil } ?? first
        return folder.appendingPathComponent(chosen)
    }

    /// Reads a file whole and checks it against `checksums` when there are any.
    static func read(_ url: URL, checksums: SHA256Sums?, checksumList: URL) throws -> Data {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw MNISTError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        if let checksums {
            guard let expected = checksums[url.lastPathComponent] else {
                throw MNISTError.notInChecksumList(file: url.path, checksumList: checksumList.path)
            }
            let found = SHA256Sums.digest(of: data)
            guard found == expected else {
                throw MNISTError.checksumMismatch(file: url.path, expected: expected, found: found)
            }
        }
        return data
    }
}
