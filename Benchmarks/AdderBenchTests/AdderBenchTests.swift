// The benchmark's bookkeeping: statistics, the engine's pieces, FLOP counts and the report's
// structure on a tiny run. Never its timings (no timed assertions).
import AdderBench
import AdderNet
import Foundation
import Testing

@Test func timingSummaryTakesMedianAndMinimum() {
    let odd = TimingSummary(samples: [0.3, 0.1, 0.2])
    #expect(odd.median == 0.2 && odd.min == 0.1 && odd.samples == 3)
    let even = TimingSummary(samples: [4, 1, 3, 2])
    #expect(even.median == 2.5 && even.min == 1 && even.samples == 4)
}

@Test func quickRunReportsEveryFigureWithTheSeedNetworksFLOPs() throws {
    let options = BenchOptions(
        batch: 6, trainingBatches: 2, warmupBatches: 1, inferenceBatches: [1, 5], threads: 2, samples: 1)
    let report = try AdderBench.run(options)
    #expect(report.implementation == "swift" && report.threads == 2)
    #expect(report.training.batch == 6 && report.training.batches == 2 && report.training.perBatch.samples == 2)
    #expect(report.training.imagesPerSecond > 0 && report.training.peakResidentKiB > 0)
    #expect(report.inference.map(\.batch) == [1, 5])
    #expect(report.layers.map(\.name).filter { !$0.contains("/") }
            == ["input1", "conv1", "conv2", "conv2+pool", "pool", "oneconv1", "conv3", "conv4", "conv5", "conv6"])
    // Every 3×3 stride-1 layer is also timed with the algorithm the engine does not pick for it (one
    // piece of 6 images: conv3-conv5 run im2col, so their Winograd is the alternative).
    #expect(report.layers.map(\.name).filter { $0.contains("/") }
            == ["input1/winograd", "conv1/im2col", "conv2/im2col", "conv3/winograd", "conv4/winograd", "conv5/winograd"])
    #expect(report.layers.first { $0.name == "conv2" }?.algorithm == "winograd")
    #expect(report.layers.first { $0.name == "conv5" }?.algorithm == "im2col")
    #expect(report.layers.first { $0.name == "conv2+pool" }?.algorithm == "winograd")
    // 2·N·O·CKK·P from the seed's layer table, written out by hand: conv2 is 32→64 channels,
    // 3×3 kernel (CKK = 288), 24×24 → 22×22 (P = 484).
    let conv2 = try #require(report.layers.first { $0.name == "conv2" })
    let conv2FLOPs: Double = 2 * 6 * 64 * 288 * 484
    #expect(conv2.forwardFLOPs == conv2FLOPs)
    #expect(conv2.backwardFLOPs == 2 * conv2.forwardFLOPs)
    // input1 (1→16 channels, 3×3, 28×28 → 26×26): its input gradient is never computed, so its
    // backward costs one forward's FLOPs.
    let input1 = try #require(report.layers.first { $0.name == "input1" })
    let input1FLOPs: Double = 2 * 6 * 16 * 9 * 676
    #expect(input1.forwardFLOPs == input1FLOPs)
    #expect(input1.backwardFLOPs == input1FLOPs)
    #expect(report.gemm.map(\.name) == [
        "512x512x512", "512x512x512", "conv2.forward", "conv2.gradWeight", "conv2.gradInput",
        "conv2.winograd.forward", "conv2.winograd.gradWeight", "conv2.winograd.gradInput",
    ])
    // Winograd's per-ξ GEMM for conv2: [O=64, C=32] · [32, 11·11 tiles · chunk], chunk = 1 image here.
    #expect(report.gemm[5].m == 64 && report.gemm[5].k == 32 && report.gemm[5].n == 121)
    // conv2's forward GEMM per column chunk: [O=64, CKK=288] · [288, chunk·P], chunk = 1 image here
    // (one piece of 6 images; 131,072 floats of columns hold one image of 288 × 484).
    #expect(report.gemm[2].m == 64 && report.gemm[2].k == 288 && report.gemm[2].n == 484)
    #expect(report.gemm.allSatisfy { $0.gflops > 0 })
}

@Test func enginePiecesAreNearEqualAndCoverTheBatch() {
    #expect(AdderEngine.pieces(batch: 128, pieceSize: 32) == [0..<32, 32..<64, 64..<96, 96..<128])
    #expect(AdderEngine.pieces(batch: 100, pieceSize: 32) == [0..<25, 25..<50, 50..<75, 75..<100])
    #expect(AdderEngine.pieces(batch: 33, pieceSize: 32) == [0..<17, 17..<33])
    #expect(AdderEngine.pieces(batch: 1, pieceSize: 32) == [0..<1])
    #expect(AdderEngine.defaultPieceSize == 16)
    #expect(AdderBench.pieceSizes(128) == Array(repeating: 16, count: 8))
    #expect(AdderBench.pieceSizes(100) == [15, 15, 14, 14, 14, 14, 14])
}

@Test func reportRoundTripsThroughJSON() throws {
    let report = try AdderBench.run(BenchOptions(
        batch: 2, trainingBatches: 1, warmupBatches: 0, inferenceBatches: [2], threads: 1, samples: 1))
    let decoded = try JSONDecoder().decode(BenchReport.self, from: JSONEncoder().encode(report))
    #expect(decoded == report)
}

@Test func pairedRequestsAreWholeBatchCountsFromOneToTheMost() {
    #expect(PairedRequest.batches("10") == 10)
    #expect(PairedRequest.batches(" 3\t") == 3)
    #expect(PairedRequest.batches("1000") == 1000 && PairedRequest.most == 1000)
    for bad in ["", "0", "-2", "1001", "x", "1 0", "2.5"] {
        #expect(PairedRequest.batches(bad) == nil, "\(bad)")
    }
}

@Test func trainingSessionsRepeatTheSameWorkloadAndLearn() throws {
    // The paired runs and measureTraining time the same steps: fixed seeds, batches in turn.
    let first = try TrainingSession(threads: 2, batch: 8), second = try TrainingSession(threads: 1, batch: 8)
    let losses = try (0..<5).map { _ in try first.step().loss }
    #expect(try (0..<5).map { _ in try second.step().loss } == losses)
    // Step 5 sees batch 0 again, after four Adam steps: its loss is lower than at step 1.
    #expect(losses[4] < losses[0], "\(losses)")
    #expect(try first.train(batches: 2) > 0)
}
