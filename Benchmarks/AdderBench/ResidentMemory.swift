// The process's resident memory, as Linux reports it. ru_maxrss is what Python's
// resource.getrusage reports too, so both sides of the comparison use the same counter.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's resident set size.
public enum ResidentMemory {
    /// Peak resident set since the process started, KiB (`getrusage(RUSAGE_SELF).ru_maxrss`; macOS
    /// reports bytes there, converted); 0 if the call fails.
    public static var peakKiB: Int {
        var usage = rusage()
        #if canImport(Glibc)
        let status = getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        #else
        let status = getrusage(RUSAGE_SELF, &usage)
        #endif
        guard status == 0 else { return 0 }
        #if canImport(Darwin)
        return Int(usage.ru_maxrss) / 1024
        #else
        return Int(usage.ru_maxrss)
        #endif
    }

    /// Current resident set, KiB (`VmRSS` in /proc/self/status); 0 where that file does not exist.
    public static var currentKiB: Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
    }
}
