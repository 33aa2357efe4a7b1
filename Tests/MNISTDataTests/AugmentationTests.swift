// `train --augment`'s random affine transforms: the warp against PyTorch's grid_sample
// (scripts/pytorch/affine_reference.py), the identity, determinism per (seed, epoch, index), and bounds.
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

private let affineReference = Fixtures.directory.appendingPathComponent("affine-reference.safetensors")

/// The warp of `pixels` (28 × 28 bytes) as Float values on the 0...255 scale.
private func warped(_ parameters: AffineParameters, _ pixels: ArraySlice<UInt8>) -> [Float] {
    let bytes = Array(pixels)
    var output = [Float](repeating: .nan, count: 784)
    bytes.withUnsafeBufferPointer { input in
        output.withUnsafeMutableBufferPointer { parameters.warp(input, rows: 28, columns: 28, into: $0) }
    }
    return output
}

@Test("the warp matches PyTorch's affine_grid + grid_sample and torchvision's inverse matrix, case by case")
func warpMatchesPyTorch() throws {
    let file = try SafetensorsFile(contentsOf: affineReference)
    let indices = try file.int64("index")
    let params = try file.float32("params", shape: [indices.count, 6]).scalars
    let matrices = try file.float32("matrix", shape: [indices.count, 6]).scalars
    let outputs = try file.float32("output", shape: [indices.count, 28, 28]).scalars
    let test = try MNIST.load(.test, from: Fixtures.mnistDirectory, limit: 10)
    #expect(indices.count == 6)
    for (k, index) in indices.enumerated() {
        let p = Array(params[6 * k..<6 * k + 6])
        let parameters = AffineParameters(
            rotation: p[0], translateX: p[1], translateY: p[2], scale: p[3], shearX: p[4], shearY: p[5])
        let matrix = parameters.inverseMatrix
        for i in 0..<6 {
            #expect(abs(Float(matrix[i]) - matrices[6 * k + i]) <= 1e-6, "case \(k) matrix[\(i)]")
        }
        let mine = warped(parameters, test.pixels[Int(index) * 784..<Int(index + 1) * 784])
        let theirs = Array(outputs[784 * k..<784 * (k + 1)])
        let largest = zip(mine, theirs).map { abs($0 - $1) }.max() ?? .infinity
        // Float32 roundings of the sample coordinates, times pixel steps of up to 255: a few thousandths.
        #expect(largest <= 5e-3, "case \(k): largest difference \(largest) from PyTorch")
        #expect(theirs.reduce(0, +) > 1000, "case \(k) keeps ink in the frame")
    }
}

@Test("the identity transform leaves an image unchanged, bit for bit, also through the batches")
func identityLeavesImagesUnchanged() throws {
    let test = try MNIST.load(.test, from: Fixtures.mnistDirectory, limit: 50)
    let image = test.pixels[784 * 7..<784 * 8]
    #expect(warped(.identity, image) == image.map(Float.init))
    // Ranges of zero width draw the identity for every image: the batches equal unaugmented ones.
    let none = AffineAugmentation(rotation: 0, shift: 0, minimumScale: 1, maximumScale: 1, shear: 0)
    #expect(none.parameters(seed: 3, epoch: 1, index: 9) == .identity)
    let dataset = try AdderDataset(test, split: .test, seed: 0)
    let plain = Array(try dataset.batches(batchSize: 16, epoch: 1, seed: 3))
    let augmented = Array(try dataset.batches(batchSize: 16, epoch: 1, seed: 3, augmentation: none))
    #expect(plain == augmented)
}

@Test("each image's transform depends on seed, epoch and index only: not on batch size, prefetch or order")
func augmentationIsDeterministic() throws {
    let test = try MNIST.load(.test, from: Fixtures.mnistDirectory, limit: 60)
    let dataset = try AdderDataset(test, split: .test, seed: 0)
    let augmentation = AffineAugmentation()
    /// Every image of an epoch's batches, by dataset index.
    func images(batchSize: Int, epoch: Int, seed: UInt64, prefetch: Bool = false) throws -> [Int: [Float]] {
        var byIndex: [Int: [Float]] = [:]
        for batch in try dataset.batches(
            batchSize: batchSize, epoch: epoch, seed: seed, prefetch: prefetch, augmentation: augmentation)
        {
            for (slot, index) in batch.indices.enumerated() {
                byIndex[index] = Array(batch.images.scalars[slot * 784..<(slot + 1) * 784])
            }
        }
        return byIndex
    }
    let a = try images(batchSize: 7, epoch: 2, seed: 5)
    let b = try images(batchSize: 32, epoch: 2, seed: 5, prefetch: true)
    #expect(a.count == 60)
    #expect(a == b)
    let nextEpoch = try images(batchSize: 7, epoch: 3, seed: 5)
    let otherSeed = try images(batchSize: 7, epoch: 2, seed: 6)
    #expect((0..<60).allSatisfy { a[$0] != nextEpoch[$0] }, "another epoch must move every image differently")
    #expect((0..<60).allSatisfy { a[$0] != otherSeed[$0] }, "another seed must move every image differently")
    // The augmented image is the warp of its own parameters, normalized.
    let parameters = augmentation.parameters(seed: 5, epoch: 2, index: 11)
    let expected = warped(parameters, test.pixels[784 * 11..<784 * 12]).map { MNISTNormalization.normalize(value: $0) }
    #expect(a[11] == expected)
    #expect(parameters == augmentation.parameters(seed: 5, epoch: 2, index: 11))
    #expect(parameters != augmentation.parameters(seed: 5, epoch: 2, index: 12))
}

@Test("drawn parameters stay within their ranges and fill them")
func parametersStayInRange() {
    let augmentation = AffineAugmentation(rotation: 15, shift: 3, minimumScale: 0.85, maximumScale: 1.15, shear: 12)
    var lowest = AffineParameters(rotation: .infinity, translateX: .infinity, translateY: .infinity,
                                  scale: .infinity, shearX: .infinity)
    var highest = AffineParameters(rotation: -.infinity, translateX: -.infinity, translateY: -.infinity,
                                   scale: -.infinity, shearX: -.infinity)
    for epoch in 0..<4 {
        for index in 0..<2500 {
            let p = augmentation.parameters(seed: 17, epoch: epoch, index: index)
            #expect((-15...15).contains(p.rotation) && (-3...3).contains(p.translateX) && (-3...3).contains(p.translateY))
            #expect((0.85...1.15).contains(p.scale) && (-12...12).contains(p.shearX) && p.shearY == 0)
            lowest = AffineParameters(
                rotation: min(lowest.rotation, p.rotation), translateX: min(lowest.translateX, p.translateX),
                translateY: min(lowest.translateY, p.translateY), scale: min(lowest.scale, p.scale),
                shearX: min(lowest.shearX, p.shearX))
            highest = AffineParameters(
                rotation: max(highest.rotation, p.rotation), translateX: max(highest.translateX, p.translateX),
                translateY: max(highest.translateY, p.translateY), scale: max(highest.scale, p.scale),
                shearX: max(highest.shearX, p.shearX))
        }
    }
    // 10,000 uniform draws reach within 0.1% of each end with probability 1 − e^(−10) per end.
    #expect(lowest.rotation < -14.97 && highest.rotation > 14.97)
    #expect(lowest.translateX < -2.99 && highest.translateX > 2.99 && lowest.translateY < -2.99 && highest.translateY > 2.99)
    #expect(lowest.scale < 0.8503 && highest.scale > 1.1497)
    #expect(lowest.shearX < -11.97 && highest.shearX > 11.97)
}

@Test("ranges that make no sense are named", arguments: [
    (AffineAugmentation(rotation: -1, shift: 2, minimumScale: 0.9, maximumScale: 1.1, shear: 10), "augment-rotation"),
    (AffineAugmentation(rotation: 10, shift: .nan, minimumScale: 0.9, maximumScale: 1.1, shear: 10), "augment-shift"),
    (AffineAugmentation(rotation: 10, shift: 2, minimumScale: 1.2, maximumScale: 1.1, shear: 10), "augment-scale"),
    (AffineAugmentation(rotation: 10, shift: 2, minimumScale: 0, maximumScale: 1.1, shear: 10), "augment-scale"),
    (AffineAugmentation(rotation: 10, shift: 2, minimumScale: 0.9, maximumScale: 1.1, shear: 60), "augment-shear"),
])
func badRangesAreNamed(augmentation: AffineAugmentation, name: String) {
    #expect(augmentation.validationProblem?.name == name)
    #expect(AffineAugmentation().validationProblem == nil)
}
