// The engine's speed as ordo-one/benchmark suites, for regression tracking against saved baselines
// (`swift package benchmark baseline update` / `baseline check`). One iteration is one call of the
// workload; inputs are built once outside the measured closure. Same workloads as AdderBench,
// whose figures scripts/bench/compare prints next to PyTorch's. Start with OPENBLAS_CORETYPE set.
import AdderBench
import AdderNet
import Benchmark
import NNCore

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident], timeUnits: .microseconds,
        warmupIterations: 2, maxDuration: .seconds(2), maxIterations: 200)

    let engine = AdderEngine()
    let network = AdderNetwork(seed: 0)
    for batch in [1, 128, 1000] {
        let input = RandomBatch(size: batch, seed: UInt64(batch))
        Benchmark("inference batch \(batch)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(engine.forward(network, images: input.images, addends: input.addends))
            }
        }
    }

    let training = RandomBatch(size: 128, seed: 7)
    Benchmark("training step batch 128 Adam") { benchmark in
        var model = network
        var adam = try Adam(parameterShapes: ModelDescription.seed.parameterShapes, learningRate: 1e-3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let result = try engine.step(model, images: training.images, addends: training.addends, labels: training.labels)
            adam.step(parameters: &model.parameters, gradients: result.gradients)
        }
    }

    for index in AdderBench.convLayers.indices {
        let workload = ConvLayerWorkload(index: index, batch: 128, workers: engine.threads)
        Benchmark("\(workload.spec.name) forward batch 128") { benchmark in
            for _ in benchmark.scaledIterations { workload.forward() }
        }
        Benchmark("\(workload.spec.name) backward batch 128") { benchmark in
            for _ in benchmark.scaledIterations { workload.backward() }
        }
    }

    let square = GemmWorkload(m: 512, n: 512, k: 512, concurrent: engine.threads)
    Benchmark("sgemm 512x512x512 one per core") { benchmark in
        for _ in benchmark.scaledIterations { square.run() }
    }
}
