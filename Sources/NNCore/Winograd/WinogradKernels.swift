// Which code runs the Winograd transforms: the Swift code of WinogradTransforms.swift (SIMD4, every
// CPU) or CKernels' C kernels, 8 floats a vector (AVX2) or 16 (AVX-512), chosen at run time from the
// CPU or forced by MNIST_ADDER_TRANSFORMS. Every width gives the same values bit for bit (the same
// additions in the same order, no fused multiply-adds), so the choice changes speed only and is not
// recorded with a run; tests run each width the machine has against the Swift code.
import CKernels
import Foundation

/// The vector width of the Winograd transforms for this process. No PyTorch counterpart (PyTorch's
/// CPU convolutions do not expose Winograd).
public enum WinogradKernels {
    /// The environment variable that forces one width: `swift` (4), `avx2` (8) or `avx512` (16);
    /// unset, empty or `auto`: `preferredWidth`.
    public static let environmentVariable = "MNIST_ADDER_TRANSFORMS"

    /// Whether this CPU runs the transform kernels of `width` floats: 4 always (the Swift code), 8 with
    /// AVX2, 16 with AVX-512F (x86-64 only).
    public static func supports(width: Int) -> Bool {
        width == 4 || ((width == 8 || width == 16) && ckernels_transforms_supported(Int32(width)) != 0)
    }

    /// The widths this CPU runs, narrowest first: what the tests go through.
    public static var supportedWidths: [Int] { [4, 8, 16].filter(supports(width:)) }

    /// The width `auto` picks on this CPU: the widest it runs, except 4 on CPUs that split each AVX2
    /// instruction into two 128-bit halves (AMD Zen and Zen+), where the Swift SIMD4 code was the
    /// faster by measurement (training step 0.96× the time of the AVX2 kernels' on a 2-core EPYC Zen 1,
    /// inference at par; BENCHMARKS.md).
    public static var preferredWidth: Int { Int(ckernels_transforms_preferred_width()) }

    /// `MNIST_ADDER_TRANSFORMS`'s values and the widths they name.
    private static let widthsByName = ["swift": 4, "avx2": 8, "avx512": 16]

    /// The width in force: `MNIST_ADDER_TRANSFORMS`'s if this CPU runs it, otherwise `preferredWidth`.
    /// A value that is not `auto`, `swift`, `avx2` or `avx512`, or one this CPU cannot run, is reported
    /// once on standard error (expected and found value) and treated as `auto`.
    public static let width: Int = {
        let preferred = preferredWidth
        guard let text = ProcessInfo.processInfo.environment[environmentVariable]?.lowercased(),
              !text.isEmpty, text != "auto" else { return preferred }
        let asked = widthsByName[text]
        guard let asked, supports(width: asked) else {
            let why = asked == nil ? "must be auto, swift, avx2 or avx512" : "names code this CPU cannot run"
            FileHandle.standardError.write(Data("warning: \(environmentVariable) \(why), found '\(text)'; using auto\n".utf8))
            return preferred
        }
        return asked
    }()

    /// The width in force and why, for logs: `AVX2 (C, 8 floats), auto`, `Swift SIMD4, auto: this CPU
    /// runs AVX2 as 128-bit halves`, `Swift SIMD4, MNIST_ADDER_TRANSFORMS=swift`.
    public static var explanation: String {
        let asked = ProcessInfo.processInfo.environment[environmentVariable]?.lowercased() ?? ""
        let forced = widthsByName[asked] == width
        let why = forced ? "\(environmentVariable)=\(asked)"
            : width == 4 && supports(width: 8) ? "auto: this CPU runs AVX2 as 128-bit halves" : "auto"
        return name(width: width) + ", " + why
    }

    /// The code a width runs, for logs: `AVX-512 (C, 16 floats)`, `AVX2 (C, 8 floats)`, `Swift SIMD4`.
    public static func name(width: Int) -> String {
        switch width {
        case 16: return "AVX-512 (C, 16 floats)"
        case 8: return "AVX2 (C, 8 floats)"
        default: return "Swift SIMD4"
        }
    }
}
