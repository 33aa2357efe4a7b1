// `mnist-adder download`: fetch the four standard MNIST files, checking their SHA-256.
import ArgumentParser
import Foundation
import MNISTData

struct DownloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download the standard MNIST files from public mirrors, with checksum checks.",
        discussion: "MNIST already ships with mnist-adder; this is for a fresh copy elsewhere (use it with --data-dir).")

    @Option(help: "Folder to write the files into.") var to: String
    @Option(parsing: .unconditional, help: "Seconds to wait for each mirror.") var timeout: Double = 30

    func run() async throws {
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw CommandError("--timeout: expected seconds in (0, 3600], found \(timeout)")
        }
        let urls = try await MNISTDownload.download(to: URL(fileURLWithPath: to), timeout: timeout)
        for url in urls { print("Wrote \(url.path)") }
    }
}
