// Test digits dressed up the way users send them (black on white, black strokes on a transparent
// canvas, larger and off centre) predict the same digit as the IDX path, for the images the IDX path
// gets right. The network is the PyTorch-trained fixture (98.5% on the test set).
import AdderNet
import DigitImage
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

enum Variant: String, CaseIterable, Sendable {
    case inverted, transparent, largerOffCentre

    /// The 28×28 MNIST pixels (255 = ink) drawn as a user's image.
    func image(from pixels: [UInt8]) throws -> RGBAImage {
        switch self {
        case .inverted:
            return try RGBAImage(width: 28, height: 28, gray: pixels.map { 255 - $0 })
        case .transparent:
            // Black strokes whose opacity is the ink, as a canvas export.
            return try RGBAImage(width: 28, height: 28, pixels: pixels.flatMap { [0, 0, 0, $0] })
        case .largerOffCentre:
            // Scaled ×4 (nearest neighbour) onto a 200×160 white page, 30 px from the left and 12 from the top.
            let (w, h, scale, left, top) = (200, 160, 4, 30, 12)
            var gray = [UInt8](repeating: 255, count: w * h)
            for y in 0..<(28 * scale) {
                for x in 0..<(28 * scale) {
                    gray[(top + y) * w + left + x] = 255 - pixels[(y / scale) * 28 + x / scale]
                }
            }
            return try RGBAImage(width: w, height: h, gray: gray)
        }
    }
}

@Test("user variants of test digits predict the IDX path's digit", arguments: Variant.allCases)
func variantsPredictTheSameDigit(_ variant: Variant) throws {
    let (network, _) = try Checkpoint.load(contentsOf: Fixtures.directory.appendingPathComponent("pytorch-trained.safetensors"))
    let test = try MNIST.load(.test, limit: 300)
    let engine = AdderEngine()
    let originals = (0..<test.count).map { Array(test.image(at: $0)) }
    let reference = engine.forward(
        network, images: MNISTNormalization.images(originals.joined()), addends: [Int](repeating: 0, count: test.count))
    var prepared: [UInt8] = []
    for pixels in originals {
        let digit = DigitPreprocessor.mnistPixels(from: try variant.image(from: pixels))
        #expect(!digit.isBlank)
        prepared += digit.pixels
    }
    let out = engine.forward(network, images: MNISTNormalization.images(prepared), addends: [Int](repeating: 0, count: test.count))
    var right = 0, differ: [Int] = []
    for i in 0..<test.count where reference.digits[i] == Int(test.labels[i]) {
        right += 1
        if out.digits[i] != reference.digits[i] { differ.append(i) }
    }
    #expect(right > 280, "the fixture gets \(right) of 300 right")
    #expect(differ.isEmpty, "\(variant): \(differ.count) of \(right) correctly classified digits change: \(differ)")
}
