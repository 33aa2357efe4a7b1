// `adder-bench --gemm-shapes`: every GEMM shape one training step of the seed network makes (as the
// engine cuts the batch into pieces, recorded by GEMMShapeLog), each timed on one thread with OpenBLAS,
// libxsmm and BLIS side by side in this process: rounds interleaved, the backends' order rotated each
// round, best of the rounds. BLIS is loaded with dlopen (RTLD_LOCAL), never linked, so its BLAS symbols
// cannot take the place of OpenBLAS's in the engine.
import AdderNet
import Dispatch
import Foundation
import NNCore

/// One shape's figures: GFLOP/s per backend (best of the rounds), and how far each backend's C is from OpenBLAS's.
public struct GEMMShapeFigures: Codable, Sendable {
    /// The product.
    public var shape: GEMMShape
    /// Calls of this shape in one training step.
    public var callsPerStep: Int
    /// Seconds per call, by backend name (`openblas`, `libxsmm`, `blis`); a backend without a kernel is absent.
    public var seconds: [String: Double]
    /// Largest |C − C_openblas| over max |C_openblas|, by backend name.
    public var relativeDifference: [String: Double]

    /// 2·m·n·k / seconds / 1e9 for `backend`, nil when it was not measured.
    public func gflops(_ backend: String) -> Double? {
        seconds[backend].map { 2 * Double(shape.m * shape.n * shape.k) / $0 / 1e9 }
    }
}

/// BLIS's typed API (`bli_sgemm`), loaded at run time; nil when libblis.so.4 is not installed.
final class BLISLibrary: @unchecked Sendable {
    typealias SGEMM = @convention(c) (
        Int32, Int32, Int, Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Int,
        UnsafeMutablePointer<Float>, Int, Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Int
    ) -> Void
    let sgemm: SGEMM
    /// BLIS's kernel configuration (`zen3`, `skx`, `haswell`, ...).
    let architecture: String

    init?() {
        guard let handle = dlopen("libblis.so.4", RTLD_NOW | RTLD_LOCAL),
              let sgemm = dlsym(handle, "bli_sgemm"), let setThreads = dlsym(handle, "bli_thread_set_num_threads")
        else { return nil }
        self.sgemm = unsafeBitCast(sgemm, to: SGEMM.self)
        unsafeBitCast(setThreads, to: (@convention(c) (Int) -> Void).self)(1)
        if let query = dlsym(handle, "bli_arch_query_id"), let name = dlsym(handle, "bli_arch_string") {
            let id = unsafeBitCast(query, to: (@convention(c) () -> Int32).self)()
            let text = unsafeBitCast(name, to: (@convention(c) (Int32) -> UnsafePointer<CChar>?).self)(id)
            architecture = text.map { String(cString: $0) } ?? "unknown"
        } else {
            architecture = "unknown"
        }
    }

    /// Row-major `gemm` through BLIS's general strides: a transpose is a swap of row and column stride.
    func gemm(_ s: GEMMShape, a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>) {
        var alpha: Float = 1, beta = s.beta
        sgemm(0, 0, s.m, s.n, s.k, &alpha,
              a, s.transA ? 1 : s.lda, s.transA ? s.lda : 1,
              b, s.transB ? 1 : s.ldb, s.transB ? s.ldb : 1,
              &beta, c, s.ldc, 1)
    }
}

/// The `--gemm-shapes` measurement.
public enum GEMMShapeBench {
    /// The shapes of one training step of `batch` images on an engine of `threads` workers, with calls per step.
    public static func trainingStepShapes(threads: Int, batch: Int) throws -> [(GEMMShape, Int)] {
        let session = try TrainingSession(threads: threads, batch: batch)
        _ = try session.step()
        let counts = try GEMMShapeLog.recording { _ = try session.step() }
        return counts.sorted { lhs, rhs in
            let (l, r) = (lhs.key, rhs.key)
            return (l.m * l.n * l.k * lhs.value, l.description) > (r.m * r.n * r.k * rhs.value, r.description)
        }.map { ($0.key, $0.value) }
    }

    /// The shapes of one `engine.forward` (inference) of `batch` images on `threads` workers, with calls per pass.
    public static func inferenceShapes(threads: Int, batch: Int) throws -> [(GEMMShape, Int)] {
        let engine = AdderEngine(threads: threads)
        let network = AdderNetwork(seed: 0)
        var generator = SplitMix64(seed: 2)
        let input = RandomBatch(size: batch, generator: &generator)
        _ = engine.forward(network, images: input.images, addends: input.addends)
        let counts = GEMMShapeLog.recording { _ = engine.forward(network, images: input.images, addends: input.addends) }
        return counts.sorted { lhs, rhs in
            let (l, r) = (lhs.key, rhs.key)
            return (l.m * l.n * l.k * lhs.value, l.description) > (r.m * r.n * r.k * rhs.value, r.description)
        }.map { ($0.key, $0.value) }
    }

    /// Times each shape on every backend this machine has, one thread, `rounds` interleaved rounds, best
    /// of them; each round's sample repeats the call for about 2 ms.
    public static func measure(_ shapes: [(GEMMShape, Int)], rounds: Int, progress: (String) -> Void = { _ in })
        -> (figures: [GEMMShapeFigures], blis: String?)
    {
        BLASThreads.set(1)
        let blis = BLISLibrary()
        var figures: [GEMMShapeFigures] = []
        for (index, (s, calls)) in shapes.enumerated() {
            let aRows = s.transA ? s.k : s.m, bRows = s.transB ? s.n : s.k
            let a = randomBuffer(aRows * s.lda, seed: 1), b = randomBuffer(bRows * s.ldb, seed: 2)
            let c0 = randomBuffer(s.m * s.ldc, seed: 3), c = randomBuffer(s.m * s.ldc, seed: 3)
            defer { for p in [a, b, c0, c] { p.deallocate() } }
            var backends: [(String, () -> Void)] = [
                ("openblas", {
                    cblasGemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a, lda: s.lda, b: b,
                              ldb: s.ldb, beta: s.beta, c: c, ldc: s.ldc)
                })
            ]
            if LIBXSMM.supports(transA: s.transA, transB: s.transB, alpha: 1, beta: s.beta) {
                backends.append(("libxsmm", {
                    LIBXSMM.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a, lda: s.lda, b: b,
                                 ldb: s.ldb, beta: s.beta, c: c, ldc: s.ldc)
                }))
            }
            if let blis { backends.append(("blis", { blis.gemm(s, a: a, b: b, c: c) })) }
            // Each backend's C from the same start, against OpenBLAS's.
            var results: [String: [Float]] = [:]
            for (name, run) in backends {
                c.update(from: c0, count: s.m * s.ldc)
                run()
                results[name] = (0..<s.m).flatMap { i in (0..<s.n).map { c[i * s.ldc + $0] } }
            }
            let reference = results["openblas"]!
            let scale = max(reference.map(abs).max() ?? 1, .leastNormalMagnitude)
            var difference: [String: Double] = [:]
            for (name, values) in results where name != "openblas" {
                difference[name] = Double((zip(values, reference).map { abs($0 - $1) }.max() ?? 0) / scale)
            }
            let flops = 2 * Double(s.m * s.n * s.k)
            let repeats = max(1, Int(2e-3 * 60e9 / flops))
            var best = [Double](repeating: .infinity, count: backends.count)
            for round in 0...rounds {  // round 0 warms up
                for offset in 0..<backends.count {
                    let i = (offset + round) % backends.count
                    c.update(from: c0, count: s.m * s.ldc)
                    let start = DispatchTime.now().uptimeNanoseconds
                    for _ in 0..<repeats { backends[i].1() }
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats)
                    if round > 0 { best[i] = min(best[i], seconds) }
                }
            }
            figures.append(GEMMShapeFigures(
                shape: s, callsPerStep: calls,
                seconds: Dictionary(uniqueKeysWithValues: zip(backends.map(\.0), best)), relativeDifference: difference))
            progress("\(index + 1)/\(shapes.count) \(s)")
        }
        return (figures, blis?.architecture)
    }

    /// The figures as a Markdown table: shape, strides, calls per step, GFLOP/s per backend, libxsmm's and
    /// BLIS's speed over OpenBLAS's, the largest relative difference; then the step's GEMM time per backend
    /// (a shape a backend has no kernel for counted at OpenBLAS's time) and with the fastest per shape.
    public static func table(_ figures: [GEMMShapeFigures]) -> String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.1f", $0) } ?? "–" }
        func r(_ x: Double?) -> String { x.map { String(format: "%.2f×", $0) } ?? "–" }
        var lines = [
            "| product (m×n×k) | lda ldb ldc | calls | OpenBLAS GFLOP/s | libxsmm | BLIS | libxsmm ÷ OpenBLAS | BLIS ÷ OpenBLAS | max rel. diff |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        var totals: [String: Double] = [:]
        var fastest = 0.0
        for x in figures {
            let open = x.seconds["openblas"]!
            let diff = x.relativeDifference.values.max().map { String(format: "%.1e", $0) } ?? "–"
            lines.append(
                "| \(x.shape) | \(x.shape.lda) \(x.shape.ldb) \(x.shape.ldc) | \(x.callsPerStep) | \(f(x.gflops("openblas"))) | "
                    + "\(f(x.gflops("libxsmm"))) | \(f(x.gflops("blis"))) | \(r(x.seconds["libxsmm"].map { open / $0 })) | "
                    + "\(r(x.seconds["blis"].map { open / $0 })) | \(diff) |")
            for name in ["openblas", "libxsmm", "blis"] {
                totals[name, default: 0] += Double(x.callsPerStep) * (x.seconds[name] ?? open)
            }
            fastest += Double(x.callsPerStep) * (x.seconds.values.min() ?? open)
        }
        let ms = { (x: Double) in String(format: "%.2f ms", x * 1e3) }
        lines.append("")
        let blis = figures.contains { $0.seconds["blis"] != nil } ? ", BLIS \(ms(totals["blis"] ?? 0))" : ""
        lines.append(
            "One step's GEMMs on one thread: OpenBLAS \(ms(totals["openblas"] ?? 0)), libxsmm where it has a kernel "
                + "\(ms(totals["libxsmm"] ?? 0))\(blis), fastest per shape \(ms(fastest)).")
        return lines.joined(separator: "\n")
    }
}
