// BatchNorm2d (training and evaluation), Dropout and the pointer form of Linear: against finite
// differences, the textbook formulas and the tensor forms.
import NNCore
import NNTestSupport
import Testing

private func expectClose(_ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, _ name: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    let report = compareClose(actual, expected, atol: atol, rtol: rtol, name: name)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}

@Test("BatchNorm2d in training mode: the textbook output and running statistics, and gradients equal finite differences")
func batchNormTraining() {
    let x = randomTensor([3, 2, 3, 4], seed: 1, lower: -1, upper: 3)
    let weight = Tensor(shape: [2], scalars: [1.5, -0.7]), bias = Tensor(shape: [2], scalars: [0.2, 0.4])
    let runningMean = Tensor(shape: [2], scalars: [0.5, -1]), runningVar = Tensor(shape: [2], scalars: [2, 0.5])
    let out = batchNorm2dTraining(input: x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar)
    // Textbook: per channel over N, H, W, biased variance for the output, unbiased for the running one.
    for c in 0..<2 {
        var values: [Double] = []
        for n in 0..<3 { for i in 0..<12 { values.append(Double(x.scalars[(n * 2 + c) * 12 + i])) } }
        let mean = values.reduce(0, +) / 36
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 36
        for n in 0..<3 {
            for i in 0..<12 {
                let v = Double(x.scalars[(n * 2 + c) * 12 + i])
                let expected = (v - mean) / (variance + 1e-5).squareRoot() * Double(weight.scalars[c]) + Double(bias.scalars[c])
                #expect(abs(Double(out.output.scalars[(n * 2 + c) * 12 + i]) - expected) < 1e-5)
            }
        }
        #expect(abs(Double(out.runningMean.scalars[c]) - (0.9 * Double(runningMean.scalars[c]) + 0.1 * mean)) < 1e-6)
        #expect(abs(Double(out.runningVar.scalars[c]) - (0.9 * Double(runningVar.scalars[c]) + 0.1 * variance * 36 / 35)) < 1e-6)
    }
    let r = randomTensor(x.shape, seed: 2)
    let grads = batchNorm2dTrainingBackward(input: x, weight: weight, mean: out.mean, invstd: out.invstd, gradOutput: r)
    func f(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Double {
        dot(batchNorm2dTraining(input: x, weight: w, bias: b, runningMean: runningMean, runningVar: runningVar).output, r)
    }
    expectClose(grads.gradInput, numericalGradient(at: x, eps: 1e-2) { f($0, weight, bias) }, atol: 2e-3, rtol: 1e-2, "gradInput")
    expectClose(grads.gradWeight, numericalGradient(at: weight) { f(x, $0, bias) }, atol: 2e-3, rtol: 1e-2, "gradWeight")
    expectClose(grads.gradBias, numericalGradient(at: bias) { f(x, weight, $0) }, atol: 2e-3, rtol: 1e-2, "gradBias")
}

@Test("BatchNorm2d in evaluation mode: (x − running mean)/√(running var + ε)·γ + β, and its input gradient by finite differences")
func batchNormEvaluation() {
    let x = randomTensor([2, 3, 2, 2], seed: 3)
    let weight = Tensor(shape: [3], scalars: [1, 2, -1]), bias = Tensor(shape: [3], scalars: [0, 0.5, 1])
    let mean = Tensor(shape: [3], scalars: [0.1, 0.2, -0.3]), variance = Tensor(shape: [3], scalars: [1, 4, 0.25])
    let y = batchNorm2dInference(input: x, weight: weight, bias: bias, runningMean: mean, runningVar: variance)
    for i in 0..<x.count {
        let c = (i / 4) % 3
        let expected = (x.scalars[i] - mean.scalars[c]) / (variance.scalars[c] + 1e-5).squareRoot() * weight.scalars[c] + bias.scalars[c]
        #expect(abs(y.scalars[i] - expected) < 1e-5)
    }
    // An affine map per channel: its input gradient is γ/√(var + ε), which finite differences see exactly.
    let r = randomTensor(x.shape, seed: 4)
    let numeric = numericalGradient(at: x) {
        dot(batchNorm2dInference(input: $0, weight: weight, bias: bias, runningMean: mean, runningVar: variance), r)
    }
    let analytic = Tensor(shape: x.shape, scalars: (0..<x.count).map {
        r.scalars[$0] * weight.scalars[($0 / 4) % 3] / (variance.scalars[($0 / 4) % 3] + 1e-5).squareRoot()
    })
    expectClose(numeric, analytic, atol: 1e-3, rtol: 1e-3, "gradInput")
}

@Test("dropout masks: a function of (seed, step, layer, image), zero at rate p, 1/(1 − p) elsewhere; its gradient is the mask")
func dropoutMasks() {
    func mask(_ p: Float, seed: UInt64 = 1, step: Int = 2, layer: Int = 3, image: Int = 4, count: Int = 20_000) -> [Float] {
        var m = [Float](repeating: -1, count: count)
        dropoutMask(p: p, seed: seed, step: step, layer: layer, image: image, count: count, into: &m)
        return m
    }
    let m = mask(0.25)
    #expect(m == mask(0.25))
    #expect(m != mask(0.25, seed: 2) && m != mask(0.25, step: 3) && m != mask(0.25, layer: 4) && m != mask(0.25, image: 5))
    #expect(m.allSatisfy { $0 == 0 || $0 == Float(1) / 0.75 })
    let dropped = Double(m.filter { $0 == 0 }.count) / Double(m.count)
    #expect(abs(dropped - 0.25) < 0.015, "dropped \(dropped)")  // 4.9 standard errors of 20,000 draws
    #expect(mask(0).allSatisfy { $0 == 1 })
    // Forward is x·mask, so the gradient of Σ r·y is r·mask; finite differences agree.
    let x = randomTensor([50], seed: 5), r = randomTensor([50], seed: 6)
    let small = Array(m.prefix(50))
    func f(_ x: Tensor) -> Double {
        var y = [Float](repeating: 0, count: 50)
        dropoutApply(input: x.scalars, mask: small, count: 50, output: &y)
        return dot(Tensor(shape: [50], scalars: y), r)
    }
    expectClose(numericalGradient(at: x, f), Tensor(shape: [50], scalars: zip(r.scalars, small).map { $0 * $1 }),
                atol: 1e-3, rtol: 1e-3, "dropout gradient")
}

@Test("Linear's pointer form on flattened images: the tensor form's output, ReLU, gradients and input mask")
func linearPointerForm() {
    let (n, i, o) = (5, 36, 7)
    let x = randomTensor([n, i], seed: 7), w = randomTensor([o, i], seed: 8), b = randomTensor([o], seed: 9)
    let reference = linearForward(input: x, weight: w, bias: b)
    var y = [Float](repeating: 0, count: n * o)
    linearForward(input: x.scalars, batch: n, inFeatures: i, outFeatures: o, weight: w.scalars, bias: b.scalars, relu: true, output: &y)
    expectClose(Tensor(shape: [n, o], scalars: y), reluForward(reference), atol: 1e-6, rtol: 1e-6, "relu(linear)")
    let gy = randomTensor([n, o], seed: 10)
    let back = linearBackward(input: x, weight: w, gradOutput: gy)
    var gw = [Float](repeating: 0, count: o * i), gb = [Float](repeating: 0, count: o), gx = [Float](repeating: 0, count: n * i)
    let mask = randomTensor([n, i], seed: 11)  // stands for a ReLU output below: negatives mask
    linearBackward(input: x.scalars, batch: n, inFeatures: i, outFeatures: o, weight: w.scalars, gradOutput: gy.scalars,
                   gradWeight: &gw, gradBias: &gb, gradInput: &gx, gradInputReLUOutput: mask.scalars)
    expectClose(Tensor(shape: [o, i], scalars: gw), back.gradWeight, atol: 1e-5, rtol: 1e-5, "gradWeight")
    expectClose(Tensor(shape: [o], scalars: gb), back.gradBias, atol: 1e-5, rtol: 1e-5, "gradBias")
    let masked = Tensor(shape: [n, i], scalars: zip(back.gradInput.scalars, mask.scalars).map { $1 > 0 ? $0 : 0 })
    expectClose(Tensor(shape: [n, i], scalars: gx), masked, atol: 1e-5, rtol: 1e-5, "gradInput masked")
}
