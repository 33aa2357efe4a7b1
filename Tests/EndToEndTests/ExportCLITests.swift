// `mnist-adder export` as a user runs it: the file it writes from a run folder, and one line for an
// output it must not write.
import AdderNet
import AdderONNX
import Foundation
import NNCore
import Testing

@Test("export writes the exporter's bytes for the run folder's checkpoint, with the run's seed, epoch and version")
func exportRunFolder() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let network = AdderNetwork(.seedBN, seed: 4)
    let checkpoint = RunFolder(folder).model
    try Checkpoint.save(
        network, metadata: ["format": Checkpoint.formatName, "seed": "4", "epoch": "2", "plan": "x", "version": "5ab4011"],
        to: checkpoint)
    let output = folder.appendingPathComponent("model.onnx")
    let r = try runCLI(["export", "--checkpoint", folder.path, "--output", output.path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("Wrote \(output.path): network seed-bn, 100749 parameters, ONNX opset 17"), "\(r.stdout)")
    let written = try [UInt8](Data(contentsOf: output))
    #expect(written == (try ONNXExport.serialized(network, metadata: ["seed": "4", "epoch": "2", "version": "5ab4011"])))

    // A second export over the same file replaces it and says so.
    let again = try runCLI(["export", "--checkpoint", folder.path, "--output", output.path])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.hasPrefix("Replaced \(output.path): network seed-bn"), "\(again.stdout)")
    #expect(try [UInt8](Data(contentsOf: output)) == written)
}

@Test("export refuses an output it must not write, in one line naming it", arguments: [
    (["--output", "FOLDER"], "--output FOLDER is a folder, expected a file such as FOLDER/model.onnx"),
    (["--output", "FOLDER/missing/model.onnx"], "the folder FOLDER/missing does not exist, expected an existing folder"),
    (["--output", "FOLDER/model.safetensors"], "is the checkpoint being exported, expected another file"),
    ([], "Missing expected argument '--output <output>'"),
])
func exportRefuses(arguments: [String], message: String) throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    try Checkpoint.save(AdderNetwork(seed: 1), to: RunFolder(folder).model)
    let r = try runCLI(["export", "--checkpoint", folder.path] + arguments.map { $0.replacingOccurrences(of: "FOLDER", with: folder.path) })
    #expect(r.status != 0)
    #expect(r.stderr.split(separator: "\n").count == 1, "stderr: \(r.stderr)")
    #expect(r.stderr.contains(message.replacingOccurrences(of: "FOLDER", with: folder.path)), "stderr: \(r.stderr)")
    let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
    #expect(left == [RunFolder.modelFile], "nothing else written: \(left)")
}
