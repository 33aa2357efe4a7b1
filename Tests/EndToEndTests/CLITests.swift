// The mnist-adder binary as a user runs it: one clear line for bad input, exact resume after a
// kill, and the PNG path giving exactly what the IDX path gives.
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

/// The binary next to the test bundle (same build folder and configuration).
let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("mnist-adder")

/// Runs the binary with `arguments`.
@discardableResult
func runCLI(_ arguments: [String]) throws -> ProcessOutput {
    try runProcess(binary, arguments)
}

func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("adder-e2e-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Test("summary lists every parameter and the count")
func summary() throws {
    let r = try runCLI(["summary"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("(conv6): Conv2d(64, 10, kernel_size=(5, 5), stride=(1, 1))"))
    #expect(r.stdout.contains("(pool): MaxPool2d(kernel_size=2, stride=2"))
    #expect(r.stdout.contains("Total parameters: 100461"))
    for name in ModelDescription.seed.parameterNames { #expect(r.stdout.contains(name)) }
}

@Test("summary --measure prints the plan and its roofline: every step both ways, the ceilings")
func summaryRoofline() throws {
    let r = try runCLI(["summary", "--measure", "--batch-size", "32", "--calls", "2"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("Plan for seed: training, batch 32"))
    #expect(r.stdout.contains("Roofline of seed, training, batch 32 in 2 piece(s)"))
    let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("conv2 + ReLU + pool") }
    #expect(rows.count == 2 && rows[0].contains("forward") && rows[1].contains("backward"), "\(rows)")
    #expect(rows[0].contains("winograd F(2,3)") && rows[0].contains(String(format: "%.3f", 2.0 * 64 * 32 * 16 * 121 * 32 / 1e9)))
    #expect(r.stdout.contains("Ceilings on 2 thread(s) at once") || r.stdout.contains("Ceilings on 1 thread(s) at once"))
    #expect(r.stdout.contains("sgemm 512³"))
}

@Test("bad input gets one line on stderr naming the option, the expected and the found value", arguments: [
    (["train", "--epochs", "0"], "--epochs: expected at least 1, found 0"),
    (["train", "--batch-size", "0"], "--batch-size: expected at least 1, found 0"),
    (["train", "--addend-range", "9...0"], "--addend-range: expected LO...HI with LO ≤ HI, found 9...0"),
    (["train", "--learning-rate", "abc"], "'abc' is invalid for '--learning-rate"),
    (["train", "--loss-weights", "1"], "--loss-weights: expected two numbers as CE,MSE, found 1"),
    (["train", "--augment-shear", "5"], "--augment-shear sets a range of --augment, which is not given"),
    (["train", "--augment", "--augment-scale", "1.2...1.1"],
     "--augment-scale: expected LO...HI within 0.25...4.0 with LO ≤ HI, found 1.2...1.1"),
    (["train", "--augment", "--augment-scale", "big"], "--augment-scale: expected two numbers as LO...HI, e.g. 0.9...1.1, found big"),
    (["train", "--augment", "--augment-rotation", "-5"], "--augment-rotation: expected degrees in 0...180.0, found -5.0"),
    (["evaluate", "--checkpoint", "/nonexistent/model.safetensors"], "/nonexistent/model.safetensors"),
    (["train", "--data-dir", "/nonexistent-mnist", "--limit", "10"], "/nonexistent-mnist"),
    (["predict", "--checkpoint", "x.safetensors"], "give at least one --image FILE or --test-index N"),
    // Negative numbers reach the option's own check (ArgumentParser would take "-1" for an option).
    (["train", "--epochs", "-1"], "--epochs: expected at least 1, found -1"),
    (["train", "--learning-rate", "-0.5"], "--learning-rate: expected a positive number, found -0.5"),
    (["predict", "--checkpoint", "x.safetensors", "--addend", "-3", "--test-index", "0"], "--addend: expected an integer 0 or more (within the range the model was trained on), found -3"),
    (["predict", "--checkpoint", "/", "--test-index", "0"], "/ is a folder without model.safetensors"),
    (["download", "--to", "/tmp/never-written", "--timeout", "-1"], "--timeout: expected seconds in (0, 3600], found -1.0"),
    (["download", "--to", "/tmp/never-written", "--timeout", "nan"], "--timeout: expected seconds in (0, 3600], found nan"),
    (["serve", "--checkpoint", "x.safetensors", "--head-timeout", "0"], "--head-timeout: expected seconds in (0, 3600], found 0.0"),
    (["serve", "--checkpoint", "x.safetensors", "--body-timeout", "inf"], "--body-timeout: expected seconds in (0, 3600], found inf"),
    (["serve", "--checkpoint", "x.safetensors", "--idle-timeout", "nan"], "--idle-timeout: expected seconds in (0, 3600], found nan"),
    (["serve", "--checkpoint", "x.safetensors", "--shutdown-timeout", "-1"],
     "--shutdown-timeout: expected seconds in [0, 3600], found -1.0"),
    (["serve", "--checkpoint", "x.safetensors", "--max-connections", "0"], "--max-connections: expected 1...1048576, found 0"),
])
func badInput(arguments: [String], message: String) throws {
    let r = try runCLI(arguments)
    #expect(r.status != 0)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1, "stderr: \(r.stderr)")
    #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
    #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"))
}

@Test("a checkpoint with a wrong shape is refused naming the key and both shapes")
func wrongShapeCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var state = AdderNetwork(seed: 1).stateDict
    state["conv5.weight"] = Tensor(shape: [64, 64, 5, 5])
    let url = folder.appendingPathComponent("bad.safetensors")
    try Safetensors.write(state, to: url)
    let r = try runCLI(["evaluate", "--checkpoint", url.path])
    #expect(r.status != 0)
    #expect(r.stderr.contains("conv5.weight has shape [64, 64, 5, 5], expected [64, 64, 3, 3]"), "\(r.stderr)")
}

@Test("a checkpoint holding NaN, or a training state given as one, is refused naming the file and the key")
func unusableCheckpoints() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    var state = AdderNetwork(seed: 1).stateDict
    state["out2.weight"]!.scalars[2] = .nan
    let nan = folder.appendingPathComponent("nan.safetensors")
    try Safetensors.write(state, to: nan)
    let r = try runCLI(["predict", "--checkpoint", nan.path, "--test-index", "0"])
    #expect(r.status != 0 && r.stdout.isEmpty)
    #expect(r.stderr == "mnist-adder: \(nan.path): checkpoint key out2.weight holds nan at element 2, expected finite numbers\n")

    let trainingState = folder.appendingPathComponent("training-state.safetensors")
    try Safetensors.write(
        Dictionary(uniqueKeysWithValues: AdderNetwork(seed: 1).stateDict.map { ("model." + $0.key, $0.value) }),
        to: trainingState)
    let t = try runCLI(["evaluate", "--checkpoint", trainingState.path])
    #expect(t.status != 0)
    #expect(t.stderr.split(separator: "\n").count == 1)
    #expect(t.stderr.contains("\(trainingState.path): checkpoint does not match network 'seed': 22 missing key(s)"), "\(t.stderr)")
    #expect(t.stderr.contains("; 22 unexpected key(s): model."), "\(t.stderr)")
    #expect(t.stderr.contains("without the prefix 'model.'"), "\(t.stderr)")
}

@Test("a run folder works as --checkpoint: predict on it prints what its model.safetensors gives")
func runFolderAsCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try Checkpoint.save(AdderNetwork(seed: 3), to: folder.appendingPathComponent("model.safetensors"))
    let byFolder = try runCLI(["predict", "--checkpoint", folder.path, "--test-index", "3", "--addend", "4"])
    let byFile = try runCLI([
        "predict", "--checkpoint", folder.appendingPathComponent("model.safetensors").path, "--test-index", "3",
        "--addend", "4",
    ])
    #expect(byFolder.status == 0 && byFile.status == 0, "\(byFolder.stderr)")
    #expect(byFolder.stdout.hasPrefix("test[3]: digit "), "\(byFolder.stdout)")
    #expect(byFolder.stdout == byFile.stdout)
}

@Test("an output folder that cannot be made fails before the first epoch, in one line")
func unwritableOutput() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("a-file")
    try Data("x".utf8).write(to: file)
    let r = try runCLI(["train", "--epochs", "1", "--limit", "256", "--test-limit", "100", "--output", file.path + "/run"])
    #expect(r.status != 0)
    #expect(!r.stdout.contains("epoch"), "trained before failing: \(r.stdout)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("cannot write \(file.path)/run: "), "\(r.stderr)")
    #expect(try String(contentsOf: file, encoding: .utf8) == "x")
}

@Test("serve prints the port it got, and a second server on that port fails in one line naming it")
func serveOnABusyPort() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try Checkpoint.save(AdderNetwork(seed: 2), to: RunFolder(folder).model)
    let first = Process()
    first.executableURL = binary
    first.arguments = ["serve", "--checkpoint", folder.path, "--port", "0"]
    let output = Pipe()
    first.standardOutput = output
    first.standardError = FileHandle.nullDevice
    try first.run()
    defer { first.terminate(); first.waitUntilExit() }
    var text = ""
    let deadline = Date().addingTimeInterval(60)
    while !text.contains("\n") && Date() < deadline && first.isRunning {
        text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
    }
    let line = try #require(text.split(separator: "\n").first.map(String.init), "serve printed nothing")
    #expect(line.hasPrefix("Serving model.safetensors on http://127.0.0.1:") && line.hasSuffix("/ (Ctrl-C to stop)"))
    let port = try #require(Int(line.split(separator: ":").last?.split(separator: "/").first ?? ""), "\(line)")
    #expect(port > 0)
    let second = try runCLI(["serve", "--checkpoint", folder.path, "--port", "\(port)"])
    #expect(second.status != 0)
    #expect(second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
    #expect(second.stderr.hasPrefix("mnist-adder: cannot listen on 127.0.0.1:\(port): "), "\(second.stderr)")
    #expect(!second.stdout.contains("Serving"), "\(second.stdout)")
}

@Test("a run killed mid-training and resumed ends with the weights of an uninterrupted run")
func killAndResume() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let options = ["--limit", "400", "--test-limit", "50", "--epochs", "6", "--batch-size", "40", "--threads", "1"]
    let whole = folder.appendingPathComponent("whole"), killed = folder.appendingPathComponent("killed")
    let r = try runCLI(["train", "--output", whole.path] + options)
    #expect(r.status == 0, "\(r.stderr)")

    let process = Process()
    process.executableURL = binary
    process.arguments = ["train", "--output", killed.path] + options
    process.standardOutput = FileHandle.nullDevice
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    // Kill it as soon as the first epoch's checkpoint exists: somewhere in epoch 2 or its checkpoint.
    let state = RunFolder(killed).trainingState
    let firstCheckpoint = RunFolder(killed).model
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: firstCheckpoint.path) && Date() < deadline && process.isRunning {
        // A blocking sleep: an awaited one waits for a free thread of the test pool, which other
        // tests keep busy, and the run can end meanwhile.
        usleep(5_000)
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationReason == .uncaughtSignal,
            "the run ended (status \(process.terminationStatus)) before it could be killed: \(stderr)")
    let interrupted = try Trainer.savedOptions(in: killed)
    #expect(interrupted.epochs == 6)

    // Training options with --resume were ignored silently; now refused, the saved run untouched.
    let saved = try Data(contentsOf: state)
    let changed = try runCLI(["train", "--resume", killed.path, "--epochs", "8", "--drop-last", "--seed", "3"])
    #expect(changed.status != 0 && !changed.stdout.contains("Resuming"))
    #expect(changed.stderr == "mnist-adder: --resume continues \(killed.path) with the options it was started with "
        + "(6 epochs, batch 40, seed 0); remove --seed, --drop-last, or start a new run without --resume "
        + "(--epochs N is the one training option it takes)\n")
    #expect(try Data(contentsOf: state) == saved)

    let resumed = try runCLI(["train", "--resume", killed.path])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("Resuming"))
    let a = try Checkpoint.load(contentsOf: RunFolder(whole).model)
    let b = try Checkpoint.load(contentsOf: RunFolder(killed).model)
    #expect(a.network == b.network, "resumed weights differ from the uninterrupted run's")
    #expect(a.metadata["epoch"] == "6" && b.metadata["epoch"] == "6")

    // The pictures of the run, written after training and again by `report`.
    let report = try runCLI(["report", killed.path])
    #expect(report.status == 0, "\(report.stderr)")
    for name in ["curves.png", "confusion.png", "misclassified.png"] {
        let bytes = [UInt8](try Data(contentsOf: killed.appendingPathComponent(name)))
        let image = try PNGCodec.decode(bytes, source: name)
        #expect(image.width > 100 && image.height > 100, "\(name) is \(image.width)×\(image.height)")
    }
    for name in ["curves.svg", "confusion.svg", "report.html"] {
        let text = try String(contentsOf: killed.appendingPathComponent(name), encoding: .utf8)
        #expect(text.count > 1000, "\(name) holds \(text.count) characters")
    }

    let again = try runCLI(["train", "--output", whole.path] + options)
    #expect(again.status != 0 && again.stderr.contains("already holds a training run"))

    // Resuming into another run's folder would overwrite that run: refused, nothing changed.
    let before = try Data(contentsOf: RunFolder(whole).model)
    let into = try runCLI(["train", "--resume", killed.path, "--output", whole.path])
    #expect(into.status != 0 && into.stderr.contains("\(whole.path) already holds a training run"), "\(into.stderr)")
    #expect(try Data(contentsOf: RunFolder(whole).model) == before)
}

@Test("a fresh run refuses an output folder that holds a model.safetensors, and leaves it as it was")
func outputHoldingAModel() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = RunFolder(folder).model
    try Checkpoint.save(AdderNetwork(seed: 5), to: model)
    let before = try Data(contentsOf: model)
    let r = try runCLI(["train", "--epochs", "1", "--limit", "128", "--test-limit", "10", "--output", folder.path])
    #expect(r.status != 0 && !r.stdout.contains("epoch"))
    #expect(r.stderr == "mnist-adder: \(folder.path) already holds a model.safetensors that this run would overwrite: "
        + "expected a new or empty --output folder\n")
    #expect(try Data(contentsOf: model) == before)
}

@Test("--drop-last with a batch larger than the training set is refused instead of training no step")
func dropLastWithoutAFullBatch() throws {
    let r = try runCLI(["train", "--epochs", "1", "--limit", "100", "--batch-size", "128", "--drop-last", "--output",
                        FileManager.default.temporaryDirectory.appendingPathComponent("never-\(UUID())").path])
    #expect(r.status != 0)
    #expect(r.stderr == "mnist-adder: --batch-size: expected at most the 100 training images with --drop-last, found 128\n")
}
