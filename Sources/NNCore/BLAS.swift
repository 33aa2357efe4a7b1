// The one file that talks to BLAS: OpenBLAS's CBLAS on Linux, Accelerate on macOS.
// Everything else in the package calls `gemm`, which sends each product to OpenBLAS or to libxsmm's
// JIT kernels (LIBXSMM.swift) as GEMMDispatch says (GEMMBackend.swift).
#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
import Foundation
#endif

/// Single-precision general matrix multiply on row-major matrices:
/// `C = alpha · op(A) · op(B) + beta · C`, where `op(X)` is `X` or `Xᵀ`.
///
/// Shapes: `op(A)` is `[m, k]`, `op(B)` is `[k, n]`, `C` is `[m, n]`; `lda`, `ldb`, `ldc` are the row
/// strides (in elements) of `A`, `B` and `C` as stored. Matches BLAS `sgemm` (`cblas_sgemm` with
/// `CblasRowMajor`), so also `torch.addmm(C, op(A), op(B), beta: beta, alpha: alpha)`.
///
/// Runs on OpenBLAS (`cblasGemm`) or on libxsmm's kernel for the shape (`LIBXSMM.gemm`), as
/// `GEMMDispatch.choice` says: the two differ only in float rounding (the order of the additions).
public func gemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    gemm(
        choice: GEMMDispatch.choice, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
}

/// `gemm` with the backend choice given instead of the process's (`GEMMDispatch.choice`): the tests run
/// every choice this way on any machine. A product the chosen backend has no kernel for runs on OpenBLAS.
public func gemm(
    choice: GEMMBackendChoice,
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    if GEMMShapeLog.isOn {
        GEMMShapeLog.add(GEMMShape(transA: transA, transB: transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc, beta: beta))
    }
    if LIBXSMM.isAvailable,
       GEMMDispatch.backend(choice, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta) == .libxsmm,
       LIBXSMM.gemm(
           transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
           c: c, ldc: ldc)
    {
        return
    }
    cblasGemm(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
        c: c, ldc: ldc)
}

/// `gemm` on OpenBLAS's `cblas_sgemm` (Accelerate's on macOS) whatever `GEMMDispatch` says: the same
/// contract, every shape and transpose.
public func cblasGemm(
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

/// Which of OpenBLAS's kernel sets runs, and a fix for CPUs it does not recognise.
///
/// Debian 12's OpenBLAS 0.3.21 is built for many CPUs and picks one kernel set when it loads.
/// On CPUs newer than it knows (the Xeon this project was first measured on reports only
/// "Intel(R) Xeon(R) Processor") it falls back to `Prescott`, its SSE3 kernels, which run `sgemm`
/// about 6× slower than its AVX-512 `SkylakeX` kernels on the same core. (On the AMD EPYC the
/// project runs on now it picks `Cooperlake`, whose single-precision kernels are `SkylakeX`'s.)
/// The choice is made before `main` runs, so the only remedy is the environment variable
/// `OPENBLAS_CORETYPE` at process start.
public enum BLASKernels {
    /// The kernel set in use: OpenBLAS's core name (`Haswell`, `SkylakeX`, `Zen`, `Prescott`, ...),
    /// or `Accelerate` on macOS.
    public static var coreName: String {
        #if canImport(Accelerate)
        return "Accelerate"
        #else
        return openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        #endif
    }

    /// The best OpenBLAS kernel set this CPU's flags allow: `SkylakeX` with AVX-512 (F, DQ, CD, BW,
    /// VL), `Haswell` with AVX2 and FMA, nil otherwise or off Linux. Read from `/proc/cpuinfo`.
    public static var supportedCoreType: String? {
        #if os(Linux)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        #endif
        return nil
    }

    /// Restarts the process once with `OPENBLAS_CORETYPE` set when OpenBLAS fell back to its
    /// generic `Prescott` kernels on a CPU that supports better ones. Does nothing when the variable
    /// is already set (the user's choice wins, and it stops a second restart), on macOS, or when
    /// the restart fails (the program then runs on, slower).
    public static func restartWithSupportedKernelsIfNeeded() {
        #if os(Linux)
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              coreName == "Prescott", let better = supportedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", better, 1)
        // The resolved path, so the restarted process keeps its name (`ps` would show "exe").
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/proc/self/exe"
        execv(path, CommandLine.unsafeArgv)
        #endif
    }
}
