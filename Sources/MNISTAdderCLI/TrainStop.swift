// Stopping `train` by hand: Ctrl-C (SIGINT) or SIGTERM finishes the step under way, saves the training
// state and exits with the signal's conventional status, after printing the command that goes on.
import Dispatch
import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// How a training run stopped by a signal exits: `ExitStatus.interrupted` (130) for Ctrl-C,
/// `ExitStatus.terminated` (143) for SIGTERM, as a shell reports a process the signal killed.
enum TrainStopExit {
    /// The status for a run stopped by `signal`.
    static func status(for signal: Int32) -> Int32 {
        (signal == SIGTERM ? ExitStatus.terminated : ExitStatus.interrupted).rawValue
    }

    /// Ends the process with the status for `signal`.
    static func exitStopped(by signal: Int32) -> Never { exit(status(for: signal)) }
}

/// Catches SIGINT and SIGTERM while training runs and remembers the first one; a second one exits at
/// once (the last saved state stays whole: every save is a rename of a complete file).
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32?
    private var sources: [DispatchSourceSignal] = []

    /// The first signal received, if any.
    var receivedSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Starts catching SIGINT and SIGTERM (until `uninstall`).
    func install() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in receive(number) }
            source.resume()
            sources.append(source)
        }
    }

    /// Gives both signals back their default action.
    func uninstall() {
        sources.forEach { $0.cancel() }
        sources = []
        for number in [SIGINT, SIGTERM] { signal(number, SIG_DFL) }
    }

    private func receive(_ number: Int32) {
        lock.lock()
        let first = received == nil
        if first { received = number }
        lock.unlock()
        guard first else { TrainStopExit.exitStopped(by: number) }
        let name = number == SIGTERM ? "SIGTERM" : "Ctrl-C"
        printError("\n\(name): stopping after this step and saving the training state (a second one quits at once)")
    }
}

/// The program as it was started (its `argv[0]`), as one shell word: a name found on PATH as it is
/// (`mnist-adder`), a relative path made absolute (`.build/release/mnist-adder`, which `scripts/train`
/// starts from the package's folder), "mnist-adder" when the system gave none. The commands `train`
/// suggests begin with it, so that they run as printed, from any folder.
var invokedProgram: String {
    let name = CommandLine.arguments.first ?? ""
    guard !name.isEmpty else { return "mnist-adder" }
    let isRelativePath = name.contains("/") && !name.hasPrefix("/")
    return shellQuoted(isRelativePath ? URL(fileURLWithPath: name).standardizedFileURL.path : name)
}

/// `text` as one shell word: unchanged when it holds only characters no shell treats specially,
/// else in single quotes.
func shellQuoted(_ text: String) -> String {
    let plain = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+=:,@%")
    guard text.isEmpty || !text.allSatisfy(plain.contains) else { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
