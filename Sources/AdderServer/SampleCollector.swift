// `serve --collect DIR`: labelled drawings saved as the network saw them, in ImageFolder layout
// (DIR/<digit>/<id>.png: 28×28 8-bit gray, white digit on black as in MNIST) with the drawing as sent in
// DIR/originals/<id>.png (or .jpg). One actor owns the folder: saves run one at a time, so ids, counts and
// the disk budget need no lock, and at most one picture is decoded for the collection at any moment.
import DigitImage
import Foundation

/// How many labelled samples a collection holds and how much of its disk budget they use.
public struct CollectionSummary: Sendable, Equatable, Codable {
    /// `counts[d]`: the samples labelled d (the PNG files directly in `DIR/d`), for d = 0...9.
    public var counts: [Int]
    /// The sum of `counts`.
    public var total: Int
    /// The disk the samples and the originals take, in bytes, each file counted in whole 4 KiB blocks
    /// (`SampleCollector.blockSize`), as a file system stores it.
    public var bytesUsed: Int
    /// The budget in bytes (`serve --collect-limit`, in MB of 1,000,000 bytes).
    public var bytesLimit: Int
}

/// What `POST /api/collect` answers after saving a sample.
public struct CollectResponse: Sendable, Equatable, Codable {
    /// The digit the sample was saved as, 0...9.
    public var label: Int
    /// The sample's id: its file name without extension, the same in the class folder and in `originals`.
    public var id: String
    /// The 28×28 sample, relative to the collection folder: `<label>/<id>.png`.
    public var file: String
    /// The drawing as sent, relative to the collection folder: `originals/<id>.png`, or `.jpg` for a JPEG.
    public var original: String
    /// The collection after this save.
    public var collection: CollectionSummary
}

/// A collection folder in ImageFolder layout that labelled drawings are saved to, within a disk budget.
///
/// `DIR/<digit>/<id>.png` holds what the network saw: the 28×28 gray picture `POST /api/predict` would
/// classify (the preprocessed image, or `pixels` as given), 0 background to 255 ink. `DIR/originals/<id>.png`
/// (`.jpg` for a JPEG) holds the request's picture byte for byte (for `pixels`, the same 28×28 PNG). Each
/// file is written to a hidden temporary file in its folder, flushed to disk, then renamed into place,
/// so a reader never sees a partial sample. Ids are a UTC time stamp and 48 random bits
/// (`20261207-125530-3f2a9c1e4b7d`); saves are serialized and an id already taken is drawn again.
public actor SampleCollector {
    /// The collection folder (created if missing).
    public nonisolated let directory: URL
    /// The disk budget in bytes: a save that would take the collection past it is refused (507).
    public nonisolated let maximumBytes: Int
    /// What the opening scan ignored, one line each (entries other than 0...9 and `originals`, files in a
    /// class folder that are not PNG samples, temporary files left by an interrupted save).
    public nonisolated let notes: [String]

    private var counts: [Int]
    private var bytesUsed: Int

    /// The unit in which files are counted against the budget: a file takes at least one block on disk.
    public static let blockSize = 4096
    /// The default budget, 100 MB: about 12,000 samples drawn on the page (two files of one block each).
    public static let defaultMaximumBytes = 100_000_000
    /// The folder of the drawings as sent.
    public static let originalsFolder = "originals"

    /// Opens (or creates) the collection in `directory` and counts what it holds: the PNG files directly in
    /// the class folders `0`...`9` and every file in `originals` count toward `maximumBytes`; anything
    /// else is left alone and listed in `notes`.
    ///
    /// - Throws: `CollectionFolderError` when `directory` is a file, cannot be created or read, or is not
    ///   writable, or when `maximumBytes` is below two blocks (one sample).
    public init(directory: URL, maximumBytes: Int = SampleCollector.defaultMaximumBytes) throws {
        let path = directory.path
        guard maximumBytes >= 2 * Self.blockSize else {
            throw CollectionFolderError.budgetTooSmall(bytes: maximumBytes, minimum: 2 * Self.blockSize)
        }
        let files = FileManager.default
        var isFolder: ObjCBool = false
        if files.fileExists(atPath: path, isDirectory: &isFolder) {
            guard isFolder.boolValue else { throw CollectionFolderError.notAFolder(path: path) }
        } else {
            do {
                try files.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw CollectionFolderError.cannotCreate(path: path, reason: Self.reason(error))
            }
        }
        guard files.isWritableFile(atPath: path) else { throw CollectionFolderError.notWritable(path: path) }
        let scan = try Self.scan(directory)
        self.directory = directory
        self.maximumBytes = maximumBytes
        self.notes = scan.notes
        self.counts = scan.counts
        self.bytesUsed = scan.bytesUsed
    }

    /// The counts and disk use now.
    public func summary() -> CollectionSummary {
        CollectionSummary(counts: counts, total: counts.reduce(0, +), bytesUsed: bytesUsed, bytesLimit: maximumBytes)
    }

    /// Saves the picture of a `POST /api/collect` body as a sample of its `label`. The body is read as
    /// `POST /api/predict` reads it (`Predictor.parseInput`: the same fields, checks and errors, the
    /// addend included) plus `label`, an integer 0...9.
    ///
    /// - Throws: `PredictionRequestError` for what `/api/predict` would refuse; `CollectError` for a missing
    ///   or wrong label, a full collection (checked before decoding and again with the files' sizes) or a
    ///   failed write (nothing of the sample is left behind).
    public func save(body: Data, configuration: ServerConfiguration) throws -> CollectResponse {
        let oneSample = 2 * Self.blockSize
        guard bytesUsed + oneSample <= maximumBytes else { throw fullError(needed: oneSample) }
        let (input, _) = try Predictor.parseInput(body, configuration: configuration)
        let label = try Self.label(in: body)
        let side = DigitPreprocessor.side
        guard let pixels = input.pixels, pixels.count == side * side else {
            throw CollectError.saveFailed(file: "\(label)/", reason: "the request gave no 28×28 picture", noSpace: false)
        }
        let sample = try PNGCodec.encodeGray(pixels, width: side, height: side)
        let original: (bytes: [UInt8], fileExtension: String)
        if input.source == "image" {
            let bytes = try Self.imageBytes(in: body)
            original = (bytes, FileKind.of(bytes) == .jpeg ? "jpg" : "png")
        } else {
            original = (sample, "png")
        }
        let needed = Self.blocks(sample.count) + Self.blocks(original.bytes.count)
        guard bytesUsed + needed <= maximumBytes else { throw fullError(needed: needed) }

        let id = uniqueID(label: label, originalExtension: original.fileExtension)
        let file = "\(label)/\(id).png", originalFile = "\(Self.originalsFolder)/\(id).\(original.fileExtension)"
        try writeFile(original.bytes, to: originalFile)
        do {
            try writeFile(sample, to: file)
        } catch {
            unlink(directory.appendingPathComponent(originalFile).path)
            throw error
        }
        counts[label] += 1
        bytesUsed += needed
        return CollectResponse(label: label, id: id, file: file, original: originalFile, collection: summary())
    }

    // MARK: Writing

    private func fullError(needed: Int) -> CollectError {
        .full(bytesUsed: bytesUsed, bytesLimit: maximumBytes, needed: needed, samples: counts.reduce(0, +))
    }

    /// A fresh id: neither `<label>/<id>.png` nor the original exists yet.
    private func uniqueID(label: Int, originalExtension: String) -> String {
        var now = time(nil), parts = tm()
        gmtime_r(&now, &parts)
        func digits(_ value: Int32, _ width: Int) -> String { String(value).leftPadded(to: width) }
        let stamp = digits(parts.tm_year + 1900, 4) + digits(parts.tm_mon + 1, 2) + digits(parts.tm_mday, 2) + "-"
            + digits(parts.tm_hour, 2) + digits(parts.tm_min, 2) + digits(parts.tm_sec, 2)
        while true {
            let random = UInt64.random(in: 0..<(1 << 48))
            let id = stamp + "-" + String(random, radix: 16).leftPadded(to: 12)
            let taken = [
                "\(label)/\(id).png", "\(Self.originalsFolder)/\(id).\(originalExtension)",
            ].contains { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
            if !taken { return id }
        }
    }

    /// Writes `bytes` to `relativePath` (its folder created if needed) through a hidden temporary file in
    /// the same folder: written, flushed (fsync), renamed into place.
    private func writeFile(_ bytes: [UInt8], to relativePath: String) throws {
        let url = directory.appendingPathComponent(relativePath)
        let folder = url.deletingLastPathComponent()
        func failure(_ code: Int32) -> CollectError {
            .saveFailed(file: relativePath, reason: String(cString: strerror(code)), noSpace: code == ENOSPC || code == EDQUOT)
        }
        if mkdir(folder.path, 0o755) != 0, errno != EEXIST { throw failure(errno) }
        let temporary = folder.appendingPathComponent("." + url.lastPathComponent + ".tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(errno) }
        var code: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    code = errno
                    return
                }
                offset += written
            }
        }
        if code == 0, fsync(descriptor) != 0 { code = errno }
        if close(descriptor) != 0, code == 0 { code = errno }
        if code == 0, rename(temporary, url.path) != 0 { code = errno }
        if code != 0 {
            unlink(temporary)
            throw failure(code)
        }
    }

    // MARK: Reading the request

    /// The `label` field: an integer 0...9.
    static func label(in body: Data) throws -> Int {
        struct LabelField: Decodable { var label: Double? }
        let value: Double?
        do {
            value = try JSONDecoder().decode(LabelField.self, from: body).label
        } catch {
            throw CollectError.wrongLabelType
        }
        guard let value else { throw CollectError.missingLabel }
        guard value.rounded() == value, (0...9).contains(value) else {
            let text = value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
            throw CollectError.labelOutOfRange(found: text)
        }
        return Int(value)
    }

    /// The bytes of the `image` field (already checked by `Predictor.parseInput`): base64 after an optional
    /// data URL prefix, whitespace dropped.
    static func imageBytes(in body: Data) throws -> [UInt8] {
        struct ImageField: Decodable { var image: String? }
        var text = Substring((try? JSONDecoder().decode(ImageField.self, from: body).image) ?? "")
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
        let trimmed = String(decoding: text.utf8.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }, as: UTF8.self)
        guard let data = Data(base64Encoded: trimmed), !data.isEmpty else {
            throw CollectError.saveFailed(
                file: originalsFolder + "/", reason: "the image could not be read again", noSpace: false)
        }
        return [UInt8](data)
    }

    // MARK: The opening scan

    /// `bytes` in whole blocks.
    static func blocks(_ bytes: Int) -> Int { max(1, (bytes + blockSize - 1) / blockSize) * blockSize }

    private static func scan(_ directory: URL) throws -> (counts: [Int], bytesUsed: Int, notes: [String]) {
        var counts = [Int](repeating: 0, count: 10), bytesUsed = 0, notes: [String] = []
        let files = FileManager.default
        func entries(_ folder: URL) throws -> [String] {
            do {
                return try files.contentsOfDirectory(atPath: folder.path).sorted()
            } catch {
                throw CollectionFolderError.unreadable(path: folder.path, reason: reason(error))
            }
        }
        /// The size of a regular file, nil for anything else (folders, links, sockets).
        func regularFileSize(_ url: URL) -> Int? {
            var info = stat()
            guard lstat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Int(info.st_size)
        }
        func isFolder(_ url: URL) -> Bool {
            var info = stat()
            return lstat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
        // A class folder may be a symbolic link to a folder, as `ImageFolder` (and torchvision's) reads it and
        // as saving into it writes there; links inside class folders are not followed.
        func isFolderOrLinkToOne(_ url: URL) -> Bool {
            var info = stat()
            return stat(url.path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
        for name in try entries(directory) {
            let url = directory.appendingPathComponent(name)
            if let digit = Int(name), name.count == 1, isFolderOrLinkToOne(url) {
                for file in try entries(url) {
                    let fileURL = url.appendingPathComponent(file)
                    if file.hasPrefix("."), file.hasSuffix(".tmp") {
                        notes.append("\(fileURL.path): left by an interrupted save, ignored")
                    } else if file.lowercased().hasSuffix(".png"), !file.hasPrefix("."), let size = regularFileSize(fileURL) {
                        counts[digit] += 1
                        bytesUsed += blocks(size)
                    } else {
                        notes.append("\(fileURL.path): not a PNG sample, ignored")
                    }
                }
            } else if name == originalsFolder, isFolder(url) {
                for file in try entries(url) {
                    let fileURL = url.appendingPathComponent(file)
                    if file.hasPrefix("."), file.hasSuffix(".tmp") {
                        notes.append("\(fileURL.path): left by an interrupted save, ignored")
                    } else if let size = regularFileSize(fileURL) {
                        bytesUsed += blocks(size)
                    }
                }
            } else {
                notes.append("\(url.path): not a class folder 0-9 or \(originalsFolder), ignored")
            }
        }
        return (counts, bytesUsed, notes)
    }

    private static func reason(_ error: any Error) -> String {
        error.localizedDescription.split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown error"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
