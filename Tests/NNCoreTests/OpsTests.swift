// Each op against its naive loop version, against finite differences, and on the edge cases
// PyTorch defines (pooling ties and remainders, extreme logits, no broadcasting in MSE).
import NNCore
import NNTestSupport
import Foundation
import Testing

private func expectClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let report = compareClose(actual, expected, atol: atol, rtol: rtol, name: name)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}

struct ConvCase: CustomTestStringConvertible, Sendable {
    var n, c, h, w, o, k, stride, padding: Int
    var testDescription: String { "N\(n) C\(c) \(h)×\(w) O\(o) k\(k) s\(stride) p\(padding)" }
}

let convCases = [
    ConvCase(n: 2, c: 3, h: 8, w: 7, o: 4, k: 3, stride: 1, padding: 0),
    ConvCase(n: 2, c: 2, h: 14, w: 14, o: 3, k: 3, stride: 2, padding: 1),  // 14×14 → 7×7
    ConvCase(n: 3, c: 4, h: 5, w: 5, o: 2, k: 1, stride: 1, padding: 0),    // 1×1 kernel
    ConvCase(n: 37, c: 3, h: 5, w: 5, o: 4, k: 3, stride: 1, padding: 0),   // many images per GEMM
    ConvCase(n: 5, c: 2, h: 9, w: 6, o: 3, k: 5, stride: 2, padding: 2),
    ConvCase(n: 6, c: 4, h: 5, w: 5, o: 3, k: 5, stride: 1, padding: 0),   // kernel = input: a linear layer
    ConvCase(n: 3, c: 8, h: 9, w: 9, o: 5, k: 3, stride: 1, padding: 0),   // Winograd, odd 7×7 output
    ConvCase(n: 2, c: 9, h: 8, w: 7, o: 4, k: 3, stride: 1, padding: 1),   // Winograd with padding, 8×7
    ConvCase(n: 40, c: 16, h: 12, w: 12, o: 8, k: 3, stride: 1, padding: 0), // Winograd, several chunks
    ConvCase(n: 2, c: 8, h: 5, w: 6, o: 3, k: 3, stride: 1, padding: 2),   // Winograd, padding 2: 7×8
    ConvCase(n: 3, c: 6, h: 10, w: 9, o: 7, k: 3, stride: 1, padding: 1),  // Winograd, channels not a multiple of 4
]

/// Every (case, algorithm) pair the algorithm supports.
let convAlgorithmCases: [(ConvCase, Conv2dAlgorithm)] = convCases.flatMap { t in
    Conv2dAlgorithm.allCases.filter { $0.supports(t.geometry) }.map { (t, $0) }
}

extension ConvCase {
    var geometry: Conv2dGeometry {
        Conv2dGeometry(
            inChannels: c, outChannels: o, kernelHeight: k, kernelWidth: k,
            stride: stride, padding: padding, inputHeight: h, inputWidth: w)
    }
}

@Test("conv2d forward and backward equal the naive loops", arguments: convAlgorithmCases)
func conv2dMatchesNaive(_ t: ConvCase, _ algorithm: Conv2dAlgorithm) {
    let x = randomTensor([t.n, t.c, t.h, t.w], seed: 1)
    let weight = randomTensor([t.o, t.c, t.k, t.k], seed: 2)
    let bias = randomTensor([t.o], seed: 3)
    let y = conv2dForward(
        input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding, algorithm: algorithm)
    let yRef = naiveConv2d(input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding)
    expectClose(y, yRef, atol: 1e-5, rtol: 1e-5, "output")

    let gy = randomTensor(y.shape, seed: 4)
    let fast = conv2dBackward(
        input: x, weight: weight, gradOutput: gy, stride: t.stride, padding: t.padding, algorithm: algorithm)
    let ref = naiveConv2dBackward(input: x, weight: weight, gradOutput: gy, stride: t.stride, padding: t.padding)
    expectClose(fast.gradInput ?? Tensor(shape: [0]), ref.gradInput, atol: 1e-5, rtol: 1e-5, "gradInput")
    expectClose(fast.gradWeight, ref.gradWeight, atol: 1e-4, rtol: 1e-5, "gradWeight")
    expectClose(fast.gradBias, ref.gradBias, atol: 1e-4, rtol: 1e-5, "gradBias")
}

@Test("conv2d gradients equal finite differences", arguments: [
    (convCases[1], Conv2dAlgorithm.im2col), (convCases[2], .im2col), (convCases[5], .im2col),
    (convCases[6], .winograd), (convCases[7], .winograd),
])
func conv2dFiniteDifferences(_ t: ConvCase, _ algorithm: Conv2dAlgorithm) {
    let x = randomTensor([1, t.c, t.h, t.w], seed: 5)
    let weight = randomTensor([t.o, t.c, t.k, t.k], seed: 6)
    let bias = randomTensor([t.o], seed: 7)
    func forward(_ x: Tensor, _ weight: Tensor, _ bias: Tensor) -> Tensor {
        conv2dForward(input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding, algorithm: algorithm)
    }
    let r = randomTensor(forward(x, weight, bias).shape, seed: 8)
    let grads = conv2dBackward(
        input: x, weight: weight, gradOutput: r, stride: t.stride, padding: t.padding, algorithm: algorithm)
    let fx = numericalGradient(at: x) { dot(forward($0, weight, bias), r) }
    let fw = numericalGradient(at: weight) { dot(forward(x, $0, bias), r) }
    let fb = numericalGradient(at: bias) { dot(forward(x, weight, $0), r) }
    expectClose(grads.gradInput ?? Tensor(shape: [0]), fx, atol: 2e-3, rtol: 1e-2, "gradInput vs FD")
    expectClose(grads.gradWeight, fw, atol: 2e-3, rtol: 1e-2, "gradWeight vs FD")
    expectClose(grads.gradBias, fb, atol: 2e-3, rtol: 1e-2, "gradBias vs FD")
}

@Test("conv2d backward can skip the input gradient")
func conv2dWithoutGradInput() {
    let x = randomTensor([2, 1, 6, 6], seed: 9)
    let weight = randomTensor([3, 1, 3, 3], seed: 10)
    let gy = randomTensor([2, 3, 4, 4], seed: 11)
    let with = conv2dBackward(input: x, weight: weight, gradOutput: gy)
    let without = conv2dBackward(input: x, weight: weight, gradOutput: gy, needsGradInput: false)
    #expect(without.gradInput == nil)
    #expect(with.gradInput != nil)
    #expect(without.gradWeight == with.gradWeight)
    #expect(without.gradBias == with.gradBias)
}

@Test("im2col and col2im are adjoint: ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩", arguments: convCases)
func im2colAdjoint(_ t: ConvCase) {
    let g = t.geometry
    let x = randomTensor([t.c, t.h, t.w], seed: 12)
    let y = randomTensor([g.columnRows, g.outputPlane], seed: 13)
    var col = Tensor(shape: y.shape)
    var back = Tensor(shape: x.shape)
    x.scalars.withUnsafeBufferPointer { xp in
        col.scalars.withUnsafeMutableBufferPointer { cp in
            im2col(xp.baseAddress!, geometry: g, into: cp.baseAddress!, ldCol: g.outputPlane)
        }
    }
    y.scalars.withUnsafeBufferPointer { yp in
        back.scalars.withUnsafeMutableBufferPointer { bp in
            col2im(yp.baseAddress!, ldCol: g.outputPlane, geometry: g, into: bp.baseAddress!)
        }
    }
    let lhs = dot(col, y), rhs = dot(x, back)
    #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "⟨im2col(x), y⟩ = \(lhs), ⟨x, col2im(y)⟩ = \(rhs)")
}

@Test("max-pool gradient goes to the first maximum in row-major order")
func maxPoolTies() {
    let x = Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 2, 2])
    let (y, indices) = maxPool2dForward(input: x, kernelSize: 2, stride: 2)
    #expect(y.scalars == [2])
    let gx = maxPool2dBackward(gradOutput: Tensor(shape: [1, 1, 1, 1], scalars: [1]), indices: indices, inputShape: x.shape)
    #expect(gx.scalars == [0, 1, 0, 0])
}

@Test("max-pool drops the remainder: 7×7 pooled 2×2 is 3×3, last row and column get no gradient")
func maxPoolRemainder() {
    let x = randomTensor([2, 3, 7, 7], seed: 14)
    let (y, indices) = maxPool2dForward(input: x, kernelSize: 2, stride: 2)
    #expect(y.shape == [2, 3, 3, 3])
    let gy = randomTensor(y.shape, seed: 15, lower: 0.5, upper: 1)
    let gx = maxPool2dBackward(gradOutput: gy, indices: indices, inputShape: x.shape)
    let ref = naiveMaxPool2d(input: x, kernelSize: 2, stride: 2, gradOutput: gy)
    #expect(y == ref.output)
    #expect(gx == ref.gradInput)
    for plane in 0..<6 {
        for i in 0..<7 {
            #expect(gx.scalars[plane * 49 + 6 * 7 + i] == 0, "last row, plane \(plane)")
            #expect(gx.scalars[plane * 49 + i * 7 + 6] == 0, "last column, plane \(plane)")
        }
    }
    // Every upstream gradient lands somewhere: the gradient's total is preserved.
    #expect(abs(gx.scalars.reduce(0, +) - gy.scalars.reduce(0, +)) < 1e-4)
}

@Test("max-pool gradient equals finite differences on well-separated values")
func maxPoolFiniteDifferences() {
    // A permutation scaled by 0.1 keeps every pair of values 0.1 apart, so eps = 1e-2 never flips a maximum.
    var rng = SplitMix64(seed: 16)
    let values = (0..<(2 * 6 * 6)).map { Float($0) * 0.1 }.shuffled(using: &rng)
    let x = Tensor(shape: [1, 2, 6, 6], scalars: values)
    let (y, indices) = maxPool2dForward(input: x, kernelSize: 2, stride: 2)
    let r = randomTensor(y.shape, seed: 17)
    let gx = maxPool2dBackward(gradOutput: r, indices: indices, inputShape: x.shape)
    let fd = numericalGradient(at: x) { dot(maxPool2dForward(input: $0, kernelSize: 2, stride: 2).output, r) }
    expectClose(gx, fd, atol: 2e-3, rtol: 1e-2, "max-pool gradInput vs FD")
}

@Test("ReLU: forward, and gradient 0 at and below zero")
func reluValues() {
    let x = Tensor(shape: [5], scalars: [-2, -0.5, 0, 0.5, 3])
    let y = reluForward(x)
    #expect(y.scalars == [0, 0, 0, 0.5, 3])
    let g = reluBackward(gradOutput: Tensor(shape: [5], repeating: 1), output: y)
    #expect(g.scalars == [0, 0, 0, 1, 1])
    let nan = reluForward(Tensor(shape: [1], scalars: [.nan]))
    #expect(nan.scalars[0].isNaN, "torch.relu keeps NaN")
}

@Test("ReLU gradient equals finite differences away from zero")
func reluFiniteDifferences() {
    let x = Tensor(shape: [6], scalars: [-1.3, -0.4, 0.2, 0.7, 1.1, -2])
    let r = randomTensor([6], seed: 18)
    let g = reluBackward(gradOutput: r, output: reluForward(x))
    let fd = numericalGradient(at: x) { dot(reluForward($0), r) }
    expectClose(g, fd, atol: 1e-3, rtol: 1e-3, "relu vs FD")
}

@Test("linear equals the naive loop and finite differences")
func linearChecks() {
    let x = randomTensor([4, 3], seed: 19)
    let weight = randomTensor([5, 3], seed: 20)
    let bias = randomTensor([5], seed: 21)
    let y = linearForward(input: x, weight: weight, bias: bias)
    expectClose(y, naiveLinear(input: x, weight: weight, bias: bias), atol: 1e-6, rtol: 1e-6, "linear")
    let r = randomTensor(y.shape, seed: 22)
    let g = linearBackward(input: x, weight: weight, gradOutput: r)
    let fx = numericalGradient(at: x) { dot(linearForward(input: $0, weight: weight, bias: bias), r) }
    let fw = numericalGradient(at: weight) { dot(linearForward(input: x, weight: $0, bias: bias), r) }
    let fb = numericalGradient(at: bias) { dot(linearForward(input: x, weight: weight, bias: $0), r) }
    expectClose(g.gradInput, fx, atol: 1e-3, rtol: 1e-2, "gradInput vs FD")
    expectClose(g.gradWeight, fw, atol: 1e-3, rtol: 1e-2, "gradWeight vs FD")
    expectClose(g.gradBias, fb, atol: 1e-3, rtol: 1e-2, "gradBias vs FD")
}

@Test("argmax takes the first index on ties")
func argmaxTies() {
    let x = Tensor(shape: [3, 4], scalars: [1, 3, 3, 0, -1, -1, -1, -1, 0, 0, 0, 5])
    #expect(argmax(x) == [1, 0, 3])
}

@Test("cross-entropy is stable on huge logits")
func crossEntropyExtremes() throws {
    let a = try crossEntropy(logits: Tensor(shape: [1, 2], scalars: [1e8, 1e8]), targets: [1])
    #expect(abs(a.loss - 0.693147) < 1e-6, "got \(a.loss)")
    let b = try crossEntropy(logits: Tensor(shape: [1, 3], scalars: [-431, 279, 427]), targets: [0])
    #expect(abs(b.loss - 858) < 1e-3, "got \(b.loss)")
    expectClose(b.gradLogits, Tensor(shape: [1, 3], scalars: [-1, 0, 1]), atol: 1e-6, rtol: 0, "gradient")
    #expect(a.gradLogits.scalars.allSatisfy(\.isFinite) && b.gradLogits.scalars.allSatisfy(\.isFinite))
}

@Test("cross-entropy gradient equals finite differences; mean over the batch")
func crossEntropyFiniteDifferences() throws {
    let z = randomTensor([3, 5], seed: 23, lower: -3, upper: 3)
    let targets = [4, 0, 2]
    let (loss, grad) = try crossEntropy(logits: z, targets: targets)
    // Mean of −log softmax at the targets, computed directly in Double.
    var expected = 0.0
    for r in 0..<3 {
        let row = (0..<5).map { Double(z.scalars[r * 5 + $0]) }
        expected += -row[targets[r]] + Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
    }
    #expect(abs(Double(loss) - expected / 3) < 1e-5)
    let fd = numericalGradient(at: z, eps: 1e-2) { Double((try? crossEntropy(logits: $0, targets: targets))?.loss ?? .nan) }
    expectClose(grad, fd, atol: 1e-3, rtol: 1e-2, "crossEntropy vs FD")
}

@Test("cross-entropy rejects a target outside the classes")
func crossEntropyBadTarget() {
    #expect(throws: ShapeError.targetOutOfRange(operation: "crossEntropy", index: 1, target: 10, classes: 10)) {
        try crossEntropy(logits: Tensor(shape: [2, 10]), targets: [0, 10])
    }
}

@Test("MSE: value, gradient, and (N,1) against (N) is an error, not a broadcast")
func mseChecks() throws {
    let p = Tensor(shape: [4], scalars: [1, 2, 3, 4])
    let t = Tensor(shape: [4], scalars: [1.5, 2, 1, 4])
    let (loss, grad) = try mse(predictions: p, targets: t)
    #expect(abs(loss - (0.25 + 0 + 4 + 0) / 4) < 1e-7)
    let fd = numericalGradient(at: p) { Double((try? mse(predictions: $0, targets: t))?.loss ?? .nan) }
    expectClose(grad, fd, atol: 1e-3, rtol: 1e-2, "mse vs FD")
    #expect(throws: ShapeError.mismatch(operation: "mse", expected: [4], found: [4, 1])) {
        try mse(predictions: p.reshaped(to: [4, 1]), targets: t)
    }
}

@Test("softmax rows sum to 1, equal exp(z)/Σexp(z), and survive huge logits")
func softmaxValues() {
    let z = Tensor(shape: [2, 3], scalars: [1, 2, 3, 1e8, 1e8, -1e8])
    let p = softmax(z)
    let e = [1.0, 2.0, 3.0].map { Foundation.exp($0) }
    let total = e.reduce(0, +)
    expectClose(Tensor(shape: [3], scalars: Array(p.scalars[0..<3])),
                Tensor(shape: [3], scalars: e.map { Float($0 / total) }), atol: 1e-7, rtol: 1e-6, "row 0")
    #expect(Array(p.scalars[3..<6]) == [0.5, 0.5, 0])
}

/// A fused convolution + ReLU + pool case: 3 images of 16 channels 12×12 → 6 channels 10×10 (even),
/// pooled 5×5 (25 windows per plane: a partial group of four); biases from `biasRange` make ReLU
/// cut many windows to exact ties at 0. Returns the three ops' results one after another.
private func fusedPoolCase(seed: UInt64, biasRange: (Float, Float)) -> (
    g: Conv2dGeometry, x: Tensor, weight: Tensor, bias: Tensor, convolved: Tensor, pooled: Tensor, indices: [Int32]
) {
    let (n, c, h, o) = (3, 16, 12, 6)
    let g = Conv2dGeometry(inChannels: c, outChannels: o, kernelHeight: 3, kernelWidth: 3, inputHeight: h, inputWidth: h)
    let x = randomTensor([n, c, h, h], seed: seed)
    let weight = randomTensor([o, c, 3, 3], seed: seed + 1)
    let bias = randomTensor([o], seed: seed + 2, lower: biasRange.0, upper: biasRange.1)
    var convolved = conv2dForward(input: x, weight: weight, bias: bias, algorithm: .winograd)
    convolved.scalars = convolved.scalars.map { max($0, 0) }
    let (pooled, indices) = maxPool2dForward(input: convolved, kernelSize: 2, stride: 2)
    return (g, x, weight, bias, convolved, pooled, indices)
}

@Test("conv2d + ReLU + 2×2 max pool in one pass equals the three ops one after another, indices included")
func fusedConvPoolMatchesSeparateOps() {
    let (g, x, weight, bias, _, expected, expectedIndices) = fusedPoolCase(seed: 21, biasRange: (-2, 0))
    let n = x.shape[0]
    #expect(expectedIndices.contains { $0 % 2 == 1 }, "some maxima sit off the windows' first element")
    #expect(expected.scalars.filter { $0 == 0 }.count > 10, "some windows are all zero (ties)")

    var pooled = [Float](repeating: .nan, count: expected.count)
    var indices = [Int32](repeating: -1, count: expected.count)
    var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: n))
    x.scalars.withUnsafeBufferPointer { xp in
        weight.scalars.withUnsafeBufferPointer { wp in
            bias.scalars.withUnsafeBufferPointer { bp in
                conv2dReLUMaxPool2x2Forward(
                    input: xp.baseAddress!, batch: n, geometry: g, weight: wp.baseAddress!, bias: bp.baseAddress!,
                    pooled: &pooled, indices: &indices, workspace: &workspace)
            }
        }
    }
    #expect(pooled == expected.scalars)
    #expect(indices == expectedIndices)
}

@Test("the fused conv2d + ReLU + pool backward equals the pool's backward, ReLU's mask and conv2d's backward")
func fusedConvPoolBackwardMatchesSeparateOps() {
    let (g, x, weight, _, convolved, pooled, indices) = fusedPoolCase(seed: 41, biasRange: (-2, 0.5))
    let (n, o) = (x.shape[0], g.outChannels)
    #expect(pooled.scalars.filter { $0 == 0 }.count > 10, "some windows are cut by ReLU: their gradient is masked")
    #expect(Set(indices.map { $0 % 2 }).count == 2, "maxima in both columns of their windows")
    let gradPooled = randomTensor(pooled.shape, seed: 44)
    let mask = randomTensor(x.shape, seed: 45)  // stands for the ReLU output below this layer

    // Separately: the pool's backward, ReLU's mask, then the convolution's backward.
    var gradConvolved = maxPool2dBackward(gradOutput: gradPooled, indices: indices, inputShape: convolved.shape)
    reluBackwardInPlace(grad: &gradConvolved.scalars, output: convolved.scalars)
    var expected = conv2dBackward(input: x, weight: weight, gradOutput: gradConvolved, algorithm: .winograd)
    reluBackwardInPlace(grad: &expected.gradInput!.scalars, output: mask.scalars)

    var (gx, gw, gb) = ([Float](repeating: .nan, count: x.count), [Float](repeating: 0, count: weight.count), [Float](repeating: 0, count: o))
    var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: n))
    conv2dReLUMaxPool2x2Backward(
        input: x.scalars, batch: n, geometry: g, weight: weight.scalars, gradPooled: gradPooled.scalars,
        pooled: pooled.scalars, indices: indices, gradWeight: &gw, gradBias: &gb, gradInput: &gx,
        gradInputReLUOutput: mask.scalars, workspace: &workspace)
    #expect(gx == expected.gradInput!.scalars)
    #expect(gw == expected.gradWeight.scalars)
    // The bias gradient is summed over 25 pooled values instead of 100 outputs: rounding only.
    expectClose(Tensor(shape: [o], scalars: gb), expected.gradBias, atol: 1e-6, rtol: 1e-6, "gradBias")
    #expect(gb != [Float](repeating: 0, count: o))
}

@Test("Winograd's input gradient overwrites what its buffer held and is masked by the ReLU output below",
      arguments: [convCases[6], convCases[7], convCases[8], convCases[9]])
func winogradGradInputOverwritesAndMasks(_ t: ConvCase) {
    let g = t.geometry
    let x = randomTensor([t.n, t.c, t.h, t.w], seed: 51)
    let weight = randomTensor([t.o, t.c, 3, 3], seed: 52)
    let gy = randomTensor([t.n, t.o, g.outputHeight, g.outputWidth], seed: 53)
    let mask = randomTensor(x.shape, seed: 54)  // about half the values ≤ 0
    var expected = conv2dBackward(
        input: x, weight: weight, gradOutput: gy, padding: t.padding, algorithm: .winograd).gradInput!
    reluBackwardInPlace(grad: &expected.scalars, output: mask.scalars)
    var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: t.n))
    var (gx, gw, gb) = ([Float](repeating: .nan, count: x.count), [Float](repeating: 0, count: weight.count), [Float](repeating: 0, count: t.o))
    conv2dBackward(
        input: x.scalars, batch: t.n, geometry: g, weight: weight.scalars, gradOutput: gy.scalars,
        gradWeight: &gw, gradBias: &gb, gradInput: &gx, gradInputReLUOutput: mask.scalars,
        workspace: &workspace, algorithm: .winograd)
    #expect(gx == expected.scalars)
    #expect(gx.filter { $0 == 0 }.count == mask.scalars.filter { $0 <= 0 }.count)
}

/// The network's five Winograd layers (conv1…conv5): channels in and out, input size.
let networkWinogradGeometries = [(16, 32, 26), (32, 64, 24), (16, 32, 11), (32, 64, 9), (64, 64, 7)].map { c, o, size in
    Conv2dGeometry(inChannels: c, outChannels: o, kernelHeight: 3, kernelWidth: 3, inputHeight: size, inputWidth: size)
}

@Test("chunks: as few as the budget allows, and the smallest size that still makes that few")
func chunksAreEven() {
    // conv1 fits 2 images in 2¹⁸ floats, conv2 1, conv3 13, conv4 10, conv5 14: a piece of 16 is
    // 8 chunks of 2, 16 of 1, and 8 + 8 for the last three (not 13 + 3, 10 + 6, 14 + 2).
    #expect(networkWinogradGeometries.map { winogradChunkSize(geometry: $0, batch: 16) } == [2, 1, 8, 8, 8])
    #expect(networkWinogradGeometries.map { winogradChunkSize(geometry: $0, batch: 15) } == [2, 1, 8, 8, 8])
    #expect(winogradChunkSize(geometry: networkWinogradGeometries[4], batch: 14) == 14)
    for g in networkWinogradGeometries {
        let perImage = 16 * ((g.outputHeight + 1) / 2) * ((g.outputWidth + 1) / 2) * (g.inChannels + g.outChannels)
        for batch in 1...40 {
            let most = max(1, min(batch, (1 << 18) / perImage))
            let chunk = winogradChunkSize(geometry: g, batch: batch)
            let chunks = (batch + chunk - 1) / chunk
            #expect(chunk <= most && chunks == (batch + most - 1) / most, "\(g) batch \(batch)")
            #expect((chunk - 1) * chunks < batch, "\(g) batch \(batch): chunk \(chunk) is not the smallest")
        }
    }
    // im2col: conv5's 576×25 columns fit 9 images in 2¹⁷ floats, so 16 images are 8 + 8.
    #expect(conv2dChunkSize(geometry: networkWinogradGeometries[4], batch: 16) == 8)
    #expect(conv2dChunkSize(geometry: networkWinogradGeometries[4], batch: 9) == 9)
}

@Test("a workspace sized for a batch serves a smaller batch whose chunks are larger", arguments: Conv2dAlgorithm.allCases)
func workspaceCoversSmallerBatches(_ algorithm: Conv2dAlgorithm) {
    // Bit-for-bit comparisons need one BLAS thread count for both runs: an AdderEngine made by a test
    // running at the same time sets it to 1 (its workers are the parallelism), so set it first.
    BLASThreads.set(1)
    let g = networkWinogradGeometries[4]  // conv5: 16 images run as 8 + 8, 14 (Winograd) or 9 (im2col) as one chunk
    let n = algorithm == .winograd ? 14 : 9
    #expect(algorithm == .winograd ? winogradChunkSize(geometry: g, batch: n) == n : conv2dChunkSize(geometry: g, batch: n) == n)
    let x = randomTensor([n, g.inChannels, 7, 7], seed: 41)
    let weight = randomTensor([g.outChannels, g.inChannels, 3, 3], seed: 42)
    let bias = randomTensor([g.outChannels], seed: 43)
    let gy = randomTensor([n, g.outChannels, 5, 5], seed: 44)
    func run(workspaceSize: Int) -> (values: [[Float]], canary: [Float]) {
        let canaryCount = 4096
        var workspace = [Float](repeating: .nan, count: workspaceSize + canaryCount)
        var output = [Float](repeating: 0, count: n * g.outputImageSize)
        var (gx, gw, gb) = ([Float](repeating: 0, count: x.count), [Float](repeating: 0, count: weight.count), [Float](repeating: 0, count: g.outChannels))
        conv2dForward(
            input: x.scalars, batch: n, geometry: g, weight: weight.scalars, bias: bias.scalars, output: &output,
            workspace: &workspace, algorithm: algorithm)
        conv2dBackward(
            input: x.scalars, batch: n, geometry: g, weight: weight.scalars, gradOutput: gy.scalars,
            gradWeight: &gw, gradBias: &gb, gradInput: &gx, workspace: &workspace, algorithm: algorithm)
        return ([output, gx, gw, gb], Array(workspace[workspaceSize...]))
    }
    let sized = run(workspaceSize: conv2dWorkspaceSize(geometry: g, batch: 16))
    let roomy = run(workspaceSize: conv2dWorkspaceSize(geometry: g, batch: 16) * 4)
    #expect(sized.canary.allSatisfy { $0.isNaN }, "nothing written past the workspace")
    #expect(sized.values == roomy.values)
    #expect(sized.values[0] == conv2dForward(input: x, weight: weight, bias: bias, algorithm: algorithm).scalars)
}

@Test("the preferred algorithm: Winograd for the network's 3×3 layers with 8+ input channels, small outputs only in batches")
func preferredAlgorithm() {
    func geometry(_ c: Int, _ size: Int, k: Int = 3, stride: Int = 1) -> Conv2dGeometry {
        Conv2dGeometry(inChannels: c, outChannels: 8, kernelHeight: k, kernelWidth: k, stride: stride,
                       inputHeight: size, inputWidth: size)
    }
    #expect(Conv2dAlgorithm.preferred(for: geometry(1, 28), batch: 64) == .im2col)     // input1: one channel
    #expect(Conv2dAlgorithm.preferred(for: geometry(32, 24), batch: 1) == .winograd)   // conv2: 22×22 output
    #expect(Conv2dAlgorithm.preferred(for: geometry(64, 7), batch: 1) == .im2col)      // conv5 at batch 1
    #expect(Conv2dAlgorithm.preferred(for: geometry(64, 7), batch: 16) == .winograd)   // conv5 in training
    #expect(Conv2dAlgorithm.preferred(for: geometry(64, 11, k: 1), batch: 64) == .im2col)
    #expect(Conv2dAlgorithm.preferred(for: geometry(32, 24, stride: 2), batch: 64) == .im2col)
    #expect(!Conv2dAlgorithm.winograd.supports(geometry(32, 24, k: 5)))
}
