// Fine-tuning the shipped model on a small synthetic style it reads badly (MNIST digits in a form's box)
// improves on that style's held-out images and keeps MNIST; the held-out split is stratified and seeded.
import AdderInference
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNCore
import Testing

/// MNIST image `index` of `mnist` inside a box, as on a form: a 44×44 picture, light ink on black, the digit
/// in the middle and a 2-pixel frame 2 pixels in from the edge (so the preprocessor crops to the frame and the
/// digit comes out small, framed).
private func boxed(_ mnist: MNIST, _ index: Int) -> [UInt8] {
    let side = 44
    var pixels = [UInt8](repeating: 0, count: side * side)
    for (i, v) in mnist.image(at: index).enumerated() { pixels[(8 + i / 28) * side + 8 + i % 28] = v }
    for a in 2...41 {
        for t in [2, 3, 40, 41] {
            pixels[t * side + a] = 255
            pixels[a * side + t] = 255
        }
    }
    return pixels
}

@Suite("Fine-tuning")
struct FineTuningTests {
    @Test("the held-out split keeps round(n · fraction) of each digit, seeded, disjoint, at least one to train on")
    func stratifiedSplit() throws {
        // 0: 8 items, 1: 1 item, 2: 3 items, 3: 2 items.
        let labels = [0, 2, 0, 0, 1, 0, 2, 0, 3, 0, 0, 2, 3, 0]
        let split = StratifiedSplit(labels: labels, fraction: 0.25, seed: 5)
        #expect(Set(split.training).isDisjoint(with: split.heldOut))
        #expect((split.training + split.heldOut).sorted() == Array(labels.indices))
        #expect(split.training == split.training.sorted() && split.heldOut == split.heldOut.sorted())
        let aside = (0...3).map { d in split.heldOut.filter { labels[$0] == d }.count }
        // 8 · 0.25 = 2; 1 item: none; 3 · 0.25 = 0.75 → 1; 2 · 0.25 = 0.5 → 1 (rounded half away), not both.
        #expect(aside == [2, 0, 1, 1])
        #expect(StratifiedSplit(labels: labels, fraction: 0.25, seed: 5) == split)
        let others = (6..<30).map { StratifiedSplit(labels: labels, fraction: 0.25, seed: UInt64($0)).heldOut }
        #expect(others.contains { $0 != split.heldOut }, "the seed chooses which images")
        #expect(StratifiedSplit(labels: labels, fraction: 0.9, seed: 1).heldOut.filter { labels[$0] == 0 }.count == 7)
    }

    @Test("the mixed training set: each own image `repeats` times, then mnistPerImage MNIST images per image shown")
    func mixture() throws {
        let own = try MNIST(pixels: [UInt8](repeating: 7, count: 3 * 784), labels: [1, 2, 3])
        let mnist = try MNIST.load(.test, limit: 100)
        var options = FineTuningOptions()
        options.repeats = 4
        options.mnistPerImage = 2
        let set = try FineTuning.trainingSet(own: own, mnist: mnist, options: options, addendRange: 0...9)
        #expect(set.count == 3 * 4 + 24)
        #expect(set.labels.prefix(12) == [1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3][...])
        let drawn = (12..<set.count).map { Array(set.mnist.image(at: $0)) }
        let pool = (0..<100).map { Array(mnist.image(at: $0)) }
        #expect(drawn.allSatisfy { pool.contains($0) } && Set(drawn).count == 24)
        options.mnistPerImage = 1000
        #expect(try FineTuning.trainingSet(own: own, mnist: mnist, options: options, addendRange: 0...9).count == 12 + 100)
    }

    @Test("fine-tuning the shipped model on boxed digits improves on held-out boxed digits and keeps MNIST")
    func improvesOnAStyle() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("finetune-style-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        // 200 test images the shipped model never trained on, boxed, written and read back as a person's folder.
        let style = try MNIST.load(.test).subset(Array(9000..<9200))
        for i in 0..<style.count {
            let folder = root.appendingPathComponent(String(style.labels[i]))
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(try PNGCodec.encodeGray(boxed(style, i), width: 44, height: 44))
                .write(to: folder.appendingPathComponent("\(i).png"))
        }
        let own = try ImageFolder.read(root.path)
        #expect(own.samples.count == 200)

        let (base, metadata) = try Checkpoint.load(contentsOf: ShippedModel.url)
        let baseOptions = try JSONDecoder().decode(TrainingOptions.self, from: Data(try #require(metadata["options"]).utf8))
        let sets = try AdderDataset.splitting(
            MNIST.load(.train), validation: try #require(baseOptions.validation), seed: baseOptions.seed)
        let validation = try AdderDataset(sets.validation.mnist.prefix(1000), split: .test, seed: 0)
        let test = try AdderDataset.load(.test, limit: 2000, seed: 0)
        var options = FineTuningOptions()
        options.epochs = 2
        options.calibrationImages = 2000
        options.seed = 3
        let result = try FineTuning.run(
            base: base, baseCalibration: nil, baseOptions: baseOptions, own: own.mnist(),
            mnistTraining: sets.training.mnist, mnistValidation: validation, mnistTest: test, options: options)
        let r = result.report
        #expect(r.ownHeldOut == result.split.heldOut.count && r.ownTraining + r.ownHeldOut == 200)
        #expect((45...55).contains(r.ownHeldOut), "about a quarter of each digit, \(r.ownHeldOut)")
        #expect(r.imagesPerEpoch == r.ownTraining * options.repeats * (1 + options.mnistPerImage))
        #expect(r.before.heldOutAccuracy < 0.8, "the shipped model reads boxed digits badly: \(r.before.heldOutAccuracy)")
        #expect(r.after.heldOutAccuracy >= r.before.heldOutAccuracy + 0.15,
                "held-out \(r.before.heldOutAccuracy) → \(r.after.heldOutAccuracy)")
        #expect(r.after.mnistTestAccuracy >= r.before.mnistTestAccuracy - 0.01,
                "MNIST test \(r.before.mnistTestAccuracy) → \(r.after.mnistTestAccuracy)")
        #expect(r.history.count == 2 && r.calibration.validationImages == 1000 && r.calibration.trainingImages == r.ownTraining + 2000)
        #expect(result.calibration.temperature > 0 && result.calibration.featureMeans.shape == [10, 160])
        // The result's own figures agree with the network it returns.
        let again = try evaluate(result.network, on: test, engine: AdderEngine())
        #expect(abs(again.classificationAccuracy - r.after.mnistTestAccuracy) < 1e-12)
    }

    @Test("a set with nothing to keep aside and settings out of range are refused naming the option")
    func refusals() throws {
        let own = try MNIST(pixels: [UInt8](repeating: 9, count: 3 * 784), labels: [1, 2, 3])
        let (base, _) = try Checkpoint.load(contentsOf: ShippedModel.url)
        let test = try AdderDataset.load(.test, limit: 10, seed: 0)
        #expect(throws: FineTuningError.nothingHeldOut(images: 3, fraction: 0.25)) {
            try FineTuning.run(
                base: base, baseCalibration: nil, baseOptions: TrainingOptions(), own: own, mnistTraining: test.mnist,
                mnistValidation: test, mnistTest: test, options: FineTuningOptions())
        }
        var options = FineTuningOptions()
        options.heldOutFraction = 0
        #expect(throws: TrainingError.invalidOption(name: "held-out", expected: "a fraction in (0, 0.9]", found: "0.0")) {
            try options.validate()
        }
        options = FineTuningOptions()
        options.repeats = 0
        #expect(throws: TrainingError.invalidOption(name: "repeat", expected: "1...1000", found: "0")) { try options.validate() }
    }
}
