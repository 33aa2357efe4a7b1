// The whole network against PyTorch: the seed's initial weights on 8 real test images, every
// layer's output, the logits, the sums, both losses, every gradient and one Adam and one SGD step
// (Tests/Fixtures/parity-seed0.safetensors, written by PyTorch 2.13).
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import Testing

@discardableResult
private func expectClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Float {
    let report = compareClose(actual, expected, atol: atol, rtol: rtol, name: name)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    return report.maxAbsoluteDifference
}

struct ParityFixture {
    let file: SafetensorsFile
    let network: AdderNetwork
    let images: Tensor
    let addends: [Int]
    let labels: [Int]

    init() throws {
        file = try SafetensorsFile(contentsOf: Fixtures.paritySeed0)
        var state: [String: Tensor] = [:]
        for name in ModelDescription.seed.parameterNames { state[name] = try file.float32("param." + name) }
        network = try AdderNetwork(stateDict: state)
        images = try file.float32("x.images", shape: [8, 1, 28, 28])
        addends = try file.int64("x.addends", shape: [8]).map { Int($0) }
        labels = try file.int64("x.labels", shape: [8]).map { Int($0) }
    }
}

@Test("every layer's output matches PyTorch (rtol 1e-4, atol 1e-5)")
func layerOutputsMatchPyTorch() throws {
    let f = try ParityFixture()
    var x = f.images
    var p = 0
    for layer in ModelDescription.seed.layers {
        switch layer {
        case .conv2d(let c):
            x = conv2dForward(input: x, weight: f.network.parameters[p], bias: f.network.parameters[p + 1])
            p += 2
            expectClose(x, try f.file.float32("act." + c.name), atol: 1e-5, rtol: 1e-4, "act.\(c.name)")
        case .relu:
            x = reluForward(x)
        case .maxPool2d(let pool):
            x = maxPool2dForward(input: x, kernelSize: pool.kernelSize, stride: pool.stride).output
            expectClose(x, try f.file.float32("act.pool"), atol: 1e-5, rtol: 1e-4, "act.pool")
        default:
            Issue.record("the seed has no \(layer.typeName)")
        }
    }
}

extension ParityFixture {
    /// The fixture's batch `times` over: every mean loss and so every gradient is the fixture's,
    /// while pieces of 16 or more images run Winograd in all five 3×3 layers (below 16 images the
    /// 9×9, 7×7 and 5×5 ones run im2col).
    func repeated(_ times: Int) -> (images: Tensor, addends: [Int], labels: [Int]) {
        (Tensor(shape: [8 * times, 1, 28, 28], scalars: Array([[Float]](repeating: images.scalars, count: times).joined())),
         Array([[Int]](repeating: addends, count: times).joined()), Array([[Int]](repeating: labels, count: times).joined()))
    }
}

struct StepCase: CustomTestStringConvertible, Sendable {
    var threads, pieceSize, repeats: Int
    var testDescription: String { "\(threads) threads, pieces of \(pieceSize), batch ×\(repeats)" }
}

@Test("logits, sums, losses, every gradient and both optimizer steps match PyTorch", arguments: [
    StepCase(threads: 1, pieceSize: 32, repeats: 1), StepCase(threads: 2, pieceSize: 3, repeats: 1),
    StepCase(threads: 3, pieceSize: 1, repeats: 1), StepCase(threads: 2, pieceSize: 16, repeats: 4),
])
func stepMatchesPyTorch(_ t: StepCase) throws {
    let f = try ParityFixture()
    let engine = AdderEngine(threads: t.threads, pieceSize: t.pieceSize)
    let batch = f.repeated(t.repeats)
    let result = try engine.step(f.network, images: batch.0, addends: batch.1, labels: batch.2)
    let n = batch.0.shape[0]
    let logits = Tensor(shape: [8, 10], scalars: Array(result.forward.logits.scalars.prefix(80)))
    let sums = Tensor(shape: [8], scalars: Array(result.forward.sums.scalars.prefix(8)))
    #expect(result.forward.logits.shape == [n, 10] && result.forward.sums.shape == [n])
    let logitsDifference = expectClose(logits, try f.file.float32("y.logits"), atol: 1e-5, rtol: 1e-4, "y.logits")
    var gradientDifference: Float = 0
    expectClose(sums, try f.file.float32("y.sum"), atol: 1e-5, rtol: 1e-4, "y.sum")
    for (value, key) in [(result.crossEntropy, "y.loss_ce"), (result.mse, "y.loss_mse"), (result.loss, "y.loss")] {
        expectClose(Tensor(shape: [], scalars: [value]), try f.file.float32(key), atol: 1e-5, rtol: 1e-4, key)
    }
    for (name, gradient) in zip(ModelDescription.seed.parameterNames, result.gradients) {
        gradientDifference = max(
            gradientDifference, expectClose(gradient, try f.file.float32("grad." + name), atol: 1e-5, rtol: 1e-3, "grad.\(name)"))
    }
    // The figure BENCHMARKS.md quotes for each GEMM backend (MNIST_ADDER_GEMM): how far from PyTorch the step is.
    print("parity \(t.testDescription), gemm \(GEMMDispatch.choice): largest |ours − PyTorch| logits \(logitsDifference), "
        + "gradients \(gradientDifference)")

    let shapes = ModelDescription.seed.parameterShapes
    var adam = try Adam(parameterShapes: shapes, learningRate: 1e-3)
    var adamParameters = f.network.parameters
    adam.step(parameters: &adamParameters, gradients: result.gradients)
    var sgd = try SGD(parameterShapes: shapes, learningRate: 0.01, momentum: 0.9)
    var sgdParameters = f.network.parameters
    sgd.step(parameters: &sgdParameters, gradients: result.gradients)
    for (i, name) in ModelDescription.seed.parameterNames.enumerated() {
        expectClose(adamParameters[i], try f.file.float32("adam1." + name), atol: 1e-5, rtol: 1e-3, "adam1.\(name)")
        expectClose(sgdParameters[i], try f.file.float32("sgd1." + name), atol: 1e-5, rtol: 1e-3, "sgd1.\(name)")
    }
}

@Test("a step's gradients are bit-identical for 1, 2 and 3 workers: each piece has its own slot, summed in order",
      arguments: [5, 16])
func stepDoesNotDependOnWorkerCount(pieceSize: Int) throws {
    let f = try ParityFixture()
    let (images, addends, labels) = f.repeated(4)  // 32 images: pieces of 5 run im2col late, of 16 Winograd
    let reference = try AdderEngine(threads: 1, pieceSize: pieceSize).step(
        f.network, images: images, addends: addends, labels: labels)
    for threads in [2, 3] {
        let result = try AdderEngine(threads: threads, pieceSize: pieceSize).step(
            f.network, images: images, addends: addends, labels: labels)
        #expect(result.gradients == reference.gradients, "\(threads) threads")
        #expect(result.loss == reference.loss && result.forward.logits == reference.forward.logits)
    }
}

@Test("inference gives the training pass's logits and sums, at any thread count")
func forwardMatchesStep() throws {
    let f = try ParityFixture()
    let reference = try AdderEngine(threads: 1).step(f.network, images: f.images, addends: f.addends, labels: f.labels)
    for threads in [1, 2, 4] {
        let out = AdderEngine(threads: threads).forward(f.network, images: f.images, addends: f.addends)
        expectClose(out.logits, reference.forward.logits, atol: 1e-6, rtol: 1e-6, "logits, \(threads) threads")
        #expect(out.digits == reference.forward.digits)
        #expect(out.sums == reference.forward.sums)
    }
}

@Test("a checkpoint written and read back gives the same network; PyTorch keys are the file's names")
func checkpointRoundTrip() throws {
    let network = AdderNetwork(seed: 42)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("adder-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Checkpoint.save(network, metadata: ["epoch": "3"], to: url)
    let (loaded, metadata) = try Checkpoint.load(contentsOf: url)
    #expect(loaded == network)
    #expect(metadata["epoch"] == "3")
    #expect(try SafetensorsFile(contentsOf: url).names.sorted() == ModelDescription.seed.parameterNames.sorted())
}

@Test("a checkpoint with a wrong shape, a missing or an extra key is refused with the key named")
func checkpointErrors() throws {
    var state = AdderNetwork(seed: 1).stateDict
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("adder-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }

    state["conv3.weight"] = Tensor(shape: [32, 16, 5, 5])
    try Safetensors.write(state, to: dir.appendingPathComponent("shape.safetensors"))
    #expect(throws: CheckpointError.shapeMismatch(
        network: "seed", key: "conv3.weight", expected: [32, 16, 3, 3], found: [32, 16, 5, 5])) {
        try Checkpoint.load(contentsOf: dir.appendingPathComponent("shape.safetensors"))
    }
    state = AdderNetwork(seed: 1).stateDict
    state["out2.bias"] = nil
    try Safetensors.write(state, to: dir.appendingPathComponent("missing.safetensors"))
    #expect(throws: CheckpointError.keyMismatch(network: "seed", missing: ["out2.bias"], unexpected: [])) {
        try Checkpoint.load(contentsOf: dir.appendingPathComponent("missing.safetensors"))
    }
    state = AdderNetwork(seed: 1).stateDict
    state["fc.weight"] = Tensor(shape: [2])
    try Safetensors.write(state, to: dir.appendingPathComponent("extra.safetensors"))
    #expect(throws: CheckpointError.keyMismatch(network: "seed", missing: [], unexpected: ["fc.weight"])) {
        try Checkpoint.load(contentsOf: dir.appendingPathComponent("extra.safetensors"))
    }
    // A renamed key: both the key the network misses and the one it does not know, in one error.
    state = AdderNetwork(seed: 1).stateDict
    state["out2.bais"] = state.removeValue(forKey: "out2.bias")
    try Safetensors.write(state, to: dir.appendingPathComponent("renamed.safetensors"))
    #expect(throws: CheckpointError.keyMismatch(network: "seed", missing: ["out2.bias"], unexpected: ["out2.bais"])) {
        try Checkpoint.load(contentsOf: dir.appendingPathComponent("renamed.safetensors"))
    }
    for (value, index) in [(Float.nan, 37), (-Float.infinity, 0)] {
        state = AdderNetwork(seed: 1).stateDict
        state["conv4.weight"]!.scalars[index] = value
        let url = dir.appendingPathComponent("nonfinite-\(index).safetensors")
        try Safetensors.write(state, to: url)
        let error = #expect(throws: CheckpointError.self) { try Checkpoint.load(contentsOf: url) }
        guard case .nonFinite(let key, let found, let v) = error else {
            Issue.record("expected nonFinite, got \(String(describing: error))")
            continue
        }
        #expect(key == "conv4.weight" && found == index && (v.isNaN ? value.isNaN : v == value))
    }
}

@Test("checkpoint errors name the network, list a few keys, count the rest, and hint at a prefix or a rename")
func checkpointErrorMessages() {
    let prefixed = ModelDescription.seed.parameterNames.map { "model." + $0 } + ["optimizer.step"]
    let text = CheckpointError.keyMismatch(network: "seed", missing: [], unexpected: prefixed.sorted()).description
    #expect(text.hasPrefix(
        "checkpoint does not match network 'seed': 23 unexpected key(s): model.conv1.bias, model.conv1.weight,"), "\(text)")
    #expect(text.contains(" and 17 more; expected the keys without the prefix 'model.', such as input1.weight"), "\(text)")
    #expect(text.contains("training-state"), "\(text)")
    let wrapped = CheckpointError.keyMismatch(
        network: "seed", missing: ["conv1.weight"], unexpected: ["module.conv1.weight"]).description
    #expect(wrapped == "checkpoint does not match network 'seed': 1 missing key(s): conv1.weight; "
        + "1 unexpected key(s): module.conv1.weight; expected the keys without the prefix 'module.', such as conv1.weight",
        "\(wrapped)")
    #expect(CheckpointError.keyMismatch(network: "seed", missing: [], unexpected: ["fc.weight"]).description
        == "checkpoint does not match network 'seed': 1 unexpected key(s): fc.weight")
    let renamed = CheckpointError.keyMismatch(
        network: "seed-bn", missing: ["bn1.running_var", "out2.bias"], unexpected: ["bn1.running_variance", "out2.bais"])
    #expect(renamed.description == "checkpoint does not match network 'seed-bn': "
        + "2 missing key(s): bn1.running_var, out2.bias; 2 unexpected key(s): bn1.running_variance, out2.bais; "
        + "out2.bais looks like out2.bias renamed", "\(renamed)")
    #expect(CheckpointError.keyMismatch(network: "seed", missing: ModelDescription.seed.parameterNames, unexpected: [])
        .description.hasSuffix("and 16 more (the file holds none of this network's tensors)"))
    #expect(CheckpointError.shapeMismatch(network: "pytorch-examples", key: "fc1.weight", expected: [128, 9216], found: [128, 4])
        .description == "checkpoint does not match network 'pytorch-examples': key fc1.weight has shape [128, 4], expected [128, 9216]")
    #expect(CheckpointError.nonFinite(key: "conv1.bias", index: 3, value: .infinity).description
        == "checkpoint key conv1.bias holds inf at element 3, expected finite numbers")
}

@Test("initial weights lie within PyTorch's default bounds ±1/√fan_in and depend on the seed")
func initialisation() {
    let a = AdderNetwork(seed: 7), b = AdderNetwork(seed: 7), c = AdderNetwork(seed: 8)
    #expect(a == b)
    #expect(a != c)
    #expect(ModelDescription.seed.parameterCount == 100_461)
    for (i, shape) in ModelDescription.seed.parameterShapes.enumerated() {
        let fanIn = ModelDescription.seed.parameterShapes[i - i % 2].dropFirst().reduce(1, *)
        let bound = 1 / Float(fanIn).squareRoot()
        let values = a.parameters[i].scalars
        #expect(a.parameters[i].shape == shape)
        #expect(values.allSatisfy { abs($0) <= bound }, "\(ModelDescription.seed.parameterNames[i]) outside ±\(bound)")
        // A uniform draw over ±bound uses most of the range once there are enough values.
        if values.count >= 100 { #expect(values.max()! > 0.9 * bound && values.min()! < -0.9 * bound) }
    }
}
