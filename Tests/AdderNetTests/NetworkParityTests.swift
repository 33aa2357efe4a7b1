// pytorch-examples and seed-bn against PyTorch: one training-mode step on 8 real test images (logits,
// sums, both losses, every gradient, the running statistics after it, one Adam step) and the
// evaluation-mode outputs after it (Tests/Fixtures/parity-<model>.safetensors, written by
// scripts/pytorch/network_fixture.py with PyTorch 2.13; dropout with this program's masks).
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import Testing

private func expectClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let report = compareClose(actual, expected.reshaped(to: actual.shape), atol: atol, rtol: rtol, name: name)
    #expect(actual.count == expected.count && report.passed, "\(report)", sourceLocation: sourceLocation)
}

struct NetworkCase: CustomTestStringConvertible, Sendable {
    var model: String
    var threads, pieceSize: Int
    var testDescription: String { "\(model), \(threads) threads, pieces of \(pieceSize)" }
}

/// A network's fixture: its initial state and inputs.
private func loadFixture(_ model: ModelDescription) throws -> (SafetensorsFile, AdderNetwork, Tensor, [Int], [Int]) {
    let file = try SafetensorsFile(contentsOf: Fixtures.directory.appendingPathComponent("parity-\(model.name).safetensors"))
    var state: [String: Tensor] = [:]
    for entry in model.stateEntries {
        state[entry.key] = entry.isInt64
            ? Tensor(shape: entry.shape, scalars: try file.int64("param." + entry.key).map(Float.init))
            : try file.float32("param." + entry.key)
    }
    let network = try AdderNetwork(model, stateDict: state)
    let images = try file.float32("x.images", shape: [8, 1, 28, 28])
    let addends = try file.int64("x.addends", shape: [8]).map { Int($0) }
    let labels = try file.int64("x.labels", shape: [8]).map { Int($0) }
    return (file, network, images, addends, labels)
}

@Test("a training step of pytorch-examples and seed-bn matches PyTorch, then evaluation mode does", arguments: [
    NetworkCase(model: "pytorch-examples", threads: 1, pieceSize: 16), NetworkCase(model: "pytorch-examples", threads: 2, pieceSize: 3),
    NetworkCase(model: "seed-bn", threads: 1, pieceSize: 16), NetworkCase(model: "seed-bn", threads: 2, pieceSize: 3),
])
func networkStepMatchesPyTorch(_ c: NetworkCase) throws {
    let model = try ModelDescription.named(c.model)
    let (file, network, images, addends, labels) = try loadFixture(model)
    let engine = AdderEngine(threads: c.threads, pieceSize: c.pieceSize)
    let result = try engine.step(network, images: images, addends: addends, labels: labels, dropout: DropoutContext(seed: 0, step: 0))
    expectClose(result.forward.logits, try file.float32("y.logits"), atol: 1e-5, rtol: 1e-4, "y.logits")
    expectClose(result.forward.sums, try file.float32("y.sum"), atol: 1e-5, rtol: 1e-4, "y.sum")
    for (value, key) in [(result.crossEntropy, "y.loss_ce"), (result.mse, "y.loss_mse"), (result.loss, "y.loss")] {
        expectClose(Tensor(shape: [], scalars: [value]), try file.float32(key), atol: 1e-5, rtol: 1e-4, key)
    }
    for (name, gradient) in zip(model.parameterNames, result.gradients) {
        expectClose(gradient, try file.float32("grad." + name), atol: 1e-5, rtol: 1e-3, "grad.\(name)")
    }
    for (entry, buffer) in zip(model.bufferEntries, result.buffers) {
        let expected = entry.isInt64
            ? Tensor(shape: entry.shape, scalars: try file.int64("after." + entry.key).map(Float.init))
            : try file.float32("after." + entry.key)
        expectClose(buffer, expected, atol: 1e-6, rtol: 1e-5, "after.\(entry.key)")
    }
    var adam = try Adam(parameterShapes: model.parameterShapes, learningRate: 1e-3)
    var stepped = network
    adam.step(parameters: &stepped.parameters, gradients: result.gradients)
    // Adam's first step moves a weight by lr·g/(|g| + eps): where |g| is near eps (1e-8) the move
    // hangs on the gradient's last bits, so the bound is 5% of the learning rate there.
    for (i, name) in model.parameterNames.enumerated() {
        expectClose(stepped.parameters[i], try file.float32("adam1." + name), atol: 5e-5, rtol: 1e-3, "adam1.\(name)")
    }
    stepped.buffers = result.buffers
    let evaluation = engine.forward(stepped, images: images, addends: addends)
    expectClose(evaluation.logits, try file.float32("eval.logits"), atol: 2e-5, rtol: 1e-3, "eval.logits")
    expectClose(evaluation.sums, try file.float32("eval.sum"), atol: 2e-5, rtol: 1e-3, "eval.sum")
}

@Test("gradients do not depend on the worker count: BatchNorm2d's meetings and dropout's masks are per batch",
      arguments: ["pytorch-examples", "seed-bn"])
func networkStepDoesNotDependOnWorkers(_ name: String) throws {
    let model = try ModelDescription.named(name)
    let (_, network, images, addends, labels) = try loadFixture(model)
    let context = DropoutContext(seed: 7, step: 3)
    let reference = try AdderEngine(threads: 1, pieceSize: 3).step(
        network, images: images, addends: addends, labels: labels, dropout: context)
    let other = try AdderEngine(threads: 3, pieceSize: 3).step(
        network, images: images, addends: addends, labels: labels, dropout: context)
    #expect(other.gradients == reference.gradients && other.buffers == reference.buffers)
    #expect(other.forward.logits == reference.forward.logits)
}
