// `mnist-adder`: train the two-input network, evaluate a checkpoint, predict a user's digit,
// draw a run's pictures, fetch MNIST, serve a drawing page, export to ONNX.
import ArgumentParser
import NNCore
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

@main
enum Main {
    static func main() async {
        // Before anything else: OpenBLAS picks its kernels when it loads (see BLASKernels).
        BLASKernels.restartWithSupportedKernelsIfNeeded()
        // One line at a time even into a pipe or a file, so a log shows each epoch as it ends.
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try MNISTAdderCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // Help and version requests arrive as errors with exit code 0: let the parser print them.
            guard MNISTAdderCommand.exitCode(for: error) != .success else { MNISTAdderCommand.exit(withError: error) }
            // Everything else is one line on stderr, without a usage dump or a stack trace.
            printError("mnist-adder: " + MNISTAdderCommand.message(for: error))
            exit(MNISTAdderCommand.exitCode(for: error).rawValue)
        }
    }
}

struct MNISTAdderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-adder",
        abstract: "Reads an MNIST digit and adds an integer to it: a CNN classifies, a tiny linear net adds.",
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self, ReportCommand.self,
            SummaryCommand.self, DownloadCommand.self, ServeCommand.self, ExportCommand.self, CalibrateCommand.self,
            UnsureReportCommand.self,
        ])
}
