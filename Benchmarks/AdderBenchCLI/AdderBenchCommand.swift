// `adder-bench`: runs AdderBench and prints its report as JSON on stdout (progress on stderr).
// scripts/bench/compare starts it with OPENBLAS_CORETYPE set; it refuses to run on OpenBLAS's
// generic kernels when the CPU supports better ones, since those figures would mislead.
import AdderBench
import ArgumentParser
import Foundation
import NNCore

@main
struct AdderBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adder-bench",
        abstract: "Measure training, inference, per-layer and sgemm speed of the engine; print JSON.")

    @Flag(help: "A few-second run with small batches, to check that the benchmark works.")
    var quick = false

    @Option(help: "Timed training batches of 128 images.")
    var trainingBatches = 30

    @Option(help: "Engine worker threads (0: one per core).")
    var threads = 0

    @Option(help: "Write the JSON report to this file instead of stdout.")
    var output: String?

    @Flag(help: ArgumentHelp(
        "Paired runs for scripts/bench/compare: train the warm-up batches (3, or 1 with --quick), print a line 'ready', then for each line N "
            + "read from stdin train N more batches and print one JSON line {\"batches\": N, \"seconds\": S}; "
            + "ends at the end of stdin."))
    var paired = false

    @Flag(help: ArgumentHelp(
        "Time every GEMM shape of one training step (the engine's pieces) on one thread with OpenBLAS, libxsmm and BLIS "
            + "side by side, best of --rounds; print a Markdown table instead of the JSON report."))
    var gemmShapes = false

    @Option(help: "Interleaved rounds per shape with --gemm-shapes (best of them is kept).")
    var rounds = 7

    @Option(help: "With --gemm-shapes: the shapes of one inference pass of this many images instead of a training step.")
    var inferenceBatch: Int?

    mutating func validate() throws {
        if let inferenceBatch, inferenceBatch < 1 {
            throw ValidationError("--inference-batch must be at least 1, found \(inferenceBatch)")
        }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, found \(rounds)") }
        guard trainingBatches >= 1 else { throw ValidationError("--training-batches must be at least 1, found \(trainingBatches)") }
        guard threads >= 0 else { throw ValidationError("--threads must be 0 or more, found \(threads)") }
    }

    func run() throws {
        if BLASKernels.coreName == "Prescott", let better = BLASKernels.supportedCoreType {
            throw ValidationError(
                "OpenBLAS runs its generic Prescott kernels on a CPU that supports \(better); "
                    + "start the benchmark with OPENBLAS_CORETYPE=\(better) (scripts/bench/compare does)")
        }
        var options = quick ? BenchOptions.quick : BenchOptions(trainingBatches: trainingBatches)
        options.threads = threads
        if paired {
            try runPaired(options)
            return
        }
        if gemmShapes {
            try runGEMMShapes(options)
            return
        }
        let report = try AdderBench.run(options) { line in
            FileHandle.standardError.write(Data("adder-bench: \(line)\n".utf8))
        }
        let data = try JSONOutput.encoder(pretty: true).encode(report)
        if let output {
            try data.write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        }
    }

    /// `--gemm-shapes`: the shapes of one training step, timed per backend; the table on stdout (or `--output`).
    func runGEMMShapes(_ options: BenchOptions) throws {
        let shapes = try inferenceBatch.map { try GEMMShapeBench.inferenceShapes(threads: options.threads, batch: $0) }
            ?? GEMMShapeBench.trainingStepShapes(threads: options.threads, batch: options.batch)
        let (figures, blis) = GEMMShapeBench.measure(shapes, rounds: rounds) { line in
            FileHandle.standardError.write(Data("adder-bench: \(line)\n".utf8))
        }
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
        let header = "OpenBLAS \(BLASKernels.coreName), libxsmm \(LIBXSMM.targetArchitecture ?? "not linked"), "
            + "BLIS \(blis ?? "not installed"); "
            + (inferenceBatch.map { "inference, batch \($0)" } ?? "training step, batch \(options.batch)")
            + ", best of \(rounds); load average \(load)"
        let text = header + "\n\n" + GEMMShapeBench.table(figures) + "\n"
        if let output {
            try Data(text.utf8).write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// The `--paired` protocol: one training session, timed in the chunks stdin asks for.
    func runPaired(_ options: BenchOptions) throws {
        let session = try TrainingSession(threads: options.threads, batch: options.batch)
        _ = try session.train(batches: options.warmupBatches)
        func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        say("ready")
        while let line = readLine() {
            guard let batches = PairedRequest.batches(line) else {
                throw PairedInputError(line: line)
            }
            let seconds = try session.train(batches: batches)
            say("{\"batches\": \(batches), \"seconds\": \(seconds)}")
        }
    }
}

/// A line of `--paired` input that is not a batch count.
struct PairedInputError: Error, CustomStringConvertible {
    let line: String
    var description: String {
        "--paired: expected a batch count from 1 to \(PairedRequest.most) per line, found '\(line)'"
    }
}
