// The one file that talks to BLAS: OpenBLAS's CBLAS on Linux, Accelerate on macOS.
// Everything else in the package calls `gemm`.
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Single-precision general matrix multiply on row-major matrices:
/// `C = alpha · op(A) · op(B) + beta · C`, where `op(X)` is `X` or `Xᵀ`.
///
/// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`, `ldc` are the row
/// strides (in elements) of `A`, `B` and `C` as stored. Matches BLAS `sgemm` (`cblas_sgemm` with
/// `CblasRowMajor`), so also `torch.addmm(C, op(A), op(B), beta: beta, alpha: alpha)`.
@inlinable
public func gemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor,
        transA ? CblasTrans : CblasNoTrans,
        transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k),
        alpha, a, Int32(lda), b, Int32(ldb),
        beta, c, Int32(ldc))
}

/// The BLAS library's own thread pool.
///
/// The trainer splits each batch across cores and wants one BLAS thread per worker: two BLAS
/// threads inside each of two workers oversubscribe a 2-core machine. No effect with Accelerate.
public enum BLASThreads {
    /// Sets how many threads one BLAS call may use (OpenBLAS `openblas_set_num_threads`).
    public static func set(_ count: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, count)))
        #endif
    }

    /// The number of threads one BLAS call may use (1 under Accelerate, which manages its own).
    public static var current: Int {
        #if canImport(Accelerate)
        return 1
        #else
        return Int(openblas_get_num_threads())
        #endif
    }
}
