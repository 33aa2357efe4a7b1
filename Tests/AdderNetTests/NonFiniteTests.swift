// A forward pass that overflows is an error naming the plan step where the first NaN or infinity
// appeared: in evaluation, in the step-by-step diagnostic and in training, which keeps the last
// finished epoch's checkpoint as it was.
import AdderNet
import Foundation
import MNISTData
import NNCore
import Testing

/// `network` with the parameters whose index is in `indices` (all when nil) multiplied by `factor`.
func scaled(_ network: AdderNetwork, by factor: Float, parameters indices: Set<Int>? = nil) -> AdderNetwork {
    var network = network
    for i in network.parameters.indices where indices?.contains(i) ?? true {
        network.parameters[i] = Tensor(shape: network.parameters[i].shape, scalars: network.parameters[i].scalars.map { $0 * factor })
    }
    return network
}

/// An empty MNIST split (IDX files with zero images), as a data folder with no test images gives.
func emptyDataset() throws -> AdderDataset {
    func idx(_ magic: UInt32, _ dimensions: [UInt32]) -> [UInt8] {
        ([magic] + dimensions).flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
    }
    let mnist = try MNIST(
        images: IDXImages(parsing: idx(0x0803, [0, 28, 28]), file: "empty-images"),
        labels: IDXLabels(parsing: idx(0x0801, [0]), file: "empty-labels"))
    return try AdderDataset(mnist, split: .test, seed: 0)
}

@Suite struct NonFiniteTests {
    let random = AdderNetwork(seed: 0)
    let images = try! AdderDataset.load(.test, limit: 40, seed: 0)

    @Test("every weight ×1e30: evaluation names conv1, the first layer whose output overflows")
    func hugeWeightsInEvaluation() throws {
        let engine = AdderEngine(threads: 2)
        // The same images with the random weights evaluate to finite numbers.
        let fine = try evaluate(random, on: images, engine: engine, batchSize: 16)
        #expect(fine.crossEntropy.isFinite && fine.count == 40)
        // input1's outputs stay near 1e30 (finite); conv1 multiplies them by weights near 1e29.
        let error = try #require(throws: NonFiniteForwardError.self) {
            try evaluate(scaled(random, by: 1e30), on: images, engine: engine, batchSize: 16)
        }
        #expect(error.layer == "conv1 + ReLU")
        #expect(error.step == 1)
        #expect(error.image == 0)
        #expect(["inf", "nan"].contains(error.value), "value \(error.value)")
        #expect(error.description.hasPrefix("the network's output is not finite: layer 'conv1 + ReLU' (plan step 2) gives"))
    }

    @Test("only conv5 and conv6 ×1e30: the diagnostic names conv6, the last step, in both modes")
    func lateOverflow() throws {
        let names = random.model.parameterNames
        let conv5 = try #require(names.firstIndex(of: "conv5.weight")), conv6 = try #require(names.firstIndex(of: "conv6.weight"))
        let network = scaled(random, by: 1e30, parameters: [conv5, conv5 + 1, conv6, conv6 + 1])
        let engine = AdderEngine(threads: 2)
        let x = try images.batches(batchSize: 40, shuffle: false).first { _ in true }!.images
        #expect(try engine.firstNonFiniteStep(random, images: x, mode: .inference) == nil)
        #expect(try engine.firstNonFiniteStep(random, images: x, mode: .training) == nil)
        let plan = try engine.plan(for: network.model, batch: 40, mode: .inference)
        for mode in [PlanMode.inference, .training] {
            let found = try #require(try engine.firstNonFiniteStep(network, images: x, mode: mode))
            #expect(found.layer == "conv6")
            #expect(found.step == plan.steps.count - 1)
        }
    }

    @Test("seed-bn with conv1_bn's γ and conv2's weights ×1e30: conv2 is named in both modes, meeting at each BatchNorm2d")
    func batchNormTraining() throws {
        let bn = AdderNetwork(.seedBN, seed: 0)
        let names = bn.model.parameterNames
        let gamma = try #require(names.firstIndex(of: "conv1_bn.weight")), conv2 = try #require(names.firstIndex(of: "conv2.weight"))
        let network = scaled(bn, by: 1e30, parameters: [gamma, conv2])
        let engine = AdderEngine(threads: 2, pieceSize: 8)
        let x = try images.batches(batchSize: 20, shuffle: false).first { _ in true }!.images
        #expect(try engine.firstNonFiniteStep(bn, images: x, mode: .training) == nil)
        let plan = try engine.plan(for: network.model, batch: 20, mode: .training)
        let conv2Step = try #require(plan.steps.firstIndex { $0.name == "conv2" })
        for mode in [PlanMode.inference, .training] {
            let found = try #require(try engine.firstNonFiniteStep(network, images: x, mode: mode))
            #expect(found.step == conv2Step && found.layer == "conv2", "\(mode): \(found)")
        }
    }

    @Test("an empty test set is an error, not 0% accuracy")
    func emptyEvaluation() throws {
        let error = try #require(throws: EmptyDatasetError.self) {
            try evaluate(random, on: try emptyDataset(), engine: AdderEngine(threads: 1))
        }
        #expect(error.description == "the test set is empty (0 images), expected at least 1 image to evaluate")
    }

    @Test("a trainer refuses an empty training or test set, naming the set instead of --drop-last")
    func emptyTraining() throws {
        var options = TrainingOptions()
        options.dropLast = true
        #expect(throws: TrainingError.emptyDataset(split: "training")) {
            try Trainer(options: options, trainSet: try emptyDataset(), testSet: images)
        }
        #expect(throws: TrainingError.emptyDataset(split: "test")) {
            try Trainer(options: options, trainSet: images, testSet: try emptyDataset())
        }
        #expect(TrainingError.emptyDataset(split: "training").description
            == "the training set is empty (0 images), expected at least 1 image (check --limit and the data folder)")
    }

    @Test("a NaN loss stops training with the layer named and the last epoch's files untouched")
    func divergedTrainingKeepsCheckpoint() throws {
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 20
        options.limit = 40
        options.testLimit = 20
        let train = try AdderDataset.load(.train, limit: 40, seed: options.seed)
        let test = try AdderDataset.load(.test, limit: 20, seed: options.seed)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("adder-nan-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Trainer(options: options, trainSet: train, testSet: test).run(outputDirectory: folder, stopAfterEpoch: 1)
        // The training state's weights ×1e30, as if epoch 1 had ended with exploded weights.
        let run = RunFolder(folder)
        let state = try SafetensorsFile(contentsOf: run.trainingState)
        var tensors = try state.float32Tensors()
        for key in tensors.keys where key.hasPrefix("model.") {
            tensors[key] = Tensor(shape: tensors[key]!.shape, scalars: tensors[key]!.scalars.map { $0 * 1e30 })
        }
        try Safetensors.write(tensors, metadata: state.metadata, to: run.trainingState)
        let files = [run.trainingState, run.model, run.historyJSON, run.historyCSV]
        let before = try files.map { try Data(contentsOf: $0) }
        let resumed = try Trainer.resume(from: folder, trainSet: train, testSet: test)
        #expect(throws: TrainingError.diverged(epoch: 2, batch: 1, layer: "conv1 + ReLU")) {
            try resumed.run(outputDirectory: folder)
        }
        #expect(try files.map { try Data(contentsOf: $0) } == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            == files.map(\.lastPathComponent).sorted())
    }
}
