// libxsmm 1.17's JIT small-GEMM kernels (Linux; Debian's libxsmm-dev), for the row-major products `gemm`
// makes. libxsmm is column-major, so row-major C = op(A)·op(B) runs as Cᵀ = op(B)ᵀ·op(A)ᵀ: libxsmm's A is our
// B and its B our A, nothing is copied. Its 1.17 JIT generates kernels with its B transposed but none with
// its A transposed, so our `transB` products (and alpha ≠ 1, beta other than 0 and 1) stay with OpenBLAS.
#if canImport(CXSMM)
import CXSMM
#endif
import Foundation

/// libxsmm's JIT GEMM kernels for row-major single-precision products, one kernel per shape, dispatched
/// once and cached. Available on Linux only (macOS: `isAvailable` is false and `gemm` returns false).
public enum LIBXSMM {
    /// Whether libxsmm is linked into this build (Linux).
    public static var isAvailable: Bool {
        #if canImport(CXSMM)
        return true
        #else
        return false
        #endif
    }

    /// The instruction set libxsmm generates code for (`hsw` AVX2, `skx` AVX-512, ...), nil without
    /// libxsmm. Set once, before the first kernel: `skx` on every CPU with AVX-512F, `hsw` on one with AVX2
    /// only, whatever OpenBLAS's kernel set (`OPENBLAS_CORETYPE` chooses OpenBLAS's code, not ours), so that
    /// one kind of CPU computes the same way on every machine of that kind; libxsmm's own choice on other
    /// CPUs. `LIBXSMM_TARGET` in the environment wins.
    public static var targetArchitecture: String? {
        #if canImport(CXSMM)
        _ = initialized
        return libxsmm_get_target_arch().map { String(cString: $0) }
        #else
        return nil
        #endif
    }

    /// Whether libxsmm 1.17 has a kernel for a row-major `gemm` with these options: alpha 1, beta 0 or 1, and
    /// `op(B)` not transposed (it would be libxsmm's A transposed, which its JIT does not generate).
    public static func supports(transA: Bool, transB: Bool, alpha: Float, beta: Float) -> Bool {
        isAvailable && !transB && alpha == 1 && (beta == 0 || beta == 1)
    }

    /// Runs `gemm` (same contract: row-major `C = alpha · op(A) · op(B) + beta · C`) on libxsmm's kernel for
    /// this shape and strides, generated on the first call and cached. Returns false, with `C` untouched,
    /// when libxsmm has no kernel for it (`supports` is false, dimensions past `Int32`, or the JIT declined).
    @discardableResult
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        #if canImport(CXSMM)
        guard supports(transA: transA, transB: transB, alpha: alpha, beta: beta) else { return false }
        guard m > 0, n > 0, k > 0 else { return false }
        let limit = Int(Int32.max)
        guard max(m, n, k, lda, ldb, ldc) <= limit else { return false }
        let key = KernelKey(
            m: Int32(m), n: Int32(n), k: Int32(k), lda: Int32(lda), ldb: Int32(ldb), ldc: Int32(ldc),
            transA: transA, accumulate: beta == 1)
        guard let kernel = kernels.kernel(key) else { return false }
        // Column-major Cᵀ (n×m) = Bᵀ (n×k) · op(A)ᵀ (k×m): libxsmm's A is B, its B is A.
        adder_xsmm_run(kernel, b, a, c, targetIsAVX ? 1 : 0)
        return true
        #else
        return false
        #endif
    }

    #if canImport(CXSMM)
    /// libxsmm's setup, once per process: `libxsmm_init`, then the target matching OpenBLAS's kernels.
    private static let initialized: Bool = {
        libxsmm_init()  // first: libxsmm's own setup would replace a target set before it
        if ProcessInfo.processInfo.environment["LIBXSMM_TARGET"] == nil, let target = target(avx512: MachinePeak.supports(width: 16), avx2: MachinePeak.supports(width: 8)) {
            libxsmm_set_target_arch(target)
        }
        return true
    }()

    /// libxsmm's target for a CPU: `skx` (AVX-512) when it has AVX-512F, `hsw` (AVX2) when it has AVX2 and
    /// FMA, nil (libxsmm's own choice) otherwise. Until 2026-12-07 it followed OpenBLAS's kernel set (`Haswell`
    /// → `hsw`), which on the Zen 5 under `OPENBLAS_CORETYPE=Haswell` ran every product 2.2–2.7× slower.
    static func target(avx512: Bool, avx2: Bool) -> String? {
        avx512 ? "skx" : avx2 ? "hsw" : nil
    }

    /// Whether libxsmm generates AVX-512 code in this process (`skx` or newer), which the backend table reads.
    public static let generatesAVX512: Bool = {
        guard let arch = targetArchitecture else { return false }
        return ["skx", "clx", "cpx", "spr"].contains(arch) || arch.hasPrefix("avx512")
    }()

    /// Whether libxsmm's kernels are AVX code, after which `adder_xsmm_run` clears the registers' upper halves.
    private static let targetIsAVX: Bool = {
        _ = initialized
        return adder_xsmm_target_is_avx() != 0
    }()

    /// One kernel's shape as libxsmm's registry would key it, in our row-major terms.
    struct KernelKey: Hashable {
        var m, n, k, lda, ldb, ldc: Int32
        var transA, accumulate: Bool
    }

    /// The kernels dispatched so far (nil: libxsmm declined the shape), shared by the engine's workers.
    final class KernelCache: @unchecked Sendable {
        private let lock = NSLock()
        private var kernels: [KernelKey: UnsafeRawPointer?] = [:]

        func kernel(_ key: KernelKey) -> UnsafeRawPointer? {
            lock.lock()
            if let cached = kernels[key] {
                lock.unlock()
                return cached
            }
            lock.unlock()
            _ = initialized
            // Column-major M = n, N = m; libxsmm's lda is our ldb, its ldb our lda, its B transposed when our A is.
            let kernel = adder_xsmm_dispatch(
                key.n, key.m, key.k, key.ldb, key.lda, key.ldc, key.accumulate ? 1 : 0, key.transA ? 1 : 0)
            lock.lock()
            kernels[key] = kernel
            lock.unlock()
            return kernel
        }
    }

    private static let kernels = KernelCache()
    #endif
}
