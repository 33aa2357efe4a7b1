// The command-line conventions from the built binary: --version (and the checkpoint's copy of it),
// the exit status of each kind of failure (README, "Exit codes"), suggestions for a mistyped
// subcommand or option, every option's default in --help, completion scripts, JSON without
// escaped slashes, and the epoch table's columns for a loss of 100 or more.
import AdderNet
import DigitImage
import Foundation
import NNCore
import NNTestSupport
import Testing

/// The package's folder (this file is Tests/EndToEndTests/ConventionsTests.swift).
private let packageFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// What `--version` must print for this checkout, found with git as the build plugin finds it:
/// the short hash of HEAD, "-dirty" when a tracked file differs, "unknown" outside a git clone.
private func expectedVersion() throws -> String {
    let git = URL(fileURLWithPath: "/usr/bin/env")
    let prefix = ["git", "--no-optional-locks", "-c", "safe.directory=*", "-C", packageFolder.path]
    let top = try runProcess(git, prefix + ["rev-parse", "--show-toplevel"])
    guard top.status == 0,
          URL(fileURLWithPath: top.stdout.trimmingCharacters(in: .whitespacesAndNewlines)).resolvingSymlinksInPath().path
              == packageFolder.resolvingSymlinksInPath().path
    else { return "unknown" }
    let hash = try runProcess(git, prefix + ["rev-parse", "--short", "HEAD"])
    let diff = try runProcess(git, prefix + ["diff", "--quiet", "HEAD", "--"])
    return hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + (diff.status == 1 ? "-dirty" : "")
}

@Test("--version prints the git commit the binary was built from, and a trained checkpoint keeps it")
func versionAndCheckpointMetadata() throws {
    let r = try runCLI(["--version"])
    #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
    let version = r.stdout.trimmingCharacters(in: .newlines)
    // A file edited between the build and this test makes the tree dirty only now.
    let expected = try expectedVersion()
    #expect(version == expected || version + "-dirty" == expected, "built as \(version), the tree is \(expected)")
    #expect(version.wholeMatch(of: /[0-9a-f]{7,40}(-dirty)?|unknown/) != nil, "\(version)")

    // A one-epoch run on 64 images; the loss weighted ×1000 is over 100, which must not shift the columns.
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("run")
    let t = try runCLI([
        "train", "--epochs", "1", "--limit", "64", "--test-limit", "32", "--loss-weights", "1000,1",
        "--output", run.path,
    ])
    #expect(t.status == 0, "\(t.stderr)")
    let (_, metadata) = try Checkpoint.load(contentsOf: RunFolder(run).model)
    #expect(metadata[Trainer.versionKey] == version)
    // Calibrating a run that kept no validation set aside: its checkpoint does not fit the command (65).
    let calibrate = try runCLI(["calibrate", "--checkpoint", run.path])
    #expect(calibrate.status == 65, "\(calibrate.stderr)")
    #expect(calibrate.stderr == "mnist-adder: \(RunFolder(run).model.path) was trained without a validation set: expected "
        + "a run of `train --validation N` (calibrating on trained-on or test images would be meaningless)\n")

    let lines = t.stdout.split(separator: "\n").map(String.init)
    let header = try #require(lines.first { $0.hasPrefix("epoch ") })
    let row = try #require(lines.first { $0.hasPrefix("  1/1 ") }, "\(t.stdout)")
    // The loss field is 7 wide after "  1/1   " and its value (over 1000 here) fits; the first
    // accuracy ends under the end of "train class", and the others every 12 characters after it.
    let loss = try #require(Double(row.dropFirst(8).prefix(7).trimmingCharacters(in: .whitespaces)), "\(row)")
    #expect(loss >= 100, "\(row)")
    let end = try #require(header.range(of: "train class")).upperBound.utf16Offset(in: header)
    let percents = Array(row.utf16).indices.filter { Array(row.utf16)[$0] == UInt16(UInt8(ascii: "%")) }
    #expect(percents == [end - 1, end + 11, end + 23, end + 35], "\n\(header)\n\(row)")
}

@Test("each kind of failure exits with its status from the table, in one line", arguments: [
    // 64: usage
    (["trian"], 64, "mnist-adder: unknown subcommand 'trian'; did you mean 'train'?"),
    (["evalute", "--checkpoint", "x"], 64, "did you mean 'evaluate'?"),
    (["exp"], 64, "did you mean 'export'?"),
    (["tran"], 64, "did you mean 'train'?"),
    (["sever"], 64, "did you mean 'serve'?"),
    (["help", "trian"], 64, "mnist-adder: unknown subcommand 'trian'; did you mean 'train'?"),
    (["frobnicate"], 64, "expected one of train, evaluate, predict, report, summary, download, serve, export"),
    (["train", "--epoch", "3"], 64, "Unknown option '--epoch'. Did you mean '--epochs'?"),
    (["train", "--epochs", "-1"], 64, "--epochs: expected at least 1, found -1"),
    (["train", "--epochs", "ten"], 64, "'ten' is invalid for '--epochs"),
    (["summary", "--model", "resnet"], 64, "resnet"),
    (["predict", "--checkpoint", "x.safetensors"], 64, "give at least one --image FILE or --test-index N"),
    (["serve", "--checkpoint", "x.safetensors", "--max-connections", "0"], 64, "--max-connections: expected"),
    (["serve", "--checkpoint", "x.safetensors", "--batch-wait", "-1"], 64,
     "--batch-wait: expected milliseconds in [0, 1000] (0: no batching), found -1.0"),
    (["serve", "--checkpoint", "x.safetensors", "--max-batch", "0"], 64, "--max-batch: expected images in 1...256, found 0"),
    (["summary", "--plan", "--batch-size", "0"], 64, "--batch-size: expected at least 1, found 0"),
    (["summary", "--measure", "--calls", "0"], 64, "--calls: expected at least 1, found 0"),
    (["evaluate", "--addend-range", "9...0"], 64, "--addend-range: expected LO...HI with LO ≤ HI, found 9...0"),
    (["compare", "a", "b", "--threads", "-1"], 64, "--threads: expected 0 (one per core) to 256, found -1"),
    (["train", "--threads", "100000"], 64, "--threads: expected 0 (one per core) to 256, found 100000"),
    (["summary", "--measure", "--threads", "257"], 64, "--threads: expected 0 (one per core) to 256, found 257"),
    (["evaluate", "--threads", "100000"], 64, "--threads: expected 0 (one per core) to 256, found 100000"),
    // 66: missing input
    (["evaluate", "--checkpoint", "/nonexistent/model.safetensors"], 66, "/nonexistent/model.safetensors"),
    (["predict", "--checkpoint", "/", "--test-index", "0"], 66, "/ is a folder without model.safetensors"),
    (["train", "--data-dir", "/nonexistent-mnist", "--limit", "10"], 66, "/nonexistent-mnist"),
    (["report", "/nonexistent-run"], 66, "/nonexistent-run is not a training run: no readable history.json"),
    (["train", "--resume", "/nonexistent-run"], 66, "cannot resume from /nonexistent-run"),
    (["unsure-report", "--nondigits", "/nonexistent-nondigits"], 66, "--nondigits /nonexistent-nondigits: cannot list the folder"),
] as [([String], Int32, String)])
func exitStatus(arguments: [String], status: Int32, message: String) throws {
    let r = try runCLI(arguments)
    #expect(r.status == status, "\(arguments): \(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
}

@Test("bad input data exits 65, a failed write 74, --help and --version 0")
func exitStatusWithFiles() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let good = folder.appendingPathComponent("good.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 1), to: good)
    var state = AdderNetwork(seed: 1).stateDict
    state["out2.bais"] = state.removeValue(forKey: "out2.bias")
    let renamed = folder.appendingPathComponent("renamed.safetensors")
    try Safetensors.write(state, to: renamed)
    let notPNG = folder.appendingPathComponent("digit.png")
    try Data("GIF89a, not a PNG".utf8).write(to: notPNG)
    let aFile = folder.appendingPathComponent("a-file")
    try Data("x".utf8).write(to: aFile)
    let nondigits = folder.appendingPathComponent("nondigits/letters")
    try FileManager.default.createDirectory(at: nondigits, withIntermediateDirectories: true)

    let cases: [([String], Int32, String)] = [
        (["evaluate", "--checkpoint", renamed.path], 65,
         "\(renamed.path): checkpoint does not match network 'seed': 1 missing key(s): out2.bias; "
            + "1 unexpected key(s): out2.bais; out2.bais looks like out2.bias renamed"),
        (["predict", "--checkpoint", good.path, "--image", notPNG.path], 65, notPNG.path),
        (["predict", "--checkpoint", good.path, "--image", folder.appendingPathComponent("none.png").path], 66,
         "cannot read image \(folder.path)/none.png"),
        (["train", "--epochs", "1", "--limit", "64", "--test-limit", "32", "--output", aFile.path + "/run"], 74,
         "cannot write \(aFile.path)/run"),
        (["compare", good.path, good.path, "--picture", aFile.path + "/disagreements.svg"], 74,
         "cannot write the picture \(aFile.path)/disagreements.svg"),
        // A checkpoint that lacks what the command needs is bad input data.
        (["calibrate", "--checkpoint", good.path], 65, "\(good.path): no readable training options in its metadata"),
        (["unsure-report", "--checkpoint", good.path, "--nondigits", nondigits.deletingLastPathComponent().path], 65,
         "\(good.path) has no calibration"),
    ]
    for (arguments, status, message) in cases {
        let r = try runCLI(arguments)
        #expect(r.status == status, "\(arguments): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(message), "\(r.stderr)")
    }
    for arguments in [["--help"], ["train", "--help"], ["help", "export"], ["--version"]] {
        let r = try runCLI(arguments)
        #expect(r.status == 0 && !r.stdout.isEmpty && r.stderr.isEmpty, "\(arguments): \(r.stderr)")
    }
}

@Test("every option that takes a value and may be left out states its default in --help", arguments: [
    "train", "evaluate", "predict", "report", "summary", "download", "serve", "export", "compare", "calibrate",
    "unsure-report", "finetune",
])
func helpShowsDefaults(subcommand: String) throws {
    // Which options take a value and may be left out: ArgumentParser's own description of the command.
    struct Dump: Decodable {
        struct Command: Decodable { var arguments: [Argument] }
        struct Argument: Decodable {
            struct Name: Decodable { var name: String }
            var kind: String, isOptional: Bool, isRepeating: Bool, preferredName: Name?
        }
        var command: Command
    }
    let dump = try runCLI([subcommand, "--experimental-dump-help"])
    let arguments = try JSONDecoder().decode(Dump.self, from: Data(dump.stdout.utf8)).command.arguments
    // Options whose absence means "not done" rather than a value.
    let noDefault: Set<String> = ["train --resume", "summary --checkpoint"]
    let names = arguments.filter { $0.kind == "option" && $0.isOptional && !$0.isRepeating }
        .compactMap { $0.preferredName.map { "--" + $0.name } }
        .filter { !noDefault.contains("\(subcommand) \($0)") && $0 != "--version" && $0 != "--help" }

    let r = try runCLI([subcommand, "--help"])
    #expect(r.status == 0)
    // One entry per option: its first line ("  --epochs <epochs>  Passes ...") and the lines under it.
    var entries: [String: String] = [:]
    var current: String?
    for line in (r.stdout.components(separatedBy: "OPTIONS:\n").last ?? "").split(separator: "\n") {
        if let match = line.firstMatch(of: /^  (--[a-z-]+)/) {
            current = String(match.1)
            entries[String(match.1)] = String(line)
        } else if let name = current {
            entries[name, default: ""] += " " + line
        }
    }
    for name in names {
        let entry = try #require(entries[name], "\(subcommand) --help lacks \(name)")
        #expect(entry.contains("(default: "), "\(subcommand) \(name) states no default: \(entry)")
    }
    #expect(!names.isEmpty || subcommand == "export", "\(subcommand): no option found in \(dump.stdout.prefix(200))")
}

@Test("completion scripts for bash, zsh and fish name every subcommand", arguments: ["bash", "zsh", "fish"])
func completionScripts(shell: String) throws {
    let r = try runCLI(["--generate-completion-script", shell])
    #expect(r.status == 0, "\(r.stderr)")
    for name in ["train", "evaluate", "predict", "report", "summary", "download", "serve", "export", "epochs"] {
        #expect(r.stdout.contains(name), "\(shell) script lacks \(name)")
    }
}

@Test("--json output writes paths with plain slashes")
func jsonSlashes() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let checkpoint = folder.appendingPathComponent("model.safetensors")
    try Checkpoint.save(AdderNetwork(seed: 1), to: checkpoint)
    let png = folder.appendingPathComponent("digit.png")
    let bar = (0..<784).map { UInt8(($0 % 28 >= 12 && $0 % 28 < 16 && $0 / 28 >= 4 && $0 / 28 < 24) ? 255 : 0) }
    try Data(try PNGCodec.encodeGray(bar, width: 28, height: 28)).write(to: png)
    let r = try runCLI(["predict", "--checkpoint", checkpoint.path, "--image", png.path, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("\"source\" : \"\(png.path)\""), "\(r.stdout)")
    #expect(!r.stdout.contains("\\/"), "\(r.stdout)")
}

@Test("summary --checkpoint prints the network the file holds, as summary --model prints it")
func summaryOfCheckpoint() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try Checkpoint.save(AdderNetwork(.seedBN, seed: 2), to: RunFolder(folder).model)
    let byCheckpoint = try runCLI(["summary", "--checkpoint", folder.path])
    let byName = try runCLI(["summary", "--model", "seed-bn"])
    #expect(byCheckpoint.status == 0 && byName.status == 0, "\(byCheckpoint.stderr)")
    #expect(byCheckpoint.stdout == "Model: seed-bn, from \(RunFolder(folder).model.path)\n\n" + byName.stdout)
    #expect(byName.stdout.contains("Total parameters: 100749"), "\(byName.stdout)")
    let other = try runCLI(["summary", "--checkpoint", folder.path, "--model", "seed"])
    #expect(other.status == 64)
    #expect(other.stderr == "mnist-adder: --model seed differs from the checkpoint's network 'seed-bn'\n")
}
