// The machine a run was made on, as the report names it.
import Foundation
import NNCore

/// CPU, threads and BLAS kernel set of a run.
public struct MachineDescription: Sendable, Equatable {
    /// The CPU model, e.g. `AMD EPYC 9R45 ...` (Linux: `model name` in /proc/cpuinfo), or "unknown".
    public var cpu: String
    /// Logical CPUs of the machine.
    public var logicalCPUs: Int
    /// Worker threads the run used.
    public var threads: Int
    /// The BLAS kernel set: OpenBLAS's core name in this process (`Haswell`, `SkylakeX`, ...) or `Accelerate`,
    /// with `OPENBLAS_CORETYPE=...` added when the environment forced it.
    public var blasKernel: String

    /// A description from given values (tests, or a machine other than this one).
    public init(cpu: String, logicalCPUs: Int, threads: Int, blasKernel: String) {
        self.cpu = cpu
        self.logicalCPUs = logicalCPUs
        self.threads = threads
        self.blasKernel = blasKernel
    }

    /// This machine, for a run with `threads` worker threads.
    public static func current(threads: Int) -> MachineDescription {
        var kernel = BLASKernels.coreName
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], !forced.isEmpty {
            kernel += " (OPENBLAS_CORETYPE=\(forced))"
        }
        return MachineDescription(
            cpu: cpuModel() ?? "unknown", logicalCPUs: ProcessInfo.processInfo.activeProcessorCount,
            threads: threads, blasKernel: kernel)
    }

    /// The first `model name` of /proc/cpuinfo with its `cpu family` and `model` (Linux: `AMD EPYC (family 26,
    /// model 17)`), or `machdep.cpu.brand_string` (macOS); nil if unreadable.
    static func cpuModel() -> String? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        func field(_ name: String) -> String? {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                let value = parts[1].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
            return nil
        }
        guard let name = field("model name") else { return nil }
        guard let family = field("cpu family"), let model = field("model") else { return name }
        return "\(name) (family \(family), model \(model))"
        #elseif os(macOS)
        var size = 0
        guard sysctlbyname("machdep.cpu.brand_string", nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: size)
        guard sysctlbyname("machdep.cpu.brand_string", &buffer, &size, nil, 0) == 0 else { return nil }
        return String(cString: buffer)
        #else
        return nil
        #endif
    }
}
