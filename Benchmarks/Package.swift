// swift-tools-version: 6.1
// The engine's speed as ordo-one/benchmark suites, in a package of its own so that the root
// package's `swift build` (which CI runs) does not compile the benchmark framework and its seven
// dependencies: that added about 150 s of CPU (+60 %) to a clean release build on this project's
// 2-core machine. Run from this folder: `swift package benchmark --target AdderBenchmarks`
// (see ../BENCHMARKS.md). The figures compared with PyTorch come from ../scripts/bench/compare.
import PackageDescription

let package = Package(
    name: "mnist-adder-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "mnist-adder", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The plugin finds benchmark targets by their folder's parent being named "Benchmarks".
        .executableTarget(
            name: "AdderBenchmarks",
            dependencies: [
                .product(name: "AdderBench", package: "mnist-adder"),
                .product(name: "AdderNet", package: "mnist-adder"),
                .product(name: "NNCore", package: "mnist-adder"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "AdderBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ],
    swiftLanguageModes: [.v6]
)
