// `gemm`'s backends against the three-loop naive GEMM (NNTestSupport): OpenBLAS (`cblasGemm`), libxsmm's
// JIT kernels (`LIBXSMM.gemm`, Linux) and `gemm` itself under each forced choice, for every transpose,
// beta 0 and 1, odd sizes (1, primes, past a vector's width) and row strides wider than the rows. A
// product libxsmm has no kernel for (its transB) must be refused with C untouched. The seed network's
// PyTorch parity tests run on libxsmm with MNIST_ADDER_GEMM=libxsmm (BENCHMARKS.md, "GEMM backends").
import Foundation
import NNCore
import NNTestSupport
import Testing

/// One product: transposes, sizes, extra row stride, beta.
struct GEMMCase: CustomTestStringConvertible, Sendable {
    var transA, transB: Bool
    var m, n, k, pad: Int
    var beta: Float
    var testDescription: String {
        "\(transA ? "t" : "n")\(transB ? "t" : "n") \(m)×\(n)×\(k) pad \(pad) beta \(beta)"
    }
    var lda: Int { (transA ? m : k) + pad }
    var ldb: Int { (transB ? k : n) + pad }
    var ldc: Int { n + pad }

    static let all: [GEMMCase] = {
        let sizes = [(1, 1, 1), (5, 2, 128), (7, 13, 3), (16, 121, 64), (33, 17, 65), (64, 72, 64), (3, 1000, 9)]
        var cases: [GEMMCase] = []
        for (index, (m, n, k)) in sizes.enumerated() {
            for transA in [false, true] {
                for transB in [false, true] {
                    for beta: Float in [0, 1] {
                        cases.append(GEMMCase(transA: transA, transB: transB, m: m, n: n, k: k, pad: index % 3 * 5, beta: beta))
                    }
                }
            }
        }
        return cases
    }()

    /// A, B and C (with C's spare columns NaN, which must stay NaN) and the naive result.
    func operands() -> (a: [Float], b: [Float], c: [Float], expected: [Float]) {
        let a = randomTensor([(transA ? k : m) * lda], seed: 1).scalars
        let b = randomTensor([(transB ? n : k) * ldb], seed: 2).scalars
        var c = randomTensor([m * ldc], seed: 3).scalars
        for i in 0..<m { for j in n..<ldc { c[i * ldc + j] = .nan } }
        var expected = c
        naiveGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                  c: &expected, ldc: ldc)
        return (a, b, c, expected)
    }

    func expectMatches(_ actual: [Float], _ expected: [Float], _ name: String, sourceLocation: SourceLocation = #_sourceLocation) {
        // Float sums of k products of numbers in [-1, 1): rounding grows with k.
        func product(_ c: [Float]) -> [Float] { (0..<m).flatMap { i in c[i * ldc..<i * ldc + n] } }
        let report = compareClose(
            product(actual), product(expected), atol: 1e-6 * Float(k), rtol: 1e-5, name: "\(name) \(testDescription)")
        #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
        var spareUntouched = true
        for i in 0..<m { for j in n..<ldc where !actual[i * ldc + j].isNaN { spareUntouched = false } }
        #expect(spareUntouched, "\(name) \(testDescription): wrote past n in a row of C", sourceLocation: sourceLocation)
    }
}

@Suite struct GEMMBackendTests {
    @Test(arguments: GEMMCase.all) func openBLASMatchesNaive(_ t: GEMMCase) {
        var (a, b, c, expected) = t.operands()
        cblasGemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, a: a, lda: t.lda, b: b, ldb: t.ldb,
                  beta: t.beta, c: &c, ldc: t.ldc)
        t.expectMatches(c, expected, "OpenBLAS")
    }

    @Test(.enabled(if: LIBXSMM.isAvailable), arguments: GEMMCase.all)
    func libxsmmMatchesNaiveOrRefuses(_ t: GEMMCase) {
        var (a, b, c, expected) = t.operands()
        let before = c
        let ran = LIBXSMM.gemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, a: a, lda: t.lda, b: b,
                               ldb: t.ldb, beta: t.beta, c: &c, ldc: t.ldc)
        #expect(ran == !t.transB, "libxsmm 1.17 has kernels for every product but transB ones")
        if ran {
            t.expectMatches(c, expected, "libxsmm")
        } else {
            #expect(c.elementsEqual(before) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "a refused product changed C")
        }
        // A second call takes the cached kernel and gives the same values.
        if ran {
            var again = before
            LIBXSMM.gemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, a: a, lda: t.lda, b: b,
                         ldb: t.ldb, beta: t.beta, c: &again, ldc: t.ldc)
            #expect(again.elementsEqual(c) { $0 == $1 || ($0.isNaN && $1.isNaN) })
        }
    }

    @Test func libxsmmRefusesWhatItHasNoKernelFor() {
        var c: [Float] = [7]
        let one: [Float] = [2]
        #expect(!LIBXSMM.gemm(m: 1, n: 1, k: 1, alpha: 2, a: one, lda: 1, b: one, ldb: 1, c: &c, ldc: 1))
        #expect(!LIBXSMM.gemm(m: 1, n: 1, k: 1, a: one, lda: 1, b: one, ldb: 1, beta: 0.5, c: &c, ldc: 1))
        #expect(!LIBXSMM.gemm(m: 0, n: 1, k: 1, a: one, lda: 1, b: one, ldb: 1, c: &c, ldc: 1))
        #expect(c == [7])
        #expect(!LIBXSMM.supports(transA: false, transB: true, alpha: 1, beta: 0))
        #expect(LIBXSMM.supports(transA: true, transB: false, alpha: 1, beta: 1) == LIBXSMM.isAvailable)
    }

    @Test func backendChoiceParsesTheEnvironmentValues() {
        #expect(GEMMBackendChoice("auto") == .automatic)
        #expect(GEMMBackendChoice("") == .automatic)
        #expect(GEMMBackendChoice("openblas") == .forced(.openBLAS))
        #expect(GEMMBackendChoice("LIBXSMM") == .forced(.libxsmm))
        #expect(GEMMBackendChoice("blis") == nil)
        #expect(GEMMBackendChoice.forced(.libxsmm).description == "libxsmm")
        #expect(GEMMBackendChoice.automatic.description == "auto")
    }

    @Test func tableKeepsOpenBLASWhereLibxsmmHasNoKernelOrLoses() {
        func pick(_ core: String, transB: Bool = false, m: Int, n: Int, k: Int, beta: Float = 0) -> GEMMBackend {
            GEMMBackendTable.backend(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, beta: beta, coreName: core)
        }
        let xsmm: GEMMBackend = LIBXSMM.isAvailable ? .libxsmm : .openBLAS
        #expect(pick("Haswell", m: 64, n: 121, k: 32) == xsmm)
        #expect(pick("Haswell", m: 128, n: 2, k: 5) == .openBLAS)
        // Past k = 256 libxsmm's AVX2 code lost to OpenBLAS's; its AVX-512 code (a CPU with AVX-512F) wins there too.
        #expect(pick("Haswell", m: 64, n: 175, k: 576) == (LIBXSMM.generatesAVX512 ? xsmm : .openBLAS))
        #expect(LIBXSMM.generatesAVX512 == (LIBXSMM.isAvailable && MachinePeak.supports(width: 16)
            && ProcessInfo.processInfo.environment["LIBXSMM_TARGET"] == nil))
        #expect(pick("Haswell", transB: true, m: 16, n: 64, k: 121, beta: 1) == .openBLAS)
        #expect(pick("SkylakeX", m: 64, n: 121, k: 32) == .openBLAS)
        #expect(pick("SkylakeX", m: 32, n: 16, k: 288, beta: 1) == xsmm)
        #expect(pick("Prescott", m: 64, n: 121, k: 32) == .openBLAS)
    }

    /// `gemm` under each choice (given, not set process-wide) matches the naive product.
    @Test(arguments: [GEMMBackendChoice.forced(.openBLAS), .forced(.libxsmm), .automatic])
    func gemmUnderEachChoiceMatchesNaive(_ choice: GEMMBackendChoice) {
        for t in GEMMCase.all {
            var (a, b, c, expected) = t.operands()
            gemm(choice: choice, transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, a: a, lda: t.lda,
                 b: b, ldb: t.ldb, beta: t.beta, c: &c, ldc: t.ldc)
            t.expectMatches(c, expected, "gemm (\(choice))")
        }
    }

    @Test func shapeLogCountsEachShape() {
        let one: [Float] = [1, 2, 3, 4]
        var c = [Float](repeating: 0, count: 4)
        let counts = GEMMShapeLog.recording {
            for _ in 0..<3 { gemm(m: 2, n: 2, k: 2, a: one, lda: 2, b: one, ldb: 2, c: &c, ldc: 2) }
            gemm(transA: true, m: 2, n: 2, k: 2, a: one, lda: 2, b: one, ldb: 2, beta: 1, c: &c, ldc: 2)
        }
        let nn = GEMMShape(transA: false, transB: false, m: 2, n: 2, k: 2, lda: 2, ldb: 2, ldc: 2, beta: 0)
        #expect(counts[nn] == 3)
        #expect(counts.values.reduce(0, +) >= 4)  // other suites' products may land in the log meanwhile
        #expect(nn.description == "nn 2×2×2")
    }
}
