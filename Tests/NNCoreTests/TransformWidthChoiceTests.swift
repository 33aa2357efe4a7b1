// The width `MNIST_ADDER_TRANSFORMS=auto` picks (WinogradKernels.preferredWidth), against the rule
// worked out here from /proc/cpuinfo: 16 with AVX-512F, 8 with AVX2 unless the CPU splits each
// 256-bit instruction into two 128-bit halves (AMD family 23 below model 48, Zen and Zen+; Hygon
// family 24), 4 otherwise. Linux on x86-64 only: elsewhere /proc/cpuinfo does not hold these fields.
import Foundation
import NNCore
import Testing

/// The first value of `field` in /proc/cpuinfo's first processor, nil when missing.
private func cpuinfo(_ field: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") {
        let parts = line.split(separator: ":", maxSplits: 1)
        if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == field {
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
    }
    return nil
}

#if os(Linux) && arch(x86_64)
@Test("auto picks the widest transforms except where AVX2 is split into halves, as /proc/cpuinfo says")
func preferredTransformWidthFollowsTheCPU() throws {
    let flags = Set(try #require(cpuinfo("flags")).split(separator: " ").map(String.init))
    let vendor = try #require(cpuinfo("vendor_id"))
    let family = try #require(cpuinfo("cpu family").flatMap { Int($0) })
    let model = try #require(cpuinfo("model").flatMap { Int($0) })
    let split = (vendor == "AuthenticAMD" && family == 23 && model < 48) || (vendor == "HygonGenuine" && family == 24)
    let expected = flags.contains("avx512f") ? 16 : flags.contains("avx2") && !split ? 8 : 4
    #expect(WinogradKernels.preferredWidth == expected, "\(vendor) family \(family) model \(model)")
    #expect(WinogradKernels.supportedWidths.contains(WinogradKernels.preferredWidth))
    #expect(WinogradKernels.supports(width: 8) == flags.contains("avx2"))
}
#endif

@Test("the log line names the width in force and, without MNIST_ADDER_TRANSFORMS, says it is auto's choice")
func transformWidthExplanation() {
    let text = WinogradKernels.explanation
    #expect(text.hasPrefix(WinogradKernels.name(width: WinogradKernels.width) + ", "))
    if ProcessInfo.processInfo.environment[WinogradKernels.environmentVariable] == nil {
        #expect(WinogradKernels.width == WinogradKernels.preferredWidth)
        #expect(text.contains("auto"))
        #expect(text.contains("128-bit halves") == (WinogradKernels.width == 4 && WinogradKernels.supports(width: 8)))
    }
}
