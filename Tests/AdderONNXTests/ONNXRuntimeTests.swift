// The exported file run by onnxruntime (scripts/onnx/run_onnx.py, after onnx.checker) on the first
// 64 MNIST test images gives the logits, digits and sums our engine gives (TestNetworks: random
// weights, random BatchNorm2d statistics, a made-up network, and the seed trained by PyTorch). Runs when python3 has
// onnx, onnxruntime, numpy and safetensors, and always when CI=true, where a missing package fails.
import AdderNet
import AdderONNX
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

/// Whether python3 has what run_onnx.py imports.
private let pythonHasONNXRuntime = Python.canImport("onnx, onnxruntime, numpy, safetensors.numpy")
/// CI runs the test whatever python3 has (scripts/onnx/requirements.txt is installed there).
private let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// The index of the largest value, the first on ties (as ONNX's ArgMax with select_last_index 0).
private func argmax(_ row: ArraySlice<Float>) -> Int {
    var best = row.startIndex
    for i in row.indices where row[i] > row[best] { best = i }
    return best - row.startIndex
}

@Suite("ONNX export: onnxruntime", .serialized)
struct ONNXRuntimeTests {
    static let count = 64

    @Test(
        "onnxruntime runs the exported network as our engine does: logits, digits and sums",
        .enabled(if: pythonHasONNXRuntime || isCI, "SKIPPED: python3 with onnx, onnxruntime, numpy and safetensors is not installed"),
        arguments: TestNetworks.names)
    func sameOutputs(name: String) throws {
        try #require(
            pythonHasONNXRuntime,
            "CI=true but python3 cannot import onnx, onnxruntime, numpy and safetensors.numpy (pip install -r scripts/onnx/requirements.txt)")
        let network = try TestNetworks.network(name)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("onnx-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (modelURL, inputsURL, outputsURL) = (
            folder.appendingPathComponent("model.onnx"), folder.appendingPathComponent("inputs.safetensors"),
            folder.appendingPathComponent("outputs.safetensors"))
        try ONNXExport.write(network, to: modelURL)

        // The first 64 test images, normalized as in training, and integers from −20 to 80.
        let test = try AdderDataset.load(.test, seed: 0)
        var batches = try test.batches(batchSize: Self.count, shuffle: false).makeIterator()
        let next = batches.next()
        let batch = try #require(next)
        #expect(batch.indices == Array(0..<Self.count))
        let addends = (0..<Self.count).map { ($0 * 37) % 101 - 20 }
        try Safetensors.write(
            ["image": batch.images, "addend": Tensor(shape: [Self.count, 1], scalars: addends.map(Float.init))],
            to: inputsURL)

        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/onnx/run_onnx.py")
        print(try Python.run([script.path, modelURL.path, inputsURL.path, outputsURL.path]), terminator: "")
        let outputs = try SafetensorsFile(contentsOf: outputsURL)
        let theirLogits = try outputs.float32("logits", shape: [Self.count, 10]).scalars
        let theirSums = try outputs.float32("sum", shape: [Self.count, 1]).scalars
        #expect(outputs.metadata["opset"] == "17")
        #expect(outputs.metadata["operators"].map { !$0.contains("Dropout") } == true)

        let ours = AdderEngine(threads: 1).forward(network, images: batch.images, addends: addends)
        let logits = compareClose(ours.logits.scalars, theirLogits, atol: 1e-5, rtol: 1e-4, name: "\(name) logits")
        #expect(logits.passed, "\(logits)")
        let theirDigits = (0..<Self.count).map { argmax(theirLogits[($0 * 10)..<($0 * 10 + 10)]) }
        #expect(ours.digits == theirDigits)
        let sums = compareClose(ours.sums.scalars, theirSums, atol: 1e-4, rtol: 1e-4, name: "\(name) sums")
        #expect(sums.passed, "\(sums)")
        print("\(name) against onnxruntime: logits max |diff| \(logits.maxAbsoluteDifference), sums max |diff| "
              + "\(sums.maxAbsoluteDifference), \(zip(ours.digits, theirDigits).filter { $0 == $1 }.count) of "
              + "\(Self.count) digits equal, distinct digits \(Set(ours.digits).sorted())")

        if name == TestNetworks.trained {
            let correct = zip(ours.digits, batch.labels).filter { $0 == $1 }.count
            #expect(correct >= 60, "a trained network reads the test digits: \(correct) of \(Self.count)")
        }

        // The running statistics matter: with PyTorch's initial ones (mean 0, variance 1, γ 1, β 0)
        // the logits are far from these, so a graph that ignored them would fail above.
        if network.model.layers.contains(where: { if case .batchNorm2d = $0 { true } else { false } }) {
            let plain = AdderEngine(threads: 1).forward(AdderNetwork(network.model, seed: 7), images: batch.images, addends: addends)
            let gap = compareClose(plain.logits.scalars, ours.logits.scalars, atol: 0, rtol: 0)
            #expect(gap.maxAbsoluteDifference > 0.05, "\(name): BatchNorm2d's statistics change the logits by \(gap.maxAbsoluteDifference)")
        }
    }
}
