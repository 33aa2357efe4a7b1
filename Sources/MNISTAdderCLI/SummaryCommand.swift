// `mnist-adder summary`: a network's layers and parameters as PyTorch prints them, and with
// `--plan`, the execution plan the engine compiles for it.
import AdderNet
import ArgumentParser
import NNCore

struct SummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a network's layers, each parameter's name and shape, and the parameter count.",
        discussion: """
            With --plan, also the execution plan: per step its output shape, algorithm, FLOPs and bytes. With \
            --measure, also the plan's roofline on this machine: per step and direction the multiply-adds its \
            algorithm does, the time inside a real step, the GFLOP/s and their share of the machine's measured \
            sgemm and FMA peaks.
            """)

    @Option(help: "The network: \(ModelDescription.builtIn.map(\.name).joined(separator: ", ")). (default: seed, or the checkpoint's)")
    var model: String?

    @Option(help: "A checkpoint file or run folder: summarize the network it holds (with neither this nor --model: the shipped model).")
    var checkpoint: String?

    @Flag(help: "Print the execution plan the engine compiles for the network.")
    var plan = false

    @Option(parsing: .unconditional, help: "The plan's batch size.")
    var batchSize = TrainingOptions().batchSize

    @Option(parsing: .unconditional, help: "The plan's worker threads (0: one per core).")
    var threads = 0

    @Flag(help: "The plan for evaluation and prediction (forward only) instead of training.")
    var inference = false

    @Flag(help: "Also time the plan on this machine and print its roofline (implies --plan; a few seconds).")
    var measure = false

    @Option(parsing: .unconditional, help: "With --measure, the timed calls (after 3 untimed ones).")
    var calls = 20

    func run() throws {
        // Checked here rather than in validate(): ArgumentParser wraps what validate() throws, which would
        // hide the error's type from ExitStatus.
        guard batchSize >= 1 else { throw TrainingError.invalidOption(name: "batch-size", expected: "at least 1", found: "\(batchSize)") }
        guard calls >= 1 else { throw TrainingError.invalidOption(name: "calls", expected: "at least 1", found: "\(calls)") }
        try TrainingOptions.checkThreads(threads)
        let description: ModelDescription
        let network: AdderNetwork
        if checkpoint != nil || model == nil {
            let loaded = try loadModel(checkpoint, announce: false)
            if let model, model != loaded.network.model.name {
                throw CommandError("--model \(model) differs from the checkpoint's network '\(loaded.network.model.name)'")
            }
            description = loaded.network.model
            network = loaded.network
            let calibrated = loaded.calibration.map { String(format: ", calibrated (temperature %.4f)", $0.temperature) } ?? ""
            print("Model: \(description.name), from \(loaded.label)\(calibrated)\n")
        } else {
            description = try ModelDescription.named(model ?? ModelDescription.seed.name)
            network = AdderNetwork(description, seed: 0)
        }
        print(description.moduleDescription)
        print("")
        print(description.parameterTable)
        if plan || measure {
            let compiled = try ExecutionPlan(
                model: description, batch: batchSize, threads: threads > 0 ? threads : AdderEngine(threads: 0).threads,
                pieceSize: AdderEngine.defaultPieceSize, mode: inference ? .inference : .training)
            print("")
            print(compiled.table)
        }
        if measure {
            let engine = AdderEngine(threads: threads)
            let roofline = try Roofline.measure(
                engine: engine, network: network, batch: batchSize, mode: inference ? .inference : .training, calls: calls)
            print("")
            print(roofline.table)
        }
    }
}
