// `--plan measure`: each convolution timed with every algorithm that fits it, on this machine, at
// the plan's piece size; the faster one replaces the table's choice. The choices are cached on disk
// per CPU kind, BLAS kernel, network and piece size, and recorded with the run (TrainingOptions.
// algorithms), so a resumed run computes exactly as before.
import Dispatch
import Foundation
import NNCore

/// Times a network's convolutions with each algorithm that fits them and picks the faster ones.
public enum PlanMeasurement {
    /// Per convolution (by module name) where more than one algorithm fits: the faster one on
    /// pieces of `pieceSize` images, forward and backward together, best of `repeats` after one
    /// untimed run. Takes a second or two for the built-in networks. The values of a measured
    /// plan equal the table's up to rounding; only the order of additions changes.
    public static func measure(_ model: ModelDescription, pieceSize: Int, repeats: Int = 5) throws -> [String: Conv2dAlgorithm] {
        let plan = try ExecutionPlan(model: model, batch: pieceSize, threads: 1, pieceSize: pieceSize, mode: .training)
        var choices: [String: Conv2dAlgorithm] = [:]
        for step in plan.steps {
            guard let g = step.geometry, case .conv2d(let conv) = model.layers[step.layers.lowerBound] else { continue }
            let candidates = Conv2dAlgorithm.allCases.filter { $0.supports(g) }
            guard candidates.count > 1 else { continue }
            if case .conv2dReLUMaxPool = step.operation { continue }  // fused: Winograd only
            let times = candidates.map { seconds(g, pieceSize: pieceSize, algorithm: $0, repeats: repeats) }
            let best = zip(candidates, times).min { $0.1 < $1.1 }!.0
            choices[conv.name] = best
        }
        return choices
    }

    /// Best time in seconds of one forward and backward of `g` on `n` random images.
    static func seconds(_ g: Conv2dGeometry, pieceSize n: Int, algorithm: Conv2dAlgorithm, repeats: Int) -> Double {
        var generator = SplitMix64(seed: 1)
        func random(_ count: Int) -> [Float] { (0..<count).map { _ in generator.nextUniform(-1, 1) } }
        let input = random(n * g.inputImageSize), weight = random(g.outChannels * g.columnRows)
        let bias = random(g.outChannels), gradOutput = random(n * g.outputImageSize)
        var output = [Float](repeating: 0, count: n * g.outputImageSize)
        var gradInput = [Float](repeating: 0, count: n * g.inputImageSize)
        var gradWeight = [Float](repeating: 0, count: weight.count), gradBias = [Float](repeating: 0, count: bias.count)
        var workspace = [Float](repeating: 0, count: conv2dWorkspaceSize(geometry: g, batch: n))
        return MachinePeak.bestOf(repeats + 1) {
            conv2dForward(input: input, batch: n, geometry: g, weight: weight, bias: bias, output: &output,
                          workspace: &workspace, fuseReLU: true, algorithm: algorithm)
            conv2dBackward(input: input, batch: n, geometry: g, weight: weight, gradOutput: gradOutput,
                           gradWeight: &gradWeight, gradBias: &gradBias, gradInput: &gradInput,
                           workspace: &workspace, algorithm: algorithm)
        }
    }

    /// The measured choices for `model` at `pieceSize` on this machine: read from the cache file when
    /// it has them, else measured and written there. The cache is
    /// `$XDG_CACHE_HOME/mnist-adder/plans.json` (or `~/.cache/...`), keyed by CPU kind, BLAS kernel,
    /// network and piece size; a cache that cannot be read or written is measured around, not an error.
    public static func cachedOrMeasured(_ model: ModelDescription, pieceSize: Int) throws
        -> (choices: [String: Conv2dAlgorithm], fromCache: Bool)
    {
        let key = "\(CPUKind.current.rawValue)|\(BLASKernels.coreName)|\(try model.jsonString())|\(pieceSize)"
        let url = cacheFile
        var cache = (try? JSONDecoder().decode([String: [String: Conv2dAlgorithm]].self, from: Data(contentsOf: url))) ?? [:]
        if let hit = cache[key] { return (hit, true) }
        let choices = try measure(model, pieceSize: pieceSize)
        cache[key] = choices
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let data = try? JSONOutput.encoder().encode(cache) { try? data.write(to: url, options: .atomic) }
        return (choices, false)
    }

    /// Where measured plans are cached.
    public static var cacheFile: URL {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
        let base = environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) } ?? home.appendingPathComponent(".cache")
        return base.appendingPathComponent("mnist-adder/plans.json")
    }
}
