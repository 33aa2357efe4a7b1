// Which library runs each `gemm`: OpenBLAS (Accelerate on macOS) or libxsmm's JIT kernels (Linux), by a
// small table per CPU kind filled from `adder-bench --gemm-shapes`, or forced for every call by
// MNIST_ADDER_GEMM (so that tests run both paths on any machine). And a log of the shapes `gemm` is asked
// for, from which the benchmark takes the training step's products.
import Foundation
#if os(Linux)
import Synchronization
#endif

/// A library that runs `gemm`.
public enum GEMMBackend: String, Sendable, Codable, CaseIterable {
    /// OpenBLAS's `cblas_sgemm` (Accelerate's on macOS): every shape and transpose.
    case openBLAS = "openblas"
    /// libxsmm 1.17's JIT kernels (Linux): `transB: false`, alpha 1, beta 0 or 1; other calls run on OpenBLAS.
    case libxsmm

    /// The environment variable that forces one backend for every `gemm` of the process: `openblas` or
    /// `libxsmm`; unset, empty or `auto`: the table (`GEMMBackendTable`).
    public static let environmentVariable = "MNIST_ADDER_GEMM"
}

/// How `gemm` picks its backend: by the table, or one backend forced for every call. Coded as its
/// `MNIST_ADDER_GEMM` spelling (`"auto"`, `"openblas"`, `"libxsmm"`).
public enum GEMMBackendChoice: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Per shape from `GEMMBackendTable` for this CPU kind.
    case automatic
    /// Every call that the backend supports runs on it (libxsmm falls back to OpenBLAS where it has no kernel).
    case forced(GEMMBackend)

    /// Parses `MNIST_ADDER_GEMM`'s value: `auto` (or empty), `openblas`, `libxsmm`; nil for anything else.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "", "auto": self = .automatic
        default:
            guard let backend = GEMMBackend(rawValue: text.lowercased()) else { return nil }
            self = .forced(backend)
        }
    }

    /// `auto`, `openblas` or `libxsmm`, as `MNIST_ADDER_GEMM` spells it.
    public var description: String {
        switch self {
        case .automatic: return "auto"
        case .forced(let backend): return backend.rawValue
        }
    }

    /// Reads `"auto"`, `"openblas"` or `"libxsmm"`; throws `DecodingError.dataCorrupted` for anything else.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let choice = GEMMBackendChoice(text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "expected auto, openblas or libxsmm, found '\(text)'"))
        }
        self = choice
    }

    /// Writes `description`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// What the choice means on this machine, for the run's log: `libxsmm where the Haswell table picks it (auto)`.
    public var explanation: String {
        switch self {
        case .automatic:
            return LIBXSMM.isAvailable
                ? "OpenBLAS (\(BLASKernels.coreName) kernels), libxsmm (\(LIBXSMM.targetArchitecture ?? "?") code) where the table picks it (auto)"
                : "OpenBLAS (auto; no libxsmm)"
        case .forced(.openBLAS): return "OpenBLAS for every product (\(GEMMBackend.environmentVariable)=openblas)"
        case .forced(.libxsmm):
            return LIBXSMM.isAvailable
                ? "libxsmm wherever it has a kernel (\(GEMMBackend.environmentVariable)=libxsmm)" : "OpenBLAS (libxsmm asked for, not linked)"
        }
    }

    /// The choice `MNIST_ADDER_GEMM` asks for. A value that is none of the three is reported once on standard
    /// error (expected and found value) and treated as `auto`.
    public static let fromEnvironment: GEMMBackendChoice = {
        guard let text = ProcessInfo.processInfo.environment[GEMMBackend.environmentVariable] else { return .automatic }
        if let choice = GEMMBackendChoice(text) { return choice }
        FileHandle.standardError.write(Data(
            "warning: \(GEMMBackend.environmentVariable) must be auto, openblas or libxsmm, found '\(text)'; using auto\n".utf8))
        return .automatic
    }()
}

/// The backend per GEMM shape and CPU kind (by OpenBLAS's kernel set, `BLASKernels.coreName`), from the
/// side-by-side timings of `adder-bench --gemm-shapes` in BENCHMARKS.md (re-measure with it). A kind or shape
/// it has no rule for runs on OpenBLAS. The choice depends on nothing but the shape and the kind, so a run
/// computes the same way every time on that kind of machine.
///
/// - `Haswell` (AVX2; libxsmm generates `hsw` code): libxsmm for every product it has a kernel for with
///   n ≥ 3 and k ≤ 256: 1.04–1.52× OpenBLAS on the training step's and inference's products, 13% less GEMM
///   time per training step; with n = 2 (the adder's 128×2×5) it is 0.86–1.00×, with k of 288 and 576
///   (the im2col forward of conv4 and conv5 at inference batch 1000) 0.74–0.98×.
/// - `Haswell` on a CPU with AVX-512 (libxsmm generates `skx` code, see `LIBXSMM.targetArchitecture`): libxsmm
///   for every product it has a kernel for with n ≥ 3: 1.9–2.7× OpenBLAS's `Haswell` kernels on every product
///   of the training step and of inference at batch 1000 (k up to 576), GEMM time per training step 48.1 →
///   21.3 ms on one thread of the Zen 5; n = 2 stays on OpenBLAS (0.85–0.95×).
/// - `SkylakeX` (AVX-512): OpenBLAS's own kernels run the step's products 2.2× faster than its `Haswell`
///   ones and libxsmm is at par (0.93–1.17× on the Winograd products); it is kept only where it wins
///   clearly: the thin accumulating products, n ≤ 16 and k ≥ 128 (conv1's and conv3's Winograd gradWeight,
///   1.27×), and the long thin ones, n ≥ 1000 and k ≤ 16 (input1's forward, conv6's backward, 1.06–1.88×).
public enum GEMMBackendTable {
    /// The backend for one row-major product on OpenBLAS kernel set `coreName`.
    public static func backend(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
        coreName: String = BLASKernels.coreName
    ) -> GEMMBackend {
        guard LIBXSMM.supports(transA: transA, transB: transB, alpha: alpha, beta: beta) else { return .openBLAS }
        switch coreName {
        case "Haswell", "Zen":
            if LIBXSMM.generatesAVX512 { return n >= 3 ? .libxsmm : .openBLAS }
            return n >= 3 && k <= 256 ? .libxsmm : .openBLAS
        case "SkylakeX", "Cooperlake", "SapphireRapids":
            return (n <= 16 && k >= 128) || (n >= 1000 && k <= 16) ? .libxsmm : .openBLAS
        default:
            return .openBLAS
        }
    }
}

/// The process-wide backend choice that `gemm` follows.
public enum GEMMDispatch {
    nonisolated(unsafe) private static var storedChoice: GEMMBackendChoice?

    /// The choice in force for the whole process: `MNIST_ADDER_GEMM`'s unless set here. Set it once at
    /// program start, before any `gemm` runs (`train --resume` sets the run's recorded choice); it is
    /// not synchronized with calls on other threads.
    public static var choice: GEMMBackendChoice {
        get { storedChoice ?? GEMMBackendChoice.fromEnvironment }
        set { storedChoice = newValue }
    }

    /// The backend `gemm` uses for this call under `choice`.
    static func backend(
        _ choice: GEMMBackendChoice, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float
    ) -> GEMMBackend {
        switch choice {
        case .forced(let backend): return backend
        case .automatic:
            return GEMMBackendTable.backend(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta, coreName: coreName)
        }
    }

    /// `BLASKernels.coreName`, read once (it is fixed when OpenBLAS loads).
    static let coreName = BLASKernels.coreName
}

/// One `gemm` call's shape: transposes, sizes, row strides and beta (alpha is 1 in the engine).
public struct GEMMShape: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Whether A and B are stored transposed.
    public var transA, transB: Bool
    /// `op(A)` is m×k, `op(B)` k×n, C m×n.
    public var m, n, k: Int
    /// Row strides of A, B and C as stored, in elements.
    public var lda, ldb, ldc: Int
    /// 0: C is overwritten; 1: the product is added to C.
    public var beta: Float

    /// A shape from its parts.
    public init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int, beta: Float) {
        (self.transA, self.transB, self.m, self.n, self.k) = (transA, transB, m, n, k)
        (self.lda, self.ldb, self.ldc, self.beta) = (lda, ldb, ldc, beta)
    }

    /// `nn 64×121×32` style: the transposes (`t` where transposed), then m×n×k, then `+C` when beta is 1.
    public var description: String {
        "\(transA ? "t" : "n")\(transB ? "t" : "n") \(m)×\(n)×\(k)\(beta == 1 ? " +C" : "")"
    }
}

/// Records the shape of every `gemm` call while `recording` runs (the benchmark's list of a training
/// step's products). Off, it costs `gemm` one load and branch.
public enum GEMMShapeLog {
    #if os(Linux)
    /// Whether shapes are being recorded: atomic, since `gemm` reads it on every worker thread.
    private static let flag = Atomic<Bool>(false)
    static var isOn: Bool { flag.load(ordering: .relaxed) }
    private static func set(_ value: Bool) { flag.store(value, ordering: .relaxed) }
    #else
    nonisolated(unsafe) private static var flag = false
    static var isOn: Bool { flag }
    private static func set(_ value: Bool) { flag = value }
    #endif
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [GEMMShape: Int] = [:]

    /// Runs `body` and returns how many times each shape was called in it, on any thread. Not reentrant.
    public static func recording(_ body: () throws -> Void) rethrows -> [GEMMShape: Int] {
        lock.lock()
        counts = [:]
        set(true)
        lock.unlock()
        defer {
            lock.lock()
            set(false)
            lock.unlock()
        }
        try body()
        lock.lock()
        defer { lock.unlock() }
        return counts
    }

    static func add(_ shape: GEMMShape) {
        lock.lock()
        if isOn { counts[shape, default: 0] += 1 }
        lock.unlock()
    }
}
