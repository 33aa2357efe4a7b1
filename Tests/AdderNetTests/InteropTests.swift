// Checkpoints move between this program and PyTorch in both directions: a network trained by
// PyTorch (Tests/Fixtures/pytorch-trained.safetensors) predicts here what it predicted there, and a
// checkpoint we write loads into PyTorch's seed network with load_state_dict(strict=True) and
// predicts there what it predicts here. A digit may differ only where the two top logits are within
// `nearTie` of each other (float summation order decides those), and every such item is reported.
import AdderNet
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

/// The largest top-2 logit gap at which a differing digit counts as a tie broken by summation order.
private let nearTie: Float = 1e-4

/// A test item whose digit differs between the two implementations.
private struct DigitMismatch: CustomStringConvertible {
    let index: Int
    let ours: Int
    let theirs: Int
    /// Our logit of `ours` minus our logit of `theirs` (≥ 0 since `ours` is our argmax).
    let ourGap: Float
    /// PyTorch's top-1 minus top-2 logit.
    let theirMargin: Float

    var description: String {
        "item \(index): ours \(ours), PyTorch \(theirs), our gap \(ourGap), PyTorch margin \(theirMargin)"
    }
}

/// The items where `ours` and `theirs` disagree, with our logits of both digits (from a forward pass
/// over just those items) and PyTorch's margins.
private func digitMismatches(
    ours: [Int], theirs: [Int], theirMargins: [Float], network: AdderNetwork, dataset: AdderDataset,
    engine: AdderEngine
) -> [DigitMismatch] {
    let indices = (0..<ours.count).filter { ours[$0] != theirs[$0] }
    guard !indices.isEmpty else { return [] }
    var result: [DigitMismatch] = []
    for batch in AdderBatches(dataset: dataset, order: indices, batchSize: indices.count) {
        let logits = engine.forward(network, images: batch.images, addends: batch.addends).logits
        for (row, index) in batch.indices.enumerated() {
            let ourLogit = logits.scalars[row * AdderNetwork.classes + ours[index]]
            let theirLogit = logits.scalars[row * AdderNetwork.classes + theirs[index]]
            result.append(DigitMismatch(
                index: index, ours: ours[index], theirs: theirs[index],
                ourGap: ourLogit - theirLogit, theirMargin: theirMargins[index]))
        }
    }
    return result
}

/// Checks the near-tie rule: every differing digit is a near-tie on both sides, there are only a
/// handful, and the two classification accuracies differ by at most those items (exactly equal when
/// there are none). Prints the counts so a pass with ties is visible.
private func expectSameDigits(
    _ label: String, ours: [Int], theirs: [Int], theirMargins: [Float], labels: [Int],
    network: AdderNetwork, dataset: AdderDataset, engine: AdderEngine,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let mismatches = digitMismatches(
        ours: ours, theirs: theirs, theirMargins: theirMargins, network: network, dataset: dataset, engine: engine)
    for m in mismatches {
        #expect(m.ourGap >= 0 && m.ourGap < nearTie && m.theirMargin < nearTie,
                "\(label): not a near-tie: \(m)", sourceLocation: sourceLocation)
    }
    #expect(mismatches.count <= 10, "\(label): \(mismatches.count) digits differ", sourceLocation: sourceLocation)
    let ourCorrect = zip(ours, labels).filter { $0 == $1 }.count
    let theirCorrect = zip(theirs, labels).filter { $0 == $1 }.count
    #expect(abs(ourCorrect - theirCorrect) <= mismatches.count,
            "\(label): \(ourCorrect) vs \(theirCorrect) correct with \(mismatches.count) near-ties",
            sourceLocation: sourceLocation)
    print("\(label): \(ours.count) digits compared, \(mismatches.count) differ (near-ties: "
          + "\(mismatches.map(\.description))); correct \(ourCorrect) here, \(theirCorrect) in PyTorch")
}

@Suite("PyTorch interop", .serialized)
struct InteropTests {
    @Test("a PyTorch-trained checkpoint predicts the digits and sums PyTorch predicted, on all 10,000 test images")
    func pytorchTrainedCheckpoint() throws {
        let checkpoint = Fixtures.directory.appendingPathComponent("pytorch-trained.safetensors")
        let predictions = try SafetensorsFile(
            contentsOf: Fixtures.directory.appendingPathComponent("pytorch-trained-predictions.safetensors"))
        let (network, metadata) = try Checkpoint.load(contentsOf: checkpoint)
        #expect(metadata.isEmpty, "PyTorch's save_file(model.state_dict()) writes no metadata")
        let test = try AdderDataset.load(.test, seed: 0)
        let engine = AdderEngine()

        let theirDigits = try predictions.int64("digits", shape: [test.count]).map { Int($0) }
        let theirMargins = try predictions.float32("margins", shape: [test.count]).scalars
        let addends = try predictions.int64("addends", shape: [test.count]).map { Int($0) }
        let theirSums = try predictions.float32("sums", shape: [test.count]).scalars
        let theirAccuracy = try #require(predictions.metadata["classification_accuracy"].flatMap(Double.init))
        #expect(addends == (0..<test.count).map { $0 % 10 })

        let evaluation = try evaluate(network, on: test, engine: engine, batchSize: 1000)
        #expect(evaluation.count == 10_000)
        #expect(evaluation.confusion.joined().reduce(0, +) == 10_000, "the confusion matrix covers every test image")
        #expect(evaluation.count == 10_000)
        #expect(evaluation.classificationAccuracy > 0.9, "a trained network: \(evaluation.classificationAccuracy)")
        let theirCorrect = zip(theirDigits, test.labels).filter { $0 == $1 }.count
        #expect(Double(theirCorrect) / Double(test.count) == theirAccuracy)
        expectSameDigits(
            "PyTorch-trained checkpoint", ours: evaluation.predictedDigits, theirs: theirDigits,
            theirMargins: theirMargins, labels: test.labels, network: network, dataset: test, engine: engine)
        if evaluation.predictedDigits == theirDigits {
            #expect(evaluation.classificationAccuracy == theirAccuracy)
        }

        // Sums for PyTorch's integers (i % 10), on the items where both chose the same digit.
        var ourSums: [Float] = []
        for batch in try test.batches(batchSize: 1000, shuffle: false) {
            let batchAddends = batch.indices.map { addends[$0] }
            ourSums += engine.forward(network, images: batch.images, addends: batchAddends).sums.scalars
        }
        let same = (0..<test.count).filter { evaluation.predictedDigits[$0] == theirDigits[$0] }
        let report = compareClose(
            same.map { ourSums[$0] }, same.map { theirSums[$0] }, atol: 1e-4, rtol: 1e-4, name: "sums")
        #expect(report.passed, "\(report)")
    }

    @Test(
        "a checkpoint we write loads in PyTorch (strict) and predicts the same digits, logits and sums",
        .enabled(if: pythonHasTorch, "SKIPPED: python3 with torch and safetensors is not installed"))
    func ourCheckpointInPyTorch() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("interop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("model.safetensors")
        let output = folder.appendingPathComponent("predictions.safetensors")
        let network = AdderNetwork(seed: 3)
        try Checkpoint.save(network, metadata: ["format": Checkpoint.formatName, "seed": "3"], to: checkpoint)

        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/pytorch/evaluate_checkpoint.py")
        try Python.run([script.path,
            checkpoint.path, "--predictions-out", output.path, "--with-logits", "--threads", "2",
        ])
        let predictions = try SafetensorsFile(contentsOf: output)
        let test = try AdderDataset.load(.test, seed: 0)
        let engine = AdderEngine()
        let theirDigits = try predictions.int64("digits", shape: [test.count]).map { Int($0) }
        let theirMargins = try predictions.float32("margins", shape: [test.count]).scalars
        let theirLogits = try predictions.float32("logits", shape: [test.count, AdderNetwork.classes])
        let theirSums = try predictions.float32("sums", shape: [test.count]).scalars
        let addends = try predictions.int64("addends", shape: [test.count]).map { Int($0) }

        let evaluation = try evaluate(network, on: test, engine: engine, batchSize: 1000)
        expectSameDigits(
            "our checkpoint in PyTorch", ours: evaluation.predictedDigits, theirs: theirDigits,
            theirMargins: theirMargins, labels: test.labels, network: network, dataset: test, engine: engine)

        // Logits and sums element by element on the first 1,000 images (the parity tolerances).
        var batches = try test.batches(batchSize: 1000, shuffle: false).makeIterator()
        let next = batches.next()
        let first = try #require(next)
        let out = engine.forward(network, images: first.images, addends: first.indices.map { addends[$0] })
        let expectedLogits = Array(theirLogits.scalars[0..<(first.count * AdderNetwork.classes)])
        let logitsReport = compareClose(out.logits.scalars, expectedLogits, atol: 1e-5, rtol: 1e-4, name: "logits")
        #expect(logitsReport.passed, "\(logitsReport)")
        let same = (0..<first.count).filter { out.digits[$0] == theirDigits[$0] }
        let sumsReport = compareClose(
            same.map { out.sums.scalars[$0] }, same.map { theirSums[$0] }, atol: 1e-4, rtol: 1e-4, name: "sums")
        #expect(sumsReport.passed, "\(sumsReport)")
    }

    @Test(
        "every network's checkpoint loads into its PyTorch module (strict), predicts the same logits, and comes back",
        .enabled(if: pythonHasTorch, "SKIPPED: python3 with torch and safetensors is not installed"),
        arguments: ["seed", "pytorch-examples", "seed-bn"])
    func everyNetworkRoundTrip(_ name: String) throws {
        let model = try ModelDescription.named(name)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("roundtrip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var network = AdderNetwork(model, seed: 5)
        // Running statistics other than the initial ones, so that evaluation mode really uses them.
        for (i, entry) in model.bufferEntries.enumerated() {
            network.buffers[i].scalars = (0..<entry.count).map { j in
                switch entry.role {
                case .runningMean: Float(j % 5) * 0.1 - 0.2
                case .runningVar: 0.5 + Float(j % 3) * 0.25
                default: 7
                }
            }
        }
        let checkpoint = folder.appendingPathComponent("model.safetensors")
        let back = folder.appendingPathComponent("back.safetensors")
        let output = folder.appendingPathComponent("predictions.safetensors")
        try Checkpoint.save(network, to: checkpoint)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/pytorch/evaluate_checkpoint.py")
        try Python.run([script.path, checkpoint.path, "--predictions-out", output.path, "--with-logits",
                        "--state-out", back.path, "--threads", "2"])
        // Logits on the first 500 test images, element by element.
        let predictions = try SafetensorsFile(contentsOf: output)
        let test = try AdderDataset.load(.test, limit: 500, seed: 0)
        var batches = try test.batches(batchSize: 500, shuffle: false).makeIterator()
        let next = batches.next()
        let first = try #require(next)
        let out = AdderEngine().forward(network, images: first.images, addends: first.addends)
        let theirs = try predictions.float32("logits").scalars.prefix(500 * AdderNetwork.classes)
        let report = compareClose(out.logits.scalars, Array(theirs), atol: 2e-5, rtol: 1e-4, name: "\(name) logits")
        #expect(report.passed, "\(report)")
        // PyTorch's own save of the state_dict (no metadata) is recognised by its keys and loads back unchanged.
        let (loaded, metadata) = try Checkpoint.load(contentsOf: back)
        #expect(metadata[Checkpoint.modelKey] == nil)
        #expect(loaded.model == model)
        #expect(loaded.parameters == network.parameters && loaded.buffers == network.buffers)
        let file = try SafetensorsFile(contentsOf: back)
        for entry in model.bufferEntries where entry.isInt64 {
            #expect(try file.entry(entry.key).dtype == .int64 && file.entry(entry.key).shape == [])
        }
    }
}

/// Whether the cross-checks against PyTorch can run on this machine.
private let pythonHasTorch = Python.shouldRun(needing: "torch, safetensors.torch")
