// The images `predict --image` names: files, `-` for standard input, and folders (every PNG and JPEG file in
// them, not recursively), each read whole but never past a size bound.
import DigitImage
import Foundation

/// The bytes of the images `--image` arguments name, in order, and the folder entries skipped.
struct ImageInputs {
    /// Each image: the name predictions print (the path, `-` for standard input) and its bytes.
    var images: [(source: String, bytes: [UInt8])] = []
    /// Paths of folder entries that are not PNG or JPEG files (subfolders included), in order.
    var skipped: [String] = []
    /// True when an argument was a folder (predict then prints a table).
    var hadFolder = false

    /// The largest image file read, in bytes: 64 MiB, past any PNG or JPEG the pixel budget admits in practice
    /// (a 12-megapixel photo is a few MB), so a wrong file or endless input stops early.
    static let maximumBytes = 64 << 20

    /// Reads every `--image` argument: `-` is standard input (once), a folder gives its PNG and JPEG files sorted
    /// by name (other entries are skipped and listed in `skipped`), anything else is a file read whole.
    /// Throws `CommandError` naming the path for a missing or unreadable file, a file or input over
    /// `maximumBytes`, `-` given twice, or a folder without any image.
    static func read(_ arguments: [String]) throws -> ImageInputs {
        var inputs = ImageInputs()
        var readStandardInput = false
        for argument in arguments {
            if argument == "-" {
                guard !readStandardInput else { throw CommandError("--image -: standard input can be read once, found '-' twice") }
                readStandardInput = true
                inputs.images.append(("-", try readStandardInputBytes()))
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                throw CommandError("cannot read image \(argument): no such file or folder", status: .noInput)
            }
            guard isDirectory.boolValue else {
                inputs.images.append((argument, try readFile(argument)))
                continue
            }
            inputs.hadFolder = true
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: argument).sorted()
            } catch {
                throw CommandError("cannot list folder \(argument): \(error.localizedDescription)", status: .noInput)
            }
            var found = 0
            for name in names {
                let path = (argument as NSString).appendingPathComponent(name)
                var entryIsDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &entryIsDirectory),
                      !entryIsDirectory.boolValue, let head = try? readHead(path) else {
                    inputs.skipped.append(path)
                    continue
                }
                switch FileKind.of(head) {
                case .png, .jpeg:
                    inputs.images.append((path, try readFile(path)))
                    found += 1
                case .other:
                    inputs.skipped.append(path)
                }
            }
            guard found > 0 else {
                throw CommandError("folder \(argument) holds no PNG or JPEG image, expected at least one (\(names.count) entries)", status: .dataError)
            }
        }
        return inputs
    }

    /// The first 16 bytes of a file (enough for its magic).
    private static func readHead(_ path: String) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        return [UInt8](try handle.read(upToCount: 16) ?? Data())
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        let url = URL(fileURLWithPath: path)
        do {
            let size = try url.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0
            guard size <= maximumBytes else {
                throw CommandError("image \(path) is \(size) bytes, expected at most \(maximumBytes) (64 MiB)", status: .dataError)
            }
            return [UInt8](try Data(contentsOf: url))
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("cannot read image \(path): \(error.localizedDescription)", status: .noInput)
        }
    }

    private static func readStandardInputBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let chunk = try? FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
            bytes += chunk
            guard bytes.count <= maximumBytes else {
                throw CommandError("--image -: standard input holds more than \(maximumBytes) bytes (64 MiB), expected one image", status: .dataError)
            }
        }
        return bytes
    }
}
