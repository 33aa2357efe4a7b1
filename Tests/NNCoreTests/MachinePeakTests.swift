// The roofline's ceilings: the FMA peak loop computes what it says at every width this CPU runs
// (AVX2 on an AVX-512 machine too), and the sgemm ceiling is a rate. Speed itself is never asserted.
import NNCore
import Testing

/// One chain's value after `iterations` rounds of a ← a·0.999 + 0.001 from 0.5, fused as the loop does.
private func chainValue(iterations: Int) -> Float {
    var a: Float = 0.5
    for _ in 0..<iterations { a = Float(0.001).addingProduct(a, Float(0.999)) }
    return a
}

@Test("the FMA peak loop gives 12 chains × width lanes of a ← a·0.999 + 0.001, at every width this CPU runs",
      arguments: [16, 8, 4])
func fmaLoopValue(width: Int) {
    guard MachinePeak.supports(width: width) else {
        #expect(MachinePeak.fmaLoop(width: width, iterations: 10).isNaN, "an unsupported width returns NaN")
        return
    }
    for iterations in [0, 1, 7, 1000] {
        let expected = Float(12 * width) * chainValue(iterations: iterations)
        let found = MachinePeak.fmaLoop(width: width, iterations: iterations)
        #expect(abs(found - expected) <= 1e-6 * expected, "width \(width), \(iterations) rounds: \(found) vs \(expected)")
    }
}

@Test("the widest FMA width is one the loop runs, and a width it does not know gives NaN")
func fmaWidth() {
    let width = MachinePeak.fmaWidth
    #expect([0, 4, 8, 16].contains(width))
    if width > 0 {
        #expect(MachinePeak.supports(width: width))
        #expect(MachinePeak.fmaGFLOPS(threads: 1, repeats: 1).map { $0 > 0 && $0.isFinite } == true)
    }
    #expect(MachinePeak.fmaLoop(width: 3, iterations: 10).isNaN)
    #expect(!MachinePeak.supports(width: 32))
    #expect(MachinePeak.instructionSet(width: 16) == "AVX-512" && MachinePeak.instructionSet(width: 8) == "AVX2")
}

@Test("the sgemm ceiling is a finite positive rate")
func sgemmCeiling() {
    let rate = MachinePeak.sgemmGFLOPS(n: 64, threads: 2, repeats: 1)
    #expect(rate > 0 && rate.isFinite)
}
