// Running the system's python3 from tests that cross-check against PyTorch or the safetensors library.
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

/// The system's `python3` (found on PATH).
public enum Python {
    /// True when `python3 -c "import <modules>"` succeeds, e.g. `canImport("torch, safetensors.torch")`.
    /// Tests use it to skip, visibly, where PyTorch is not installed.
    public static func canImport(_ modules: String) -> Bool {
        (try? run(["-c", "import \(modules)"])) != nil
    }

    /// Runs `python3 arguments...` and returns its standard output (with standard error appended).
    /// Throws `PythonError` when the exit status is not 0.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PythonError(status: process.terminationStatus, output: text + String(decoding: errorData, as: UTF8.self))
        }
        return text
    }
}
