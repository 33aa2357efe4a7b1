// Fetching the four MNIST files into a folder, for a machine where the bundled copy was removed or a
// fresh set is wanted. Every file is checked against the bundled SHA256SUMS before it is written, and
// written atomically, so a folder never holds a partial or wrong file under a standard name.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Downloads MNIST's four `.gz` files from public mirrors.
public enum MNISTDownload {
    /// Mirrors tried in order; each serves the four standard `.gz` names under its folder.
    public static let defaultMirrors: [URL] = [
        URL(string: "https://ossci-datasets.s3.amazonaws.com/mnist/"),
        URL(string: "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    ].compactMap { $0 }

    /// The four standard file names with `.gz`, training files first.
    public static var fileNames: [String] {
        MNISTSplit.allCases.flatMap { [$0.imagesFileName + ".gz", $0.labelsFileName + ".gz"] }
    }

    /// Fetches the four files into `directory` (created if missing) and writes a SHA256SUMS beside them.
    ///
    /// Each file's SHA-256 must equal the bundled SHA256SUMS (which pins the canonical MNIST files);
    /// a file already present with the right checksum is kept. A wrong or failed download moves on to the
    /// next mirror. `timeout` is the seconds a request may wait for data. Returns the four file URLs.
    /// Throws `MNISTError.downloadFailed` naming the file and each mirror's reason (one line; without
    /// internet it fails within about `timeout`), or `MNISTError.unwritable` when the folder cannot be written.
    public static func download(
        to directory: URL, mirrors: [URL] = defaultMirrors, timeout: TimeInterval = 30
    ) async throws -> [URL] {
        let expected = try SHA256Sums(contentsOf: MNIST.bundledDirectory.appendingPathComponent("SHA256SUMS"))
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw MNISTError.unwritable(file: directory.path, reason: error.localizedDescription)
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = max(timeout, 600)
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }

        var written: [URL] = []
        for name in fileNames {
            guard let digest = expected[name] else {
                throw MNISTError.notInChecksumList(file: name, checksumList: "the bundled SHA256SUMS")
            }
            let destination = directory.appendingPathComponent(name)
            if let existing = try? Data(contentsOf: destination), SHA256Sums.digest(of: existing) == digest {
                written.append(destination)
                continue
            }
            let data = try await fetch(name, digest: digest, mirrors: mirrors, session: session)
            try write(data, to: destination)
            written.append(destination)
        }
        let sums = SHA256Sums(digests: Dictionary(uniqueKeysWithValues: fileNames.compactMap { name in
            expected[name].map { (name, $0) }
        }))
        try write(Data(sums.text.utf8), to: directory.appendingPathComponent("SHA256SUMS"))
        return written
    }

    /// Tries each mirror until one serves `name` with `digest`.
    private static func fetch(_ name: String, digest: String, mirrors: [URL], session: URLSession) async throws -> Data {
        var reasons: [String] = []
        for mirror in mirrors {
            let url = mirror.appendingPathComponent(name)
            do {
                let (data, response) = try await session.data(from: url)
                if let http = response as? HTTPURLResponse, http.statusCode != 200 {
                    reasons.append("\(url.absoluteString): HTTP \(http.statusCode)")
                    continue
                }
                let found = SHA256Sums.digest(of: data)
                guard found == digest else {
                    reasons.append("\(url.absoluteString): SHA-256 expected \(digest), found \(found)")
                    continue
                }
                return data
            } catch {
                reasons.append("\(url.absoluteString): \(error.localizedDescription)")
            }
        }
        if mirrors.isEmpty { reasons.append("no mirror given") }
        throw MNISTError.downloadFailed(file: name, reasons: reasons)
    }

    /// Writes through a temporary file and a rename, so readers see the old file or the whole new one.
    private static func write(_ data: Data, to url: URL) throws {
        do {
            try data.write(to: url, options: .atomic)
        } catch {
            throw MNISTError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
