// The roofline of `summary --plan --measure`: a row per step and direction in the order the engine
// runs them, with the multiply-adds each algorithm really does (counted here from first principles),
// a time for each, and the table naming them all. Times are checked to exist, never for speed.
import AdderNet
import NNCore
import Testing

/// The seed network's multiply-adds per image, forward, as its plan computes them: im2col O·C·k²·P
/// for input1, Winograd F(2×2, 3×3)'s 16 products per 2×2 output tile and (O, C) pair for the 3×3
/// layers (at 16 images a piece, every one of them), one GEMM for the 1×1 and the 5×5 that covers its input.
private let seedForwardMACs: [(String, Int)] = [
    ("input1 + ReLU", 16 * 9 * 26 * 26),
    ("conv1 + ReLU", 32 * 16 * 16 * (12 * 12)),
    ("conv2 + ReLU + pool", 64 * 32 * 16 * (11 * 11)),
    ("oneconv1 + ReLU", 16 * 64 * 11 * 11),
    ("conv3 + ReLU", 32 * 16 * 16 * (5 * 5)),
    ("conv4 + ReLU", 64 * 32 * 16 * (4 * 4)),
    ("conv5 + ReLU", 64 * 64 * 16 * (3 * 3)),
    ("conv6", 10 * 64 * 25),
]

@Test("a training roofline has each step forward and backward in the engine's order, with the multiply-adds it does")
func trainingRoofline() throws {
    let network = AdderNetwork(.seed, seed: 3)
    let batch = 32
    let roofline = try Roofline.measure(engine: AdderEngine(threads: 2), network: network, batch: batch, mode: .training, calls: 2, warmup: 1)
    let names = seedForwardMACs.map(\.0)
    #expect(roofline.rows.map(\.step) == ["zero gradients"] + names + ["loss"] + names.reversed())
    #expect(roofline.rows.map(\.direction) == [""] + Array(repeating: "forward", count: 8) + [""] + Array(repeating: "backward", count: 8))
    for (name, macs) in seedForwardMACs {
        let forward = try #require(roofline.rows.first { $0.step == name && $0.direction == "forward" })
        let backward = try #require(roofline.rows.first { $0.step == name && $0.direction == "backward" })
        #expect(forward.multiplyAdds == macs * batch, "\(name) forward")
        // The weight gradient's products, and the input gradient's except for the first layer.
        #expect(backward.multiplyAdds == macs * batch * (name == "input1 + ReLU" ? 1 : 2), "\(name) backward")
        #expect(forward.seconds > 0 && backward.seconds > 0, "\(name) was timed")
        #expect(forward.gflops.map { $0 > 0 && $0.isFinite } == true)
    }
    #expect(roofline.rows.first { $0.step == "loss" }?.gflops == nil)
    #expect(roofline.rows[2].algorithm == "winograd F(2,3)" && roofline.rows[1].algorithm == "im2col+GEMM")
    #expect(roofline.callSeconds > 0 && roofline.calls == 2 && roofline.sgemmPeak > 0)
    let table = roofline.table
    for name in names { #expect(table.contains(name)) }
    #expect(table.contains("whole call") && table.contains("% FMA") && table.contains("batch 32 in 2 piece(s)"))
}

@Test("an inference roofline has each step once, forward")
func inferenceRoofline() throws {
    let roofline = try Roofline.measure(
        engine: AdderEngine(threads: 1), network: AdderNetwork(.seed, seed: 3), batch: 16, mode: .inference, calls: 1, warmup: 0)
    #expect(roofline.rows.map(\.step) == seedForwardMACs.map(\.0))
    #expect(roofline.rows.allSatisfy { $0.direction == "forward" && $0.seconds > 0 })
    #expect(zip(roofline.rows, seedForwardMACs).allSatisfy { $0.multiplyAdds == $1.1 * 16 })
}

@Test("BatchNorm2d's sums join their step's row: seed-bn has each step once a direction")
func batchNormRoofline() throws {
    let model = try ModelDescription.named("seed-bn")
    let roofline = try Roofline.measure(
        engine: AdderEngine(threads: 2), network: AdderNetwork(model, seed: 3), batch: 32, mode: .training, calls: 1, warmup: 0)
    let plan = roofline.plan
    #expect(roofline.rows.count == 2 + 2 * plan.steps.count)
    #expect(Set(roofline.rows.map { "\($0.step)|\($0.direction)" }).count == roofline.rows.count)
    let batchNorm = try #require(roofline.rows.first { $0.step.contains("_bn") && $0.direction == "backward" })
    #expect(batchNorm.multiplyAdds == 0 && batchNorm.seconds > 0)
}
