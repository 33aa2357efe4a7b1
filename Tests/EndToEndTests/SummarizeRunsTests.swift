// scripts/summarize-runs (what scripts/repeat prints at its end) on run folders made here: mean and sample
// standard deviation of each final figure, and each run's Wilson interval, against Swift's own arithmetic.
import Foundation
import MNISTData
import NNTestSupport
import Testing

@Suite("summarize-runs")
struct SummarizeRunsTests {
    /// A run folder with a history of two epochs whose last one has the given figures.
    static func makeRun(in folder: URL, name: String, testDigit: Double, loss: Double, trainSeconds: Double) throws -> URL {
        let run = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        func epoch(_ n: Int, _ digit: Double, _ loss: Double, _ seconds: Double) -> [String: Any] {
            [
                "epoch": n, "loss": loss, "trainClassificationAccuracy": 0.99, "trainAdditionAccuracy": 0.98,
                "testClassificationAccuracy": digit, "testAdditionAccuracy": digit - 0.001,
                "trainSeconds": seconds, "testSeconds": 1.5,
            ]
        }
        let history = [epoch(1, 0.9, 2.0, 10), epoch(2, testDigit, loss, trainSeconds)]
        try JSONSerialization.data(withJSONObject: history).write(to: run.appendingPathComponent("history.json"))
        return run
    }

    @Test(
        "mean ± sample sd of every figure and each run's Wilson interval",
        .enabled(if: Python.shouldRun(needing: "statistics, argparse"), "SKIPPED: python3 is not installed"))
    func summary() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let digits = [0.9941, 0.9950, 0.9938], losses = [0.0035, 0.0041, 0.0029], seconds = [250.0, 262.5, 241.0]
        let runs = try (0..<3).map {
            try Self.makeRun(in: folder, name: "seed-\($0)", testDigit: digits[$0], loss: losses[$0], trainSeconds: seconds[$0])
        }
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/summarize-runs")
        let output = try Python.run([script.path, "--json"] + runs.map(\.path))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let summary = try #require(json["summary"] as? [String: [String: Any]])

        func meanAndSD(_ values: [Double]) -> (Double, Double) {
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
            return (mean, variance.squareRoot())
        }
        let expected: [(String, [Double])] = [
            ("testClassificationAccuracy", digits), ("testAdditionAccuracy", digits.map { $0 - 0.001 }),
            ("loss", losses), ("trainSeconds", seconds.map { $0 + 10 }), ("testSeconds", [3, 3, 3]),
            ("seconds", seconds.map { $0 + 13 }),
        ]
        for (key, values) in expected {
            let (mean, sd) = meanAndSD(values)
            let got = try #require(summary[key])
            let gotMean = try #require(got["mean"] as? Double), gotSD = try #require(got["sd"] as? Double)
            #expect(abs(gotMean - mean) <= 1e-12 * max(1, abs(mean)), "\(key) mean \(gotMean) vs \(mean)")
            #expect(abs(gotSD - sd) <= 1e-12 * max(1, abs(sd)), "\(key) sd \(gotSD) vs \(sd)")
        }
        // Each run's interval: 10,000 test images (no --test-limit in these runs), as Statistics.swift has it.
        let perRun = try #require(json["runs"] as? [[String: Any]])
        for (run, digit) in zip(perRun, digits) {
            let interval = try #require(run["testClassificationAccuracyInterval95"] as? [Double])
            let correct = Int((digit * 10_000).rounded())
            let swift = try Statistics.wilsonInterval(successes: correct, trials: 10_000)
            #expect(abs(interval[0] - swift.lower) <= 1e-12 && abs(interval[1] - swift.upper) <= 1e-12,
                    "\(interval) vs \(swift)")
        }
    }

    @Test(
        "a folder without a history is refused in one line naming it",
        .enabled(if: Python.shouldRun(needing: "statistics, argparse"), "SKIPPED: python3 is not installed"))
    func notARun() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/summarize-runs")
        #expect(throws: PythonError.self) { try Python.run([script.path, folder.path]) }
        do {
            try Python.run([script.path, folder.path])
        } catch let error as PythonError {
            #expect(error.output.contains("\(folder.path) is not a finished training run"), "\(error.output)")
            #expect(error.output.split(separator: "\n").count == 1, "\(error.output)")
        }
    }

    @Test(
        "scripts/repeat continued into the same OUTPUT with other train options is refused in one line, the runs kept",
        .enabled(if: Python.shouldRun(needing: "statistics, argparse"), "SKIPPED: python3 is not installed"))
    func repeatKeepsItsOptions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = Fixtures.repositoryRoot.appendingPathComponent("scripts/repeat").path
        let output = folder.appendingPathComponent("seeds").path
        func repeatRun(_ options: [String]) throws -> ProcessOutput {
            try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["MNIST_ADDER=\(binary.path)", script, "1", output]
                + ["--limit", "64", "--test-limit", "64", "--threads", "1"] + options)
        }
        let first = try repeatRun(["--epochs", "1"])
        try #require(first.status == 0, "\(first.stderr)")
        let history = folder.appendingPathComponent("seeds/seed-0/history.json")
        let epochs = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: history)) as? [Any]).count
        #expect(epochs == 1)

        let other = try repeatRun(["--epochs", "2"])
        #expect(other.status == 2)
        #expect(other.stderr == "scripts/repeat: \(output) holds runs with the train options '--limit 64 --test-limit 64 "
            + "--threads 1 --epochs 1 ', found '--limit 64 --test-limit 64 --threads 1 --epochs 2 ': give the same options "
            + "to continue it, or another OUTPUT\n", "\(other.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(contentsOf: history)) as? [Any])?.count == 1)

        let same = try repeatRun(["--epochs", "1"])
        #expect(same.status == 0, "\(same.stderr)")
        #expect(same.stderr.contains("seed 0: finished before, kept"), "\(same.stderr)")
    }
}
