// SHA256SUMS files as `sha256sum` writes them and `sha256sum -c` reads them.
import Crypto
import Foundation

/// The checksums of a `SHA256SUMS` file: lines `<64 hex digits>  <file name>` (a `*` before the name,
/// sha256sum's binary mode, is accepted; blank lines and `#` comments are skipped).
/// Matches the format of GNU coreutils `sha256sum`.
public struct SHA256Sums: Sendable, Equatable {
    /// Lowercase hex digests by file name (no directory).
    public var digests: [String: String]

    /// Wraps digests by file name.
    public init(digests: [String: String]) {
        self.digests = digests
    }

    /// Parses the text of a SHA256SUMS file; `file` names it in errors.
    /// Throws `MNISTError.malformedChecksumList` naming the first bad line.
    public init(parsing text: String, file: String) throws {
        var digests: [String: String] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let digest = line.prefix(64)
            var name = line.dropFirst(64)
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit), name.first == " " else {
                throw MNISTError.malformedChecksumList(file: file, line: number + 1, found: String(line.prefix(120)))
            }
            name = name.drop { $0 == " " }
            if name.first == "*" { name = name.dropFirst() }
            guard !name.isEmpty else {
                throw MNISTError.malformedChecksumList(file: file, line: number + 1, found: String(line.prefix(120)))
            }
            digests[String(name)] = digest.lowercased()
        }
        self.digests = digests
    }

    /// Reads and parses `url`. Throws `MNISTError.unreadable` or `.malformedChecksumList`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MNISTError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MNISTError.malformedChecksumList(file: url.path, line: 1, found: "<not UTF-8 text>")
        }
        try self.init(parsing: text, file: url.path)
    }

    /// The expected lowercase hex digest of `fileName`, if listed.
    public subscript(fileName: String) -> String? { digests[fileName] }

    /// The text of a SHA256SUMS file listing these digests, sorted by name.
    public var text: String {
        digests.keys.sorted().map { "\(digests[$0] ?? "")  \($0)\n" }.joined()
    }

    /// The lowercase hex SHA-256 of `bytes`. Matches `sha256sum`.
    public static func digest(of bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
