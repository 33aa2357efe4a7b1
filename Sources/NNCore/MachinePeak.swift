// What this machine's cores can do at most, measured: the ceilings of the roofline that
// `mnist-adder summary --plan --measure` prints (the FMA units' peak, and sgemm on large matrices).
import CKernels
import Dispatch

/// Measured peak arithmetic rates of this machine, in GFLOP/s (10⁹ single-precision floating-point
/// operations per second; a fused multiply-add counts as 2). Nothing here throws; no PyTorch counterpart
/// (`torch.mm` on 512×512 matrices is what `scripts/bench/compare` times on PyTorch's side).
public enum MachinePeak {
    /// The widest FMA vector the CPU runs, in floats: 16 (AVX-512F), 8 (AVX2 with FMA), 4 (ARM64
    /// NEON), 0 when none is known.
    public static var fmaWidth: Int { Int(ckernels_fma_width()) }

    /// The instruction set of a width as people name it: `AVX-512`, `AVX2`, `NEON`.
    public static func instructionSet(width: Int) -> String {
        switch width {
        case 16: "AVX-512"
        case 8: "AVX2"
        case 4: "NEON"
        default: "scalar"
        }
    }

    /// The CPUs this process may run on by its affinity mask (`taskset`, a container's cpuset), on Linux;
    /// nil where the mask cannot be read (macOS). `sysconf`'s count of online CPUs ignores the mask.
    public static var allowedCPUs: Int? {
        let count = Int(ckernels_allowed_cpus())
        return count > 0 ? count : nil
    }

    /// Whether the FMA loop of `width` floats (16, 8 or 4) runs on this CPU.
    public static func supports(width: Int) -> Bool { ckernels_fma_supported(Int32(width)) != 0 }

    /// The FMA loop's result for `iterations` rounds at `width` (see `ckernels_fma_loop`): the sum
    /// over 12 chains of `width` lanes of a ← a·0.999 + 0.001 from a = 0.5. NaN when the CPU does
    /// not run that width.
    public static func fmaLoop(width: Int, iterations: Int) -> Float {
        ckernels_fma_loop(Int32(width), iterations)
    }

    /// The FMA peak on `threads` threads at once (one loop each, 12 independent chains of `width`
    /// floats, about 0.1 s), best of `repeats`: 2 · width · 12 · iterations · threads / seconds.
    /// Nil when the CPU does not run `width`. On a shared machine it is what the cores give now.
    public static func fmaGFLOPS(width: Int = MachinePeak.fmaWidth, threads: Int, repeats: Int = 3) -> Double? {
        guard width > 0, supports(width: width) else { return nil }
        let iterations = 4_000_000 * 16 / width
        let flops = 2 * Double(width * Int(CKERNELS_FMA_CHAINS) * iterations * threads)
        let seconds = bestOf(repeats) {
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                _ = ckernels_fma_loop(Int32(width), iterations)
            }
        }
        return flops / seconds / 1e9
    }

    /// sgemm on n×n×n row-major matrices through the engine's `gemm` (OpenBLAS, or libxsmm where
    /// `GEMMDispatch` picks it), one call per thread on `threads` threads at once (each with its own
    /// matrices, BLAS at one thread), best of `repeats` after one untimed round: 2·n³·threads / seconds.
    /// The BLAS thread count is left at one, as the engine sets it.
    public static func sgemmGFLOPS(n: Int = 512, threads: Int, repeats: Int = 3) -> Double {
        BLASThreads.set(1)
        let matrices = (0..<threads).map { t -> ([Float], [Float]) in
            var generator = SplitMix64(seed: UInt64(t + 1))
            return ((0..<(n * n)).map { _ in generator.nextUniform(-1, 1) }, (0..<(n * n)).map { _ in generator.nextUniform(-1, 1) })
        }
        let outputs = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n * n) }
        defer { outputs.forEach { $0.deallocate() } }
        let shared = UncheckedPointers(outputs)
        let seconds = bestOf(repeats + 1) {
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                matrices[t].0.withUnsafeBufferPointer { a in
                    matrices[t].1.withUnsafeBufferPointer { b in
                        gemm(m: n, n: n, k: n, a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, c: shared.pointers[t], ldc: n)
                    }
                }
            }
        }
        return 2 * Double(n * n * n * threads) / seconds / 1e9
    }

    /// The shortest of `count` timings of `body`, in seconds, on the monotonic clock; the first run is a
    /// warm-up and not counted when `count` > 1. The engine's measured plans (`PlanMeasurement`) time with it too.
    public static func bestOf(_ count: Int, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for r in 0..<max(1, count) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if r > 0 || count == 1 { best = min(best, seconds) }
        }
        return best
    }
}

/// Output pointers handed to worker threads: each thread writes only its own matrix.
private struct UncheckedPointers: @unchecked Sendable {
    let pointers: [UnsafeMutablePointer<Float>]
    init(_ pointers: [UnsafeMutablePointer<Float>]) { self.pointers = pointers }
}
