// Running child processes from tests: the built mnist-adder binary, and python3 for the cross-checks
// against PyTorch and the safetensors library.
import Foundation

/// python3 exited with a failure status; `output` holds what it printed.
public struct PythonError: Error, CustomStringConvertible {
    /// The exit status.
    public let status: Int32
    /// Standard output and standard error together.
    public let output: String
    /// One line with the status, then the output.
    public var description: String { "python3 exited with status \(status):\n\(output)" }
}

/// What a finished child process left: its exit status and everything it printed.
public struct ProcessOutput: Sendable {
    /// The exit status (or the signal number when `uncaughtSignal`).
    public var status: Int32
    /// Standard output as UTF-8.
    public var stdout: String
    /// Standard error as UTF-8.
    public var stderr: String
}

/// Runs `executable` with `arguments` to completion and collects both output streams.
///
/// Standard error is drained on another thread while standard output is read, so a child that
/// fills one pipe never blocks on it. `directory` is the child's working directory (nil: this
/// process's). Throws what `Process.run()` throws (e.g. no such file).
public func runProcess(_ executable: URL, _ arguments: [String], in directory: URL? = nil) throws -> ProcessOutput {
    final class Box: @unchecked Sendable { var data = Data() }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let errorBox = Box()
    let drained = DispatchSemaphore(value: 0)
    DispatchQueue.global().async {
        errorBox.data = errors.fileHandleForReading.readDataToEndOfFile()
        drained.signal()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus, stdout: String(decoding: data, as: UTF8.self),
        stderr: String(decoding: errorBox.data, as: UTF8.self))
}

/// The system's `python3` (found on PATH).
public enum Python {
    /// True when `python3 -c "import <modules>"` succeeds, e.g. `canImport("torch, safetensors.torch")`.
    /// Tests use it to skip, visibly, where PyTorch is not installed.
    public static func canImport(_ modules: String) -> Bool {
        (try? run(["-c", "import \(modules)"])) != nil
    }

    /// Whether the cross-checks must run: true under CI (environment variable `CI=true`), whose
    /// `.ci/run` sets up the Python packages, so that a missing one fails the test instead of skipping it.
    public static var isRequired: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether a test that needs `modules` should run: they import, or the run requires them (`isRequired`).
    public static func shouldRun(needing modules: String) -> Bool {
        isRequired || canImport(modules)
    }

    /// Runs `python3 arguments...` and returns its standard output.
    /// Throws `PythonError` (with both streams) when the exit status is not 0.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        guard result.status == 0 else { throw PythonError(status: result.status, output: result.stdout + result.stderr) }
        return result.stdout
    }
}
