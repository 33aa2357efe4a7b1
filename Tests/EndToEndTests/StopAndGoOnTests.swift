// Stopping `train` and going on, as a user does it: Ctrl-C or SIGTERM in the first epoch, SIGKILL at a
// random moment, a finished run given more epochs. Each ends bit-identical to a run never stopped:
// every tensor of model.safetensors, and the history but for its timings.
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import Testing

/// A quick run: 2 epochs of 60 batches of 10 images, one thread.
private let quickRun = ["--limit", "600", "--test-limit", "50", "--epochs", "2", "--batch-size", "10", "--threads", "1"]

/// Every tensor of the two safetensors files, compared bit for bit; the keys that differ.
private func differingTensors(_ a: URL, _ b: URL) throws -> [String] {
    let x = try SafetensorsFile(contentsOf: a), y = try SafetensorsFile(contentsOf: b)
    let tx = try x.float32Tensors(withPrefix: ""), ty = try y.float32Tensors(withPrefix: "")
    #expect(tx.count > 10 && Set(tx.keys) == Set(ty.keys), "\(tx.keys.sorted()) against \(ty.keys.sorted())")
    return tx.keys.sorted().filter { key in
        tx[key]?.shape != ty[key]?.shape
            || tx[key]?.scalars.map(\.bitPattern) != ty[key]?.scalars.map(\.bitPattern)
    }
}

/// history.json without the wall-clock seconds.
private func untimedHistory(_ folder: URL) throws -> [EpochRecord] {
    let data = try Data(contentsOf: RunFolder(folder).historyJSON)
    return try JSONDecoder().decode([EpochRecord].self, from: data).map {
        var r = $0
        r.trainSeconds = 0
        r.testSeconds = 0
        r.dataSeconds = 0
        return r
    }
}

/// Expects `folder`'s run to equal `reference`'s: every model tensor and the history.
private func expectSameRun(_ folder: URL, as reference: URL) throws {
    #expect(try differingTensors(RunFolder(folder).model, RunFolder(reference).model) == [])
    let history = try untimedHistory(folder)
    let expected = try untimedHistory(reference)
    #expect(history.count == 2)
    #expect(history == expected)
}

/// Starts `train` with `arguments`, its output collected in files (no pipe to fill).
private func startTraining(_ arguments: [String], in folder: URL) throws -> (Process, stdout: URL, stderr: URL) {
    let out = folder.appendingPathComponent("stdout.txt"), err = folder.appendingPathComponent("stderr.txt")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    let process = Process()
    process.executableURL = binary
    process.arguments = ["train"] + arguments
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    return (process, out, err)
}

/// Waits (blocking, at most 2 minutes) until `url` exists or the process ended.
private func waitFor(_ url: URL, while process: Process) {
    let deadline = Date().addingTimeInterval(120)
    while !FileManager.default.fileExists(atPath: url.path) && Date() < deadline && process.isRunning { usleep(2_000) }
}

@Test("Ctrl-C or SIGTERM in the first epoch: the step ends, the state is saved, the command to go on is printed, and going on ends bit-identical to a run never stopped",
      arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
func stopInFirstEpoch(signal: Int32, status: Int32) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = folder.appendingPathComponent("whole"), stopped = folder.appendingPathComponent("stopped")
    let reference = try runCLI(["train", "--output", whole.path] + quickRun)
    #expect(reference.status == 0, "\(reference.stderr)")

    let (process, out, err) = try startTraining(["--output", stopped.path] + quickRun, in: folder)
    // The state is written before the first step: from then on a stop has something to save into.
    waitFor(RunFolder(stopped).trainingState, while: process)
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    let stdout = try String(contentsOf: out, encoding: .utf8), stderr = try String(contentsOf: err, encoding: .utf8)
    #expect(process.terminationReason == .exit && process.terminationStatus == status, "\(stdout)\n\(stderr)")
    let name = signal == SIGTERM ? "SIGTERM" : "Ctrl-C"
    #expect(stderr.contains("\(name): stopping after this step and saving the training state"), "\(stderr)")
    #expect(stdout.contains("Stopped in epoch 1 after batch "), "\(stdout)")
    // The command names the program as it was started (here by its full path), so it runs as printed.
    let goOn = "\(binary.path) train --resume \(stopped.path)"
    #expect(stdout.hasSuffix("Go on with:\n  \(goOn)\n"), "\(stdout)")
    #expect(!RunFolder(stopped).holdsModel, "stopped in epoch 1: no epoch checkpoint yet")
    // report.html is written before the first step, and says where the run stopped.
    let html = try String(contentsOf: stopped.appendingPathComponent("report.html"), encoding: .utf8)
    #expect(html.contains("Stopped: 0 of 2 epochs done (written "), "\(html.prefix(3000))")

    let resumed = try runShell(goOn)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("Resuming \(stopped.path) in epoch 1 of 2 after batch "), "\(resumed.stdout)")
    try expectSameRun(stopped, as: whole)

    // Resuming it again says it is finished, instead of evaluating again.
    let again = try runCLI(["train", "--resume", stopped.path])
    #expect(again.status != 0)
    #expect(again.stderr == "mnist-adder: \(stopped.path) is a finished run (2 of 2 epochs), nothing to resume; to train "
        + "it further give the new total: \(binary.path) train --resume \(stopped.path) --epochs N (N > 2)\n")
    // Started by a relative path, as scripts/train does, it names itself by its full path (runnable from anywhere).
    let folderOfBinary = binary.deletingLastPathComponent()
    let relative = try runProcess(
        URL(fileURLWithPath: "/bin/sh"), ["-c", "./mnist-adder train --resume \(stopped.path)"], in: folderOfBinary)
    #expect(relative.stderr.contains("to train it further give the new total: "
        + "\(folderOfBinary.standardizedFileURL.path)/mnist-adder train --resume \(stopped.path) --epochs N"), "\(relative.stderr)")
}

/// Runs `command` with /bin/sh, as a user pastes a printed command.
private func runShell(_ command: String) throws -> ProcessOutput {
    try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
}

/// The inode number of `url`'s file, nil while there is none (each save renames a new file into place).
private func inode(_ url: URL) -> UInt64? {
    (try? FileManager.default.attributesOfItem(atPath: url.path)[.systemFileNumber] as? NSNumber)?.uint64Value
}

@Test("Ctrl-C after the last step, in the last epoch's test pass: the run ends with 130 and the commands that do the rest")
func stopAfterLastStep() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("run")
    // One step of 10 images, then the test pass over all 10,000 test images (seconds), then the final one.
    let (process, out, err) = try startTraining(
        ["--output", run.path, "--limit", "10", "--batch-size", "10", "--epochs", "1", "--threads", "1", "--save-every", "0"],
        in: folder)
    let state = RunFolder(run).trainingState
    waitFor(state, while: process)
    // The state is saved before the step and again after it (once the step's stop check is past).
    let before = inode(state)
    let deadline = Date().addingTimeInterval(120)
    while inode(state) == before && process.isRunning && Date() < deadline { usleep(1_000) }
    kill(process.processIdentifier, SIGINT)
    process.waitUntilExit()
    let stdout = try String(contentsOf: out, encoding: .utf8), stderr = try String(contentsOf: err, encoding: .utf8)
    #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(stdout)\n\(stderr)")
    #expect(stdout.contains("Stopped after the last epoch (1 of 1): the run is finished, its model saved in "
        + RunFolder(run).model.path), "\(stdout)")
    #expect(RunFolder(run).holdsModel)
    #expect(!stdout.contains("Wrote "), "\(stdout)")
    // What was left (drawing the test-set pictures) runs as printed.
    let rest = (stdout.components(separatedBy: "Do the rest with:\n").dropFirst().first ?? "")
        .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(rest.allSatisfy { $0.hasPrefix(binary.path + " ") }, "\(rest)")
    for command in rest {
        let r = try runShell(command)
        #expect(r.status == 0, "\(command): \(r.stderr)")
    }
    #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("misclassified.svg").path))
}

@Test("a run stopped after its first epoch: report.html says it stopped and how to go on, and no longer reloads")
func stoppedReport() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("run")
    let report = run.appendingPathComponent("report.html")
    let (process, out, _) = try startTraining(["--output", run.path] + quickRun, in: folder)
    // history.json appears after the first epoch; the stop comes in the second.
    waitFor(RunFolder(run).historyJSON, while: process)
    kill(process.processIdentifier, SIGTERM)
    process.waitUntilExit()
    let stdout = try String(contentsOf: out, encoding: .utf8)
    #expect(process.terminationStatus == 143, "\(stdout)")
    let html = try String(contentsOf: report, encoding: .utf8)
    #expect(html.contains("Stopped: 1 of 2 epochs done (written "), "\(html.prefix(3000))")
    #expect(html.contains("Go on with: \(binary.path) train --resume \(run.path)</p>"), "\(html.prefix(3000))")
    #expect(!html.contains("http-equiv=\"refresh\"") && !html.contains("Running:"))
}

@Test("SIGKILL at a random moment of a run that saves its state after every step: going on ends bit-identical")
func killAtRandomMoment() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = folder.appendingPathComponent("whole"), killed = folder.appendingPathComponent("killed")
    let reference = try runCLI(["train", "--output", whole.path] + quickRun)
    #expect(reference.status == 0, "\(reference.stderr)")
    let seconds = reference.stdout.split(separator: "\n").compactMap { line -> Double? in
        line.hasPrefix("Time: ") ? Double(line.split(separator: " ")[1]) : nil
    }.first ?? 2

    let (process, _, err) = try startTraining(["--output", killed.path, "--save-every", "0"] + quickRun, in: folder)
    waitFor(RunFolder(killed).trainingState, while: process)
    // A random moment within the first half of the time the reference took (this run also saves after
    // every step, so it is slower): in epoch 1 or 2, in a step or a save.
    let delay = Double.random(in: 0...(0.5 * seconds))
    usleep(useconds_t(delay * 1e6))
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    let stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    #expect(process.terminationReason == .uncaughtSignal, "killed after \(delay) s: the run ended first: \(stderr)")
    let resumed = try runCLI(["train", "--resume", killed.path])
    #expect(resumed.status == 0, "killed after \(delay) s: \(resumed.stderr)")
    try expectSameRun(killed, as: whole)
    // A kill while a file was being written leaves its temporary file; going on removes it.
    let hidden = try FileManager.default.contentsOfDirectory(atPath: killed.path).filter { $0.hasPrefix(".") }
    #expect(hidden == [], "killed after \(delay) s")
}

@Test("a finished 1-epoch run with a constant schedule extended with --resume --epochs 2 equals a 2-epoch run")
func extendFinishedRun() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let whole = folder.appendingPathComponent("whole"), extended = folder.appendingPathComponent("extended")
    let constant = quickRun + ["--schedule", "constant"]
    let reference = try runCLI(["train", "--output", whole.path] + constant)
    #expect(reference.status == 0, "\(reference.stderr)")
    let short = try runCLI(["train", "--output", extended.path] + constant + ["--epochs", "1"])
    #expect(short.status == 0, "\(short.stderr)")

    let fewer = try runCLI(["train", "--resume", extended.path, "--epochs", "0"])
    #expect(fewer.stderr == "mnist-adder: --epochs: expected at least 1 (epochs begun in \(extended.path): 1), found 0\n")
    let more = try runCLI(["train", "--resume", extended.path, "--epochs", "2"])
    #expect(more.status == 0, "\(more.stderr)")
    #expect(more.stdout.contains("Resuming \(extended.path) after epoch 1 of 2 (extended from 1 epochs; the constant "
        + "schedule is now that of 2)"), "\(more.stdout)")
    try expectSameRun(extended, as: whole)
}

@Test("train --json: one JSON object per epoch on standard output, the rest on standard error")
func jsonEpochLines() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let r = try runCLI(["train", "--json", "--output", folder.appendingPathComponent("run").path] + quickRun)
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 2, "\(r.stdout)")
    let history = try JSONDecoder().decode(
        [EpochRecord].self, from: Data(contentsOf: RunFolder(folder.appendingPathComponent("run")).historyJSON))
    for (line, record) in zip(lines, history) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["epoch"] as? Int == record.epoch && object["epochs"] as? Int == 2)
        #expect(object["loss"] as? Double == record.loss)
        #expect(object["testClassificationAccuracy"] as? Double == record.testClassificationAccuracy)
        let warming = try #require(object["warmingUp"] as? [String])
        #expect(warming.contains("trainAdditionAccuracy")
            == (record.trainAdditionAccuracy < record.trainClassificationAccuracy - 0.01))
    }
    #expect(r.stderr.contains("epoch   loss    train class"))
    #expect(r.stderr.contains("Test set, 50 images"))
}
