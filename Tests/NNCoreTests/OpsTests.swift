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
]

@Test("conv2d forward and backward equal the naive loops", arguments: convCases)
func conv2dMatchesNaive(_ t: ConvCase) {
    let x = randomTensor([t.n, t.c, t.h, t.w], seed: 1)
    let weight = randomTensor([t.o, t.c, t.k, t.k], seed: 2)
    let bias = randomTensor([t.o], seed: 3)
    let y = conv2dForward(input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding)
    let yRef = naiveConv2d(input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding)
    expectClose(y, yRef, atol: 1e-5, rtol: 1e-5, "output")

    let gy = randomTensor(y.shape, seed: 4)
    let fast = conv2dBackward(input: x, weight: weight, gradOutput: gy, stride: t.stride, padding: t.padding)
    let ref = naiveConv2dBackward(input: x, weight: weight, gradOutput: gy, stride: t.stride, padding: t.padding)
    expectClose(fast.gradInput ?? Tensor(shape: [0]), ref.gradInput, atol: 1e-5, rtol: 1e-5, "gradInput")
    expectClose(fast.gradWeight, ref.gradWeight, atol: 1e-4, rtol: 1e-5, "gradWeight")
    expectClose(fast.gradBias, ref.gradBias, atol: 1e-4, rtol: 1e-5, "gradBias")
}

@Test("conv2d gradients equal finite differences", arguments: [convCases[1], convCases[2]])
func conv2dFiniteDifferences(_ t: ConvCase) {
    let x = randomTensor([1, t.c, t.h, t.w], seed: 5)
    let weight = randomTensor([t.o, t.c, t.k, t.k], seed: 6)
    let bias = randomTensor([t.o], seed: 7)
    let probe = conv2dForward(input: x, weight: weight, bias: bias, stride: t.stride, padding: t.padding)
    let r = randomTensor(probe.shape, seed: 8)
    let grads = conv2dBackward(input: x, weight: weight, gradOutput: r, stride: t.stride, padding: t.padding)
    let fx = numericalGradient(at: x) {
        dot(conv2dForward(input: $0, weight: weight, bias: bias, stride: t.stride, padding: t.padding), r)
    }
    let fw = numericalGradient(at: weight) {
        dot(conv2dForward(input: x, weight: $0, bias: bias, stride: t.stride, padding: t.padding), r)
    }
    let fb = numericalGradient(at: bias) {
        dot(conv2dForward(input: x, weight: weight, bias: $0, stride: t.stride, padding: t.padding), r)
    }
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
    let g = Conv2dGeometry(
        inChannels: t.c, outChannels: t.o, kernelHeight: t.k, kernelWidth: t.k,
        stride: t.stride, padding: t.padding, inputHeight: t.h, inputWidth: t.w)
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
