// A person's own digits in the ImageFolder layout (torchvision's `datasets.ImageFolder`, which
// `serve --collect` writes): one folder per class named 0–9 holding PNG or JPEG files, in nested
// folders too. Every image is prepared as `predict` prepares a file (`DigitInference.prepare`), so
// `evaluate --image-folder` and `finetune` see what the network saw on the page.
import DigitImage
import Foundation
import MNISTData

/// One image of an image folder, prepared as `predict` prepares it.
public struct ImageFolderSample: Sendable, Equatable {
    /// The file's path relative to the folder read, e.g. `7/a1b2.png` or `7/monday/x.jpg`.
    public var path: String
    /// The digit, from the class folder's name.
    public var label: Int
    /// 784 bytes, 28 rows of 28: 0 background, 255 ink (`DigitPreprocessor.mnistPixels`).
    public var pixels: [UInt8]
}

/// What is wrong with a folder given as an image folder; one line naming the path, expected and found.
public enum ImageFolderError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The path does not exist.
    case notFound(path: String)
    /// The path is a file, not a folder.
    case notAFolder(path: String)
    /// A folder could not be listed or a file read; `reason` is the system's.
    case unreadable(path: String, reason: String)
    /// The folder holds no class folder named 0 to 9.
    case noClassFolders(path: String, entries: Int)
    /// A class folder (and the folders in it) holds no PNG or JPEG file.
    case emptyClass(folder: String, otherEntries: Int)
    /// More image files than the bound.
    case tooManyImages(path: String, maximum: Int)
    /// An image file larger than the bound, in bytes.
    case fileTooLarge(path: String, bytes: Int, maximum: Int)
    /// Folders nested deeper than the bound inside a class folder.
    case tooDeep(path: String, maximum: Int)

    /// One line naming the path, what was expected and what was found.
    public var description: String {
        switch self {
        case .notFound(let path): "image folder \(path): no such folder"
        case .notAFolder(let path): "image folder \(path): is a file, expected a folder with class folders 0 to 9"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .noClassFolders(let path, let entries):
            "image folder \(path): no class folder, expected folders named 0 to 9 holding PNG or JPEG images "
                + "(found \(entries) other entries)"
        case .emptyClass(let folder, let other):
            "class folder \(folder) holds no PNG or JPEG image, expected at least one (found \(other) other entries); "
                + "remove the folder or add images"
        case .tooManyImages(let path, let maximum): "image folder \(path): more than \(maximum) image files, expected at most \(maximum)"
        case .fileTooLarge(let path, let bytes, let maximum): "image \(path) is \(bytes) bytes, expected at most \(maximum)"
        case .tooDeep(let path, let maximum): "\(path): folders nested more than \(maximum) deep in a class folder, expected at most \(maximum)"
        }
    }
}

/// The digits of an image folder, each prepared as `predict` prepares a file.
public struct ImageFolder: Sendable {
    /// The class folders' names: the digits 0 to 9, written as one character.
    public static let classNames = (0...9).map(String.init)
    /// The most image files read (a bound on time and memory: 784 bytes each once prepared).
    public static let defaultMaximumImages = 100_000
    /// The largest image file read, in bytes (64 MiB, as `predict`).
    public static let maximumFileBytes = 64 << 20
    /// The deepest nesting of folders inside a class folder.
    public static let maximumDepth = 16
    /// Names listed in `note` before "and N more".
    public static let namesInNote = 20

    /// The folder read, as given.
    public var root: String
    /// The digits found, by class then by path (byte order of the relative paths).
    public var samples: [ImageFolderSample]
    /// Entries passed over, relative to `root`, sorted: top-level entries that are not class folders (files,
    /// `originals/`, a folder `10`), files in class folders that are neither PNG nor JPEG, symbolic links to
    /// folders inside class folders.
    public var ignored: [String]
    /// Images in which no digit was found (`PreprocessedDigit.isBlank`), relative to `root`; not in `samples`.
    public var blank: [String]

    /// Images per digit, 10 counts.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for sample in samples { counts[sample.label] += 1 }
        return counts
    }

    /// One line for standard error naming the ignored entries and the blank images (the first `namesInNote`
    /// of each), or nil when there are none.
    public var note: String? {
        func names(_ list: [String]) -> String {
            let shown = list.prefix(Self.namesInNote).joined(separator: ", ")
            return list.count > Self.namesInNote ? shown + " and \(list.count - Self.namesInNote) more" : shown
        }
        var parts: [String] = []
        if !ignored.isEmpty {
            parts.append("ignored \(ignored.count) entr\(ignored.count == 1 ? "y" : "ies") of \(root) that "
                + "\(ignored.count == 1 ? "is" : "are") not a class folder 0-9 or a PNG/JPEG image in one: \(names(ignored))")
        }
        if !blank.isEmpty {
            parts.append("left out \(blank.count) blank image\(blank.count == 1 ? "" : "s") (no digit found): \(names(blank))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// The samples as an MNIST split (images and labels in `samples` order).
    public func mnist() -> MNIST {
        // 784 bytes and a label 0...9 per sample by construction, so this cannot throw.
        (try? MNIST(pixels: samples.flatMap(\.pixels), labels: samples.map { UInt8($0.label) }, source: root))
            ?? MNIST.concatenating([])
    }

    /// Reads the image folder at `path`.
    ///
    /// Its entries named `0` … `9` that are folders (or symbolic links to folders) are the classes; every other
    /// entry is ignored (listed in `ignored`). In a class folder, and in the folders nested in it (up to `maximumDepth`), every file whose
    /// first bytes are a PNG's or a JPEG's is an image of that digit; other files, symbolic links to folders and
    /// what is not a regular file (a FIFO, socket or device, or a link to one: never opened) are ignored. Each
    /// image is decoded and prepared exactly as `predict` prepares a file (`DigitInference.prepare(image:source:
    /// maximumPixels:)` with the pixel budget `maximumPixels`); one in which no digit is found goes to `blank`.
    /// Classes may be missing; a class folder present must hold an image.
    /// - Throws: `ImageFolderError` (missing folder, a file given, no class folder, an empty class, more than
    ///   `maximumImages` images, a file over `maximumFileBytes`, nesting too deep, unreadable entries), and
    ///   `PNGError` / `JPEGError` naming a damaged or too large image.
    public static func read(
        _ path: String, maximumPixels: Int = PNGCodec.defaultMaximumPixelCount,
        maximumImages: Int = defaultMaximumImages
    ) throws -> ImageFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageFolderError.notFound(path: path)
        }
        guard isDirectory.boolValue else { throw ImageFolderError.notAFolder(path: path) }
        var folder = ImageFolder(root: path, samples: [], ignored: [], blank: [])
        let entries = try list(path)
        var files: [(path: String, label: Int)] = []
        var classes = 0
        for name in entries {
            let full = join(path, name)
            // A class folder may be a symbolic link to a folder, as torchvision's ImageFolder follows it; links to
            // folders inside a class folder are not followed (no loops).
            guard let label = classNames.firstIndex(of: name), [.folder, .folderLink].contains(kind(of: full)) else {
                folder.ignored.append(name)
                continue
            }
            classes += 1
            var found: [String] = []
            try collect(full, relative: name, depth: 0, files: &found, ignored: &folder.ignored)
            guard !found.isEmpty else {
                let other = folder.ignored.filter { $0.hasPrefix(name + "/") }.count
                throw ImageFolderError.emptyClass(folder: full, otherEntries: other)
            }
            files += found.map { ($0, label) }
            guard files.count <= maximumImages else { throw ImageFolderError.tooManyImages(path: path, maximum: maximumImages) }
        }
        guard classes > 0 else { throw ImageFolderError.noClassFolders(path: path, entries: entries.count) }
        for file in files {
            let bytes = try readFile(join(path, file.path))
            let digit = try DigitInference.prepare(image: bytes, source: join(path, file.path), maximumPixels: maximumPixels).digit
            if digit.isBlank {
                folder.blank.append(file.path)
            } else {
                folder.samples.append(ImageFolderSample(path: file.path, label: file.label, pixels: digit.pixels))
            }
        }
        folder.ignored.sort()
        return folder
    }

    private enum EntryKind { case folder, file, folderLink, other }

    /// What is at `path`: a folder, a regular file (or a link to one), a symbolic link to a folder, or other (a FIFO,
    /// socket or device, a link to one, a dangling link).
    private static func kind(of path: String) -> EntryKind {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let type = attributes[.type] as? FileAttributeType
        else { return .other }
        switch type {
        case .typeDirectory: return .folder
        case .typeRegular: return .file
        case .typeSymbolicLink:
            // What the link points to (stat follows links): only a regular file is read, so a link to a FIFO,
            // a socket or a device is passed over instead of blocking on its open or read.
            var target = stat()
            guard stat(path, &target) == 0 else { return .other }
            switch target.st_mode & S_IFMT {
            case S_IFDIR: return .folderLink
            case S_IFREG: return .file
            default: return .other
            }
        default: return .other
        }
    }

    /// The image files under `folder` (relative paths starting with `relative`), depth first in name order.
    private static func collect(
        _ folder: String, relative: String, depth: Int, files: inout [String], ignored: inout [String]
    ) throws {
        guard depth <= maximumDepth else { throw ImageFolderError.tooDeep(path: folder, maximum: maximumDepth) }
        for name in try list(folder) {
            let full = join(folder, name), rel = relative + "/" + name
            switch kind(of: full) {
            case .folder:
                try collect(full, relative: rel, depth: depth + 1, files: &files, ignored: &ignored)
            case .file:
                switch FileKind.of(try readHead(full)) {
                case .png, .jpeg: files.append(rel)
                case .other: ignored.append(rel)
                }
            case .folderLink, .other:
                ignored.append(rel)
            }
        }
    }

    private static func join(_ folder: String, _ name: String) -> String {
        (folder as NSString).appendingPathComponent(name)
    }

    /// The names in `folder`, sorted by their UTF-8 bytes (the same order on every system).
    private static func list(_ folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        } catch {
            throw ImageFolderError.unreadable(path: folder, reason: error.localizedDescription)
        }
    }

    /// The first 16 bytes of a file (enough for its magic).
    private static func readHead(_ path: String) throws -> [UInt8] {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            return [UInt8](try handle.read(upToCount: 16) ?? Data())
        } catch {
            throw ImageFolderError.unreadable(path: path, reason: error.localizedDescription)
        }
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: path)
        let size: Int
        do {
            size = try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
        } catch {
            throw ImageFolderError.unreadable(path: path, reason: error.localizedDescription)
        }
        guard size <= maximumFileBytes else {
            throw ImageFolderError.fileTooLarge(path: path, bytes: size, maximum: maximumFileBytes)
        }
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw ImageFolderError.unreadable(path: path, reason: error.localizedDescription)
        }
    }
}
