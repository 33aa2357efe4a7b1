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
    /// unset, empty or `auto`: the widest this CPU runs.
    public static let environmentVariable = "MNIST_ADDER_TRANSFORMS"

    /// Whether this CPU runs the transform kernels of `width` floats: 4 always (the Swift code), 8 with
    /// AVX2, 16 with AVX-512F (x86-64 only).
    public static func supports(width: Int) -> Bool {
        width == 4 || ((width == 8 || width == 16) && ckernels_transforms_supported(Int32(width)) != 0)
    }

    /// The widths this CPU runs, narrowest first: what the tests go through.
    public static var supportedWidths: [Int] { [4, 8, 16].filter(supports(width:)) }

    /// The width in force: `MNIST_ADDER_TRANSFORMS`'s if this CPU runs it, otherwise the widest it runs.
    /// A value that is not `auto`, `swift`, `avx2` or `avx512`, or one this CPU cannot run, is reported
    /// once on standard error (expected and found value) and treated as `auto`.
    public static let width: Int = {
        let widest = supportedWidths.last ?? 4
        guard let text = ProcessInfo.processInfo.environment[environmentVariable]?.lowercased(),
              !text.isEmpty, text != "auto" else { return widest }
        let asked: Int? = ["swift": 4, "avx2": 8, "avx512": 16][text]
        guard let asked, supports(width: asked) else {
            let why = asked == nil ? "must be auto, swift, avx2 or avx512" : "names code this CPU cannot run"
            FileHandle.standardError.write(Data("warning: \(environmentVariable) \(why), found '\(text)'; using auto\n".utf8))
            return widest
        }
        return asked
    }()

    /// The code a width runs, for logs: `AVX-512 (C, 16 floats)`, `AVX2 (C, 8 floats)`, `Swift SIMD4`.
    public static func name(width: Int) -> String {
        switch width {
        case 16: return "AVX-512 (C, 16 floats)"
        case 8: return "AVX2 (C, 8 floats)"
        default: return "Swift SIMD4"
        }
    }
}
