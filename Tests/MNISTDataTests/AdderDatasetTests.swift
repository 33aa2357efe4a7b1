// The combined dataset: integers per item, epoch orders, batches, prefetching, accuracy and the
// normalization, which is checked bit for bit against PyTorch.
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

/// A tiny split of `count` 28×28 images: image i is filled with the byte i, label i % 10.
private func tinyMNIST(count: Int) throws -> MNIST {
    let pixels = (0..<count).flatMap { [UInt8](repeating: UInt8($0), count: 784) }
    let images = try IDXImages(parsing: idxBytes(magic: 2051, dimensions: [UInt32(count), 28, 28], payload: pixels))
    let labels = try IDXLabels(
        parsing: idxBytes(magic: 2049, dimensions: [UInt32(count)], payload: (0..<count).map { UInt8($0 % 10) }))
    return try MNIST(images: images, labels: labels)
}

@Test func sameSeedSameIntegersDifferentSeedDifferent() throws {
    let mnist = try tinyMNIST(count: 200)
    let a = try AdderDataset(mnist, split: .train, seed: 42)
    let b = try AdderDataset(mnist, split: .train, seed: 42)
    let c = try AdderDataset(mnist, split: .train, seed: 43)
    #expect(a.addends == b.addends)
    #expect(a.addends != c.addends)
    #expect(a.addends.allSatisfy { (0...9).contains($0) })
    #expect(a.sums == zip(a.labels, a.addends).map { $0 + $1 })
    #expect(a.labels == mnist.labels.map { Int($0) })
    #expect(a.sumClassCount == 19)
}

@Test func testSplitIntegersDoNotDependOnTheTrainingSeed() throws {
    let mnist = try tinyMNIST(count: 200)
    let one = try AdderDataset(mnist, split: .test, seed: 1)
    let two = try AdderDataset(mnist, split: .test, seed: 2)
    #expect(one.addends == two.addends)
    #expect(AdderDataset.addendSeed(split: .test, seed: 1) == AdderDataset.testAddendSeed)
    #expect(AdderDataset.addendSeed(split: .train, seed: 1) != AdderDataset.addendSeed(split: .train, seed: 2))
    // Drawn from SplitMix64 in item order: a shorter split gets the same first integers.
    let short = try AdderDataset(try tinyMNIST(count: 50), split: .test, seed: 9)
    #expect(short.addends == Array(one.addends.prefix(50)))
}

@Test func integersAreUniformOverAWiderRange() throws {
    let train = try Bundled.train.get()
    let dataset = try AdderDataset(train, split: .train, addendRange: 0...99, seed: 7)
    var histogram = [Int](repeating: 0, count: 100)
    for addend in dataset.addends { histogram[addend] += 1 }
    // 600 expected per value; the binomial standard deviation is about 24, so ±150 is over 6 sigma.
    #expect(histogram.allSatisfy { abs($0 - 600) < 150 }, "\(histogram)")
    #expect(dataset.sumClassCount == 109)
    #expect(dataset.sums.max() == 108 || dataset.sums.max() == 107)
    #expect(throws: MNISTError.invalidAddendRange(found: -1...9, maximum: AdderDataset.maximumAddend)) {
        try AdderDataset(train, split: .train, addendRange: -1...9, seed: 7)
    }
}

@Test func epochOrderIsAPureFunctionOfSeedAndEpoch() {
    let order = AdderDataset.order(count: 1000, epoch: 3, seed: 7)
    #expect(order == AdderDataset.order(count: 1000, epoch: 3, seed: 7))
    #expect(order.sorted() == Array(0..<1000))
    #expect(order != Array(0..<1000))
    #expect(order != AdderDataset.order(count: 1000, epoch: 4, seed: 7))
    #expect(order != AdderDataset.order(count: 1000, epoch: 3, seed: 8))
}

@Test func batchesHoldTheItemsOfTheEpochOrder() throws {
    let test = try Bundled.test.get()
    let dataset = try AdderDataset(test, split: .test, seed: 0)
    let batches = try dataset.batches(batchSize: 64, epoch: 2, shuffle: true, seed: 5)
    #expect(batches.count == 157)
    #expect(batches.itemCount == 10_000)
    #expect(batches.order == AdderDataset.order(count: 10_000, epoch: 2, seed: 5))
    var seen: [Int] = []
    var sizes: [Int] = []
    for batch in batches {
        sizes.append(batch.count)
        seen += batch.indices
        #expect(batch.images.shape == [batch.count, 1, 28, 28])
        #expect(batch.addends == batch.indices.map { dataset.addends[$0] })
        #expect(batch.labels == batch.indices.map { Int(test.labels[$0]) })
        #expect(batch.sums == batch.indices.map { Int(test.labels[$0]) + dataset.addends[$0] })
    }
    #expect(seen == batches.order)
    #expect(sizes == [Int](repeating: 64, count: 156) + [16])

    // Every pixel of one batch, element by element, against the normalization of the source bytes.
    var iterator = batches.makeIterator()
    let next = iterator.next()
    let first = try #require(next)
    let expected = first.indices.flatMap { test.image(at: $0).map { (Float($0) / 255 - 0.1307) / 0.3081 } }
    let report = compareClose(first.images.scalars, expected, atol: 0, rtol: 0, name: "batch images")
    #expect(report.passed, "\(report)")
}

@Test func dropLastSkipsTheShortBatchAndUnshuffledKeepsItemOrder() throws {
    let dataset = try AdderDataset(try tinyMNIST(count: 10), split: .train, seed: 0)
    let kept = try dataset.batches(batchSize: 4, shuffle: false)
    #expect(kept.map(\.count) == [4, 4, 2])
    #expect(kept.flatMap(\.indices) == Array(0..<10))
    let dropped = try dataset.batches(batchSize: 4, shuffle: false, dropLast: true)
    #expect(dropped.count == 2 && dropped.itemCount == 8)
    #expect(dropped.map(\.count) == [4, 4])
    #expect(throws: MNISTError.invalidBatchSize(found: 0)) { try dataset.batches(batchSize: 0) }
    // Image i is filled with byte i, so each batch item's pixels name its index.
    // Held together, the batches keep their own pixels although assembly reuses its buffers.
    let all = Array(kept)
    #expect(all[0].images.scalars[0] == MNISTNormalization.normalize(0))
    #expect(all[1].images.scalars[784 * 3] == MNISTNormalization.normalize(7))
    #expect(all[2].images.scalars[0] == MNISTNormalization.normalize(8))
    #expect(all[2].images.scalars[784] == MNISTNormalization.normalize(9))
}

@Test func prefetchingYieldsTheSameBatches() throws {
    let dataset = try AdderDataset(try Bundled.test.get().prefix(1000), split: .test, seed: 0)
    let plain = try dataset.batches(batchSize: 96, epoch: 1, seed: 3)
    let ahead = try dataset.batches(batchSize: 96, epoch: 1, seed: 3, prefetch: true)
    let plainBatches = Array(plain)
    let aheadBatches = Array(ahead)
    #expect(plainBatches.count == 11)
    #expect(plainBatches == aheadBatches)
    // Stopping early and dropping the iterator is safe, and a prefetch iterator ends with nil for good.
    var partial = ahead.makeIterator()
    #expect(partial.next() == plainBatches[0])
    let generic = PrefetchIterator([1, 2, 3].makeIterator())
    #expect([generic.next(), generic.next(), generic.next(), generic.next(), generic.next()] == [1, 2, 3, nil, nil])
}

@Test func accuracyDividesByItemsSeen() throws {
    // 10 items in batches of 4 (4, 4, 2) with the first 8 right: 8 / 10, not 8 / 12.
    let dataset = try AdderDataset(try tinyMNIST(count: 10), split: .test, seed: 0)
    var meter = AccuracyMeter()
    for batch in try dataset.batches(batchSize: 4, shuffle: false) {
        let predictions = zip(batch.indices, batch.labels).map { index, label in index < 8 ? label : (label + 1) % 10 }
        meter.update(predictions: predictions, targets: batch.labels)
    }
    #expect(meter.seen == 10)
    #expect(meter.correct == 8)
    #expect(meter.accuracy == 0.8)
    #expect(AccuracyMeter().accuracy == 0)

    var fromLogits = AccuracyMeter()
    let logits = Tensor(shape: [3, 4], scalars: [0, 5, 1, 5, 2, 1, 0, -1, 0, 0, 0, 9])
    #expect(AccuracyMeter.argmax(logits) == [1, 0, 3])
    fromLogits.update(logits: logits, targets: [1, 2, 3])
    #expect(fromLogits.correct == 2 && fromLogits.seen == 3)
}

/// `((torch.arange(256, dtype=torch.uint8).float() / 255) - 0.1307) / 0.3081` in float32, as bit patterns
/// (PyTorch 2.13 CPU; the same as ToTensor + Normalize((0.1307,), (0.3081,))).
private let torchNormalizedBits: [UInt32] = [
    0xBED93271, 0xBED2AE20, 0xBECC29D0, 0xBEC5A57F, 0xBEBF212E, 0xBEB89CDE, 0xBEB2188D, 0xBEAB943D,
    0xBEA50FEC, 0xBE9E8B9B, 0xBE98074B, 0xBE9182FA, 0xBE8AFEA9, 0xBE847A59, 0xBE7BEC10, 0xBE6EE36F,
    0xBE61DACC, 0xBE54D22B, 0xBE47C98A, 0xBE3AC0E8, 0xBE2DB847, 0xBE20AFA6, 0xBE13A705, 0xBE069E63,
    0xBDF32B84, 0xBDD91A42, 0xBDBF08FF, 0xBDA4F7BD, 0xBD8AE67A, 0xBD61AA6F, 0xBD2D87EA, 0xBCF2CACB,
    0xBC8A85B4, 0xBB8902A7, 0x3C0C08C1, 0x3CAE496A, 0x3D0B473A, 0x3D3F69BF, 0x3D738C44, 0x3D93D765,
    0x3DADE8A7, 0x3DC7F9EA, 0x3DE20B2C, 0x3DFC1C6F, 0x3E0B16D9, 0x3E181F7A, 0x3E25281B, 0x3E3230BC,
    0x3E3F395E, 0x3E4C41FF, 0x3E594AA0, 0x3E665341, 0x3E735BE3, 0x3E803242, 0x3E86B693, 0x3E8D3AE3,
    0x3E93BF34, 0x3E9A4384, 0x3EA0C7D5, 0x3EA74C26, 0x3EADD076, 0x3EB454C7, 0x3EBAD918, 0x3EC15D68,
    0x3EC7E1BA, 0x3ECE660B, 0x3ED4EA5C, 0x3EDB6EAC, 0x3EE1F2FD, 0x3EE8774E, 0x3EEEFB9E, 0x3EF57FEF,
    0x3EFC0440, 0x3F014448, 0x3F048670, 0x3F07C899, 0x3F0B0AC1, 0x3F0E4CE9, 0x3F118F12, 0x3F14D13A,
    0x3F181362, 0x3F1B558B, 0x3F1E97B3, 0x3F21D9DB, 0x3F251C04, 0x3F285E2C, 0x3F2BA054, 0x3F2EE27C,
    0x3F3224A5, 0x3F3566CD, 0x3F38A8F5, 0x3F3BEB1E, 0x3F3F2D46, 0x3F426F6E, 0x3F45B197, 0x3F48F3BF,
    0x3F4C35E7, 0x3F4F7810, 0x3F52BA37, 0x3F55FC5F, 0x3F593E88, 0x3F5C80B0, 0x3F5FC2D8, 0x3F630501,
    0x3F664729, 0x3F698951, 0x3F6CCB7A, 0x3F700DA2, 0x3F734FCA, 0x3F7691F3, 0x3F79D41B, 0x3F7D1643,
    0x3F802C36, 0x3F81CD4A, 0x3F836E5E, 0x3F850F72, 0x3F86B086, 0x3F88519B, 0x3F89F2AF, 0x3F8B93C3,
    0x3F8D34D7, 0x3F8ED5EB, 0x3F9076FF, 0x3F921813, 0x3F93B928, 0x3F955A3C, 0x3F96FB50, 0x3F989C64,
    0x3F9A3D7A, 0x3F9BDE8E, 0x3F9D7FA2, 0x3F9F20B6, 0x3FA0C1CB, 0x3FA262DF, 0x3FA403F3, 0x3FA5A507,
    0x3FA7461B, 0x3FA8E72F, 0x3FAA8843, 0x3FAC2958, 0x3FADCA6C, 0x3FAF6B80, 0x3FB10C94, 0x3FB2ADA8,
    0x3FB44EBC, 0x3FB5EFD1, 0x3FB790E5, 0x3FB931F9, 0x3FBAD30D, 0x3FBC7421, 0x3FBE1535, 0x3FBFB64A,
    0x3FC1575E, 0x3FC2F872, 0x3FC49986, 0x3FC63A9A, 0x3FC7DBAE, 0x3FC97CC2, 0x3FCB1DD7, 0x3FCCBEEB,
    0x3FCE5FFF, 0x3FD00113, 0x3FD1A227, 0x3FD3433B, 0x3FD4E450, 0x3FD68564, 0x3FD82678, 0x3FD9C78C,
    0x3FDB68A0, 0x3FDD09B4, 0x3FDEAAC8, 0x3FE04BDD, 0x3FE1ECF1, 0x3FE38E05, 0x3FE52F19, 0x3FE6D02D,
    0x3FE87141, 0x3FEA1256, 0x3FEBB36A, 0x3FED547E, 0x3FEEF592, 0x3FF096A6, 0x3FF237BA, 0x3FF3D8CF,
    0x3FF579E3, 0x3FF71AF7, 0x3FF8BC0B, 0x3FFA5D1F, 0x3FFBFE33, 0x3FFD9F47, 0x3FFF405C, 0x400070B8,
    0x40014142, 0x400211CC, 0x4002E256, 0x4003B2E0, 0x4004836A, 0x400553F4, 0x4006247E, 0x4006F509,
    0x4007C593, 0x4008961D, 0x400966A7, 0x400A3731, 0x400B07BB, 0x400BD845, 0x400CA8CF, 0x400D7959,
    0x400E49E3, 0x400F1A6D, 0x400FEAF7, 0x4010BB81, 0x40118C0C, 0x40125C96, 0x40132D20, 0x4013FDAA,
    0x4014CE34, 0x40159EBE, 0x40166F48, 0x40173FD2, 0x4018105C, 0x4018E0E6, 0x4019B170, 0x401A81FA,
    0x401B5284, 0x401C230F, 0x401CF399, 0x401DC423, 0x401E94AD, 0x401F6537, 0x402035C1, 0x4021064B,
    0x4021D6D5, 0x4022A75F, 0x402377E9, 0x40244873, 0x402518FD, 0x4025E988, 0x4026BA12, 0x40278A9C,
    0x40285B26, 0x40292BB0, 0x4029FC3A, 0x402ACCC4, 0x402B9D4E, 0x402C6DD8, 0x402D3E62, 0x402E0EEC,
    0x402EDF76, 0x402FB000, 0x4030808B, 0x40315115, 0x4032219F, 0x4032F229, 0x4033C2B3, 0x4034933D
]

@Test func normalizationMatchesPyTorch() {
    let expected = torchNormalizedBits.map { Float(bitPattern: $0) }
    let report = compareClose(MNISTNormalization.table, expected, atol: 0, rtol: 0, name: "normalization table")
    #expect(report.passed, "\(report)")
    #expect(abs(MNISTNormalization.normalize(0) - -0.42421) < 1e-5)
    #expect(abs(MNISTNormalization.normalize(255) - 2.82149) < 1e-5)
    for pixel in 0...255 {
        let value = UInt8(pixel)
        #expect(MNISTNormalization.pixel(fromNormalized: MNISTNormalization.normalize(value)) == value)
    }
    let tensor = MNISTNormalization.images([UInt8](repeating: 255, count: 784 * 2))
    #expect(tensor.shape == [2, 1, 28, 28])
    #expect(tensor.scalars.allSatisfy { $0 == expected[255] })
}
