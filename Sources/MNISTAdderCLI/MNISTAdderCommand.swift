// `mnist-adder`: train the two-input network, evaluate a checkpoint, predict a user's digit,
// draw a run's pictures, fetch MNIST, serve a drawing page, export to ONNX.
import ArgumentParser
import BuildInfo
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
        // exit() is called only where no message, error or command is alive any more: Swift does not release
        // what is still alive before a call that never returns, so AddressSanitizer's leak check at exit
        // would report each of them.
        if let status = refuseUnknownSubcommand() { exit(status) }
        var failure: Int32?
        do {
            var command = try MNISTAdderCommand.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            failure = report(error)
        }
        if let failure { exit(failure) }
    }

    /// Prints one line for a misspelt or unknown subcommand and returns the usage status; nil when the
    /// first argument is no such word.
    private static func refuseUnknownSubcommand() -> Int32? {
        guard let message = MNISTAdderCommand.unknownSubcommandMessage(Array(CommandLine.arguments.dropFirst())) else {
            return nil
        }
        printError("mnist-adder: " + message)
        return ExitStatus.usage.rawValue
    }

    /// Prints the error of a failed command in one line and returns its exit status.
    private static func report(_ error: any Error) -> Int32 {
        // Help and version requests arrive as errors with exit code 0: let the parser print them.
        guard MNISTAdderCommand.exitCode(for: error) != .success else { MNISTAdderCommand.exit(withError: error) }
        // Everything else is one line on stderr, without a usage dump or a stack trace.
        // The status by kind of failure: the one table in ExitStatus (README "Exit codes").
        printError("mnist-adder: " + MNISTAdderCommand.message(for: error))
        return ExitStatus(for: error).rawValue
    }
}

struct MNISTAdderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mnist-adder",
        abstract: "Reads an MNIST digit and adds an integer to it: a CNN classifies, a tiny linear net adds.",
        discussion: "Exit codes: 0 done, 64 usage, 65 bad input data, 66 missing input, 70 internal error, "
            + "74 I/O error, 130/143 stopped by SIGINT/SIGTERM (README, \"Exit codes\").",
        version: BuildInfo.version,
        subcommands: [
            TrainCommand.self, EvaluateCommand.self, PredictCommand.self, ReportCommand.self,
            SummaryCommand.self, DownloadCommand.self, ServeCommand.self, ExportCommand.self, CompareCommand.self,
            CalibrateCommand.self, UnsureReportCommand.self, FinetuneCommand.self,
        ])
}
