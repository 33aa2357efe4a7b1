// A checkpoint with finite but huge weights (a random network ×1e30) and an empty test set, as a
// user meets them on the command line: one line on stderr naming the layer or the empty set, exit 65
// (bad input data, README "Exit codes").
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import Testing

/// A random seed network with every weight ×1e30 (finite, so the loader takes it), saved in `folder`.
func hugeCheckpoint(in folder: URL) throws -> URL {
    var network = AdderNetwork(seed: 0)
    network.parameters = network.parameters.map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * 1e30 }) }
    let url = folder.appendingPathComponent("huge.safetensors")
    try Checkpoint.save(network, to: url)
    return url
}

/// Checks a failed run: exit status 65 (bad input data), nothing on stdout, one line on stderr holding `message`.
func expectOneLineError(_ r: ProcessOutput, _ message: String) {
    #expect(r.status == 65)
    #expect(r.stdout.isEmpty, "stdout: \(r.stdout)")
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(lines.count == 1, "stderr: \(r.stderr)")
    #expect(r.stderr.contains(message), "stderr: \(r.stderr)")
}

@Suite struct NonFiniteCLITests {
    static let layerMessage = "the network's output is not finite: layer 'conv1 + ReLU' (plan step 2) gives"

    @Test("evaluate on a checkpoint with huge weights names the layer instead of printing -nan")
    func evaluateHuge() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try hugeCheckpoint(in: folder)
        for extra in [[], ["--json"]] {
            let r = try runCLI(["evaluate", "--checkpoint", url.path, "--batch-size", "50"] + extra)
            expectOneLineError(r, "mnist-adder: \(url.path): " + Self.layerMessage)
        }
    }

    @Test("predict (text and --json) on a checkpoint with huge weights names the layer, no EncodingError")
    func predictHuge() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = try hugeCheckpoint(in: folder)
        for extra in [[], ["--json"]] {
            let r = try runCLI(["predict", "--checkpoint", url.path, "--test-index", "0", "--test-index", "5"] + extra)
            expectOneLineError(r, Self.layerMessage)
            #expect(!r.stderr.contains("EncodingError"))
        }
    }

    @Test("a data folder with zero test images: evaluate and train say the test set is empty")
    func emptyTestSet() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("model.safetensors")
        try Checkpoint.save(AdderNetwork(seed: 0), to: checkpoint)
        let data = folder.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        func idx(_ magic: UInt32, _ dimensions: [UInt32]) -> Data {
            Data(([magic] + dimensions).flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } })
        }
        for prefix in ["t10k", "train"] {
            try idx(0x0803, [0, 28, 28]).write(to: data.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try idx(0x0801, [0]).write(to: data.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
        let evaluate = try runCLI(["evaluate", "--checkpoint", checkpoint.path, "--data-dir", data.path])
        expectOneLineError(evaluate, "mnist-adder: the test set is empty (0 images), expected at least 1 image to evaluate")
        let train = try runCLI(["train", "--data-dir", data.path, "--output", folder.appendingPathComponent("run").path, "--drop-last"])
        expectOneLineError(train, "mnist-adder: the training set is empty (0 images), expected at least 1 image")
        #expect(!train.stderr.contains("drop-last"))
    }
}
