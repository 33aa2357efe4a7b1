// Wilson's interval, McNemar's exact p-value and the normal quantile against SciPy
// (scripts/statistics/reference.py), on a table that includes the edge cases; and the paired table.
import Foundation
import MNISTData
import NNTestSupport
import Testing

/// (successes, trials, confidence): near 99.4% on 10,000 (the test set), 0 and all right, tiny n, other levels.
private let wilsonCases: [(Int, Int, Double)] = [
    (9945, 10_000, 0.95), (9941, 10_000, 0.95), (9952, 10_000, 0.95), (5000, 10_000, 0.95),
    (0, 10_000, 0.95), (10_000, 10_000, 0.95), (55, 10_000, 0.95), (0, 1, 0.95), (1, 1, 0.95),
    (0, 10, 0.95), (10, 10, 0.95), (1, 2, 0.95), (3, 7, 0.95), (2, 3, 0.99), (7, 20, 0.9), (9945, 10_000, 0.99),
    (60_000, 60_000, 0.95), (59_994, 60_000, 0.5),
]

/// (b, c): one discordant item, all on one side, ties, the usual sizes of two networks at ~99.4%, both
/// orders, large n and p-values far below 1e-100.
private let mcNemarCases: [(Int, Int)] = [
    (0, 1), (1, 0), (1, 1), (0, 2), (0, 5), (5, 0), (3, 3), (2, 3), (3, 2), (1, 6), (10, 25), (25, 10),
    (20, 16), (16, 20), (1, 30), (100, 140), (0, 60), (0, 1000), (400, 600), (4000, 6000), (4999, 5001),
    (10_000, 0),
]

private let quantileCases: [Double] = [0.975, 0.995, 0.95, 0.75, 0.5, 0.025, 1e-10, 1 - 1e-10]

@Suite("Statistics")
struct StatisticsTests {
    @Test(
        "Wilson's interval, McNemar's exact p-value and the normal quantile match SciPy",
        .enabled(if: Python.shouldRun(needing: "scipy"), "SKIPPED: python3 with scipy is not installed"))
    func matchesSciPy() throws {
        let request: [String: Any] = [
            "wilson": wilsonCases.map { [$0.0, $0.1, $0.2] as [Any] },
            "mcnemar": mcNemarCases.map { [$0.0, $0.1] },
            "quantile": quantileCases,
        ]
        let text = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/statistics/reference.py")
        let output = try Python.run([script.path, text])
        struct Reference: Decodable {
            let wilson: [[Double]]
            let mcnemar: [Double]
            let quantile: [Double]
        }
        let reference = try JSONDecoder().decode(Reference.self, from: Data(output.utf8))
        try #require(reference.wilson.count == wilsonCases.count && reference.mcnemar.count == mcNemarCases.count)

        for ((k, n, confidence), expected) in zip(wilsonCases, reference.wilson) {
            let interval = try Statistics.wilsonInterval(successes: k, trials: n, confidence: confidence)
            #expect(abs(interval.lower - expected[0]) <= 1e-13, "Wilson \(k)/\(n) at \(confidence): lower \(interval.lower) vs SciPy \(expected[0])")
            #expect(abs(interval.upper - expected[1]) <= 1e-13, "Wilson \(k)/\(n) at \(confidence): upper \(interval.upper) vs SciPy \(expected[1])")
        }
        for ((b, c), expected) in zip(mcNemarCases, reference.mcnemar) {
            let p = try Statistics.mcNemarExactPValue(onlyFirst: b, onlySecond: c)
            let close = p == expected || abs(p - expected) <= 1e-12 * max(abs(expected), 1e-300)
            #expect(close, "McNemar b = \(b), c = \(c): \(p) vs SciPy \(expected)")
        }
        for (probability, expected) in zip(quantileCases, reference.quantile) {
            let z = try Statistics.normalQuantile(probability)
            #expect(abs(z - expected) <= 1e-13 * max(1, abs(expected)), "Φ⁻¹(\(probability)) = \(z) vs SciPy \(expected)")
        }
    }

    @Test("no discordant pair gives p = 1; a tie gives p = 1; one side only gives 2 / 2ⁿ")
    func mcNemarEdgeCases() throws {
        #expect(try Statistics.mcNemarExactPValue(onlyFirst: 0, onlySecond: 0) == 1)
        #expect(try Statistics.mcNemarExactPValue(onlyFirst: 7, onlySecond: 7) == 1)
        // All n discordant items on one side: P = 2 · 2⁻ⁿ, computed here as a power of two.
        for n in [1, 2, 6, 20, 52] {
            let expected = min(1, 2 * pow(2.0, -Double(n)))
            let p = try Statistics.mcNemarExactPValue(onlyFirst: n, onlySecond: 0)
            #expect(abs(p - expected) <= 1e-14 * expected, "n = \(n): \(p) vs \(expected)")
        }
        #expect(throws: StatisticsError.negativeDiscordantCount(onlyFirst: -1, onlySecond: 3)) {
            try Statistics.mcNemarExactPValue(onlyFirst: -1, onlySecond: 3)
        }
    }

    @Test("Wilson's interval refuses counts and levels it is not defined for")
    func wilsonRefusesBadInput() {
        #expect(throws: StatisticsError.invalidCounts(successes: 0, trials: 0)) {
            try Statistics.wilsonInterval(successes: 0, trials: 0)
        }
        #expect(throws: StatisticsError.invalidCounts(successes: 11, trials: 10)) {
            try Statistics.wilsonInterval(successes: 11, trials: 10)
        }
        #expect(throws: StatisticsError.invalidCounts(successes: -1, trials: 10)) {
            try Statistics.wilsonInterval(successes: -1, trials: 10)
        }
        #expect(throws: StatisticsError.invalidConfidence(1)) {
            try Statistics.wilsonInterval(successes: 5, trials: 10, confidence: 1)
        }
        #expect(throws: StatisticsError.invalidConfidence(0)) { try Statistics.normalQuantile(0) }
    }

    @Test("the paired table counts each item once in its cell")
    func pairedTable() throws {
        let first = [true, true, false, false, true, true, false]
        let second = [true, false, true, false, false, true, false]
        let table = try PairedOutcomes(first: first, second: second)
        #expect(table.count == 7)
        #expect(table.bothRight == 2 && table.onlyFirstRight == 2 && table.onlySecondRight == 1 && table.bothWrong == 2)
        #expect(table.firstRight == 4 && table.secondRight == 3)
        #expect(table.mcNemarPValue == 1)  // b = 2, c = 1: P(X ≤ 1 | n = 3) · 2 = 2 · 4/8 = 1
        #expect(throws: StatisticsError.unpairedOutcomes(first: 2, second: 1)) {
            try PairedOutcomes(first: [true, false], second: [true])
        }
    }
}
