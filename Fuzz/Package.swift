// swift-tools-version: 6.1
// libFuzzer targets for mnist-adder's parsers of untrusted bytes (see README.md). Built by
// `scripts/fuzz`, which passes `-sanitize=fuzzer,address` to every Swift module (so the parsers under
// test are instrumented too, not only these files) into the build folder `.build-fuzz`.
import PackageDescription

// Each target's LLVMFuzzerTestOneInput is a @_cdecl function; SwiftPM aliases `main` to `<Target>_main`,
// which each target defines to run libFuzzer's driver (so the file has no top-level code).
let fuzzerFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "mnist-adder-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "mnist-adder", path: "..")],
    targets: [
        // The declaration of LLVMFuzzerRunDriver, which each target's main calls.
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "FuzzIDX", dependencies: ["CFuzzerDriver", .product(name: "MNISTData", package: "mnist-adder")],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzSafetensors", dependencies: ["CFuzzerDriver", .product(name: "NNCore", package: "mnist-adder")],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzPNG", dependencies: ["CFuzzerDriver", .product(name: "DigitImage", package: "mnist-adder")],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzJPEG", dependencies: ["CFuzzerDriver", .product(name: "DigitImage", package: "mnist-adder")],
            swiftSettings: fuzzerFlags),
        .executableTarget(
            name: "FuzzPredictJSON", dependencies: ["CFuzzerDriver", .product(name: "AdderRequest", package: "mnist-adder")],
            swiftSettings: fuzzerFlags),
    ],
    swiftLanguageModes: [.v6]
)
