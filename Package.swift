// swift-tools-version: 6.1
// mnist-adder: a two-input, two-output MNIST network (digit and digit + integer) with its own
// small training engine on BLAS. Layout: NNCore (tensors, ops, optimizers, safetensors),
// MNISTData (IDX files and the combined dataset), AdderNet (the network and training),
// DigitImage (PNG in and out, JPEG in, preprocessing), AdderReport (pictures and page of a run), ONNXProto (ONNX's onnx.proto as
// Swift, generated once), AdderONNX (ONNX export), BuildInfo (the git commit, embedded by
// Plugins/BuildInfoPlugin), mnist-adder (the CLI).
import PackageDescription


let package = Package(
    name: "mnist-adder",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mnist-adder", targets: ["MNISTAdderCLI"]),
        .library(name: "NNCore", targets: ["NNCore"]),
        .library(name: "MNISTData", targets: ["MNISTData"]),
        .library(name: "AdderNet", targets: ["AdderNet"]),
        .library(name: "DigitImage", targets: ["DigitImage"]),
        .library(name: "AdderReport", targets: ["AdderReport"]),
        .library(name: "AdderONNX", targets: ["AdderONNX"]),
        // For the request fuzzer in Fuzz/ (the server's parsing step, without NIO and Hummingbird).
        .library(name: "AdderRequest", targets: ["AdderRequest"]),
        .library(name: "AdderBench", targets: ["AdderBench"]),
        .executable(name: "adder-bench", targets: ["AdderBenchCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Hummingbird's own dependencies, named for the server's connection pipeline and its tests.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // libxsmm 1.17: JIT small-GEMM kernels (NNCore's LIBXSMM, GEMMBackend), linked on Linux only; macOS
        // keeps Accelerate for every GEMM.
        .systemLibrary(
            name: "CXSMM", pkgConfig: "libxsmm",
            providers: [.apt(["libxsmm-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(
            name: "CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        // librsvg renders the run's SVG pictures to PNG (AdderReport). Linked on Linux only: macOS builds
        // without it, write the SVGs and skip the PNGs (SVGRasterizer.isAvailable).
        .systemLibrary(
            name: "CRsvg", pkgConfig: "librsvg-2.0",
            providers: [.apt(["librsvg2-dev"]), .brew(["librsvg"])]),
        // libjpeg-turbo (the libjpeg 6.2 API), linked on Linux only: a macOS build refuses JPEG input with a
        // clear error (JPEGError.unavailable) instead of needing Homebrew's jpeg-turbo.
        .systemLibrary(
            name: "CJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),

        // Kernels in C where Swift cannot ask for a CPU feature per function: the roofline's FMA peak loop, the
        // Winograd transforms at 8 and 16 floats a vector.
        .target(name: "CKernels"),
        .target(
            name: "NNCore",
            dependencies: [
                "CKernels",
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                .target(name: "CXSMM", condition: .when(platforms: [.linux])),
            ]),
        .target(
            name: "MNISTData",
            dependencies: [
                "NNCore", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/mnist")]),
        .target(
            name: "AdderNet",
            dependencies: ["NNCore", "MNISTData", .product(name: "Atomics", package: "swift-atomics")]),
        .target(
            name: "DigitImage",
            dependencies: ["CPNG", .target(name: "CJPEG", condition: .when(platforms: [.linux]))]),
        // The pictures and report.html of a training run: SVG once, PNG from it by librsvg.
        .target(
            name: "AdderReport",
            dependencies: [
                "AdderNet", "DigitImage", "NNCore",
                .target(name: "CRsvg", condition: .when(platforms: [.linux])),
            ]),
        // BuildInfo.version: the git commit, written before each build by the plugin (git on PATH).
        .plugin(name: "BuildInfoPlugin", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildInfoPlugin"]),
        // The one inference path of predict and serve: decode, preprocess, normalize, forward, softmax, adder.
        // Resources/model: the shipped, calibrated seed model and its SHA256SUMS (ShippedModel).
        .target(
            name: "AdderInference", dependencies: ["AdderNet", "DigitImage", "MNISTData", "NNCore"],
            resources: [.copy("Resources/model")]),
        // onnx.pb.swift is generated from the onnx 1.23.2 wheel's onnx.proto by protoc 3.21.12 and
        // protoc-gen-swift 1.39.0 with scripts/onnx/generate-proto (Sources/ONNXProto/README.md); the
        // build does not run protoc.
        .target(
            name: "ONNXProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]),
        .target(
            name: "AdderONNX",
            dependencies: [
                "AdderNet", "MNISTData", "NNCore", "ONNXProto",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // A request body of POST /api/predict checked and turned into the network's input, and the server's
        // configuration: no HTTP, so the request fuzzer (Fuzz/) builds without SwiftNIO and Hummingbird.
        .target(name: "AdderRequest", dependencies: ["AdderInference", "DigitImage"]),
        .target(
            name: "AdderServer",
            dependencies: [
                "MNISTData", "AdderNet", "DigitImage", "NNCore", "AdderInference", "AdderRequest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "MNISTAdderCLI",
            dependencies: [
                "AdderNet", "MNISTData", "DigitImage", "NNCore", "AdderServer", "AdderInference", "AdderONNX",
                "AdderReport",
                "BuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Speed measurements (scripts/bench/compare runs adder-bench next to scripts/pytorch/bench.py).
        .target(name: "AdderBench", dependencies: ["AdderNet", "MNISTData", "NNCore"], path: "Benchmarks/AdderBench"),
        .executableTarget(
            name: "AdderBenchCLI",
            dependencies: ["AdderBench", "NNCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/AdderBenchCLI"),

        // Naive reference kernels and comparison helpers shared by the test targets.
        .target(name: "NNTestSupport", dependencies: ["NNCore"]),

        .testTarget(name: "NNCoreTests", dependencies: ["NNCore", "NNTestSupport"]),
        .testTarget(name: "MNISTDataTests", dependencies: ["MNISTData", "NNCore", "NNTestSupport"]),
        // Calibration and the unsure verdict; temperature and ECE against scipy/torch (scripts/calibration); image folders.
        .testTarget(
            name: "AdderInferenceTests",
            dependencies: ["AdderInference", "AdderNet", "DigitImage", "MNISTData", "NNCore", "NNTestSupport"]),
        .testTarget(name: "AdderNetTests", dependencies: ["AdderNet", "NNCore", "MNISTData", "NNTestSupport"]),
        .testTarget(name: "AdderBenchTests", dependencies: ["AdderBench", "AdderNet"], path: "Benchmarks/AdderBenchTests"),
        // CZlib: the tests deflate their own large PNGs row by row (StreamedPNG).
        .testTarget(name: "AdderReportTests", dependencies: ["AdderReport", "AdderNet", "DigitImage"]),
        .testTarget(name: "DigitImageTests", dependencies: ["DigitImage", "CZlib"], exclude: ["Fixtures"]),
        // The exported ONNX file read back, and run in onnxruntime (scripts/onnx/run_onnx.py).
        .testTarget(
            name: "AdderONNXTests",
            dependencies: ["AdderONNX", "ONNXProto", "AdderNet", "MNISTData", "NNCore", "NNTestSupport"]),
        // Runs the built mnist-adder binary and joins the modules: PNG files through to predictions.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "MNISTAdderCLI", "AdderNet", "AdderONNX", "AdderInference", "MNISTData", "DigitImage", "NNCore",
                "NNTestSupport",
            ]),
        .testTarget(
            name: "AdderServerTests",
            dependencies: [
                "AdderServer", "AdderInference", "AdderNet", "DigitImage", "NNCore", "NNTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
